"""Build the spaCy pipeline and run it over articles.

The pipeline works without any trained model: scispacy's rule tokenizer, a sentence splitter that
keeps "vs.", "e.g." and p-values inside sentences, the abbreviation finder (scispacy's algorithm, run
faster) and the lexicon entity finder. With ``ner_model`` (a scispacy model name or a path to any spaCy
NER pipeline), that model's entities are added as candidates, normalised through the lexicon.
"""

from __future__ import annotations

import gc
import re
import warnings
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy
import spacy
from scispacy.custom_tokenizer import combined_rule_tokenizer
from spacy.attrs import IDX, SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from miner.nlp.abbreviations import AbbreviationFinder  # noqa: F401  (registers miner_abbreviations)
from miner.nlp.candidates import AbstractView, read_abstract
from miner.nlp.entities import doc_text  # (importing it registers miner_entities)
from miner.nlp.lexicon import Lexicon, lexicon_hash, load_lexicon
from miner.nlp.patterns import forget_cues
from miner.nlp.relations import Extraction, find_relations, read_sentences, sentence_roles, sorted_entities
from miner.nlp.scoring import Model, ScoredCandidate, load_model, model_hash, score_candidates

EXTRACTOR_VERSION = "2"
"""Bump when a change to the rules changes what is extracted: stored articles are re-extracted."""


class ArticleText(Protocol):
    pmid: str
    title: str
    abstract: str


@dataclass(frozen=True)
class ExtractorConfig:
    """How extraction is configured: a statistical NER model for extra candidates (a name or a path), the
    scorer's model file (None: the shipped one) and a confidence that overrides the model's threshold."""

    ner_model: str | None = None
    scorer: str | None = None
    min_confidence: float | None = None

    def fingerprint(self) -> str:
        """What extraction depends on: rules version, lexicon files, the scorer's model and threshold,
        and the NER model if any. Articles extracted with another fingerprint are extracted again."""
        parts = [EXTRACTOR_VERSION, lexicon_hash(), model_hash(self.scorer)]
        if self.min_confidence is not None:
            parts.append(f"min{self.min_confidence:g}")
        if self.ner_model:
            parts.append(self.ner_model)
        return ":".join(parts)

    def pipeline(self) -> Language:
        """This process's pipeline for this configuration (worker processes build theirs once)."""
        key = (self, lexicon_hash())  # a user lexicon ($MINER_LEXICON) makes another pipeline
        if key not in _SHARED:
            _SHARED[key] = build_pipeline(self.ner_model, self.scorer, self.min_confidence)
            # The pipeline (vocab, matchers, lexicon, model: ~100,000 objects) lives as long as the process:
            # out of the garbage collector's sight, each full collection no longer walks it (~3% faster).
            gc.freeze()
        return _SHARED[key]


DEFAULT_EXTRACTOR = ExtractorConfig()
_SHARED: dict[tuple[ExtractorConfig, str], Language] = {}


SENTENCE_END = re.compile(r"[.!?\n](?:(?<=[.!?])[)\]\"']?\s+(?=[A-Z0-9(\[])|(?<=\n)\n*\s*)")
"""'.', '!' or '?', maybe a closing bracket or quote, and spaces before a capital, a digit or a bracket; or line
breaks. (One class first, which the regex engine skips to, rather than an alternation tried at every character.)"""
NOT_AN_END = re.compile(r"(\b(vs|v|e\.g|i\.e|et al|Fig|Figs|approx|ca|no|No|cf|resp|Dr|St|incl|vol|Ref)|\b[A-Z])$")
NOT_AN_END_REACH = 8
"""NOT_AN_END matches at most 6 characters ('approx'): searched from this far before a full stop, not
from the start of the text (a word boundary still sees the character before)."""


@Language.component("miner_sentences")
def split_sentences(doc: Doc) -> Doc:
    """A sentence starts after a line break, or after '.', '!' or '?' and a space when a capital, a digit
    or a bracket follows — except after abbreviations such as "vs.", "e.g.", "et al." or "Fig." and
    initials. Boundaries are found in the text and mapped to tokens; other tokens are 'not a start'."""
    if not len(doc):
        return doc
    # Set through an array: each Token.is_sent_start = ... checks every token for a parse.
    columns = doc.to_array([IDX, SENT_START])
    token_starts, sent_starts = columns[:, 0].tolist(), columns[:, 1]
    sent_starts[0] = START
    text = doc_text(doc)
    found = False
    for m in SENTENCE_END.finditer(text):
        if m.end() >= len(text) or (text[m.start()] == "." and NOT_AN_END.search(
                text, max(0, m.start() - NOT_AN_END_REACH), m.start())):
            continue
        token = bisect_right(token_starts, m.end()) - 1  # the token that holds the next sentence's first character
        if token > 0:
            sent_starts[token] = START
            found = True
    if not found and len(doc) > 1:
        sent_starts[1] = NOT_A_START  # one sentence: still say so, or spaCy has no boundaries at all
    doc.from_array([SENT_START], sent_starts)
    return doc


