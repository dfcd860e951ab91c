"""The fetch job: query → E-utilities → parsed records → store, recorded as a run.

Also what every writing job shares: turning parsed records into stored rows, and stopping cleanly
on SIGINT/SIGTERM at the end of the current batch.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from miner.eutils import EutilsClient
from miner.pubmed import Article, BookSkipped, Deletion, Record, RecordError, parse_bytes
from miner.store import RunCounts, Store

log = logging.getLogger(__name__)


class Interrupted(Exception):
    """A stop was asked for (SIGINT/SIGTERM); the batch under way was finished and stored."""


@dataclass
class StoredBatch:
    counts: RunCounts
    new: list[str]
    """PMIDs stored for the first time."""
    revised: list[str]
    """PMIDs whose stored content changed."""


def store_records(store: Store, records: Iterable[Record], run_id: int, source: str) -> StoredBatch:
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
    saved, new, revised = store.save_articles(articles, run_id)
    counts.add(saved)
    if deleted:
        counts.deleted += store.mark_deleted(deleted, run_id)
    return StoredBatch(counts, new, revised)


class StopFlag:
    """Set by SIGINT/SIGTERM while a job runs; jobs check it between batches."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def check(self) -> None:
        if self.event.is_set():
            raise Interrupted("stopped by a signal; the last batch was stored")


@contextmanager
def stop_on_signals() -> Iterator[StopFlag]:
    flag = StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, _frame: object) -> None:
        log.warning("%s received: finishing the current batch", signal.Signals(signum).name)
        flag.event.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def fetch_query(
    store: Store,
    client: EutilsClient,
    query: str,
    run_id: int,
    since: date | None = None,
    until: date | None = None,
    datetype: str = "edat",
    stop: StopFlag | None = None,
) -> Iterator[StoredBatch]:
    """Search and fetch a query into the store, one stored batch at a time."""
    plan = client.plan(query, since, until, datetype)
    for warning in plan.warnings:
        log.warning("PubMed: %s", warning)
    log.info("%d records match%s", plan.count, f" (in {plan.windows} date windows)" if plan.windows > 1 else "")
    yield StoredBatch(RunCounts(found=plan.count), [], [])
    with progress(plan.count, "record", "fetch") as bar:
        for number, xml in enumerate(client.efetch_batches(plan), start=1):
            batch = store_records(store, parse_bytes(xml), run_id, source=f"efetch batch {number}")
            bar.update(batch.counts.new + batch.counts.updated + batch.counts.unchanged + batch.counts.failed)
            yield batch
            if stop:
                stop.check()


class _NoBar:
    def update(self, _n: int = 1) -> None:
        pass

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *_exc: object) -> None:
        pass


def progress(total: int, unit: str, desc: str):  # noqa: ANN201 - a tqdm bar, or one that draws nothing
    """A progress bar on an interactive terminal; elsewhere (cron, CI, logs) nothing: the log says it."""
    if sys.stderr.isatty() and total > 1:
        from tqdm import tqdm

        return tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, leave=False)
    return _NoBar()


@contextmanager
def recorded_run(store: Store, command: str, **params: object) -> Iterator[tuple[int, RunCounts]]:
    """A `runs` row for the job in the block: done, failed or interrupted, whatever happens."""
    run_id = store.start_run(command, **params)
    counts = RunCounts()
    try:
        yield run_id, counts
    except Interrupted as exc:
        store.finish_run(run_id, "interrupted", counts, str(exc))
        raise
    except BaseException as exc:
        store.finish_run(run_id, "failed", counts, str(exc) or type(exc).__name__)
        raise
    store.finish_run(run_id, "done", counts)
