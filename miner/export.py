"""Exports of the evidence: rows as CSV or JSON Lines; the review-style table as Markdown or HTML."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from miner.store import Store

EVIDENCE_COLUMNS = ("pmid", "marker", "marker_category", "candidate", "cancer", "use", "finding", "direction",
                    "sample", "confidence", "sentence", "sentence_start", "sentence_end", "year", "title",
                    "extractor_version", "run_id")


def evidence_rows(store: Store, cancer: str | None = None, use: str | None = None,
                  min_articles: int = 1) -> Iterator[dict]:
    """Evidence of active articles, with the article's year and title, filtered as asked."""
    where, args = ["a.status = 'active'"], []
    if cancer:
        where.append("e.cancer = ?")
        args.append(cancer)
    if use:
        where.append("e.use = ?")
        args.append(use)
    if min_articles > 1:
        where.append("(select count(distinct pmid) from evidence x where x.marker = e.marker and "
                     "x.cancer = e.cancer and x.use = e.use) >= ?")
        args.append(min_articles)
    sql = (f"select e.*, a.year, a.title from evidence e join articles a on a.pmid = e.pmid "
           f"where {' and '.join(where)} order by e.marker, e.cancer, e.use, e.pmid")
    for row in store.db.query(sql, args):
        yield {c: row[c] for c in EVIDENCE_COLUMNS}


def write_jsonl(store: Store, out: TextIO, **filters: object) -> int:
    count = 0
    for row in evidence_rows(store, **filters):  # type: ignore[arg-type]
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(store: Store, out: TextIO, **filters: object) -> int:
    writer = csv.DictWriter(out, fieldnames=EVIDENCE_COLUMNS)
    writer.writeheader()
    count = 0
    for row in evidence_rows(store, **filters):  # type: ignore[arg-type]
        writer.writerow(row)
        count += 1
    return count


def default_output(db: Path, fmt: str) -> Path:
    suffix = {"jsonl": ".jsonl", "csv": ".csv", "markdown": ".md", "html": ".html"}[fmt]
    return db.parent / f"evidence{suffix}"


WRITERS = {"csv": write_csv, "jsonl": write_jsonl}
