"""The evidence table: summary, full-text search, exports, comparison, diff and Datasette."""

from __future__ import annotations

import hashlib
import json
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from miner.cli import cli
from miner.standin import article_xml, pubmed_set
from miner.store.summary import SUMMARY_SQL

ARTICLES = [
    ("201", 2015, "Serum bone sialoprotein in prostate cancer with bone metastases",
     "Results: Serum bone sialoprotein was significantly higher in patients with bone metastases than in those "
     "without bone metastases (p < 0.001), with an AUC of 0.86."),
    ("202", 2019, "Bone sialoprotein for detecting skeletal metastases of prostate cancer",
     "Results: Serum BSP discriminated patients with and without bone metastases (AUC 0.80, p = 0.01)."),
    ("203", 2021, "Bone sialoprotein in prostate cancer bone metastasis",
     "Results: Serum bone sialoprotein did not differ between patients with and without bone metastases "
     "(p = 0.40)."),
    ("204", 2020, "Alkaline phosphatase and survival in lung cancer with skeletal metastases",
     "Results: High serum alkaline phosphatase was associated with shorter overall survival (hazard ratio 1.9, "
     "p = 0.003)."),
]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    xml = tmp_path / "articles.xml"
    xml.write_text(pubmed_set(article_xml(p, t, a, year=y) for p, y, t, a in ARTICLES))
    path = tmp_path / "ev.db"
    invoke("ingest", str(xml), "--db", str(path))
    invoke("extract", "--db", str(path))
    return path


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_summary_rows_aggregate_evidence_and_trace_back(db: Path) -> None:
    summary = rows(db, "select marker, cancer, use, articles, supporting, refuting, first_year, last_year, pmids,"
                       " sentence_pmid from evidence_summary")
    assert summary[0] == ("BSP", "prostate", "diagnosis", 3, 2, 1, 2015, 2021, "202 201 203", "202")
    assert summary[1][:3] == ("ALP", "lung", "prognosis")
    # from a summary row to its evidence rows to the article and sentence
    trace = rows(db, "select d.pmid, d.title, d.sentence from evidence_detail d join summary s using (marker, "
                     "cancer, use) where s.marker = 'BSP' order by d.pmid")
    assert [t[0] for t in trace] == ["201", "202", "203"] and "did not differ" in trace[2][2]


