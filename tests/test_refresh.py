"""`miner refresh` as a scheduler runs it, against the stand-in over real HTTP."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from miner.cli import cli
from miner.standin import StandIn, article_xml

FINDING = "Results: Serum NTX was higher in patients with bone metastases than in those without (p < 0.01)."
TODAY = date.today()


def add(standin: StandIn, pmid: str, days_ago: int, title: str = "NTX in prostate cancer bone metastases",
        abstract: str = FINDING, types: tuple[str, ...] = ("Journal Article",)) -> None:
    day = TODAY - timedelta(days=days_ago)
    standin.add(pmid, article_xml(pmid, title, abstract, publication_types=types), edat=day)


def refresh(db: Path, *extra: str) -> Result:
    return CliRunner().invoke(cli, ["refresh", "--db", str(db), "--query", "bone", "-q", *extra])


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def state(db: Path) -> tuple[list, list]:
    """What a database holds, run ids aside: articles and evidence."""
    return (rows(db, "select pmid, content_hash, status, extracted_with is not null from articles order by pmid"),
            rows(db, "select pmid, marker, cancer, use, finding, sentence from evidence order by pmid, marker, use"))


def test_a_second_refresh_is_a_no_op(standin: StandIn, cli_env: dict, tmp_path: Path) -> None:
    for i in range(4):
        add(standin, str(100 + i), 40 + i)
    db = tmp_path / "ev.db"
    first = refresh(db)
    assert first.exit_code == 0 and "4 new" in first.output
    before = state(db)
    standin.log.clear()
    second = refresh(db)
    assert second.exit_code == 0
    assert "0 new, 0 revised" in second.output and "2 requests" in second.output
    assert len(standin.log) == 2 and standin.requests_to("efetch") == 0
    standin.log.clear()
    third = refresh(db, "--check-deleted")  # with the deletion check: one listing more
    assert "3 requests" in third.output and len(standin.log) == 3
    assert rows(db, "select extracted from runs order by id desc limit 1") == [(0,)]
    assert state(db) == before
    assert second.output.count("\n") == 1  # one line of summary on stdout


def test_new_revised_deleted_and_retracted_records(standin: StandIn, cli_env: dict, tmp_path: Path) -> None:
    for i in range(4):
        add(standin, str(100 + i), 40 + i)
    db = tmp_path / "ev.db"
    refresh(db)
    add(standin, "200", 0, title="Osteopontin in lung cancer bone metastases",
        abstract="Results: Plasma osteopontin was higher in patients with bone metastases than in those without "
                 "(p < 0.01).")
    standin.records["101"].xml = standin.records["101"].xml.replace("NTX in prostate", "NTX in breast")
    standin.records["101"].mdat = TODAY
    standin.records["102"].xml = standin.records["102"].xml.replace(
        "<PublicationType>Journal Article</PublicationType>",
        "<PublicationType>Journal Article</PublicationType><PublicationType>Retracted Publication</PublicationType>")
    standin.records["102"].mdat = TODAY
    standin.remove("103")
    reports = tmp_path / "reports"
    result = refresh(db, "--report", str(reports), "--check-deleted")
    assert result.exit_code == 0, result.output
    assert "1 new, 2 revised, 1 deleted, 1 retracted" in result.output
    assert rows(db, "select pmid, status from articles order by pmid") == [
        ("100", "active"), ("101", "active"), ("102", "retracted"), ("103", "deleted"), ("200", "active")]
    assert rows(db, "select pmid from evidence where pmid in ('102', '103')") == []
    assert rows(db, "select cancer from evidence where pmid = '101'") == [("breast",)]
    report = next(reports.glob("*.md")).read_text()
    assert "osteopontin | lung | diagnosis" in report and "## Retracted articles" in report
    assert "- 103" in report
    assert next(reports.glob("*.json")).read_text().count('"pmid": "200"') == 1


def test_overlap_days_sets_the_window(standin: StandIn, cli_env: dict, tmp_path: Path) -> None:
    add(standin, "100", 40)
    db = tmp_path / "ev.db"
    refresh(db)
    standin.log.clear()
    refresh(db, "--overlap-days", "10")
    search = next(r for r in standin.log if r.endpoint == "esearch")
    assert search.params["mindate"] == (TODAY - timedelta(days=10)).strftime("%Y/%m/%d")
    assert search.params["datetype"] == "edat"
    assert {r.params.get("datetype") for r in standin.log if r.endpoint == "esearch"} == {"edat", "mdat"}


def test_lexicon_or_extractor_change_re_extracts_everything(standin: StandIn, cli_env: dict, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    add(standin, "100", 40)
    db = tmp_path / "ev.db"
    refresh(db)
    monkeypatch.setattr("miner.nlp.pipeline.EXTRACTOR_VERSION", "next")
    refresh(db)
    assert rows(db, "select extracted, extractor_version like 'next:%' from runs order by id desc limit 1") == [(1, 1)]


def test_service_down_throughout_exits_75_and_changes_nothing(standin: StandIn, cli_env: dict,
                                                               tmp_path: Path) -> None:
    add(standin, "100", 40)
    db = tmp_path / "ev.db"
    refresh(db)
    before = state(db)
    standin.always = "503"
    result = refresh(db, "--give-up-after", "2")
    assert result.exit_code == 75 and "try again later" in result.output
    assert state(db) == before
    assert rows(db, "select status from runs order by id") == [("done",), ("unavailable",)]


def run_in_background(db: Path, url: str, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "MINER_EUTILS_URL": url, "NCBI_EMAIL": "tests@example.org"}
    return subprocess.Popen([sys.executable, "-m", "miner", "refresh", "--db", str(db), "--query", "bone",
                             "--batch-size", "2", "-q", *extra], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for_running(db: Path, process: subprocess.Popen, efetches: int, standin: StandIn) -> None:
    for _ in range(300):
        if standin.requests_to("efetch") >= efetches or process.poll() is not None:
            return
        time.sleep(0.05)


@pytest.fixture
def busy(standin: StandIn) -> StandIn:
    """A stand-in with 24 records: 12 efetch batches of 2 at 3 requests/s, time enough to interrupt."""
    for i in range(24):
        add(standin, str(100 + i), 30 + i)
    return standin


def test_killed_refresh_is_completed_by_the_next(busy: StandIn, tmp_path: Path) -> None:
    standin = busy
    reference = tmp_path / "reference.db"
    assert run_in_background(reference, standin.url).wait(timeout=120) == 0
    standin.log.clear()
    db = tmp_path / "killed.db"
    process = run_in_background(db, standin.url)
    wait_for_running(db, process, 4, standin)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    stored = rows(db, "select count(*) from articles")[0][0]
    assert 0 < stored < 24
    assert run_in_background(db, standin.url).wait(timeout=120) == 0
    assert state(db) == state(reference)
    assert rows(db, "select status from runs order by id") == [("interrupted",), ("done",)]


def test_sigterm_finishes_the_batch_and_records_an_interrupted_run(busy: StandIn, tmp_path: Path) -> None:
    standin = busy
    db = tmp_path / "ev.db"
    process = run_in_background(db, standin.url)
    wait_for_running(db, process, 3, standin)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 130
    assert "interrupted" in process.stderr.read()
    assert rows(db, "select status from runs") == [("interrupted",)]
    assert rows(db, "select count(*) from articles")[0][0] % 2 == 0  # whole batches only


def test_two_refreshes_at_once(busy: StandIn, tmp_path: Path) -> None:
    standin = busy
    db = tmp_path / "ev.db"
    first = run_in_background(db, standin.url)
    wait_for_running(db, first, 1, standin)
    second = run_in_background(db, standin.url)
    assert second.wait(timeout=30) == 75
    assert "another miner process is writing" in second.stderr.read()
    assert first.wait(timeout=120) == 0
