"""Ingest PubMed files (efetch dumps, baseline and update files) on all cores or a Dask cluster.

The per-file work — parse, filter, extract — is a pure function of the file, run in worker
processes (``--workers``) or on Dask workers (``--dask``). Workers return compact results; only the
main process writes, in file order, so the database is never written by two processes and update
files apply in sequence. A file already ingested with the same content and extractor is skipped,
so an interrupted bulk run resumes by running it again.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from miner.jobs import StopFlag, store_records
from miner.pubmed import Article, Record, SourceError, parse_file
from miner.store import RunCounts, Store, file_sha256

log = logging.getLogger(__name__)

WRITE_BATCH = 5000


@dataclass(frozen=True)
class FileJob:
    path: str
    sha256: str
    filter_query: bool
    extract: bool


@dataclass
class FileResult:
    job: FileJob
    records: list[Record] = field(default_factory=list)
    error: str | None = None
    kept: int = 0
    filtered_out: int = 0
    seconds: float = 0.0


def process_file(job: FileJob) -> FileResult:
    """Parse (and filter) one file. Runs in a worker; touches no database."""
    started = time.perf_counter()
    result = FileResult(job)
    try:
        for record in parse_file(Path(job.path)):
            if isinstance(record, Article) and job.filter_query:
                from miner.nlp.lexicon import matches_topic

                if not matches_topic(record):
                    result.filtered_out += 1
                    continue
            result.records.append(record)
    except SourceError as exc:
        result.error = str(exc)
        result.records = []
    result.kept = sum(isinstance(r, Article) for r in result.records)
    result.seconds = time.perf_counter() - started
    return result


def plan_jobs(store: Store, paths: list[Path], filter_query: bool, extract: bool, extracted_with: str,
              force: bool = False) -> tuple[list[FileJob], list[str], int]:
    """The files to process, the files that cannot be read, and how many were done already."""
    jobs, missing, done = [], [], 0
    for path in paths:
        if not path.is_file():
            missing.append(f"{path}: no such file")
            continue
        digest = file_sha256(path)
        if not force and store.file_done(digest, extracted_with):
            done += 1
            continue
        jobs.append(FileJob(str(path), digest, filter_query, extract))
    return jobs, missing, done


def run_jobs(jobs: list[FileJob], workers: int, dask_address: str | None) -> Iterator[FileResult]:
    """Results in file order, computed in-process, in a process pool, or on a Dask cluster."""
    if dask_address:
        yield from _run_on_dask(jobs, dask_address)
    elif workers <= 1 or len(jobs) <= 1:
        yield from map(process_file, jobs)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures: list[Future[FileResult]] = [pool.submit(process_file, j) for j in jobs]
            for fut in futures:
                yield fut.result()


def _run_on_dask(jobs: list[FileJob], address: str) -> Iterator[FileResult]:
    try:
        from distributed import Client
    except ImportError:
        raise SourceError("--dask needs the dask extra: pip install 'miner[dask]'") from None
    try:
        client = Client(address, timeout="20s")
    except OSError as exc:
        raise SourceError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    with client:
        futures = client.map(process_file, jobs, pure=False)
        for fut in futures:
            yield fut.result()


def write_results(store: Store, results: Iterator[FileResult], run_id: int, extracted_with: str,
                  total: int, stop: StopFlag | None = None) -> tuple[RunCounts, list[str], list[str]]:
    """Write file results in order. Returns counts, PMIDs new or changed, and file errors."""
    counts, changed, errors = RunCounts(), [], []
    started = time.monotonic()
    for done, result in enumerate(results, start=1):
        name = os.path.basename(result.job.path)
        if result.error:
            errors.append(f"{result.job.path}: {result.error}")
            log.error("%s skipped: %s", result.job.path, result.error)
            continue
        for start in range(0, len(result.records), WRITE_BATCH):
            batch = store_records(store, result.records[start : start + WRITE_BATCH], run_id, source=name)
            counts.add(batch.counts)
            changed.extend(batch.changed)
        counts.found += result.kept
        store.record_file(name, result.job.sha256, len(result.records), extracted_with, run_id)
        elapsed = time.monotonic() - started
        rate = counts.found / elapsed if elapsed else 0.0
        eta = elapsed / done * (total - done)
        log.info("%d/%d files, %s: %d records (%d filtered out), %.0f records/s, ETA %.0fs",
                 done, total, name, result.kept, result.filtered_out, rate, eta)
        if stop:
            stop.check()
    return counts, changed, errors


def default_workers() -> int:
    return os.cpu_count() or 1
