"""Fast case-insensitive cue patterns: the regex machinery behind ``Lexicon.has`` and its kin.

A cue kind's patterns are combined into one (``combine``), run in a folded, lowercase form where that is
safe (``fold_pattern``), skipped on texts that lack every string a match must hold (``needles``), searched
from word starts instead of at every character (``word_start_search``), and read together with other kinds
in one pass (``CueReader``). Answers are cached within one document (``forget_cues`` empties the caches).
Every shortcut gives the same matches as the plain ``re.IGNORECASE`` pattern (tests/test_cues.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property, lru_cache
from itertools import chain


class CaselessPattern:
    """A case-insensitive regex, run where it can as its folded form (``fold_pattern``) on the lowercased
    text, which is faster: the same matches at the same offsets, but the groups' texts are lowercased, so
    read anything whose case matters from the text by offsets."""

    def __init__(self, pattern: str, parts: list[CaselessPattern] | None = None,
                 shared: CaselessPattern | None = None) -> None:
        self.regex = re.compile(pattern, re.IGNORECASE)
        folded = fold_pattern(pattern)
        self.folded = re.compile(folded) if folded is not None else None
        self.parts = parts or [self]
        """Patterns that match where this one matches, together: a combined pattern's parts (``arrange``)
        without their groups, for ``occurs``."""
        self.needles = _prefilter(folded) if folded is not None else None
        self._alone = parts is None
        self.shared = shared
        """The combined pattern's first alternative, with its groups, when the others follow as parts[1:]."""

    @cached_property
    def at_words(self) -> re.Pattern[str] | None:
        """A pattern's own ``word_start_search``, if it has one; a combined pattern's only when it is its one part
        (the cues of most uses: their cue lists are then read from word starts too), else its parts'."""
        alone = self._alone or len(self.parts) == 1
        return word_start_search(without_groups(self.folded.pattern)) if self.folded and alone else None

    def occurs(self, text: str) -> bool:
        """Whether the pattern matches anywhere in the text. A combined pattern is searched as its parts one
        after another, faster: each on its own (a literal start such as 'receiver operating' or '+BM' is looked
        for directly, not tried at every character) and without groups (an alternative that starts with a
        group is then skipped at once where its first letter is not), and the whole matches where any part
        matches. (The parts' searches are inlined: this runs tens of thousands of times per hundred abstracts.)"""
        lowered = _lowered(text)
        for part in self.parts:
            if part.folded is None or lowered is None:
                found = part.regex.search(text) is not None
            elif not has_needle(part.needles, lowered):
                continue
            elif part.at_words is not None and _narrow(lowered):  # the faster search tells it all
                found = part.at_words.search(lowered) is not None or part.folded.match(lowered) is not None
            else:
                found = part.folded.search(lowered) is not None
            if found:
                return True
        return False

    def search(self, text: str) -> re.Match[str] | None:
        return next(self.finditer(text), None)  # the first match is the leftmost

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        if self._shared_alone(text):
            return self.shared.finditer(text)  # type: ignore[union-attr]
        if self.folded is None or (lowered := _lowered(text)) is None:
            return self.regex.finditer(text)
        if not has_needle(self.needles, lowered):
            return iter(())
        if self.at_words is not None and _narrow(lowered):
            return self._word_matches(lowered)
        return self.folded.finditer(lowered)

    def finditer_from(self, text: str, starts: Callable[[str], Iterable[int]]) -> Iterator[re.Match[str]]:
        """``finditer``'s matches, for a pattern that never matches the empty string, tried only at the offsets that
        ``starts`` finds in the lowercased text: every offset where a match can start (more do no harm), found
        faster than the pattern's search finds its matches (which tries it at every word)."""
        lowered = _lowered(text)
        if self.folded is None or lowered is None:
            yield from self.finditer(text)
            return
        end = 0
        for start in sorted(set(starts(lowered))):
            if start >= end and (match := self.folded.match(lowered, start)) is not None:
                yield match
                end = match.end()

    def _word_matches(self, lowered: str) -> Iterator[re.Match[str]]:
        """The folded pattern's ``finditer`` on a lowercased text, found faster: a match starts at the text's
        start or after a non-word character, where ``at_words`` finds it, and none is empty; each is then
        read with ``match`` where it starts (the same match that a search reaches there)."""
        folded, at_words = self.folded, self.at_words
        match, end = folded.match(lowered), 0  # type: ignore[union-attr]
        while True:
            if match is None:
                before = at_words.search(lowered, max(end - 1, 0))  # type: ignore[union-attr]
                if before is None:
                    return
                end = before.start() + 1
                match = folded.match(lowered, end)  # type: ignore[union-attr]
                if match is None:  # (where at_words finds a start, the pattern matches: kept only to never loop)
                    end += 1
                    continue
            yield match
            end, match = match.end(), None

    def _shared_alone(self, text: str) -> bool:
        """When no other part matches anywhere in a text, a combined pattern's matches there are those of its
        first alternative (the same matches, groups numbered alike), which is faster searched alone."""
        return self.shared is not None and not any(_occurs(part, text) for part in self.parts[1:])


