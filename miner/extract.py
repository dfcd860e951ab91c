"""Articles in the store → mentions and evidence rows.

Only articles that are new, changed, or were extracted with another extractor fingerprint (rules
version, lexicon files, NER model) are extracted, unless everything is asked for. Evidence is
upserted by (pmid, marker, cancer, use): a row that comes out the same keeps the run that first
found it, so "what is new since run N" stays true across re-extractions.
"""

from __future__ import annotations

import json
import logging
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from spacy.language import Language

from miner.jobs import StopFlag, progress
from miner.nlp.lexicon import Lexicon, load_lexicon
from miner.nlp.pipeline import Analysed, ArticleText, analyse, shared_pipeline
from miner.nlp.relations import Relation
from miner.store import RunCounts, Store

log = logging.getLogger(__name__)

EVIDENCE_CONTENT = ("marker_surface", "marker_category", "candidate", "finding", "direction", "sample",
                    "confidence", "sentence", "sentence_start", "sentence_end", "cues", "extractor_version")


@dataclass
class StoredText:
    pmid: str
    title: str
    abstract: str


def pending(store: Store, fingerprint: str, everything: bool = False) -> list[str]:
    """PMIDs of active articles that need (re-)extraction."""
    where = "status = 'active'"
    args: list[object] = []
    if not everything:
        where += " and (extracted_with is null or extracted_with != ?)"
        args.append(fingerprint)
    return [r[0] for r in store.db.execute(f"select pmid from articles where {where} order by pmid", args)]


def _texts(store: Store, pmids: list[str]) -> Iterator[StoredText]:
    marks = ",".join("?" * len(pmids))
    for pmid, title, abstract in store.db.execute(
            f"select pmid, title, abstract from articles where pmid in ({marks})", pmids):
        yield StoredText(pmid, title or "", abstract or "")


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


def _extract_chunk(job: tuple[str | None, list[tuple[str, str, str]]]) -> list[Extracted]:
    """In a worker process: extract a chunk of (pmid, title, abstract) with the worker's own pipeline."""
    ner_model, texts = job
    return extract_articles(shared_pipeline(ner_model), [StoredText(*t) for t in texts])


class Extractor:
    """Extraction in this process, or spread over ``n_process`` worker processes (chunks of articles
    out, compact results back), with the pool kept for the whole job."""

    CHUNK = 50

    def __init__(self, nlp: Language, ner_model: str | None = None, n_process: int = 1) -> None:
        self.nlp, self.ner_model = nlp, ner_model
        self.pool = ProcessPoolExecutor(n_process) if n_process > 1 else None

    def __call__(self, articles: list[StoredText]) -> list[Extracted]:
        if self.pool is None:
            return extract_articles(self.nlp, articles)
        chunks = [[(a.pmid, a.title, a.abstract) for a in articles[i : i + self.CHUNK]]
                  for i in range(0, len(articles), self.CHUNK)]
        return [e for part in self.pool.map(_extract_chunk, [(self.ner_model, c) for c in chunks]) for e in part]

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def extract_pending(store: Store, nlp: Language, fingerprint: str, run_id: int, *, everything: bool = False,
                    batch: int = 500, n_process: int = 1,
                    ner_model: str | None = None, stop: StopFlag | None = None) -> RunCounts:
    """Extract what is pending, one batch of articles a transaction."""
    todo = pending(store, fingerprint, everything)
    counts = RunCounts()
    sync_reference_tables(store, load_lexicon())
    log.info("%d articles to extract", len(todo))
    with Extractor(nlp, ner_model, n_process) as extractor, progress(len(todo), "article", "extract") as bar:
        for start in range(0, len(todo), batch):
            chunk = todo[start : start + batch]
            counts.add(save_extractions(store, extractor(list(_texts(store, chunk))), fingerprint, run_id))
            bar.update(len(chunk))
            log.info("extracted %d/%d articles", min(start + batch, len(todo)), len(todo))
            if stop:
                stop.check()
    store.refresh_summary()
    return counts


def save_extractions(store: Store, results: list[Extracted], fingerprint: str, run_id: int) -> RunCounts:
    """Replace the mentions and upsert the evidence of these articles, in one transaction."""
    counts = RunCounts(extracted=len(results))
    if not results:
        return counts
    store.summary_stale = True
    db = store.db
    pmids = [r.pmid for r in results]
    marks = ",".join("?" * len(pmids))
    with db.conn:
        db.execute(f"delete from mentions where pmid in ({marks})", pmids)
        db["mentions"].insert_all([m for r in results for m in r.mentions], pk="id", batch_size=500)
        existing: dict[str, list[dict]] = {}
        for row in db.query(f"select * from evidence where pmid in ({marks})", pmids):
            existing.setdefault(row["pmid"], []).append(row)
        new_rows: list[dict] = []
        for result in results:
            counts.evidence += upsert_evidence(store, result.pmid, result.relations, fingerprint, run_id,
                                               existing.get(result.pmid, []), new_rows)
        db["evidence"].insert_all(new_rows, pk="id", batch_size=500)
        db.conn.executemany("update articles set extracted_with = ? where pmid = ?", [(fingerprint, p) for p in pmids])
        record_candidates(store, results)
    return counts


def mention_rows(result: Analysed) -> list[dict]:
    rows = []
    starts = [s.start for s in result.doc.sents]
    for span in result.doc.spans["entities"]:
        rows.append({
            "pmid": result.pmid, "label": span.label_, "text": span.text, "canonical": span.kb_id_,
            "category": None, "source": span._.source, "candidate": int(bool(span._.candidate)),
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


def upsert_evidence(store: Store, pmid: str, relations: list[Relation], fingerprint: str, run_id: int,
                    existing_rows: list[dict], new_rows: list[dict]) -> int:
    """Evidence of one article against its stored rows: new rows go to ``new_rows`` (inserted by the
    caller in one go), changed ones are updated, the ones gone deleted. Returns how many are new or changed."""
    db = store.db
    existing = {(r["marker"], r["cancer"], r["use"]): r for r in existing_rows}
    wanted = {(r.marker, r.cancer, r.use): evidence_row(pmid, r, fingerprint, run_id) for r in relations}
    written = 0
    for key, row in wanted.items():
        old = existing.get(key)
        if old is None:
            new_rows.append(row)
            written += 1
        elif any(old[c] != row[c] for c in EVIDENCE_CONTENT):
            db["evidence"].update(old["id"], row)
            written += 1
    gone = [existing[k]["id"] for k in existing.keys() - wanted.keys()]
    if gone:
        db.execute(f"delete from evidence where id in ({','.join('?' * len(gone))})", gone)
    return written


def sync_reference_tables(store: Store, lexicon: Lexicon) -> None:
    """The `markers` and `cancers` tables from the lexicon (candidates are added as found)."""
    with store.db.conn:
        store.db["markers"].upsert_all(
            [{"marker": m.name, "full_name": m.full_name or None, "category": m.category,
              "synonyms": json.dumps(list(m.synonyms), ensure_ascii=False), "in_lexicon": 1}
             for m in lexicon.markers.values()], pk="marker")
        store.db["cancers"].upsert_all(
            [{"cancer": c.name, "synonyms": json.dumps(list(c.synonyms), ensure_ascii=False)}
             for c in lexicon.cancers.values()], pk="cancer")


def record_candidates(store: Store, results: list[Extracted]) -> None:
    names = {(r.marker, r.category) for res in results for r in res.relations if r.candidate}
    for name, category in names:
        store.db.execute(
            "insert or ignore into markers (marker, category, synonyms, in_lexicon) values (?, ?, '[]', 0)",
            [name, category])
