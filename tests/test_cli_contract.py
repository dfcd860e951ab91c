"""The command-line contract (issue 12): usage errors exit 2 in one line before anything is stored, runs are
recorded as they ended, the help says what a scheduler needs, and a closed pipe is no error."""

from __future__ import annotations

import gzip
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from miner.cli import cli
from miner.eutils import ServiceUnavailable
from miner.standin import Running, StandIn, article_xml, pubmed_set

from .conftest import add_synthetic

MINER = [sys.executable, "-m", "miner"]
MARKERS_TEXT = ("Serum CTX, NTX, PINP and bone alkaline phosphatase were elevated in prostate cancer patients with "
                "bone metastases (p<0.01) and were useful for the diagnosis of bone metastasis and for monitoring the "
                "response to therapy.")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def miner(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MINER, *args], capture_output=True, text=True, check=False, env=env, cwd=cwd)


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def evidence_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with more than a pipe's buffer of evidence (800 rows, extracted from a file)."""
    folder = tmp_path_factory.mktemp("evidence")
    xml = folder / "many.xml"
    xml.write_text(pubmed_set([article_xml(str(5000 + i), f"Bone turnover markers {i}", MARKERS_TEXT)
                               for i in range(200)]))
    db = folder / "evidence.db"
    done = miner("ingest", str(xml), "--db", str(db), "--workers", "1", "-q")
    assert done.returncode == 0, done.stderr
    assert rows(db, "select count(*) from evidence")[0][0] >= 600
    return db


# -- a bad path, a bad file, a port in use: exit 2, one line, nothing stored ----------------------------------

def test_ingest_of_a_missing_file_is_a_usage_error_in_one_line(tmp_path: Path) -> None:
    good = tmp_path / "good.xml"
    good.write_text(pubmed_set([article_xml("1", "T", "A")]))
    db = tmp_path / "a.db"
    alone = miner("ingest", str(tmp_path / "nosuchfile.xml"), "--db", str(db))
    assert alone.returncode == 2 and alone.stdout == ""
    assert error_lines(alone.stderr) == [f"miner: error: {tmp_path / 'nosuchfile.xml'}: no such file "
                                         "(nothing was ingested)"]
    among = miner("ingest", str(good), str(tmp_path / "nosuchfile.xml"), str(tmp_path), "--db", str(db))
    assert among.returncode == 2 and len(error_lines(among.stderr)) == 1
    assert "nosuchfile.xml: no such file" in among.stderr and f"{tmp_path}: not a file" in among.stderr
    assert not db.exists()  # nothing ran, nothing was stored