def has_needle(needles: tuple[str, ...] | None, text: str) -> bool:
    """Whether a text holds one of a pattern's needles (lowercased, for a folded pattern); True without needles."""
    if needles is None:
        return True
    for needle in needles:  # noqa: SIM110 - a loop, not any(): no generator to make on every call
        if needle in text:
            return True
    return False


def needles(pattern: str) -> tuple[str, ...] | None:
    """Strings one of which every match of a case-sensitive pattern holds (``_needles``); None if none is known:
    a text without them need not be searched."""
    try:
        found = _needles(list(re._parser.parse(pattern).data))  # type: ignore[attr-defined]
    except re.error:
        return None
    return tuple(sorted(found)) if found else None


def found_in(pattern: CaselessPattern, text: str) -> bool:
    """Whether a pattern occurs in a text, as read ahead (``Lexicon.read_ahead``) or searched."""
    reading = _readings.get(text)
    if reading is not None and pattern in reading[0]:
        return pattern in reading[1]
    return _occurs(pattern, text)


_readings: dict[str, tuple[frozenset[CaselessPattern], frozenset[CaselessPattern]]] = {}
"""Texts read ahead: the patterns asked, those found (emptied by ``forget_cues``)."""


def remember_reading(reader: CueReader, text: str) -> None:
    """Read a text in one pass and keep the reading: ``found_in`` answers from it for the patterns asked."""
    _readings[text] = (reader.asked, frozenset(reader.patterns[i] for i in read_with(reader, text)))


def found_by(reader: CueReader, text: str) -> frozenset[int]:
    """The indexes of a reader's patterns that occur in a text: from the text's reading ahead when that asked
    them all, else read with this reader."""
    reading = _readings.get(text)
    if reading is not None and reader.asked <= reading[0]:
        found = reading[1]
        return frozenset(i for i, pattern in enumerate(reader.patterns) if pattern in found)
    return read_with(reader, text)


@lru_cache(maxsize=4096)
def _occurs(pattern: CaselessPattern, text: str) -> bool:
    """Cached within a document (see ``forget_cues``): the rules, the candidates and the features read
    the same sentences for the same cues."""
    return pattern.occurs(text)


@lru_cache(maxsize=1024)
def _lowered(text: str) -> str | None:
    """The text lowercased for the folded patterns, or None when it has letters they cannot read."""
    return text.lower() if _foldable(text) else None


@lru_cache(maxsize=1024)
def read_with(reader: CueReader, text: str) -> frozenset[int]:
    """Cached within a document (see ``forget_cues``)."""
    return reader.read(text)


@lru_cache(maxsize=1024)
def _narrow(text: str) -> bool:
    """Whether every character of a text is below ``NARROW_END`` (``word_start_search`` knows their classes)."""
    return text.isascii() or WIDE.search(text) is None


