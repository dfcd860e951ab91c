"""The scheduled refresh: fetch only what changed since the last successful run, extract it, report.

What changed: records added (entrez date) or revised (modification date) since the last successful
refresh (or fetch/run) of the same query, less a few days' overlap; records that left PubMed (stored
PMIDs the query no longer lists, confirmed absent by efetch; checked every few days, as the listing
costs a request per 9,999 records); retractions (a record revised to "Retracted Publication", or a
retraction notice). A refresh with nothing new makes two requests, three when the deletion check is due
(for a query under 9,999 records).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from miner.diff import changes_since
from miner.eutils import EutilsClient
from miner.extract import extract_into
from miner.fetch import store_records
from miner.nlp.pipeline import ExtractorConfig
from miner.pubmed import Article, parse_bytes
from miner.runs import RunContext, progress
from miner.store import RunCounts, Store, SummaryRow
from miner.store.runs import TIME_FORMAT

log = logging.getLogger(__name__)


@dataclass
class RefreshReport:
    run_id: int
    since: str | None
    counts: RunCounts
    new_articles: list[dict] = field(default_factory=list)
    revised_articles: list[str] = field(default_factory=list)
    deleted_articles: list[str] = field(default_factory=list)
    retracted_articles: list[str] = field(default_factory=list)
    concern_articles: list[str] = field(default_factory=list)
    """Articles stored or revised by the refresh that carry an expression of concern."""
    new_rows: list[SummaryRow] = field(default_factory=list)
    changed_rows: list[SummaryRow] = field(default_factory=list)
    removed_rows: list[SummaryRow] = field(default_factory=list)
    new_candidates: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"refresh: {len(self.new_articles)} new, {len(self.revised_articles)} revised, "
                f"{len(self.deleted_articles)} deleted, {len(self.retracted_articles)} retracted articles, "
                f"{len(self.concern_articles)} with an expression of concern; "
                f"{len(self.new_rows)} new and {len(self.changed_rows)} changed summary rows, "
                f"{len(self.removed_rows)} removed; {self.counts.requests} requests")


def window_start(store: Store, query: str, overlap_days: int) -> date | None:
    """Where this refresh starts: the last successful refresh, fetch or run of the query, less the overlap."""
    started = store.runs.last_full_fetch(query)
    if not started:
        return None
    return datetime.strptime(started, TIME_FORMAT).date() - timedelta(days=overlap_days)


def deletion_check_due(store: Store, query: str, every_days: int) -> bool:
    """Whether the last check for records that left PubMed (or full fetch) is older than ``every_days``."""
    last = store.runs.last_deletion_check(query)
    if not last:
        return True
    return datetime.utcnow() - datetime.strptime(last, TIME_FORMAT) >= timedelta(days=every_days)


def refresh(ctx: RunContext, client: EutilsClient, query: str, extractor: ExtractorConfig, *,
            overlap_days: int, deletion_check_days: int = 7, check_deleted: bool = False) -> RefreshReport:
    """One refresh within a job; the job's counts are updated as work lands."""
    store, run_id, counts = ctx.store, ctx.run_id, ctx.counts
    since = window_start(store, query, overlap_days)
    check = since is None or check_deleted or deletion_check_due(store, query, deletion_check_days)
    ctx.record(since=since.isoformat() if since else None)
    before = store.summary.snapshot()
    candidates_before = store.lexicons.candidates()
    report = RefreshReport(run_id, since.isoformat() if since else None, counts)
    try:
        if since is None:
            log.info("no earlier successful refresh of this query: fetching all of it")
            ids = client.search_ids(query)
        else:
            today = date.today()
            ids = list(dict.fromkeys(client.search_ids(query, since, today, "edat")
                                     + client.search_ids(query, since, today, "mdat")))
        counts.found = len(ids)
        log.info("%d records added or revised since %s", len(ids), since or "the beginning")
        fetched: set[str] = set()
        with progress(len(ids), "record", "refresh") as bar:
            for number, xml in enumerate(client.efetch_ids(ids), start=1):
                records = list(parse_bytes(xml))
                fetched.update(r.pmid for r in records if isinstance(r, Article))
                batch = store_records(store, records, run_id, source=f"efetch batch {number}")
                counts.add(batch.counts)
                titles = {r.pmid: r.title for r in records if isinstance(r, Article)}
                report.new_articles += [{"pmid": p, "title": titles.get(p, "")} for p in batch.new]
                report.revised_articles += batch.revised
                bar.update(len(records))
                ctx.stop.check()
        if since is not None and check:
            report.deleted_articles = _check_deleted(store, client, query, fetched, run_id)
            counts.deleted += len(report.deleted_articles)
        ctx.record(deletion_check=int(check))
    finally:
        counts.requests = client.requests_made
    report.retracted_articles = store.articles.changed_to("retracted", run_id)
    report.concern_articles = store.articles.with_expression_of_concern(run_id)
    extract_into(ctx, extractor)
    changes = changes_since(store, run_id - 1)  # what `miner diff --since <the run before>` reports
    report.new_rows, report.changed_rows = changes.new_rows, changes.changed_rows
    after = store.summary.snapshot()
    report.removed_rows = [before[k] for k in sorted(before.keys() - after.keys())]
    report.new_candidates = sorted(store.lexicons.candidates() - candidates_before)
    return report


