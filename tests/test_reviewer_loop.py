"""The reviewer's whole loop on real HTTP (the E-utilities stand-in) and a real database: fetch, review in
the terminal and through a sheet, refresh with new and revised records, re-extract with a changed lexicon,
diff, release. The verdicts hold at every step, `diff` and the refresh report agree, and the release
notes list exactly the rows that changed."""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from miner.cli import cli
from miner.standin import StandIn, article_xml

TODAY = date.today()
RECORDS = {
    "100": ("NTX in prostate cancer bone metastases",
            "Results: Serum NTX was higher in patients with bone metastases than in those without (p < 0.01)."),
    "101": ("Osteopontin in lung cancer bone metastases",
            "Results: Plasma osteopontin was higher in patients with bone metastases than in those without "
            "(p < 0.01)."),
    "102": ("Bone sialoprotein in prostate cancer with bone metastases",
            "Results: Serum bone sialoprotein was significantly higher in patients with bone metastases than in "
            "those without bone metastases (p < 0.001), with an AUC of 0.86."),
    "103": ("Osteoglyphin in prostate cancer bone metastases",
            "Results: Serum osteoglyphin and serum NTX were higher in patients with bone metastases than in those "
            "without (p < 0.01)."),
}
NEW = ("Alkaline phosphatase and survival in lung cancer with bone metastases",
       "Results: High serum alkaline phosphatase was associated with shorter overall survival (hazard ratio 1.9, "
       "p = 0.003).")