def _foldable(text: str) -> bool:
    """Whether the lowercased text is read by the folded patterns as the text is by the originals: each
    character beyond ASCII lowercases apart from ASCII (``_folds_apart``)."""
    return text.isascii() or all(map(_folds_apart, set(NON_ASCII.findall(text))))


@lru_cache(maxsize=4096)
def _folds_apart(char: str) -> bool:
    """Whether a character lowercases to one character, neither it nor its case partners ASCII, of the same
    class (word, digit, space): the folded patterns, whose letters are ASCII (``_caseless``), then see it as the
    originals do. Not 'İ' (two characters lowercased), 'K' (the Kelvin sign: 'k'), 'ſ', 'ı' or 'ß'."""
    low = char.lower()
    return (len(low) == 1 and not (low.isascii() or char.upper().isascii() or low.upper().isascii())
            and all(test(char) == test(low) for test in (str.isalnum, str.isdecimal, str.isspace)))


def _caseless(pattern: str) -> bool:
    """Whether case matters only in a pattern's ASCII letters: every other character is caseless ('≤', '–';
    not 'µ', whose upper case is Greek)."""
    return pattern.isascii() or all(c.lower() == c == c.upper() for c in set(NON_ASCII.findall(pattern)))


def forget_cues() -> None:
    """Empty the cue caches: called for each new document, so that a cache never outlives one."""
    _readings.clear()
    _occurs.cache_clear()
    cue_list.cache_clear()
    _lowered.cache_clear()
    _narrow.cache_clear()
    read_with.cache_clear()


@lru_cache(maxsize=4096)
def cue_list(pattern: CaselessPattern, text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_cue_words(m, text) for m in pattern.finditer(text)))


def _cue_words(match: re.Match[str], text: str) -> str:
    """What a cue matched, as written in the text; for a long match (a pattern that looks ahead over the
    sentence), its last group."""
    start, end = match.span()
    if end - start <= 60 or not match.lastindex:
        return text[start:end]
    start, end = match.span(match.lastindex)
    return text[start:end]


LOOKBEHINDS_AT_WORD = re.compile(r"((?:\(\?<[!=](?:[^()\\]|\\.)*\))+)\\b")
"""Lookbehinds then a word boundary: all zero-width at one place, so the boundary can come first."""


def combine(patterns: list[str]) -> CaselessPattern:
    """One case-insensitive pattern for a list of patterns (a cue kind's). Those that start at a word boundary
    share one leading ``\\b``, so that the search gives up at once inside words instead of trying every pattern at
    every letter. The others follow in their order; the first of them, when they start with lookbehinds and a
    word boundary, join the shared ``\\b`` at its end (the same alternatives in the same order). Its parts
    (``arrange``) are kept for searching them one by one where that is faster."""
    shared, others = arrange(patterns)
    parts = [CaselessPattern(without_groups(p)) for p in ([shared] if shared else []) + others]
    return CaselessPattern(join(shared, others), parts, CaselessPattern(shared) if shared and others else None)


def join(shared: str | None, others: list[str]) -> str:
    """The combined regex of ``arrange``'s parts."""
    return "|".join(([shared] if shared else []) + [f"(?:{p})" for p in others])


def arrange(patterns: list[str]) -> tuple[str | None, list[str]]:
    """``combine``'s parts: the alternatives that share the leading ``\\b`` as one regex (None if there are
    none), and the other patterns."""
    at_word, others = [], []
    for pattern in patterns:
        if pattern.startswith("\\b") and not _top_level_alternation(pattern):
            at_word.append(pattern[2:])
        else:
            others.append(pattern)
    while others and not _top_level_alternation(others[0]) and (lead := LOOKBEHINDS_AT_WORD.match(others[0])):
        at_word.append(lead.group(1) + others.pop(0)[lead.end() :])
    if not at_word:
        return None, others
    shared = f"(?:{'|'.join(f'(?:{p})' for p in at_word)})"
    firsts = _first_letters(shared)
    return (f"\\b(?=[{firsts}]){shared}" if firsts else f"\\b{shared}"), others


