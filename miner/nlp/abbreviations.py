"""The `miner_abbreviations` spaCy component: short forms defined in the abstract, "long form (SHORT)".

The same results as scispacy's AbbreviationDetector (Schwartz & Hearst's algorithm, which it implements
and this component reuses: ``filter_matches`` and ``find_abbreviation``), found faster: the bracketed
candidates and each short form's other occurrences are read from the tokens' texts, where scispacy runs
two spaCy Matchers over every token of every document. Sets ``doc._.abbreviations``: each occurrence
of a defined short form, a Span whose ``._.long_form`` is the Span of its definition.
"""

from __future__ import annotations

from collections.abc import Iterator

from scispacy.abbreviation import filter_matches, find_abbreviation
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
        for long_candidate, short_candidate in filter_matches(bracketed(texts), doc):
            short, long = find_abbreviation(long_candidate, short_candidate)
            if not long or long.text in definitions or short.text in shorts:
                continue  # the first definition of a long or a short form wins, as in scispacy
            definitions[long.text] = (long, short)
            shorts.add(short.text)
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
