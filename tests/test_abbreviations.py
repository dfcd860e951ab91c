"""The abbreviation finder gives what scispacy's AbbreviationDetector gives, on hand-made and real text."""

from __future__ import annotations

import json

import pytest
import spacy
from scispacy.abbreviation import AbbreviationDetector
from scispacy.custom_tokenizer import combined_rule_tokenizer
from spacy.language import Language
from spacy.matcher import Matcher

from miner.nlp.abbreviations import AbbreviationFinder, bracketed
from miner.nlp.entities import token_texts

from .conftest import shared_file

TRICKY = [
    "Prostate-specific antigen (PSA) and PSA; bone alkaline phosphatase (BAP) and bone-specific alkaline "
    "phosphatase (BAP), then BAP.",
    "(PSA) first; ((a) b) c (d) and interleukin 6 (IL 6), IL 6 and interleukin (IL) x (IL-6) IL-6 ( ).",
    "receptor activator of nuclear factor kappa-B ligand (RANKL) (osteoprotegerin (OPG)) and N-telopeptide "
    "(NTX (urinary)) with (a b c d e f g h i j) (CTX)",
]


@pytest.fixture(scope="module")
def nlp() -> Language:
    nlp = spacy.blank("en")
    nlp.tokenizer = combined_rule_tokenizer(nlp)
    return nlp


def found(detector: object, doc: spacy.tokens.Doc) -> list[tuple[int, int, str, int, int]]:
    doc = detector(doc)  # type: ignore[operator]
    return sorted((a.start, a.end, a.text, a._.long_form.start, a._.long_form.end) for a in doc._.abbreviations)


def agree(nlp: Language, texts: list[str]) -> int:
    scispacy, ours = AbbreviationDetector(nlp), AbbreviationFinder()
    defined = 0
    for text in texts:
        expected = found(scispacy, nlp.make_doc(text))
        assert found(ours, nlp.make_doc(text)) == expected, text
        defined += len(expected)
    return defined


def test_brackets_in_the_order_of_scispacys_matcher(nlp: Language) -> None:
    doc = nlp.make_doc("Serum (a (b) c) NTX (x) y")
    assert token_texts(doc) == ["Serum", "(", "a", "(", "b", ")", "c", ")", "NTX", "(", "x", ")", "y"]
    matcher = Matcher(nlp.vocab)
    matcher.add("brackets", [[{"ORTH": "("}, {"OP": "+"}, {"ORTH": ")"}]])
    inside = [(0, start + 1, end - 1) for _, start, end in matcher(doc)]
    assert bracketed(token_texts(doc)) == [m for m in inside if m[1] > 1 and m[2] - m[1] <= 8]
    assert (0, 4, 11) in bracketed(token_texts(doc))


def test_same_definitions_as_scispacy_on_hand_made_text(nlp: Language) -> None:
    assert agree(nlp, TRICKY) >= 8


def test_same_definitions_as_scispacy_on_annotated_abstracts(nlp: Language) -> None:
    rows = [json.loads(line) for line in shared_file("corpus/dev_abstracts.jsonl").open(encoding="utf-8")]
    assert agree(nlp, [f"{r['title']}\n{r['abstract']}" for r in rows]) > 100