def _first_letters(pattern: str) -> str | None:
    """The characters a match of a case-insensitive pattern can start with (lowercased, escaped for a
    character class), or None when the pattern could start with anything or match nothing. A lookahead
    for them lets the search skip word boundaries where no alternative can start."""
    try:
        found = _firsts(re._parser.parse(pattern, re.IGNORECASE).data)  # type: ignore[attr-defined]
    except (re.error, AttributeError):
        return None
    if not found or any(len(c.lower()) != 1 for c in found):
        return None
    return "".join(sorted({re.escape(c.lower()) for c in found}))


def _firsts(items: list) -> set[str] | None:  # items of a parsed pattern: (opcode, argument) pairs
    constants = re._constants  # type: ignore[attr-defined]
    chars: set[str] = set()
    for op, arg in items:
        if op is constants.LITERAL:
            return chars | {chr(arg)}
        if op is constants.IN:
            if any(kind is not constants.LITERAL for kind, _ in arg):
                return None
            return chars | {chr(code) for _, code in arg}
        if op is constants.BRANCH:
            branches = [_firsts(list(branch)) for branch in arg[1]]
            return None if any(b is None for b in branches) else chars.union(*branches)  # type: ignore[arg-type]
        if op is constants.SUBPATTERN:
            inner = _firsts(list(arg[3]))
            return None if inner is None else chars | inner
        if op in (constants.MAX_REPEAT, constants.MIN_REPEAT):
            inner = _firsts(list(arg[2]))
            if inner is None:
                return None
            chars |= inner
            if arg[0] > 0:
                return chars
            continue  # optional: what follows can come first too
        if op in (constants.AT, constants.ASSERT, constants.ASSERT_NOT):
            continue  # zero-width
        return None
    return None  # the pattern can match the empty string


MAX_NEEDLES = 12
MIN_NEEDLE = 3


def _prefilter(folded: str) -> tuple[str, ...] | None:
    """Needles for a folded pattern: strings one of which is in every text the pattern matches (a literal
    run every match holds, or one per alternative). Checking them with ``in`` is faster than the regex
    when there are few and none is short, for a pattern that starts at a word boundary or the text's
    start (which Python's regex engine tries at every character). None: no prefilter."""
    try:
        items = re._parser.parse(folded).data  # type: ignore[attr-defined]
    except (re.error, AttributeError):
        return None
    if not items or items[0][0] is not re._constants.AT:  # type: ignore[attr-defined]
        return None
    needles = _needles(list(items))
    if not needles or len(needles) > MAX_NEEDLES or min(map(len, needles)) < MIN_NEEDLE:
        return None
    return tuple(sorted(needles))


def _needles(items: list) -> set[str] | None:  # items of a parsed pattern: (opcode, argument) pairs
    """Strings one of which every match of the parsed (case-sensitive) pattern contains: of the literal runs
    and required groups in sequence, the set whose shortest string is longest; None if there is none."""
    constants = re._constants  # type: ignore[attr-defined]
    choices: list[set[str]] = []
    run: list[str] = []
    for op, arg in [*items, (None, None)]:
        if op is constants.LITERAL:
            run.append(chr(arg))
            continue
        if run:
            choices.append({"".join(run)})
            if op is constants.BRANCH:  # a prefix the parser took out of the alternatives: put it back
                leads = [_literal_start(branch) for branch in arg[1]]
                if all(leads):
                    choices.append({"".join(run) + lead for lead in leads})
            run = []
        found = None
        if op is constants.SUBPATTERN:
            found = _needles(list(arg[3]))
        elif op is constants.BRANCH:
            branches = [_needles(list(branch)) for branch in arg[1]]
            found = None if any(b is None for b in branches) else set().union(*branches)  # type: ignore[arg-type]
        elif op in (constants.MAX_REPEAT, constants.MIN_REPEAT) and arg[0] >= 1:
            found = _needles(list(arg[2]))
        if found:
            choices.append(found)
    return max(choices, key=lambda c: (min(map(len, c)), -len(c))) if choices else None


