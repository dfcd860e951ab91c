"""The `miner_abbreviations` spaCy component: short forms defined in the abstract, "long form (SHORT)".

The same results as scispacy's AbbreviationDetector (Schwartz & Hearst's algorithm, which it implements),
found faster: the bracketed candidates, scispacy's filters and pairing (``filter_matches``,
``find_abbreviation``) and each short form's other occurrences are worked out on the tokens' texts, where
scispacy runs two spaCy Matchers over every token of every document and reads tokens as objects. Sets
``doc._.abbreviations``: each occurrence of a defined short form, a Span whose ``._.long_form`` is the
Span of its definition.
"""

from __future__ import annotations

from collections.abc import Iterator

from spacy.attrs import SPACY
from spacy.language import Language
from spacy.tokens import Doc, Span

from miner.nlp.entities import token_texts

MAX_INSIDE = 8
"""scispacy's limit: brackets holding more tokens are not a definition."""


@Language.factory("miner_abbreviations", default_config={})
def make_abbreviations(nlp: Language, name: str) -> AbbreviationFinder:
    return AbbreviationFinder()


class AbbreviationFinder:
    def __init__(self) -> None:
        Doc.set_extension("abbreviations", default=[], force=True)
        Span.set_extension("long_form", default=None, force=True)

    def __call__(self, doc: Doc) -> Doc:
        texts = token_texts(doc)
        definitions: dict[str, tuple[Span, Span]] = {}
        shorts: set[str] = set()
        candidates = bracketed(texts)
        words = Words(texts, doc.to_array(SPACY).tolist() if candidates else [])
        for long_candidate, short_candidate in words.pairs(candidates):
            long_start = words.long_form_start(long_candidate, short_candidate)
            if long_start is None:
                continue
            long_text, short_text = words.text(long_start, long_candidate[1]), words.text(*short_candidate)
            if long_text in definitions or short_text in shorts:
                continue  # the first definition of a long or a short form wins, as in scispacy
            definitions[long_text] = (doc[long_start : long_candidate[1]], doc[short_candidate[0] : short_candidate[1]])
            shorts.add(short_text)
        abbreviations = []
        for long, short in definitions.values():
            words = texts[short.start : short.end]
            starts = {short.start} | {i for i in _positions(texts, words[0]) if texts[i : i + len(words)] == words}
            for start in sorted(starts):
                occurrence = doc[start : start + len(words)]
                occurrence._.long_form = long
                abbreviations.append(occurrence)
        doc._.abbreviations = abbreviations
        return doc


def _positions(texts: list[str], word: str) -> Iterator[int]:
    """Where a word is among the tokens' texts (found by ``list.index``, which looks in C)."""
    at = -1
    while True:
        try:
            at = texts.index(word, at + 1)
        except ValueError:
            return
        yield at


class Words:
    """A document's tokens as their texts and whether a space follows each, for scispacy's candidate
    filters and pairing (``filter_matches``, ``short_form_filter``, ``find_abbreviation``) done the same
    way on plain strings. Token ranges are (start, end)."""

    def __init__(self, texts: list[str], spaces: list[int]) -> None:
        self.texts, self.spaces = texts, spaces

    def text(self, start: int, end: int) -> str:
        """A range's text, as its Span's: the tokens with the spaces between them."""
        return "".join(self.texts[i] + " " * self.spaces[i] for i in range(start, end - 1)) + self.texts[end - 1]

    def pairs(self, candidates: list[tuple[int, int, int]]) -> Iterator[tuple[tuple[int, int], tuple[int, int]]]:
        """``filter_matches``: (long form candidate, short form candidate) for each bracketed range."""
        for _, start, end in candidates:
            if end - start > MAX_INSIDE or start == 1:
                continue
            if end - start > 3:  # the long form is inside the brackets, the short form the word before
                short, long = (start - 2, start - 1), (start, end)
                if _unbalanced(self.texts[start:end]):
                    continue
            else:
                short = (start, end)
                length = sum(len(text) for text in self.texts[start:end])
                long = (max(start - min(length + 5, length * 2) - 1, 0), start - 1)
            if self._short_form(*short):
                yield long, short

    def _short_form(self, start: int, end: int) -> bool:
        """``short_form_filter``: words of 2 to 9 characters, at least half letters, a letter first."""
        if not all(2 <= len(text) < 10 for text in self.texts[start:end]):
            return False
        text = self.text(start, end)
        return sum(c.isalpha() for c in text) / len(text) >= 0.5 and text[0].isalpha()

    def long_form_start(self, long: tuple[int, int], short: tuple[int, int]) -> int | None:
        """``find_abbreviation``: where the long form starts, or None when the short form's letters cannot be
        found in it in order, the first at the start of a word."""
        long_form, short_form = " ".join(self.texts[long[0] : long[1]]), " ".join(self.texts[short[0] : short[1]])
        long_index, short_index = len(long_form) - 1, len(short_form) - 1
        while short_index >= 0:
            char = short_form[short_index].lower()
            if not char.isalnum():
                short_index -= 1
                continue
            while (long_index >= 0 and long_form[long_index].lower() != char) or (
                    short_index == 0 and long_index > 0 and long_form[long_index - 1].isalnum()):
                long_index -= 1
            if long_index < 0:
                return None
            long_index -= 1
            short_index -= 1
        long_index += 1
        length = 0  # as scispacy: the first token whose text and space reach past that character
        for i in range(*long):
            length += len(self.texts[i]) + self.spaces[i]
            if length > long_index:
                return i
        return long[0]


def _unbalanced(texts: list[str]) -> bool:
    """``span_contains_unbalanced_parentheses``."""
    depth = 0
    for text in texts:
        if text == "(":
            depth += 1
        elif text == ")":
            if not depth:
                return True
            depth -= 1
    return depth != 0


def bracketed(texts: list[str]) -> list[tuple[int, int, int]]:
    """What scispacy's matcher for '(' + ')' yields after dropping the brackets, in its order (by the
    closing bracket, innermost opening first), without the spans that ``filter_matches`` would skip:
    more than eight tokens inside, or an opening bracket that starts the document."""
    found, opened = [], []
    for i, text in enumerate(texts):
        if text == "(":
            opened.append(i)
        elif text == ")":
            for start in reversed(opened):
                if i - start - 1 > MAX_INSIDE:
                    break
                if start > 0 and i - start >= 2:
                    found.append((0, start + 1, i))
    return found