def test_serve_on_a_port_in_use_makes_no_claim_and_exits_2(evidence_db: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = miner("serve", "--db", str(evidence_db), "--port", str(port))
    assert done.returncode == 2
    assert "serving" not in done.stderr + done.stdout
    assert error_lines(done.stderr) == [line for line in error_lines(done.stderr) if "cannot listen" in line]
    assert len(error_lines(done.stderr)) == 1


@pytest.mark.parametrize("gold", ['{"pmid": 1, "relations": [', '{"relations": []}\n', '[1, 2]\n',
                                  '{"pmid": "1", "relations": [{"marker": "CTX"}]}\n'])
def test_evaluate_with_a_bad_gold_file_exits_2(evidence_db: Path, tmp_path: Path, gold: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(gold)
    result = invoke("evaluate", "--gold", str(path), "--db", str(evidence_db))
    assert result.exit_code == 2, result.output
    assert error_lines(result.output) == [line for line in error_lines(result.output) if "gold file" in line]
    assert "Traceback" not in result.output


def test_compare_with_a_reference_without_the_columns_exits_2(evidence_db: Path, tmp_path: Path) -> None:
    reference = tmp_path / "ref.csv"
    reference.write_text("marker,cancer\nCTX,prostate\n")
    out = tmp_path / "comparison.md"
    result = invoke("compare", "--db", str(evidence_db), "--reference", str(reference), "--out", str(out))
    assert result.exit_code == 2
    assert error_lines(result.output) == [f"miner: error: {reference} needs the columns marker, cancer, use"]
    assert not out.exists()


# -- runs are recorded as they ended ---------------------------------------------------------------------------

@pytest.mark.parametrize("content", [b"this is not XML at all\n", gzip.compress(b"<PubmedArticleSet>")[:12]])
def test_an_ingest_that_exits_1_is_recorded_failed_with_the_reason(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / ("bad.xml.gz" if content.startswith(b"\x1f\x8b") else "bad.xml")
    bad.write_bytes(content)
    db = tmp_path / "a.db"
    done = miner("ingest", str(bad), "--db", str(db), "--no-extract")
    assert done.returncode == 1
    [(status, message)] = rows(db, "select status, message from runs")
    assert status == "failed" and "could not be read" in message and bad.name in message
    shown = miner("status", "--db", str(db)).stdout
    assert "ingest   failed" in shown and bad.name in shown


def test_a_run_that_ends_75_is_recorded_unavailable(standin: StandIn, cli_env: dict, tmp_path: Path) -> None:
    standin.always = "503"
    db = tmp_path / "a.db"
    result = invoke("fetch", "--query", "bone", "--db", str(db), "--give-up-after", "1")
    assert result.exit_code == 75
    assert rows(db, "select status from runs") == [("unavailable",)]
    assert "fetch    unavailable" in invoke("status", "--db", str(db)).output


# -- NCBI's contact address, the date window, a query that finds nothing -----------------------------------------

def test_a_missing_contact_address_is_one_warning_line(standin: StandIn, tmp_path: Path) -> None:
    add_synthetic(standin, 2)
    env = {k: v for k, v in os.environ.items() if k not in ("NCBI_EMAIL", "NCBI_API_KEY")}
    env["MINER_EUTILS_URL"] = standin.url
    without = miner("fetch", "--query", "bone", "--db", str(tmp_path / "a.db"), "-q", env=env)
    assert without.returncode == 0, without.stderr
    assert [line for line in error_lines(without.stderr)] == [
        line for line in error_lines(without.stderr) if "WARNING" in line and "NCBI_EMAIL" in line]
    assert len(error_lines(without.stderr)) == 1
    with_email = miner("fetch", "--query", "bone", "--db", str(tmp_path / "a.db"), "-q",
                       env={**env, "NCBI_EMAIL": "tests@example.org"})
    assert with_email.returncode == 0 and with_email.stderr == ""


@pytest.mark.parametrize("command", ["fetch", "run"])
def test_an_empty_date_window_is_a_usage_error(standin: StandIn, cli_env: dict, tmp_path: Path,
                                               command: str) -> None:
    db = tmp_path / "a.db"
    result = invoke(command, "--query", "bone", "--db", str(db), "--since", "2025/06/30", "--until", "2025/06/01")
    assert result.exit_code == 2
    assert error_lines(result.output) == [
        "miner: error: the date window is empty: --since 2025-06-30 is after --until 2025-06-01"]
    assert standin.log == [] and not db.exists()


def test_a_query_without_hits_says_it_found_0_records(standin: StandIn, cli_env: dict, tmp_path: Path) -> None:
    result = invoke("fetch", "--query", "nothing matches this", "--db", str(tmp_path / "a.db"))
    assert result.exit_code == 0
    assert result.output.splitlines()[-1].startswith("fetch: found 0 records; requests 1 →")


# -- where output goes --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["export", "compare"])
def test_an_explicit_output_in_a_missing_folder_is_a_usage_error(evidence_db: Path, tmp_path: Path,
                                                                 command: str) -> None:
    target = tmp_path / "nonexistent" / "dir" / "x.md"
    result = invoke(command, "--db", str(evidence_db), "--out", str(target))
    assert result.exit_code == 2
    assert error_lines(result.output) == [f"miner: error: cannot write {target}: no folder {target.parent}"]
    assert not (tmp_path / "nonexistent").exists()


def test_the_default_output_folder_is_made(evidence_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "outputs" / "evidence.db"
    db.parent.mkdir()
    db.write_bytes(evidence_db.read_bytes())
    exported = miner("export", "--format", "markdown", cwd=tmp_path, env={**os.environ, "MINER_DB": str(db)})
    assert exported.returncode == 0 and (tmp_path / "outputs" / "evidence.md").exists()


def pipe_into_head(*args: str) -> tuple[int, str, bytes]:
    """``miner ARGS | head -1`` with real pipes: miner's exit code and stderr, and what head printed."""
    producer = subprocess.Popen([*MINER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = subprocess.Popen(["head", "-1"], stdin=producer.stdout, stdout=subprocess.PIPE)
    assert producer.stdout is not None and producer.stderr is not None
    producer.stdout.close()  # head alone reads the pipe
    first, _ = head.communicate(timeout=120)
    errors = producer.stderr.read().decode()
    return producer.wait(timeout=120), errors, first


@pytest.mark.parametrize("args", [["export", "--out", "-"], ["export", "--format", "jsonl", "--out", "-"],
                                  ["diff", "--since", "2000-01-01"]])
def test_a_reader_that_stops_early_is_no_error(evidence_db: Path, args: list[str]) -> None:
    code, errors, first = pipe_into_head(*args, "--db", str(evidence_db))
    assert first.strip() and first.count(b"\n") == 1
    assert (code, errors) == (0, "")


def test_output_into_a_closed_pipe_is_quiet(evidence_db: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody reads: the first write fails
    try:
        done = subprocess.run([*MINER, "status", "--db", str(evidence_db)], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, check=False)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (0, "")


# -- dates in both forms; the help ----------------------------------------------------------------------------------

def test_both_date_forms_are_accepted_everywhere(standin: StandIn, cli_env: dict, evidence_db: Path,
                                                 tmp_path: Path) -> None:
    dashes, slashes = invoke("diff", "--since", "2024-01-01", "--db", str(evidence_db)), \
        invoke("diff", "--since", "2024/01/01", "--db", str(evidence_db))
    assert dashes.exit_code == slashes.exit_code == 0 and dashes.output == slashes.output
    for since in ("2024-01-01", "2024/01/01"):
        assert invoke("fetch", "--query", "bone", "--db", str(tmp_path / "a.db"), "--since", since).exit_code == 0
    assert [r.params["mindate"] for r in standin.log if r.endpoint == "esearch"] == ["2024/01/01", "2024/01/01"]
    for command in ("fetch", "run", "diff"):
        assert "YYYY/MM/DD or YYYY-MM-DD" in " ".join(invoke(command, "--help").output.split())


def test_the_exit_codes_are_in_miner_help() -> None:
    text = miner("--help").stdout
    for line in ("0   done", "1   failed", "2   usage or configuration error", "75  try later", "130 stopped by"):
        assert line in text


def test_every_option_shows_in_its_commands_help() -> None:
    for name, command in cli.commands.items():
        text = invoke(name, "--help").output
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--"):
                    assert opt in text, f"miner {name} --help does not show {opt}"


# -- the E-utilities options: retry budgets and the reply timeout -----------------------------------------------

@pytest.mark.parametrize(("args", "give_up_after", "timeout"), [
    (["fetch"], 120.0, 10.0), (["run"], 120.0, 10.0), (["refresh"], 300.0, 10.0),
    (["refresh", "--give-up-after", "7", "--reply-timeout", "2.5"], 7.0, 2.5),
    (["fetch", "--give-up-after", "9", "--reply-timeout", "3"], 9.0, 3.0),
])
def test_retry_budget_and_reply_timeout_reach_the_client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                         args: list[str], give_up_after: float,
                                                         timeout: float) -> None:
    seen = []

    def client(settings: object) -> object:
        seen.append(settings)
        raise ServiceUnavailable("stand-in for the test")

    command_module = "refresh" if args[0] == "refresh" else "fetch"
    monkeypatch.setattr(f"miner.commands.{command_module}.EutilsClient", client)
    monkeypatch.setenv("NCBI_EMAIL", "tests@example.org")
    result = invoke(*args, "--query", "bone", "--db", str(tmp_path / "a.db"))
    assert result.exit_code == 75, result.output
    assert [(s.give_up_after, s.timeout) for s in seen] == [(give_up_after, timeout)]
    assert "default 120; refresh 300" in " ".join(invoke(args[0], "--help").output.split())


def test_reply_timeout_against_a_hung_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = Running(StandIn(always="hang"))
    try:
        monkeypatch.setenv("MINER_EUTILS_URL", server.state.url)
        monkeypatch.setenv("NCBI_EMAIL", "tests@example.org")
        result = invoke("fetch", "--query", "bone", "--db", str(tmp_path / "a.db"), "--reply-timeout", "0.5",
                        "--give-up-after", "2")
    finally:
        server.stop()
    assert result.exit_code == 75
    assert "no reply within 0.5 s" in result.output


# -- ingest --max-record-mb ------------------------------------------------------------------------------------

def test_max_record_mb_skips_larger_records(tmp_path: Path) -> None:
    xml = tmp_path / "big.xml"
    xml.write_text(pubmed_set([article_xml("1", "T", "short"), article_xml("2", "T", "long " * 600_000)]))
    db = tmp_path / "a.db"  # record 2 takes 3 MB: past a limit of 1 MB, within the default
    limited = invoke("ingest", str(xml), "--db", str(db), "--no-extract", "--max-record-mb", "1")
    assert limited.exit_code == 1 and "PMID 2" in limited.output
    assert rows(db, "select pmid from articles") == [("1",)]
    unlimited = invoke("ingest", str(xml), "--db", str(tmp_path / "b.db"), "--no-extract")
    assert unlimited.exit_code == 0
    assert rows(tmp_path / "b.db", "select pmid from articles order by pmid") == [("1",), ("2",)]