NARROW_END = "\u3000"
"""Where the scripts of CJK begin: the non-word characters below are few ranges (the regex compiles faster)."""
WIDE = re.compile(f"[{NARROW_END}-\U0010ffff]")
"""A character at or past ``NARROW_END`` (found by a regex, faster than ``max`` over the text's characters)."""
NON_ASCII = re.compile(r"[^\x00-\x7f]")
MAX_ALTERNATIVES = 400
"""A word-start search dispatches at most this many alternatives (a pattern that expands to more keeps its own)."""
MAX_CLASS = 40
"""A class of at most this many characters first in an alternative is expanded into one alternative for each."""
DISPATCH_DEPTH = 2
"""How many characters after a word's first letter a ``CueReader`` dispatches its parts on (``_tries``)."""


def word_start_search(folded: str) -> re.Pattern[str] | None:
    """A faster regex to tell whether a folded pattern of the shape ``\\b(?=[letters])(?:A|B|...)``, every
    alternative starting with a word character, matches anywhere but at the text's start (there, use the
    pattern's ``match``), in a text whose characters are below ``NARROW_END``. Python's regex engine tries a
    pattern that starts with ``\\b`` at every character; this one starts with the non-word character before
    the word, from a plain character set the engine skips to directly, and then dispatches on the word's
    first letter (``_by_first_letter``). None for any other shape."""
    found = _by_first_letter(folded)
    if found is None:
        return None
    state, by_letter = found
    branches = [[(re._constants.LITERAL, letter), *_either(state, rests)]  # type: ignore[attr-defined]
                for letter, rests in by_letter.items()]
    return _compile_parsed(state, [_non_word_set(), *_either(state, branches)])


def _by_first_letter(folded: str) -> tuple[object, dict[int, list[list]]] | None:
    """What can follow each first letter of a match of a folded pattern ``\\b(?=[letters])(?:A|B|...)``: its
    alternatives expanded until each starts with a letter (``_expand``), grouped by it, their leading
    lookbehinds moved after it (``(?<!x)a`` is ``a(?<!xa)``); with the parser's state. None for any other
    shape, or when a match can start with a non-word character."""
    try:
        parsed = re._parser.parse(folded)  # type: ignore[attr-defined]
    except re.error:
        return None
    constants = re._constants  # type: ignore[attr-defined]
    items = list(parsed.data)
    if items[:1] != [(constants.AT, constants.AT_BOUNDARY)]:
        return None
    items, allowed = items[1:], None
    if items and items[0][0] is constants.ASSERT and items[0][1][0] == 1:  # a guard on the first letter
        allowed = _letters(list(items[0][1][1]))
        if allowed is None:
            return None
        items = items[1:]
    alternatives = _expand(items)
    if alternatives is None:
        return None
    by_letter: dict[int, list[list]] = {}
    for behinds, letter, rest in alternatives:
        if not _is_word(letter):
            return None
        if allowed is None or letter in allowed:
            moved = [(op, (-1, re._parser.SubPattern(parsed.state, [*sub, (constants.LITERAL, letter)])))  # type: ignore[attr-defined]
                     for op, (_, sub) in behinds]
            by_letter.setdefault(letter, []).append(moved + rest)
    return (parsed.state, by_letter) if by_letter else None


def _compile_parsed(state: object, items: list) -> re.Pattern[str] | None:
    """A regex from parsed items (None if the engine cannot take it)."""
    try:
        return re._compiler.compile(re._parser.SubPattern(state, items))  # type: ignore[attr-defined]
    except (re.error, RecursionError):
        return None


