"""The job context every writing job runs in: the database's lock, a stop on SIGINT/SIGTERM at the end
of the current batch, a `runs` row that ends done, failed, unavailable (NCBI could not be reached: exit 75,
try later) or interrupted whatever happens, and the extractor fingerprint the run extracts with."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from miner.eutils import ServiceUnavailable
from miner.store import RunCounts, Store

log = logging.getLogger(__name__)


class Interrupted(Exception):
    """A stop was asked for (SIGINT/SIGTERM); the batch under way was finished and stored."""


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


@dataclass
class RunContext:
    """A job under way: its store, its run, the counts it records, and the stop flag to check."""

    store: Store
    run_id: int
    counts: RunCounts
    stop: StopFlag
    fingerprint: str | None = None

    def extracting_with(self, fingerprint: str) -> None:
        """Record the extractor fingerprint of the run."""
        self.fingerprint = fingerprint
        self.store.runs.update(self.run_id, extractor_version=fingerprint)

    def record(self, **values: object) -> None:
        """Record more about the run (its window, whether it checked for deletions)."""
        self.store.runs.update(self.run_id, **values)


@contextmanager
def job(store: Store, command: str, *, fingerprint: str | None = None, **params: object) -> Iterator[RunContext]:
    """Run the block as one recorded run of ``command`` holding the lock (Locked when another process
    holds it), stopping at the end of a batch on SIGINT/SIGTERM; the summary is brought up to date
    with the run's evidence before the run is recorded as finished."""
    with store.lock(), stop_on_signals() as stop:
        ctx = RunContext(store, store.runs.start(command, **params), RunCounts(), stop)
        try:
            if fingerprint:
                ctx.extracting_with(fingerprint)
            yield ctx
        except Interrupted as exc:
            _finish(ctx, "interrupted", str(exc))
            raise
        except ServiceUnavailable as exc:
            _finish(ctx, "unavailable", str(exc))
            raise
        except BaseException as exc:
            _finish(ctx, "failed", str(exc) or type(exc).__name__)
            raise
        _finish(ctx, "done")


def _finish(ctx: RunContext, status: str, message: str | None = None) -> None:
    ctx.store.refresh_summary()
    ctx.store.runs.finish(ctx.run_id, status, ctx.counts, message)
    ctx.store.checkpoint()


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