START, NOT_A_START = numpy.uint64(1), numpy.iinfo(numpy.uint64).max
"""Token.is_sent_start True and False (-1) in spaCy's arrays, which are unsigned."""


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


# scispacy's tokenizer rules warn on every start; it does not matter here.
warnings.filterwarnings("ignore", message="Possible set union", category=FutureWarning)


SLASH_BETWEEN_WORDS = r"(?<=[A-Za-z])/(?=[A-Za-z0-9])"
"""Also split "CTCs/7.5 mL" and "CTX-I/TRACP5B", which scispacy's rules keep whole."""


@Language.factory("miner_relations", default_config={"scorer": None, "min_confidence": None, "score": True})
def make_relations(nlp: Language, name: str, scorer: str | None, min_confidence: float | None,
                   score: bool) -> RelationFinder:
    return RelationFinder(load_lexicon(), load_model(scorer) if score else None, min_confidence)


class RelationFinder:
    """Reads each abstract (the hand rules, then every candidate relation with its features) and, with a
    model, keeps the candidates the learned scorer accepts. Results go to ``doc.user_data``: "view"
    (the AbstractView), "extraction" (relations and sentence notes) and "scored" (every candidate's score).
    These are Python objects that ``Doc.to_bytes`` cannot serialise: parallel extraction runs a whole
    pipeline in each worker process (``miner.extract``, ``miner.bulk``), not ``nlp.pipe(n_process=...)``."""

    def __init__(self, lexicon: Lexicon, model: Model | None, min_confidence: float | None) -> None:
        self.lexicon, self.model, self.min_confidence = lexicon, model, min_confidence

    def __call__(self, doc: Doc) -> Doc:
        text, title_end = doc_text(doc), doc.user_data.get("title_end", 0)
        forget_cues()
        roles, entities = sentence_roles(doc, self.lexicon, title_end, text), sorted_entities(doc)
        sentences = read_sentences(entities, self.lexicon, text, roles)
        rules = find_relations(entities, self.lexicon, title_end, text, sentences)
        view = read_abstract(entities, self.lexicon, title_end, text, sentences, rules)
        doc.user_data["view"] = view
        if self.model is None:
            doc.user_data["extraction"], doc.user_data["scored"] = rules, []
            return doc
        relations, scored = score_candidates(view, self.model, self.lexicon, self.min_confidence)
        doc.user_data["extraction"] = Extraction(relations, rules.notes, rules.out_of_scope_reason)
        doc.user_data["scored"] = scored
        return doc


def build_pipeline(ner_model: str | None = None, scorer: str | None = None, min_confidence: float | None = None,
                   score: bool = True) -> Language:
    """The extraction pipeline. ``scorer`` is a model file (default: the shipped one); ``min_confidence``
    overrides the model's threshold; ``score=False`` reads abstracts without scoring (to train a model)."""
    nlp = spacy.blank("en")
    nlp.tokenizer = combined_rule_tokenizer(nlp)
    infixes = nlp.tokenizer.infix_finditer.__self__.pattern  # type: ignore[attr-defined]
    nlp.tokenizer.infix_finditer = re.compile(f"{infixes}|{SLASH_BETWEEN_WORDS}").finditer
    nlp.add_pipe("miner_sentences")
    nlp.add_pipe("miner_abbreviations")
    if ner_model:
        nlp.add_pipe("model_ner", config={"model": ner_model})
    nlp.add_pipe("miner_entities")
    nlp.add_pipe("miner_relations", config={"scorer": scorer, "min_confidence": min_confidence, "score": score})
    return nlp


def article_text(article: ArticleText) -> tuple[str, int]:
    """The text analysed: title, a line break, the abstract; and where the title ends."""
    title = (article.title or "").strip()
    return f"{title}\n{article.abstract or ''}", len(title)


@dataclass
class Analysed:
    pmid: str
    doc: Doc
    extraction: Extraction
    view: AbstractView
    scored: list[ScoredCandidate]


def analyse(nlp: Language, articles: Iterable[ArticleText], batch_size: int = 64) -> Iterator[Analysed]:
    """Run the pipeline over articles (in this process: for several processes, see miner.extract,
    which sends articles out and gets compact results back)."""
    docs = ((_make_doc(nlp, a), a.pmid) for a in articles)
    for doc, pmid in nlp.pipe(docs, as_tuples=True, batch_size=batch_size):
        data = doc.user_data
        yield Analysed(pmid, doc, data.pop("extraction"), data.pop("view"), data.pop("scored"))


def _make_doc(nlp: Language, article: ArticleText) -> Doc:
    text, title_end = article_text(article)
    doc = nlp.make_doc(text)
    doc.user_data["text"] = text
    doc.user_data["title_end"] = title_end
    return doc