class CueReader:
    """Tells which of several cue kinds (combined patterns) match in a text, reading it once: at each word
    start it dispatches on the first letter and tries, each as a lookahead that sets a group where it
    matches, the word-start parts (``_by_first_letter``) of every kind that can start with that letter (and
    another group, ``hit``, with it); a condition on ``hit`` then fails the match where none did, so that only
    the words where a cue starts are returned. Parts of another shape are searched on their own. The same
    answers as ``occurs``."""

    def __init__(self, patterns: list[CaselessPattern]) -> None:
        constants, subpattern = re._constants, re._parser.SubPattern  # type: ignore[attr-defined]
        state = re._parser.State()  # type: ignore[attr-defined]
        state.flags = re.UNICODE  # as re.compile's for a str pattern: \b and \w know the letters beyond ASCII
        self.patterns = patterns
        self.asked = frozenset(patterns)
        self.kinds: list[int] = []
        """The pattern each group of the regex stands for."""
        self.after_letter: dict[str, list[tuple[int, int]]] = {}
        """The groups (with their patterns) of the parts that start with each letter: those a match there can set."""
        self.others: list[list[CaselessPattern]] = [[] for _ in patterns]
        by_letter: dict[int, list[tuple[int, list]]] = {}
        for kind, pattern in enumerate(patterns):
            for part in pattern.parts:
                found = _by_first_letter(without_groups(part.folded.pattern)) if part.folded is not None else None
                if found is None:
                    self.others[kind].append(part)
                    continue
                group = state.opengroup()
                state.closegroup(group, subpattern(state, []))
                self.kinds.append(kind)
                for letter, rests in found[1].items():
                    by_letter.setdefault(letter, []).append((group, rests))
        hit = state.opengroup()
        state.closegroup(hit, subpattern(state, []))
        tries = [[(constants.LITERAL, letter), *_tries(state, groups, hit)] for letter, groups in by_letter.items()]
        self.after_letter = {chr(letter): [(group, self.kinds[group - 1]) for group, _ in groups]
                             for letter, groups in by_letter.items()}
        self.searched = [(kind, parts) for kind, parts in enumerate(self.others) if parts]
        """The kinds with parts searched on their own, with those parts."""
        hints = [needles(part.folded.pattern) if part.folded else None for _, parts in self.searched for part in parts]
        self.hints = None if None in hints else tuple(chain.from_iterable(hints))  # type: ignore[arg-type]
        """Strings one of which every match of those parts holds (lowercased): a text without any is not searched
        for them (most sentences). None if some part has none."""
        fail = subpattern(state, [(constants.ASSERT_NOT, (1, subpattern(state, [])))])  # (?!)
        words = [*_either(state, tries), (constants.GROUPREF_EXISTS, (hit, subpattern(state, []), fail))]
        self.after = _compile_parsed(state, [_non_word_set(), *words]) if tries else None
        self.at_start = _compile_parsed(state, words) if tries else None

    def read(self, text: str) -> frozenset[int]:
        """The indexes of the patterns that match in a text."""
        lowered = _lowered(text)
        if self.after is None or self.at_start is None or lowered is None or not _narrow(lowered):
            return frozenset(kind for kind, pattern in enumerate(self.patterns) if pattern.occurs(text))
        found: set[int] = set()
        for match in (self.at_start.match(lowered), *self.after.finditer(lowered)):
            if match is not None:  # the kinds of the groups set, among those of the word's first letter
                for group, kind in self.after_letter[lowered[match.end() - 1]]:
                    if match.start(group) >= 0:
                        found.add(kind)
        if not has_needle(self.hints, lowered):
            return frozenset(found)
        for kind, parts in self.searched:
            if kind not in found and any(_occurs(part, text) for part in parts):  # (cached: cue words ask again)
                found.add(kind)
        return frozenset(found)


