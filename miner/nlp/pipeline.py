"""Build the spaCy pipeline and run it over articles.

The pipeline works without any trained model: scispacy's rule tokenizer, a sentence splitter that
keeps "vs.", "e.g." and p-values inside sentences, scispacy's AbbreviationDetector, and the lexicon
entity finder. With ``ner_model`` (a scispacy model name or a path to any spaCy NER pipeline), that
model's entities are added as candidates, normalised through the lexicon.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import spacy
from scispacy.abbreviation import AbbreviationDetector  # noqa: F401  (registers the factory)
from scispacy.custom_tokenizer import combined_rule_tokenizer
from spacy.language import Language
from spacy.tokens import Doc

import miner.nlp.entities  # noqa: F401  (registers miner_entities)
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


@Language.component("miner_sentences")
def split_sentences(doc: Doc) -> Doc:
    """A sentence starts after a line break, or after '.', '!' or '?' when a capital, a digit or a
    bracket follows. Abbreviations such as "vs." and "e.g." are single tokens, so they never end one."""
    previous = None
    for token in doc:
        if previous is None:
            token.is_sent_start = True
        elif token.is_space:
            token.is_sent_start = False
            if "\n" in token.text:
                previous = token
            continue
        else:
            token.is_sent_start = "\n" in previous.text or (
                previous.text in (".", "!", "?") and (token.text[:1].isupper() or token.text[:1].isdigit()
                                                       or token.text[:1] in "(["))
        previous = token
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


def build_pipeline(ner_model: str | None = None) -> Language:
    nlp = spacy.blank("en")
    nlp.tokenizer = combined_rule_tokenizer(nlp)
    nlp.add_pipe("miner_sentences")
    nlp.add_pipe("abbreviation_detector")
    if ner_model:
        nlp.add_pipe("model_ner", config={"model": ner_model})
    nlp.add_pipe("miner_entities")
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


def analyse(nlp: Language, articles: Iterable[ArticleText], batch_size: int = 64,
            n_process: int = 1) -> Iterator[Analysed]:
    """Run the pipeline over articles and find the relations in each."""
    lexicon = load_lexicon()
    items = ((article_text(a), a.pmid) for a in articles)
    pairs = ((text, (pmid, title_end)) for (text, title_end), pmid in items)
    for doc, (pmid, title_end) in nlp.pipe(pairs, as_tuples=True, batch_size=batch_size, n_process=n_process):
        yield Analysed(pmid, doc, find_relations(doc, lexicon, title_end))