def _check_deleted(store: Store, client: EutilsClient, query: str, fetched: set[str], run_id: int) -> list[str]:
    """Stored articles of this query that PubMed no longer lists and efetch no longer returns."""
    listed = set(client.search_ids(query))
    known = store.articles.first_seen_by_query(query)
    missing = sorted(known - listed - fetched)
    if not missing:
        return []
    still_there = {r.pmid for xml in client.efetch_ids(missing) for r in parse_bytes(xml) if isinstance(r, Article)}
    gone = [p for p in missing if p not in still_there]
    if gone:
        store.articles.mark_deleted(gone, run_id)
        log.info("%d articles left PubMed: %s", len(gone), " ".join(gone[:20]))
    return gone


def write_report(report: RefreshReport, folder: Path) -> tuple[Path, Path]:
    """The change report as Markdown (for the reviewer) and JSON (for machines)."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"refresh-{report.run_id:05d}"
    json_path, md_path = stem.with_suffix(".json"), stem.with_suffix(".md")
    json_path.write_text(json.dumps(asdict(report), indent=2, default=str), encoding="utf-8")
    lines = [f"# Refresh {report.run_id}: what changed since {report.since or 'the beginning'}", "",
             report.summary() + ".", ""]
    sections = [
        ("New articles", [f"- [{a['pmid']}](https://pubmed.ncbi.nlm.nih.gov/{a['pmid']}/) {a['title']}"
                          for a in report.new_articles]),
        ("New summary rows", [_row_line(r) for r in report.new_rows]),
        ("Changed summary rows", [_row_line(r) for r in report.changed_rows]),
        ("Summary rows whose evidence left", [_row_line(r) for r in report.removed_rows]),
        ("New candidate markers (not in the lexicon)", [f"- {m}" for m in report.new_candidates]),
        ("Revised articles", [f"- {p}" for p in report.revised_articles]),
        ("Deleted articles (their evidence was removed)", [f"- {p}" for p in report.deleted_articles]),
        ("Retracted articles (their evidence was removed)", [f"- {p}" for p in report.retracted_articles]),
        ("Articles with an expression of concern (their evidence is kept)",
         [f"- {p}" for p in report.concern_articles]),
    ]
    for title, items in sections:
        lines += [f"## {title}", "", *(items or ["none"]), ""]
    md_path.write_text("\n".join(lines), encoding="utf-8")
    return md_path, json_path


def _row_line(row: SummaryRow) -> str:
    return (f"- {row.marker} | {row.cancer} | {row.use}: {row.articles} articles "
            f"({row.supporting} supporting, {row.refuting} refuting); PMIDs {row.pmids}")