def _tries(state: object, groups: list[tuple[int, list[list]]], hit: int, depth: int = DISPATCH_DEPTH) -> list:
    """Parsed items that set each group (given with the alternatives of its part that follow what was matched),
    and ``hit``, where one of those alternatives matches, and always match (zero width): ``(?:(?=(A|B))()|)``
    for each group. Two groups or more are first dispatched on the next character, where all their alternatives
    start with a known one, in one lookahead (``(?:(?=x...|y...)|)``: alternatives that start with a character,
    which the regex engine skips at once where another is), and so on for ``depth`` characters: at each
    character of a word, only the groups that can go on with it are tried."""
    constants, subpattern = re._constants, re._parser.SubPattern  # type: ignore[attr-defined]
    if depth == 0 or len(groups) < 2:
        return [_set_where(state, group, _either(state, rests), hit) for group, rests in groups]
    anywhere, by_next = [], {}
    for group, rests in groups:
        expanded = [_expand(rest) for rest in rests]
        if any(e is None for e in expanded):
            anywhere.append(_set_where(state, group, _either(state, rests), hit))
            continue
        mine: dict[int, list[list]] = {}
        for behinds, char, rest in (alternative for e in expanded for alternative in e):  # type: ignore[union-attr]
            moved = [(op, (-1, subpattern(state, [*sub, (constants.LITERAL, char)]))) for op, (_, sub) in behinds]
            mine.setdefault(char, []).append(moved + rest)
        for char, rests_after in mine.items():
            by_next.setdefault(char, []).append((group, rests_after))
    if not by_next:
        return anywhere
    dispatch = (constants.BRANCH, (None, [subpattern(state, [(constants.LITERAL, char),
                                                             *_tries(state, after, hit, depth - 1)])
                                          for char, after in by_next.items()]))
    return [*anywhere, (constants.BRANCH, (None, [subpattern(state, [(constants.ASSERT, (1, subpattern(
        state, [dispatch])))]), subpattern(state, [])]))]


def _set_where(state: object, group: int, items: list, hit: int) -> tuple:
    """``(?:(?=(items))()|)``: sets the group, and ``hit``, where the items match; matches anyway, with nothing."""
    constants, subpattern = re._constants, re._parser.SubPattern  # type: ignore[attr-defined]
    sets = (constants.SUBPATTERN, (group, 0, 0, subpattern(state, items)))
    return (constants.BRANCH, (None, [subpattern(state, [(constants.ASSERT, (1, subpattern(state, [sets]))),
                                                         (constants.SUBPATTERN, (hit, 0, 0, subpattern(state, [])))]),
                                      subpattern(state, [])]))


def _expand(items: list) -> list[tuple[list, int, list]] | None:
    """Alternatives that together match where a parsed pattern matches, each as (its leading lookbehinds,
    its first character, the rest); None when the pattern cannot be laid out so (a class of more than a few
    letters or a repeat that can be empty first, a lookahead first, or too many alternatives)."""
    constants = re._constants  # type: ignore[attr-defined]
    at = 0
    while at < len(items) and items[at][0] in (constants.ASSERT, constants.ASSERT_NOT) and items[at][1][0] == -1:
        at += 1
    if at == len(items):
        return None
    behinds, (op, arg), rest = items[:at], items[at], items[at + 1 :]
    if op is constants.LITERAL:
        return [(behinds, arg, rest)]
    if op is constants.IN and (letters := _letters([(op, arg)])) is not None and len(letters) <= MAX_CLASS:
        return [(behinds, letter, rest) for letter in sorted(letters)]
    if op is constants.BRANCH:
        choices = [[*behinds, *branch, *rest] for branch in arg[1]]
    elif op is constants.SUBPATTERN and arg[0] is None and not arg[1] and not arg[2]:
        choices = [[*behinds, *arg[3], *rest]]
    elif op in (constants.MAX_REPEAT, constants.MIN_REPEAT) and arg[:2] == (0, 1):
        choices = [[*behinds, *arg[2], *rest], [*behinds, *rest]]
    elif op in (constants.MAX_REPEAT, constants.MIN_REPEAT) and arg[0] >= 1:  # x+ is x then x*
        low, high, repeated = arg
        again = (op, (low - 1, high if high == constants.MAXREPEAT else high - 1, repeated))
        choices = [[*behinds, *repeated, *([again] if again[1][1] else []), *rest]]
    else:
        return None
    found: list[tuple[list, int, list]] = []
    for choice in choices:
        expanded = _expand(choice)
        if expanded is None or len(found) + len(expanded) > MAX_ALTERNATIVES:
            return None
        found.extend(expanded)
    return found


