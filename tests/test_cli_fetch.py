"""`miner fetch`, `miner ingest` and `miner status` as a user runs them, against the stand-in."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from miner.cli import cli
from miner.standin import StandIn, article_xml, pubmed_set

from .conftest import add_synthetic

FIXTURES = Path(__file__).parent / "fixtures"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_fetch_stores_records_and_a_run(standin: StandIn, cli_env: dict, tmp_path: Path) -> None:
    add_synthetic(standin, 30)
    db = tmp_path / "out" / "ev.db"
    result = run("fetch", "--query", "bone", "--db", str(db), "--batch-size", "10")
    assert result.exit_code == 0, result.output
    assert "found 30, new 30" in result.output
    assert rows(db, "select count(*) from articles where status = 'active'") == [(30,)]
    run_row = rows(db, "select command, status, found, new, requests, query from runs")
    assert run_row == [("fetch", "done", 30, 30, 1 + 3, "bone")]
    assert rows(db, "pragma journal_mode") == [("wal",)]


def test_refetch_changes_nothing_and_revisions_update(standin: StandIn, cli_env: dict, tmp_path: Path) -> None:
    add_synthetic(standin, 5)
    db = str(tmp_path / "ev.db")
    run("fetch", "--query", "bone", "--db", db)
    before = rows(db, "select pmid, content_hash, title from articles order by pmid")
    again = run("fetch", "--query", "bone", "--db", db)
    assert "unchanged 5" in again.output and "new" not in again.output
    assert rows(db, "select pmid, content_hash, title from articles order by pmid") == before
    standin.records["1002"].xml = standin.records["1002"].xml.replace("Bone marker study 1002", "Revised title")
    third = run("fetch", "--query", "bone", "--db", db)
    assert "updated 1, unchanged 4" in third.output
    assert rows(db, "select title, changed_run from articles where pmid = '1002'") == [("Revised title", 3)]


def test_since_until_and_datetype_reach_esearch(standin: StandIn, cli_env: dict, tmp_path: Path) -> None:
    add_synthetic(standin, 3)
    result = run("fetch", "--query", "bone", "--db", str(tmp_path / "a.db"), "--since", "2000/01/02",
                 "--until", "2000-01-02", "--datetype", "mdat")
    assert result.exit_code == 0
    search = next(r for r in standin.log if r.endpoint == "esearch")
    assert (search.params["mindate"], search.params["maxdate"], search.params["datetype"]) == (
        "2000/01/02", "2000/01/02", "mdat")


def test_default_query_is_the_shipped_one(standin: StandIn, cli_env: dict, tmp_path: Path) -> None:
    run("fetch", "--db", str(tmp_path / "a.db"))
    term = next(r for r in standin.log if r.endpoint == "esearch").params["term"]
    assert '"Bone Neoplasms/secondary"[MeSH Terms]' in term and "#" not in term


def test_query_file_option(standin: StandIn, cli_env: dict, tmp_path: Path) -> None:
    query = tmp_path / "q.txt"
    query.write_text("# a comment\nosteocalcin\n AND serum\n")
    run("fetch", "--query-file", str(query), "--db", str(tmp_path / "a.db"))
    assert next(r for r in standin.log if r.endpoint == "esearch").params["term"] == "osteocalcin AND serum"


def test_eutils_url_and_email_options(standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MINER_EUTILS_URL", raising=False)
    add_synthetic(standin, 2)
    result = run("fetch", "--query", "bone", "--db", str(tmp_path / "a.db"), "--eutils-url", standin.url,
                 "--email", "someone@example.org")
    assert result.exit_code == 0
    assert standin.log[0].params["email"] == "someone@example.org"


@pytest.mark.parametrize("bad", ["(unbalanced", 'a "quote', ""])
def test_malformed_query_is_a_usage_error(standin: StandIn, cli_env: dict, tmp_path: Path, bad: str) -> None:
    result = CliRunner().invoke(cli, ["fetch", "--query", bad, "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert standin.log == []


def test_rejected_query_reply(standin: StandIn, cli_env: dict, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["fetch", "--query", "INVALIDQUERY", "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 2 and "PubMed rejected the query" in result.output


def test_malformed_reply_fails_and_keeps_what_was_stored(standin: StandIn, cli_env: dict, tmp_path: Path) -> None:
    add_synthetic(standin, 4)
    db = str(tmp_path / "a.db")
    run("fetch", "--query", "bone", "--db", db)
    standin.faults = ["badcount"]
    result = CliRunner().invoke(cli, ["fetch", "--query", "bone", "--db", db])
    assert result.exit_code == 1 and "malformed esearch reply" in result.output
    assert rows(db, "select count(*) from articles") == [(4,)]
    assert rows(db, "select status from runs order by id") == [("done",), ("failed",)]


def test_unreachable_service_says_so_and_exits_75(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINER_EUTILS_URL", "http://127.0.0.1:9/")
    monkeypatch.setattr("miner.eutils.random.uniform", lambda a, b: 0.01)
    result = CliRunner().invoke(cli, ["fetch", "--query", "bone", "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 75
    assert "cannot get a reply from NCBI E-utilities at http://127.0.0.1:9/" in result.output


def test_api_key_is_never_logged_or_stored(standin: StandIn, cli_env: dict, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NCBI_API_KEY", "SECRETKEY42")
    monkeypatch.setattr("miner.eutils.random.uniform", lambda a, b: 0.01)
    add_synthetic(standin, 2)
    standin.faults = ["500"]
    db = tmp_path / "a.db"
    result = CliRunner().invoke(cli, ["fetch", "--query", "bone", "--db", str(db), "-v"])
    assert result.exit_code == 0
    assert standin.log[0].params["api_key"] == "SECRETKEY42"
    assert "SECRETKEY42" not in result.output
    assert b"SECRETKEY42" not in db.read_bytes()


@pytest.mark.parametrize("kind", ["under_a_file", "a_directory", "not_sqlite", "other_tool"])
def test_bad_db_paths(standin: StandIn, cli_env: dict, tmp_path: Path, kind: str) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("hello")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("create table dogs (name text)")
    db = {"under_a_file": plain / "x.db", "a_directory": tmp_path, "not_sqlite": plain, "other_tool": other}[kind]
    result = CliRunner().invoke(cli, ["fetch", "--query", "bone", "--db", str(db)])
    assert result.exit_code == 2, result.output
    assert "miner: error:" in result.output and "Traceback" not in result.output
    assert plain.read_text() == "hello"
    assert rows(other, "select name from sqlite_master") == [("dogs",)]


def test_ingest_a_file_with_a_broken_record(tmp_path: Path) -> None:
    good = tmp_path / "good.xml"
    good.write_text(pubmed_set([article_xml("1", "T", "A"), article_xml("2", "T", "A").replace("</Abstract>", ""),
                                article_xml("3", "T", "A")]))
    db = tmp_path / "a.db"
    result = CliRunner().invoke(cli, ["ingest", str(good), "--db", str(db)])
    assert result.exit_code == 1
    assert "PMID 2" in result.output
    assert rows(db, "select pmid from articles order by pmid") == [("1",), ("3",)]
    assert rows(db, "select failed, status, message from runs") == [
        (1, "failed", "1 malformed record(s) skipped; the others were stored")]


def test_ingest_corrupt_file_keeps_the_database(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    good = tmp_path / "good.xml"
    good.write_text(pubmed_set([article_xml("1", "T", "A")]))
    run("ingest", str(good), "--db", str(db))
    corrupt = tmp_path / "bad.xml.gz"
    corrupt.write_bytes(b"\x1f\x8b\x08\x00garbage")
    result = CliRunner().invoke(cli, ["ingest", str(corrupt), "--db", str(db)])
    assert result.exit_code == 1 and "bad.xml.gz" in result.output
    assert rows(db, "select pmid from articles") == [("1",)]


def test_ingest_and_status(tmp_path: Path) -> None:
    xml = FIXTURES / "efetch_2019.xml"
    db = tmp_path / "own.db"
    assert run("ingest", str(xml), "--db", str(db)).exit_code == 0
    info = json.loads(run("status", "--db", str(db), "--json").output)
    articles = xml.read_text(encoding="utf-8").count("<PubmedArticle>")
    assert articles > 0 and info["articles"] == articles and info["by_status"] == {"active": articles}
    text = run("status", "--db", str(db)).output
    assert f"articles: {articles} (active {articles})" in text and "ingest" in text and "done" in text


def test_status_of_a_missing_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["status", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 2 and "no database at" in result.output
    assert not (tmp_path / "none.db").exists()


def test_python_dash_m_miner_works() -> None:
    done = subprocess.run([sys.executable, "-m", "miner", "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("miner, version")


def test_log_option_and_an_unwritable_log(tmp_path: Path) -> None:
    good = tmp_path / "good.xml"
    good.write_text(pubmed_set([article_xml("1", "T", "A")]))
    log_file = tmp_path / "miner.log"
    result = CliRunner().invoke(cli, ["ingest", str(good), "--db", str(tmp_path / "a.db"), "--no-extract",
                                      "--log", str(log_file)])
    assert result.exit_code == 0 and "1/1 files" in log_file.read_text()
    bad = CliRunner().invoke(cli, ["ingest", str(good), "--db", str(tmp_path / "a.db"),
                                   "--log", str(good / "x.log")])
    assert bad.exit_code == 2 and "cannot write the log file" in bad.output


def test_quiet_keeps_info_lines_off_stderr(tmp_path: Path) -> None:
    good = tmp_path / "good.xml"
    good.write_text(pubmed_set([article_xml("1", "T", "A")]))
    result = CliRunner().invoke(cli, ["ingest", str(good), "--db", str(tmp_path / "a.db"), "--no-extract", "-q"])
    assert result.exit_code == 0 and "INFO" not in result.output and result.output.startswith("ingest: 1 files")
