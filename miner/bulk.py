"""Ingest PubMed files (efetch dumps, baseline and update files) on all cores or a Dask cluster.

The per-file work — parse, filter, extract — is a pure function of the file, run in worker
processes (``workers``) or on Dask workers (``dask_address``). Workers return compact results
(articles, mentions, evidence); only the main process writes, in file order and in large
transactions, so the database is never written by two processes and update files apply in sequence.
A file already ingested with the same content and extractor is skipped, so an interrupted bulk run
resumes by running it again.
"""

from __future__ import annotations

import logging
import os
import resource
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from miner.extract import Extracted, extract_articles, save_extractions, sync_reference_tables
from miner.fetch import store_records
from miner.nlp.lexicon import load_lexicon, matches_topic
from miner.nlp.pipeline import DEFAULT_EXTRACTOR, ExtractorConfig
from miner.pubmed import Article, Record, SourceError, parse_file
from miner.runs import RunContext, StopFlag, progress
from miner.store import RunCounts, Store, file_sha256

log = logging.getLogger(__name__)

WRITE_BATCH = 5000


@dataclass(frozen=True)
class FileJob:
    path: str
    sha256: str
    filter_query: bool
    fingerprint: str | None
    """The extractor fingerprint when extracting; None to only store articles."""
    extractor: ExtractorConfig = DEFAULT_EXTRACTOR
    max_record_bytes: int | None = None
    """A record longer than this is skipped as malformed (default: ``[pubmed] max_record_mb``)."""


@dataclass
class FileResult:
    job: FileJob
    records: list[Record] = field(default_factory=list)
    extracted: list[Extracted] = field(default_factory=list)
    error: str | None = None
    kept: int = 0
    filtered_out: int = 0
    seconds: float = 0.0
    peak_memory_mb: float = 0.0


def process_file(job: FileJob) -> FileResult:
    """Parse, filter and extract one file. Runs in a worker; touches no database."""
    started = time.perf_counter()
    result = FileResult(job)
    try:
        for record in parse_file(Path(job.path), job.max_record_bytes):
            if isinstance(record, Article) and job.filter_query and not matches_topic(record):
                result.filtered_out += 1
                continue
            result.records.append(record)
    except SourceError as exc:
        result.error = str(exc)
        result.records = []
    articles = [r for r in result.records if isinstance(r, Article)]
    result.kept = len(articles)
    if job.fingerprint is not None and articles:
        result.extracted = extract_articles(job.extractor.pipeline(), articles)
    result.seconds = time.perf_counter() - started
    result.peak_memory_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def file_key(fingerprint: str | None, filter_query: bool) -> str:
    """What a file's ingestion depended on: the extractor (or none) and the filter."""
    return f"{fingerprint or 'no-extract'}|filter={'query' if filter_query else 'all'}"


def unreadable(paths: list[Path]) -> list[str]:
    """A line for each path that is not a file to read."""
    return [f"{path}: {'not a file' if path.exists() else 'no such file'}" for path in paths if not path.is_file()]


def plan_jobs(store: Store, paths: list[Path], filter_query: bool, fingerprint: str | None,
              extractor: ExtractorConfig = DEFAULT_EXTRACTOR, force: bool = False,
              max_record_bytes: int | None = None) -> tuple[list[FileJob], list[str], int]:
    """The files to process, the files that cannot be read, and how many were ingested already."""
    jobs, missing, done = [], unreadable(paths), 0
    key = file_key(fingerprint, filter_query)
    for path in filter(Path.is_file, paths):
        digest = file_sha256(path)
        if not force and store.files.done(digest, key):
            done += 1
            continue
        jobs.append(FileJob(str(path), digest, filter_query, fingerprint, extractor, max_record_bytes))
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
    except (OSError, TimeoutError) as exc:
        raise SourceError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    with client:
        futures = client.map(process_file, jobs, pure=False)
        for fut in futures:
            yield fut.result()


def write_results(store: Store, results: Iterable[FileResult], run_id: int, total: int,
                  stop: StopFlag | None = None) -> tuple[RunCounts, list[str]]:
    """Write file results in order: articles and deletions, then the evidence of articles that need it.
    Returns the counts and the files that could not be read."""
    counts, errors = RunCounts(), []
    started = time.monotonic()
    extracting = False
    with progress(total, "file", "ingest") as bar:
        for done, result in enumerate(results, start=1):
            name = os.path.basename(result.job.path)
            if result.error:
                errors.append(f"{result.job.path}: {result.error}")
                log.error("%s skipped: %s", result.job.path, result.error)
                bar.update(1)
                continue
            if result.job.fingerprint is not None and not extracting:
                sync_reference_tables(store, load_lexicon())
                extracting = True
            _write_file(store, result, run_id, counts, name)
            store.files.record(name, result.job.sha256, len(result.records),
                              file_key(result.job.fingerprint, result.job.filter_query), run_id)
            elapsed = time.monotonic() - started
            rate = counts.found / elapsed if elapsed else 0.0
            log.info("%d/%d files, %s: %d records (%d filtered out) in %.1fs, %.0f records/s overall, ETA %.0fs",
                     done, total, name, result.kept, result.filtered_out, result.seconds, rate,
                     elapsed / done * (total - done))
            bar.update(1)
            if stop:
                stop.check()
    store.refresh_summary()
    return counts, errors


def _write_file(store: Store, result: FileResult, run_id: int, counts: RunCounts, name: str) -> None:
    extracted = {e.pmid: e for e in result.extracted}
    fingerprint = result.job.fingerprint
    for start in range(0, len(result.records), WRITE_BATCH):
        batch = store_records(store, result.records[start : start + WRITE_BATCH], run_id, source=name)
        counts.add(batch.counts)
        if fingerprint is None:
            continue
        pmids = [r.pmid for r in result.records[start : start + WRITE_BATCH] if isinstance(r, Article)]
        needed = store.articles.needing_extraction(fingerprint, among=pmids)
        counts.add(save_extractions(store, [extracted[p] for p in needed if p in extracted], fingerprint, run_id))
    counts.found += result.kept


def default_workers() -> int:
    return os.cpu_count() or 1


@dataclass
class Ingested:
    files_read: int
    already_done: int
    problems: list[str]
    """Files that could not be found or read."""


def ingest_into(ctx: RunContext, paths: list[Path], *, filter_query: bool,
                extractor: ExtractorConfig = DEFAULT_EXTRACTOR, force: bool = False, workers: int | None = None,
                dask_address: str | None = None, max_record_bytes: int | None = None) -> Ingested:
    """Ingest files within a job (extracting with the job's fingerprint, if any), adding to its counts."""
    jobs, missing, done = plan_jobs(ctx.store, paths, filter_query, ctx.fingerprint, extractor, force,
                                    max_record_bytes)
    for problem in missing:
        log.error(problem)
    results = run_jobs(jobs, workers or default_workers(), dask_address)
    added, errors = write_results(ctx.store, results, ctx.run_id, len(jobs), ctx.stop)
    ctx.counts.add(added)
    return Ingested(len(jobs) - len(errors), done, missing + errors)