def test_full_text_search_stays_in_sync(db: Path, tmp_path: Path) -> None:
    assert rows(db, "select rowid from articles_fts where articles_fts match 'sialoprotein'") != []
    assert len(rows(db, "select * from evidence_fts where evidence_fts match 'survival'")) == 1
    revised = tmp_path / "revised.xml"
    revised.write_text(pubmed_set([article_xml("204", "Osteopontin and survival in lung cancer with bone "
                                               "metastases", "Results: High plasma osteopontin was associated "
                                               "with shorter overall survival (p = 0.01).", year=2020)]))
    invoke("ingest", str(revised), "--db", str(db))
    invoke("extract", "--db", str(db))
    assert rows(db, "select a.pmid from articles_fts f join articles a on a.rowid = f.rowid "
                    "where articles_fts match 'osteopontin'") == [("204",)]
    assert rows(db, "select count(*) from articles_fts where articles_fts match 'phosphatase'") == [(0,)]
    assert rows(db, "select marker from evidence_fts where evidence_fts match 'survival'") == [("osteopontin",)]


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_review_style_exports(db: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"table.{fmt}"
    result = invoke("export", "--db", str(db), "--format", fmt, "--out", str(out))
    assert "export: 2 rows" in result.output
    text = out.read_text()
    assert "https://pubmed.ncbi.nlm.nih.gov/201/" in text
    if fmt == "markdown":
        assert "## Bone resorption markers" in text and "| BSP | prostate | diagnosis | 3 (2 / 1) | 2015–2021 |" in text
    else:
        assert "<h2>Evidence heat-map" in text and "BSP × prostate: 3 articles" in text
        assert "http" not in text.split("<body>")[0]  # no stylesheet or script fetched from the network


def test_export_filters_and_default_path(db: Path) -> None:
    invoke("export", "--db", str(db), "--format", "markdown", "--min-articles", "2")
    text = (db.parent / "evidence.md").read_text()
    assert "BSP" in text and "ALP" not in text
    strong = invoke("export", "--db", str(db), "--format", "jsonl", "--out", "-", "--min-articles", "2")
    assert sorted(json.loads(x)["pmid"] for x in strong.output.splitlines()[1:]) == ["201", "202", "203"]
    only_lung = invoke("export", "--db", str(db), "--format", "jsonl", "--out", "-", "--cancer", "lung")
    assert [json.loads(x)["marker"] for x in only_lung.output.splitlines()[1:]] == ["ALP"]


def test_compare_with_a_reference(db: Path, tmp_path: Path) -> None:
    reference = tmp_path / "ref.csv"
    reference.write_text("marker,cancer,use\nbone sialoprotein,prostate,diagnosis\nPSA,prostate,monitoring\n")
    out = tmp_path / "cmp.md"
    before = digest(db)
    result = invoke("compare", "--db", str(db), "--reference", str(reference), "--out", str(out))
    assert "reference rows: 2; supported: 1; not found: 1; new rows: 1" in result.output
    report = out.read_text()
    assert "| BSP | prostate | diagnosis | 3 | 2 | 1 |" in report
    assert "| PSA | prostate | monitoring |" in report and "| ALP |" in report
    assert digest(db) == before


def test_compare_does_not_count_refuted_rows_as_supported(db: Path, tmp_path: Path) -> None:
    with sqlite3.connect(db) as conn:  # BSP's two supporting findings turned into refuting ones
        conn.execute("update evidence set finding = 'refutes' where marker = 'BSP'")
        conn.execute("delete from summary")
        conn.execute(SUMMARY_SQL)
    reference = tmp_path / "ref.csv"
    reference.write_text("marker,cancer,use\nbone sialoprotein,prostate,diagnosis\n")
    out = tmp_path / "cmp.md"
    result = invoke("compare", "--db", str(db), "--reference", str(reference), "--out", str(out))
    assert "supported: 0;" in result.output and "found but not supported: 1" in result.output
    report = out.read_text()
    supported, rest = report.split("## Reference rows supported")[1].split("## Reference rows found only", 1)
    assert "BSP" not in supported and "| BSP | prostate | diagnosis | 3 | 0 | 3 |" in rest


def test_compare_min_articles(db: Path, tmp_path: Path) -> None:
    reference = tmp_path / "ref.csv"
    reference.write_text("marker,cancer,use\nALP,lung,prognosis\n")
    result = invoke("compare", "--db", str(db), "--reference", str(reference), "--min-articles", "2",
                    "--out", str(tmp_path / "c.md"))
    assert "supported: 0; not found: 1; new rows: 1" in result.output  # ALP has one article, BSP three


def test_compare_with_the_shipped_review_table(db: Path) -> None:
    result = invoke("compare", "--db", str(db))
    assert "reference rows: 1" in result.output and (db.parent / "comparison.md").exists()


def test_diff_since_a_run_and_a_date(db: Path, tmp_path: Path) -> None:
    extra = tmp_path / "more.xml"
    extra.write_text(pubmed_set([article_xml("205", "NTX and survival in breast cancer with bone metastases",
                                             "Results: High serum NTX predicted shorter overall survival "
                                             "(p = 0.02).", year=2022)]))
    last_run = rows(db, "select max(id) from runs")[0][0]
    invoke("ingest", str(extra), "--db", str(db))
    invoke("extract", "--db", str(db))
    before = digest(db)
    result = invoke("diff", "--db", str(db), "--since", str(last_run))
    assert "1 new summary rows, 0 changed, 1 evidence rows added or changed" in result.output
    assert "NTX | breast | prognosis" in result.output
    everything = json.loads(invoke("diff", "--db", str(db), "--since", "2000-01-01", "--json").output)
    assert everything["since_run"] == 0 and len(everything["evidence"]) == 5
    assert digest(db) == before
    bad = CliRunner().invoke(cli, ["diff", "--db", str(db), "--since", "yesterday"])
    assert bad.exit_code == 2 and "run id or a date" in bad.output


@pytest.mark.parametrize("command", [["export", "--format", "csv"], ["compare"], ["diff", "--since", "1"],
                                     ["serve"], ["evaluate", "--gold", __file__]])
def test_missing_or_foreign_databases(tmp_path: Path, command: list[str]) -> None:
    missing = CliRunner().invoke(cli, [*command, "--db", str(tmp_path / "none.db")])
    assert missing.exit_code == 2 and "no database at" in missing.output
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("create table cats (name text)")
    result = CliRunner().invoke(cli, [*command, "--db", str(foreign)])
    assert result.exit_code == 2 and "not a miner database" in result.output


def test_unknown_export_format(db: Path) -> None:
    result = CliRunner().invoke(cli, ["export", "--db", str(db), "--format", "pdf"])
    assert result.exit_code == 2 and "pdf" in result.output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as reply:  # noqa: S310 - loopback only
        return json.loads(reply.read())


@pytest.mark.parametrize("mode", [[], ["--immutable"]])
def test_datasette_serves_summary_canned_queries_search_and_metadata(db: Path, mode: list[str]) -> None:
    port = free_port()
    before = digest(db)
    server = subprocess.Popen([sys.executable, "-m", "miner", "serve", "--db", str(db), "--port", str(port), *mode],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}/ev"
    try:
        for _ in range(100):
            try:
                get_json(f"http://127.0.0.1:{port}/-/versions.json")
                break
            except OSError:
                time.sleep(0.1)
        summary = get_json(f"{base}/evidence_summary.json?_shape=array")
        assert summary[0]["marker"] == "BSP" and summary[0]["articles"] == 3
        canned = get_json(f"{base}/markers_for_cancer_and_use.json?cancer=prostate&use=diagnosis&_shape=array")
        assert [r["marker"] for r in canned] == ["BSP"]
        for query in ("evidence_for_marker.json?marker=ALP", "new_since_last_run.json",
                      "candidates_not_in_lexicon.json"):
            assert "rows" in get_json(f"{base}/{query}")
        found = get_json(f"{base}/articles.json?_search=sialoprotein&_shape=array")
        assert sorted(r["pmid"] for r in found) == ["201", "202", "203"]
        databases = get_json(f"http://127.0.0.1:{port}/-/databases.json")
        assert [d["is_mutable"] for d in databases] == [not mode]  # live unless --immutable
        metadata = get_json(f"http://127.0.0.1:{port}/-/metadata.json")
        assert metadata["title"].startswith("miner")
        tables = metadata["databases"]["ev"]["tables"]
        assert tables["evidence"]["columns"]["sentence"] and "cancer" in tables["summary"]["facets"]
        facets = get_json(f"{base}/summary.json")
        assert "cancer" in facets["facet_results"] or "cancer" in json.dumps(facets)
        # read-only: writing SQL is refused
        with pytest.raises(urllib.error.HTTPError):
            get_json(f"{base}.json?sql=delete+from+evidence")
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert digest(db) == before


def test_serve_on_a_port_in_use(db: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--db", str(db), "--port", str(port)])
    assert result.exit_code == 2 and "serving" not in result.output and "is the port in use" in result.output