def _letters(items: list) -> set[int] | None:
    """The characters of a parsed single literal or class of literals and ranges; None for anything else."""
    constants = re._constants  # type: ignore[attr-defined]
    if len(items) != 1:
        return None
    op, arg = items[0]
    if op is constants.LITERAL:
        return {arg}
    if op is constants.IN and all(kind in (constants.LITERAL, constants.RANGE) for kind, _ in arg):
        return {code for kind, value in arg
                for code in ([value] if kind is constants.LITERAL else range(value[0], value[1] + 1))}
    return None


def _either(state: object, choices: list[list]) -> list:
    """Parsed items that match where any of the choices matches (none at all when a choice is empty: then
    anything does)."""
    if any(not choice for choice in choices):
        return []
    if len(choices) == 1:
        return choices[0]
    subpattern = re._parser.SubPattern  # type: ignore[attr-defined]
    return [(re._constants.BRANCH, (None, [subpattern(state, choice) for choice in choices]))]  # type: ignore[attr-defined]


def _is_word(code: int) -> bool:
    """Whether a character is one that ``\\w`` matches (and ``\\b`` sees as a word's)."""
    return chr(code).isalnum() or code == ord("_")


@lru_cache(maxsize=1)
def _non_word_set() -> tuple:
    """A parsed class of every non-word character below ``NARROW_END``, as ranges: a set the regex engine looks
    each character up in at once (``\\W`` is a call per character)."""
    ranges, start = [], None
    end = ord(NARROW_END)
    for code in range(end + 1):
        word = code == end or _is_word(code)
        if not word and start is None:
            start = code
        elif word and start is not None:
            ranges.append((start, code - 1))
            start = None
    return (re._constants.IN, [(re._constants.RANGE, r) for r in ranges])  # type: ignore[attr-defined]


def _literal_start(items: list) -> str:
    """The literal characters a parsed pattern starts with."""
    start = []
    for op, arg in items:
        if op is not re._constants.LITERAL:  # type: ignore[attr-defined]
            break
        start.append(chr(arg))
    return "".join(start)


FOLD_UNSAFE = re.compile(r"\\[xuUNp]|\(\?P|\(\?[a-zA-Z]|\[[^\]]*[A-Z\x80-\U0010ffff]-|\[[^\]]*-[A-Z\x80-\U0010ffff]")
"""What lowercasing a pattern could change the meaning of: escapes by code, named groups, inline flags,
and character ranges with an upper-case end (but A-Z, which lowercased is a-z) or one beyond ASCII (a range
of caseless ends can hold letters of both cases)."""


def fold_pattern(pattern: str) -> str | None:
    """A case-insensitive pattern rewritten for lowercased text: its letters lowercased, escapes (\\B, \\S,
    \\W, \\D) kept. On text that ``_foldable`` accepts, it matches where the original matches, case-sensitively
    and faster. None when lowercasing could change what the pattern means."""
    if FOLD_UNSAFE.search(pattern.replace("A-Z", "a-z")) or not _caseless(pattern):
        return None
    return re.sub(r"\\.|[A-Z]+", lambda m: m.group(0) if m.group(0)[0] == "\\" else m.group(0).lower(), pattern)


def without_groups(pattern: str) -> str:
    """The pattern with its capturing groups made non-capturing: it matches where the pattern matches (there
    are no backreferences: a pattern with any is kept as it is)."""
    if re.search(r"\\[1-9]|\(\?P=|\(\?\(", pattern):
        return pattern
    out, escaped, in_class, class_start = [], False, False, 0
    for i, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]" or i == class_start or (i == class_start + 1 and pattern[i - 1] == "^")
        elif char == "[":
            in_class, class_start = True, i + 1  # a ']' first in a class ('[]x]', '[^]x]') is a member
        elif char == "(" and pattern[i + 1 : i + 2] != "?":
            out.append("(?:")
            continue
        out.append(char)
    return "".join(out)


def _top_level_alternation(pattern: str) -> bool:
    depth, escaped, in_class = 0, False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
    return False
