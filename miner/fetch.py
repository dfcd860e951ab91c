"""The fetch stage: query → E-utilities → parsed records → store, in a job's run; and what every
writing stage shares, turning parsed records into stored rows."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import date

from miner.eutils import EutilsClient
from miner.pubmed import Article, BookSkipped, Deletion, Record, RecordError, parse_bytes
from miner.runs import RunContext, StopFlag, progress
from miner.store import RunCounts, SavedArticles, Store

log = logging.getLogger(__name__)


def store_records(store: Store, records: Iterable[Record], run_id: int, source: str) -> SavedArticles:
    """Store one batch of parsed records in one transaction (deletions in a second)."""
    articles: list[Article] = []
    deleted: list[str] = []
    counts = RunCounts()
    for record in records:
        if isinstance(record, Article):
            articles.append(record)
        elif isinstance(record, Deletion):
            deleted.extend(record.pmids)
        elif isinstance(record, BookSkipped):
            counts.skipped += 1
        elif isinstance(record, RecordError):
            counts.failed += 1
            log.error("%s: record %d%s skipped: %s", source, record.index + 1,
                      f" (PMID {record.pmid})" if record.pmid else "", record.message)
    saved = store.articles.save(articles, run_id)
    saved.counts.add(counts)
    if deleted:
        saved.counts.deleted += store.articles.mark_deleted(deleted, run_id)
    return saved


def fetch_query(
    store: Store,
    client: EutilsClient,
    query: str,
    run_id: int,
    since: date | None = None,
    until: date | None = None,
    datetype: str = "edat",
    stop: StopFlag | None = None,
) -> Iterator[SavedArticles]:
    """Search and fetch a query into the store, one stored batch at a time."""
    plan = client.plan(query, since, until, datetype)
    for warning in plan.warnings:
        log.warning("PubMed: %s", warning)
    log.info("%d records match%s", plan.count, f" (in {plan.windows} date windows)" if plan.windows > 1 else "")
    yield SavedArticles(RunCounts(found=plan.count))
    with progress(plan.count, "record", "fetch") as bar:
        for number, xml in enumerate(client.efetch_batches(plan), start=1):
            batch = store_records(store, parse_bytes(xml), run_id, source=f"efetch batch {number}")
            bar.update(batch.counts.new + batch.counts.updated + batch.counts.unchanged + batch.counts.failed)
            yield batch
            if stop:
                stop.check()


def fetch_into(ctx: RunContext, client: EutilsClient, query: str, since: date | None = None,
               until: date | None = None, datetype: str = "edat") -> None:
    """Fetch a query within a job, adding to its counts (the requests made too, even on failure)."""
    try:
        for batch in fetch_query(ctx.store, client, query, ctx.run_id, since, until, datetype, ctx.stop):
            ctx.counts.add(batch.counts)
    finally:
        ctx.counts.requests = client.requests_made
