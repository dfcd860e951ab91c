"""A service that accepts connections and never answers: a bounded, visible give-up over real HTTP.

The first retry line comes within 15 s and the command exits 75 within its budget (2 minutes for
run/fetch by default, the refresh's own for refresh); the tests set short budgets to stay quick.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from miner.config import load_settings
from miner.eutils import EutilsClient, ServiceUnavailable
from miner.standin import Running, StandIn

MINER = [sys.executable, "-m", "miner"]


@pytest.fixture
def hung() -> Iterator[StandIn]:
    server = Running(StandIn(always="hang"))
    try:
        yield server.state
    finally:
        server.stop()


def test_defaults_give_a_retry_line_within_15_s_and_up_within_2_minutes() -> None:
    settings = load_settings({})
    client = EutilsClient(settings)
    longest_first_backoff = 0.5 * 2 * 1.5
    assert client.reply_wait(0, settings.give_up_after) + longest_first_backoff < 15
    assert settings.give_up_after <= 120
    assert settings.for_refresh().give_up_after == 300


def test_reply_waits_grow_and_stay_inside_the_budget() -> None:
    client = EutilsClient(load_settings({}))
    assert [client.reply_wait(n, 1000) for n in range(4)] == [10, 20, 40, 60]
    assert client.reply_wait(3, 7.5) == 7.5
    short = EutilsClient(load_settings({}).with_options(give_up_after=4.0))
    assert short.reply_wait(0, 4.0) == 1.0  # a short budget still leaves room for retries


def test_hung_service_gives_up_within_the_budget(hung: StandIn, tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings({}).with_options(eutils_url=hung.url, db=tmp_path / "a.db", rate_without_key=200.0,
                                              timeout=0.5, give_up_after=3.0)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="miner.eutils"), \
            pytest.raises(ServiceUnavailable, match=r"timed out \(no reply within .*; gave up after \d+ attempts in"):
        EutilsClient(settings).plan("bone")
    elapsed = time.monotonic() - started
    assert 1.5 < elapsed <= 3.3
    retries = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert retries and retries[0].created - (time.time() - elapsed) < 1.5
    assert len(hung.log) >= 2  # the connection was accepted and the request read, every time


def test_a_reply_that_trickles_in_is_bounded_too(tmp_path: Path) -> None:
    server = Running(StandIn(always="trickle"))
    try:
        settings = load_settings({}).with_options(eutils_url=server.url, db=tmp_path / "a.db",
                                                  rate_without_key=200.0, timeout=1.0, give_up_after=3.0)
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable, match="timed out"):
            EutilsClient(settings).plan("bone")
        assert time.monotonic() - started < 3.0 + 1.0  # the budget, and at most one more read
    finally:
        server.stop()


def miner_process(args: list[str], url: str, tmp_path: Path) -> tuple[int, list[tuple[float, str]], float]:
    """Run miner; its exit code, its stderr lines with the seconds at which each came, its run time."""
    env = {**os.environ, "MINER_EUTILS_URL": url, "NCBI_EMAIL": "tests@example.org"}
    env.pop("NCBI_API_KEY", None)
    started = time.monotonic()
    process = subprocess.Popen([*MINER, *args, "--db", str(tmp_path / "a.db")], env=env, cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    lines = [(time.monotonic() - started, line.rstrip()) for line in process.stderr]
    return process.wait(timeout=60), lines, time.monotonic() - started


@pytest.mark.parametrize("command", [["fetch", "--query", "bone"], ["refresh", "--query", "bone"]])
def test_a_command_against_a_hung_service_exits_75_with_the_reason(hung: StandIn, tmp_path: Path,
                                                                   command: list[str]) -> None:
    code, lines, elapsed = miner_process([*command, "--give-up-after", "4"], hung.url, tmp_path)
    assert code == 75
    retry = [at for at, line in lines if "retrying" in line]
    assert retry and retry[0] < 15
    reason = [line for _, line in lines if "cannot get a reply from NCBI" in line]
    assert len(reason) == 1 and "timed out" in reason[0] and "try again later" in reason[0]
    assert lines[-1][0] - retry[0] < 4  # from the first retry line to the reason: inside the budget
    assert elapsed < 4 + 20  # the budget, and the start of the process (spaCy for refresh)
