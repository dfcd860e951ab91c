"""Build the spaCy pipeline and run it over articles.

The pipeline works without any trained model: scispacy's rule tokenizer, a sentence splitter that
keeps "vs.", "e.g." and p-values inside sentences, scispacy's AbbreviationDetector, and the lexicon
entity finder. With ``ner_model`` (a scispacy model name or a path to any spaCy NER pipeline), that
model's entities are added as candidates, normalised through the lexicon.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import spacy
from scispacy.abbreviation import AbbreviationDetector  # noqa: F401  (registers the factory)
from scispacy.custom_tokenizer import combined_rule_tokenizer
from spacy.language import Language
from spacy.tokens import Doc

from miner.nlp.entities import doc_text  # (importing it registers miner_entities)
from miner.nlp.lexicon import lexicon_hash, load_lexicon
from miner.nlp.relations import Extraction, find_relations

EXTRACTOR_VERSION = "1"
"""Bump when a change to the rules changes what is extracted: stored articles are re-extracted."""


class ArticleText(Protocol):
    pmid: str
    title: str
    abstract: str


def extractor_fingerprint(ner_model: str | None = None) -> str:
    """What extraction depends on: rules version, lexicon files, and the NER model if any."""
    return f"{EXTRACTOR_VERSION}:{lexicon_hash()}" + (f":{ner_model}" if ner_model else "")


SENTENCE_END = re.compile(r"[.!?][)\]\"']?\s+(?=[A-Z0-9(\[])|\n+\s*")
NOT_AN_END = re.compile(r"(\b(vs|v|e\.g|i\.e|et al|Fig|Figs|approx|ca|no|No|cf|resp|Dr|St|incl|vol|Ref)|\b[A-Z])$")


@Language.component("miner_sentences")
def split_sentences(doc: Doc) -> Doc:
    """A sentence starts after a line break, or after '.', '!' or '?' and a space when a capital, a digit
    or a bracket follows — except after abbreviations such as "vs.", "e.g.", "et al." or "Fig." and
    initials. Boundaries are found in the text and mapped to tokens; other tokens are 'not a start'."""
    if not len(doc):
        return doc
    doc[0].is_sent_start = True
    text = doc_text(doc)
    found = False
    for m in SENTENCE_END.finditer(text):
        if m.end() >= len(text) or (text[m.start()] == "." and NOT_AN_END.search(text, 0, m.start())):
            continue
        span = doc.char_span(m.end(), m.end() + 1, alignment_mode="expand")
        if span is not None and span.start > 0:
            doc[span.start].is_sent_start = True
            found = True
    if not found and len(doc) > 1:
        doc[1].is_sent_start = False  # one sentence: still say so, or spaCy has no boundaries at all
    return doc


@Language.factory("model_ner", default_config={"model": ""})
def make_model_ner(nlp: Language, name: str, model: str) -> ModelNER:
    return ModelNER(model)


class ModelNER:
    """Runs a statistical NER model on the text and keeps its entities in ``doc.spans['model']``."""

    def __init__(self, model: str) -> None:
        self.model = spacy.load(model, exclude=["parser", "tagger", "lemmatizer", "attribute_ruler"])

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for ent in self.model(doc.text).ents:
            span = doc.char_span(ent.start_char, ent.end_char, label=ent.label_, alignment_mode="expand")
            if span is not None:
                spans.append(span)
        doc.spans["model"] = spans
        return doc


# scispacy's tokenizer rules and its abbreviation matcher warn on every start; neither matters here.
warnings.filterwarnings("ignore", message="Possible set union", category=FutureWarning)
warnings.filterwarnings("ignore", message=r".*\[W036\]")


SLASH_BETWEEN_WORDS = r"(?<=[A-Za-z])/(?=[A-Za-z0-9])"
"""Also split "CTCs/7.5 mL" and "CTX-I/TRACP5B", which scispacy's rules keep whole."""


def build_pipeline(ner_model: str | None = None) -> Language:
    nlp = spacy.blank("en")
    nlp.tokenizer = combined_rule_tokenizer(nlp)
    infixes = nlp.tokenizer.infix_finditer.__self__.pattern  # type: ignore[attr-defined]
    nlp.tokenizer.infix_finditer = re.compile(f"{infixes}|{SLASH_BETWEEN_WORDS}").finditer
    nlp.add_pipe("miner_sentences")
    abbreviations = nlp.add_pipe("abbreviation_detector")
    # scispacy adds each abbreviation to its matcher per document; its own patterns need no validation,
    # which would otherwise cost about a third of a millisecond an abstract.
    abbreviations.global_matcher.validate = False
    if ner_model:
        nlp.add_pipe("model_ner", config={"model": ner_model})
    nlp.add_pipe("miner_entities")
    return nlp


_SHARED: dict[str | None, Language] = {}


def shared_pipeline(ner_model: str | None = None) -> Language:
    """One pipeline per process and NER model (worker processes build theirs once)."""
    if ner_model not in _SHARED:
        _SHARED[ner_model] = build_pipeline(ner_model)
    return _SHARED[ner_model]


def article_text(article: ArticleText) -> tuple[str, int]:
    """The text analysed: title, a line break, the abstract; and where the title ends."""
    title = (article.title or "").strip()
    return f"{title}\n{article.abstract or ''}", len(title)


@dataclass
class Analysed:
    pmid: str
    doc: Doc
    extraction: Extraction


def analyse(nlp: Language, articles: Iterable[ArticleText], batch_size: int = 64) -> Iterator[Analysed]:
    """Run the pipeline over articles and find the relations in each (in this process: for several
    processes, see miner.extract, which sends articles out and gets compact results back)."""
    lexicon = load_lexicon()
    pairs = ((_make_doc(nlp, text), (a.pmid, title_end)) for a in articles for text, title_end in [article_text(a)])
    for doc, (pmid, title_end) in nlp.pipe(pairs, as_tuples=True, batch_size=batch_size):
        yield Analysed(pmid, doc, find_relations(doc, lexicon, title_end, doc_text(doc)))


def _make_doc(nlp: Language, text: str) -> Doc:
    doc = nlp.make_doc(text)
    doc.user_data["text"] = text
    return doc
