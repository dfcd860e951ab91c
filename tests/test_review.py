"""Reviewers' verdicts: the terminal queue scripted through CliRunner, the review sheet round trip, verdicts
through re-extraction, verdicts as labels, and releases."""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from miner.cli import cli
from miner.review import brackets, marked, verdict_labels
from miner.standin import article_xml, pubmed_set
from miner.store import Store, migrations
from miner.store.curation import ReviewItem
from tests import test_table

db = test_table.db
"""The fixture: the four articles of test_table, ingested (fetched and extracted)."""


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def curation_digest(db: Path) -> str:
    return hashlib.sha256(repr(rows(db, "select * from curation order by pmid, marker, cancer, use")).encode()
                          ).hexdigest()


def summary(db: Path) -> list[tuple]:
    return rows(db, "select marker, cancer, use, articles, supporting, refuting, curated, uncurated from summary"
                    " order by marker, cancer, use")


def test_the_queue_accepts_rejects_corrects_notes_and_resumes(db: Path) -> None:
    # 201 accept; 202 note then reject; 203 correct the cancer (an unknown name first); 204 skip; then quit
    script = "a\nn\nsame cohort as 201\nr\nc\n\nmars\n\n\nc\n\nbreast\n\n\ns\n"
    result = invoke("review", "--db", str(db), "--order", "pmid", "--reviewer", "ana", input=script)
    assert result.exit_code == 0, result.output
    assert "PMID 201 (2015): Serum bone sialoprotein" in result.output
    assert "Serum [bone sialoprotein] was significantly" in result.output and "{AUC}" in result.output
    assert "unknown cancer 'mars'" in result.output
    assert "review: 3 verdicts stored, 1 skipped, 1 left to review" in result.output
    assert rows(db, "select pmid, verdict, corrected_cancer, note, reviewer from curation order by pmid") == [
        ("201", "accepted", None, None, "ana"), ("202", "rejected", None, "same cohort as 201", "ana"),
        ("203", "corrected", "breast", None, "ana")]
    assert summary(db) == [("ALP", "lung", "prognosis", 1, 1, 0, 0, 1),
                           ("BSP", "breast", "diagnosis", 1, 0, 1, 1, 0),
                           ("BSP", "prostate", "diagnosis", 1, 1, 0, 1, 0)]
    exported = invoke("export", "--db", str(db), "--format", "jsonl", "--out", "-").output.splitlines()[1:]
    assert sorted((r["pmid"], r["cancer"], r["verdict"]) for r in map(json.loads, exported)) == [
        ("201", "prostate", "accepted"), ("203", "breast", "corrected"), ("204", "lung", None)]
    again = invoke("review", "--db", str(db), "--order", "pmid", input="q\n")
    assert "PMID 204" in again.output and "PMID 201" not in again.output  # resumes at the first undecided row
    assert "0 verdicts stored" in again.output
    done = invoke("review", "--db", str(db), input="a\n")
    assert "1 verdicts stored" in done.output
    assert invoke("review", "--db", str(db)).output.strip() == "review: nothing left to review"


def test_least_confident_first(db: Path) -> None:
    result = invoke("review", "--db", str(db), "--order", "least-confident", input="q\n")
    confidences = rows(db, "select pmid from evidence order by confidence, pmid")
    assert f"PMID {confidences[0][0]}" in result.output.split("(1/4)")[1].splitlines()[0]


def test_a_session_reviews_at_most_limit_rows(db: Path) -> None:
    result = invoke("review", "--db", str(db), "--order", "pmid", "--limit", "2", input="a\na\n")
    assert "(2/2) PMID 202" in result.output and "PMID 203" not in result.output
    assert "review: 2 verdicts stored, 0 skipped, 2 left to review" in result.output


def test_marking_a_sentence() -> None:
    item = ReviewItem("1", "CTX", "prostate", "diagnosis", "supports", 0.9, "CTX",
                      "Serum CTX was higher (auc 0.9); ctx-like peptides were not.", json.dumps(["AUC", "higher"]),
                      None, None, 1, None, None, None, None, None, None)
    assert marked(item, brackets) == "Serum [CTX] was {higher} ({auc} 0.9); ctx-like peptides were not."


