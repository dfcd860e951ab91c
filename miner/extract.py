"""Articles in the store → mentions and evidence rows.

Only articles that are new, changed, or were extracted with another extractor fingerprint (rules
version, lexicon files, NER model) are extracted, unless everything is asked for. The store upserts
the evidence by (pmid, marker, cancer, use) (`EvidenceTable.replace`): a row that comes out the same
keeps the run that first found it, so "what is new since run N" stays true across re-extractions.
"""

from __future__ import annotations

import json
import logging
from bisect import bisect_right
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from spacy.language import Language

from miner.nlp.lexicon import Lexicon, load_lexicon
from miner.nlp.pipeline import Analysed, ArticleText, ExtractorConfig, analyse
from miner.nlp.relations import Relation
from miner.runs import RunContext, StopFlag, progress
from miner.store import Abstract, RunCounts, Store

log = logging.getLogger(__name__)


@dataclass
class Extracted:
    """What extraction found in one article, as plain rows (cheap to send between processes)."""

    pmid: str
    mentions: list[dict]
    relations: list[Relation]


def extract_articles(nlp: Language, articles: Iterable[ArticleText]) -> list[Extracted]:
    """Extract a batch; if it fails, article by article, so that one article the extractor cannot
    read is logged and left pending instead of stopping the job."""
    articles = list(articles)
    try:
        return [Extracted(a.pmid, mention_rows(a), a.extraction.relations) for a in analyse(nlp, articles)]
    except Exception as exc:
        if len(articles) == 1:
            log.error("PMID %s could not be extracted (left for the next run): %r", articles[0].pmid, exc)
            return []
        return [e for a in articles for e in extract_articles(nlp, [a])]


def _extract_chunk(job: tuple[ExtractorConfig, list[tuple[str, str, str]]]) -> list[Extracted]:
    """In a worker process: extract a chunk of (pmid, title, abstract) with the worker's own pipeline."""
    config, texts = job
    return extract_articles(config.pipeline(), [Abstract(*t) for t in texts])


class Extractor:
    """Extraction in this process, or spread over ``n_process`` worker processes (chunks of articles
    out, compact results back), with the pool kept for the whole job."""

    CHUNK = 50

    def __init__(self, config: ExtractorConfig, n_process: int = 1) -> None:
        self.config = config
        self.pool = ProcessPoolExecutor(n_process) if n_process > 1 else None

    def __call__(self, articles: list[Abstract]) -> list[Extracted]:
        if self.pool is None:
            return extract_articles(self.config.pipeline(), articles)
        chunks = [[(a.pmid, a.title, a.abstract) for a in articles[i : i + self.CHUNK]]
                  for i in range(0, len(articles), self.CHUNK)]
        return [e for part in self.pool.map(_extract_chunk, [(self.config, c) for c in chunks]) for e in part]

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def extract_into(ctx: RunContext, config: ExtractorConfig, *, everything: bool = False, n_process: int = 1) -> None:
    """Extract what is pending within a job, recording the run's extractor fingerprint."""
    ctx.extracting_with(config.fingerprint())
    ctx.counts.add(extract_pending(ctx.store, config, ctx.run_id, everything=everything, n_process=n_process,
                                   stop=ctx.stop))


def extract_pending(store: Store, config: ExtractorConfig, run_id: int, *, everything: bool = False,
                    batch: int = 500, n_process: int = 1, stop: StopFlag | None = None) -> RunCounts:
    """Extract what is pending, one batch of articles a transaction."""
    fingerprint = config.fingerprint()
    todo = store.articles.needing_extraction(fingerprint, everything=everything)
    counts = RunCounts()
    sync_reference_tables(store, load_lexicon())
    log.info("%d articles to extract", len(todo))
    with Extractor(config, n_process) as extractor, progress(len(todo), "article", "extract") as bar:
        for start in range(0, len(todo), batch):
            chunk = todo[start : start + batch]
            counts.add(save_extractions(store, extractor(store.articles.texts(chunk)), fingerprint, run_id))
            bar.update(len(chunk))
            log.info("extracted %d/%d articles", min(start + batch, len(todo)), len(todo))
            if stop:
                stop.check()
    store.refresh_summary()
    return counts


def save_extractions(store: Store, results: list[Extracted], fingerprint: str, run_id: int) -> RunCounts:
    """Replace the mentions and upsert the evidence of these articles, in one transaction."""
    evidence = {r.pmid: [evidence_row(r.pmid, rel, fingerprint, run_id) for rel in r.relations] for r in results}
    candidates = {(rel.marker, rel.category) for r in results for rel in r.relations if rel.candidate}
    written = store.evidence.replace([m for r in results for m in r.mentions], evidence, fingerprint, candidates)
    return RunCounts(extracted=len(results), evidence=written)


def mention_rows(result: Analysed) -> list[dict]:
    rows = []
    starts = [s.start for s in result.doc.sents]
    for span in result.doc.spans["entities"]:
        rows.append({
            "pmid": result.pmid, "label": span.label_, "text": span.text, "canonical": span.kb_id_,
            "source": span._.source, "candidate": int(bool(span._.candidate)),
            "start": span.start_char, "end": span.end_char,
            "sentence_index": bisect_right(starts, span.start) - 1,
        })
    return rows


def evidence_row(pmid: str, relation: Relation, fingerprint: str, run_id: int) -> dict:
    return {
        "pmid": pmid, "marker": relation.marker, "marker_surface": relation.marker_surface,
        "marker_category": relation.category, "candidate": int(relation.candidate), "cancer": relation.cancer,
        "use": relation.use, "finding": relation.finding, "direction": relation.direction,
        "sample": relation.sample, "confidence": relation.confidence, "sentence": relation.sentence,
        "sentence_start": relation.start, "sentence_end": relation.end,
        "cues": json.dumps(relation.cues, ensure_ascii=False), "extractor_version": fingerprint, "run_id": run_id,
    }


def sync_reference_tables(store: Store, lexicon: Lexicon) -> None:
    """The `markers` and `cancers` tables from the lexicon (candidates are added as found)."""
    store.lexicons.sync(
        [{"marker": m.name, "full_name": m.full_name or None, "category": m.category,
          "synonyms": json.dumps(list(m.synonyms), ensure_ascii=False)} for m in lexicon.markers.values()],
        [{"cancer": c.name, "synonyms": json.dumps(list(c.synonyms), ensure_ascii=False)}
         for c in lexicon.cancers.values()])