def invoke(*args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def summary(db: Path) -> dict[tuple, tuple]:
    return {r[:3]: r[3:] for r in rows(db, "select marker, cancer, use, articles, supporting, refuting, pmids"
                                           " from summary")}


def keys(report_rows: list[dict]) -> set[tuple]:
    return {(r["marker"], r["cancer"], r["use"]) for r in report_rows}


def last_run(db: Path) -> int:
    return rows(db, "select max(id) from runs")[0][0]


def refresh_agrees_with_diff(db: Path, reports: Path) -> dict:
    invoke("refresh", "--db", str(db), "--query", "bone", "-q", "--report", str(reports))
    run = last_run(db)
    report = json.loads((reports / f"refresh-{run:05d}.json").read_text())
    diff = json.loads(invoke("diff", "--db", str(db), "--since", str(run - 1), "--json").output)
    assert keys(report["new_rows"]) == keys(diff["new_rows"])
    assert keys(report["changed_rows"]) == keys(diff["changed_rows"])
    return report


@pytest.fixture
def edited_lexicon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201 - a function to call
    """Call it to make the lexicon know one more marker (a user's lexicon folder, as the README shows)."""
    def edit() -> None:
        folder = tmp_path / "my-lexicon"
        folder.mkdir()
        (folder / "markers.csv").write_text("marker,full_name,category,synonyms,ambiguous\n"
                                            "osteoglyphin,osteoglyphin,other_protein,osteoglyphin,\n")
        monkeypatch.setenv("MINER_LEXICON", str(folder))

    return edit


def test_the_reviewers_loop(standin: StandIn, cli_env: dict, tmp_path: Path, edited_lexicon) -> None:  # noqa: ANN001
    for number, (pmid, (title, abstract)) in enumerate(RECORDS.items()):
        standin.add(pmid, article_xml(pmid, title, abstract), edat=TODAY - timedelta(days=40 + number))
    db, reports, releases = tmp_path / "ev.db", tmp_path / "reports", tmp_path / "releases"
    refresh_agrees_with_diff(db, reports)
    evidence = rows(db, "select pmid, marker, cancer, use from evidence order by pmid, marker, cancer, use")
    assert {e[0] for e in evidence} >= {"100", "101", "102"} and ("100", "NTX", "prostate", "diagnosis") in evidence

    # review in the terminal: accept NTX of 100, reject osteopontin of 101
    invoke("review", "--db", str(db), "--order", "pmid", "--reviewer", "ana", input="a\nr\nq\n")
    # ... and through a sheet: correct the use of 102's row
    sheet = tmp_path / "sheet.csv"
    invoke("review", "export", "--db", str(db), "--out", str(sheet), "--undecided")
    with sheet.open(newline="", encoding="utf-8") as fh:
        lines = list(csv.DictReader(fh))
    for line in lines:
        if line["pmid"] == "102":
            line.update(verdict="corrected", corrected_use="monitoring")
    with sheet.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(lines[0]))
        writer.writeheader()
        writer.writerows(lines)
    assert "1 new or changed" in invoke("review", "import", str(sheet), "--db", str(db), "--reviewer", "bo").output
    verdicts = rows(db, "select * from curation order by pmid")
    assert [(v[0], v[1], v[4]) for v in verdicts] == [("100", "NTX", "accepted"), ("101", "osteopontin", "rejected"),
                                                     ("102", "BSP", "corrected")]

    def verdicts_hold() -> None:
        assert rows(db, "select * from curation order by pmid") == verdicts
        table = summary(db)
        assert ("osteopontin", "lung", "diagnosis") not in table  # rejected: never back
        assert ("BSP", "prostate", "monitoring") in table and ("BSP", "prostate", "diagnosis") not in table
        assert table[("NTX", "prostate", "diagnosis")][0] >= 1
        exported = invoke("export", "--db", str(db), "--format", "jsonl", "--out", "-").output.splitlines()[1:][1:]
        assert not [r for r in map(json.loads, exported) if r["pmid"] == "101" and r["marker"] == "osteopontin"]

    verdicts_hold()
    invoke("release", "--db", str(db), "--out", str(releases))
    released = summary(db)

    # PubMed: a new record; 100 revised so that NTX is no longer read (an accepted row); 101 revised in its title
    standin.add("104", article_xml("104", *NEW), edat=TODAY)
    standin.records["100"].xml = standin.records["100"].xml.replace("Serum NTX was higher", "Nothing differed")
    standin.records["100"].mdat = TODAY
    standin.records["101"].xml = standin.records["101"].xml.replace("Osteopontin in lung", "Plasma osteopontin in lung")
    standin.records["101"].mdat = TODAY
    report = refresh_agrees_with_diff(db, reports)
    assert ("ALP", "lung", "prognosis") in keys(report["new_rows"])
    verdicts_hold()
    assert rows(db, "select unconfirmed from evidence where pmid = '100' and marker = 'NTX'") == [(1,)]

    # the lexicon learns a marker: re-extraction keeps every other row's run
    runs_before = rows(db, "select pmid, marker, cancer, use, run_id from evidence order by 1, 2, 3, 4")
    edited_lexicon()
    invoke("extract", "--db", str(db))
    run = last_run(db)
    changed = json.loads(invoke("diff", "--db", str(db), "--since", str(run - 1), "--json").output)
    assert {e["marker"] for e in changed["evidence"]} == {"osteoglyphin"}
    assert rows(db, f"select pmid, marker, cancer, use, run_id from evidence where run_id < {run} order by 1, 2, 3, 4"
                ) == [r for r in runs_before if r[1] != "osteoglyphin"]
    verdicts_hold()

    # the second release's notes list exactly the rows that changed since the first
    invoke("release", "--db", str(db), "--out", str(releases))
    now = summary(db)
    folder = next(releases.glob("v2-*"))
    manifest = json.loads((folder / "manifest.json").read_text())
    expected_new = sorted(now.keys() - released.keys())
    expected_removed = sorted(released.keys() - now.keys())
    expected_changed = sorted(k for k in now.keys() & released.keys() if now[k] != released[k])
    assert (manifest["counts"]["new_rows"], manifest["counts"]["changed_rows"], manifest["counts"]["removed_rows"]) \
        == (len(expected_new), len(expected_changed), len(expected_removed))
    assert ("osteoglyphin", "prostate", "diagnosis") in expected_new and ("ALP", "lung", "prognosis") in expected_new
    notes = (folder / "NOTES.md").read_text()
    sections = dict(zip(["head", "new", "changed", "removed"], notes.split("\n## "), strict=True))
    listed = {name: sorted(tuple(cell.strip() for cell in line.split("|")[1:4]) for line in text.splitlines()
                           if line.startswith("| ") and not line.startswith("| marker"))
              for name, text in sections.items() if name != "head"}
    assert listed == {"new": expected_new, "changed": expected_changed, "removed": expected_removed}
    assert manifest["extractor"] == rows(db, "select extractor_version from runs where command = 'extract'")[0][0]