def fill(sheet: Path, verdicts: dict[str, dict[str, str]]) -> list[dict]:
    with sheet.open(newline="", encoding="utf-8") as fh:
        lines = list(csv.DictReader(fh))
    for line in lines:
        line.update(verdicts.get(line["pmid"], {}))
    with sheet.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(lines[0]))
        writer.writeheader()
        writer.writerows(lines)
    return lines


def test_the_sheet_round_trip_is_checked_all_or_nothing_and_idempotent(db: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.csv"
    result = invoke("review", "export", "--db", str(db), "--out", str(sheet), "--order", "pmid")
    assert "review export: 4 evidence rows" in result.output
    lines = fill(sheet, {"201": {"verdict": "accepted"}, "202": {"verdict": "reject", "note": "duplicate"},
                         "203": {"verdict": "corrected", "corrected_use": "prognosis"}})
    assert [line["verdict"] for line in lines] == ["accepted", "reject", "corrected", ""]
    imported = invoke("review", "import", str(sheet), "--db", str(db), "--reviewer", "bo")
    assert imported.exit_code == 0 and "3 verdicts" in imported.output and "3 new or changed" in imported.output
    assert rows(db, "select pmid, verdict, corrected_use, note from curation order by pmid") == [
        ("201", "accepted", None, None), ("202", "rejected", None, "duplicate"),
        ("203", "corrected", "prognosis", None)]
    assert "reviewers' verdicts: accepted 1, corrected 1, rejected 1" in invoke("status", "--db", str(db)).output
    before = curation_digest(db)
    assert "0 new or changed" in invoke("review", "import", str(sheet), "--db", str(db)).output
    assert curation_digest(db) == before
    # the exported sheet carries the verdicts: exporting and importing it again changes nothing
    invoke("review", "export", "--db", str(db), "--out", str(sheet))
    assert "0 new or changed" in invoke("review", "import", str(sheet), "--db", str(db)).output
    assert invoke("review", "export", "--db", str(db), "--out", "-", "--undecided").output.count("\n") == 2


@pytest.mark.parametrize(("edit", "message"), [
    ({"pmid": "999"}, "line 2: unknown PMID '999'"),
    ({"verdict": "maybe"}, "line 2: verdict 'maybe' is not one of accepted, rejected, corrected"),
    ({"marker": "CTX"}, "line 2: no evidence row 201 | CTX | prostate | diagnosis (were the key columns edited?)"),
    ({"verdict": "corrected", "corrected_cancer": "mars"}, "line 2: unknown cancer 'mars'"),
    ({"verdict": "corrected"}, "line 2: verdict corrected, but no corrected_ column filled in"),
])
def test_a_bad_sheet_changes_nothing(db: Path, tmp_path: Path, edit: dict, message: str) -> None:
    sheet = tmp_path / "sheet.csv"
    invoke("review", "export", "--db", str(db), "--out", str(sheet), "--order", "pmid")
    fill(sheet, {"201": {"verdict": "accepted", **edit}, "204": {"verdict": "rejected"}})
    result = invoke("review", "import", str(sheet), "--db", str(db))
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and message in result.output and "nothing applied" in result.output
    assert rows(db, "select count(*) from curation") == [(0,)]


def test_a_file_that_is_no_sheet(db: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    result = invoke("review", "import", str(other), "--db", str(db))
    assert result.exit_code == 2
    assert "is not a review sheet: no column pmid, marker, cancer, use, verdict" in result.output


def test_verdicts_hold_through_re_extraction_and_revision(db: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    sheet = tmp_path / "sheet.csv"
    invoke("review", "export", "--db", str(db), "--out", str(sheet))
    fill(sheet, {"201": {"verdict": "accepted"}, "202": {"verdict": "rejected"},
                 "204": {"verdict": "corrected", "corrected_finding": "refutes"}})
    invoke("review", "import", str(sheet), "--db", str(db))
    first_runs = rows(db, "select pmid, run_id from evidence order by pmid")
    monkeypatch.setattr("miner.nlp.pipeline.EXTRACTOR_VERSION", "next")
    assert "4 articles, 0 evidence rows new or changed" in invoke("extract", "--db", str(db)).output
    assert rows(db, "select pmid, run_id from evidence order by pmid") == first_runs
    assert rows(db, "select count(*) from evidence where extractor_version like 'next:%'") == [(4,)]
    # 201 revised so that the extractor no longer finds its (accepted) row: the row stays, flagged
    revised = tmp_path / "revised.xml"
    revised.write_text(pubmed_set([article_xml("201", "A cohort of prostate cancer", "Results: Nothing was "
                                               "measured.", year=2015)]))
    invoke("ingest", str(revised), "--db", str(db))
    assert rows(db, "select pmid, verdict, unconfirmed from evidence_curated order by pmid") == [
        ("201", "accepted", 1), ("203", None, 0), ("204", "corrected", 0)]
    assert summary(db) == [("ALP", "lung", "prognosis", 1, 0, 1, 1, 0),
                           ("BSP", "prostate", "diagnosis", 2, 1, 1, 1, 1)]
    store = Store(db, write=False)
    assert sorted(map(tuple, (d.values() for d in verdict_labels(store)))) == [
        ("201", "BSP", "prostate", "diagnosis", 1), ("202", "BSP", "prostate", "diagnosis", 0),
        ("204", "ALP", "lung", "prognosis", 1)]
    assert [d["pmid"] for d in verdict_labels(store, {"202"})] == ["202"]


def test_labels_of_a_corrected_relation(db: Path, tmp_path: Path) -> None:
    invoke("review", "--db", str(db), "--order", "pmid", input="c\n\nbreast\n\n\nq\n")
    assert verdict_labels(Store(db, write=False)) == [
        {"pmid": "201", "marker": "BSP", "cancer": "prostate", "use": "diagnosis", "label": 0},
        {"pmid": "201", "marker": "BSP", "cancer": "breast", "use": "diagnosis", "label": 1}]


def test_releases_and_their_notes(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "releases"
    first = invoke("release", "--db", str(db), "--out", str(out))
    assert first.exit_code == 0 and "release 1: 2 rows, 4 evidence rows (0 curated); 2 new" in first.output
    folder = next(out.iterdir())
    assert sorted(p.name for p in folder.iterdir()) == [
        "NOTES.md", "evidence.csv", "evidence.jsonl", "manifest.json", "table.html", "table.md"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["version"] == 1 and manifest["counts"]["evidence_rows"] == 4
    assert manifest["publication_years"] == [2015, 2021]
    assert manifest["database"]["schema_version"] == migrations.latest()
    assert manifest["files"]["evidence.csv"] == hashlib.sha256((folder / "evidence.csv").read_bytes()).hexdigest()
    invoke("review", "--db", str(db), "--order", "pmid", input="r\nq\n")  # 201 rejected
    second = invoke("release", "--db", str(db), "--out", str(out))
    assert "release 2:" in second.output and "0 new, 1 changed, 0 removed since release 1" in second.output
    notes = next(out.glob("v2-*")).joinpath("NOTES.md").read_text()
    assert "| BSP | prostate | diagnosis | 3 → 2 | 2 → 1 | 1 | 0 | 202 203 |" in notes
    with (next(out.glob("v2-*")) / "evidence.csv").open(newline="") as fh:
        assert sorted(r["pmid"] for r in csv.DictReader(fh)) == ["202", "203", "204"]
    assert rows(db, "select version from releases") == [(1,), (2,)]


def test_datasette_shows_the_verdicts_as_a_column_and_a_facet(db: Path) -> None:
    invoke("review", "--db", str(db), "--order", "pmid", input="a\nr\nq\n")
    port = test_table.free_port()
    server = subprocess.Popen([sys.executable, "-m", "miner", "serve", "--db", str(db), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                test_table.get_json(f"http://127.0.0.1:{port}/-/versions.json")
                break
            except OSError:
                time.sleep(0.1)
        page = test_table.get_json(f"http://127.0.0.1:{port}/ev/evidence_detail.json?_shape=objects")
        assert sorted((r["pmid"], r["verdict"] or "") for r in page["rows"]) == [
            ("201", "accepted"), ("202", "rejected"), ("203", ""), ("204", "")]
        facet = page["facet_results"]
        facet = facet.get("results", facet)["verdict"]["results"]
        assert {(f["value"], f["count"]) for f in facet} >= {("accepted", 1), ("rejected", 1)}
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_reviewing_a_database_that_is_not_there(tmp_path: Path) -> None:
    for command in (["review"], ["review", "export", "--out", str(tmp_path / "s.csv")], ["release"]):
        result = CliRunner().invoke(cli, [*command, "--db", str(tmp_path / "none.db")])
        assert result.exit_code == 2 and "no database at" in result.output
    assert list(tmp_path.iterdir()) == []
