"""Filters by any name the lexicons know, `miner names`, readable names and provenance in exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from miner.cli import cli
from miner.names import UnknownName, readable, resolve
from miner.nlp.lexicon import load_lexicon
from tests.test_table import db  # noqa: F401 - the fixture: BSP/prostate (3 articles), ALP/lung

__all__ = ["db"]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize(("kind", "value", "canonical"), [
    ("cancers", "Prostate", "prostate"), ("cancers", "prostate cancer", "prostate"), ("cancers", "PCa", "prostate"),
    ("cancers", "multiple myeloma", "multiple_myeloma"), ("cancers", "MULTIPLE_MYELOMA", "multiple_myeloma"),
    ("markers", "bone sialoprotein", "BSP"), ("markers", "ctx", "CTX"), ("uses", "Risk prediction", "risk_prediction"),
    ("uses", "prognostic", "prognosis"),
])
def test_any_synonym_resolves_case_insensitively(kind: str, value: str, canonical: str) -> None:
    assert resolve(kind, value, load_lexicon()) == canonical


def test_a_name_matching_nothing_names_the_closest() -> None:
    with pytest.raises(UnknownName, match="closest: prostate"):
        resolve("cancers", "prostat", load_lexicon())
    assert resolve("markers", "my-candidate", load_lexicon(), known=["MY-CANDIDATE"]) == "MY-CANDIDATE"


def test_readable_names() -> None:
    assert readable("multiple_myeloma") == "multiple myeloma" and readable("serum,bone_marrow") == "serum, bone marrow"
    assert readable(None) == ""


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_exports_show_readable_names(tmp_path: Path, fmt: str) -> None:
    from miner.standin import article_xml, pubmed_set

    xml = tmp_path / "mm.xml"
    xml.write_text(pubmed_set([article_xml(
        "401", "Serum DKK1 in multiple myeloma bone disease",
        "Results: Serum DKK1 levels were significantly higher in patients with osteolytic bone lesions than in those "
        "without (p < 0.001) and predicted shorter overall survival in bone marrow plasma.")]))
    db = tmp_path / "mm.db"
    run("ingest", str(xml), "--db", str(db))
    out = tmp_path / f"mm.{fmt}"
    assert run("export", "--db", str(db), "--format", fmt, "--out", str(out)).exit_code == 0
    text = out.read_text()
    assert "multiple myeloma" in text and "bone marrow" in text
    assert "multiple_myeloma" not in text and "bone_marrow" not in text


@pytest.mark.parametrize("cancer", ["Prostate", "prostate cancer", "PROSTATIC CARCINOMA"])
def test_export_filters_take_synonyms(db: Path, cancer: str) -> None:  # noqa: F811
    result = run("export", "--db", str(db), "--format", "jsonl", "--out", "-", "--cancer", cancer, "--use", "Diagnosis")
    assert result.exit_code == 0
    assert sorted(json.loads(x)["pmid"] for x in result.output.splitlines()[1:]) == ["201", "202", "203"]


@pytest.mark.parametrize(("option", "value", "hint"), [("--cancer", "prostat", "closest: prostate"),
                                                       ("--use", "diag", "closest: diagnosis"),
                                                       ("--cancer", "qqqq", "miner names cancers")])
def test_export_filter_matching_nothing_is_a_usage_error(db: Path, option: str, value: str, hint: str) -> None:  # noqa: F811
    result = run("export", "--db", str(db), "--out", "-", option, value)
    assert result.exit_code == 2 and hint in result.output


def test_names_lists_what_exists_with_counts(db: Path, tmp_path: Path) -> None:  # noqa: F811
    cancers = run("names", "cancers", "--db", str(db))
    assert cancers.exit_code == 0
    lines = cancers.output.splitlines()
    assert lines[1].split()[:3] == ["3", "3", "prostate"] and lines[2].split()[:3] == ["1", "1", "lung"]
    assert any(line.split()[2] == "multiple_myeloma" for line in lines[3:])  # in the lexicon, no evidence yet
    uses = [json.loads(x) for x in run("names", "uses", "--db", str(db), "--json").output.splitlines()]
    assert [(u["name"], u["articles"]) for u in uses][:2] == [("diagnosis", 3), ("prognosis", 1)]
    assert {u["name"] for u in uses} == {"diagnosis", "prognosis", "risk_prediction", "monitoring"}
    markers = run("names", "markers", "--db", str(tmp_path / "none.db"))
    assert markers.exit_code == 0 and "names from the lexicon only" in markers.output and "BSP" in markers.output
    assert run("names", "genes").exit_code == 2


@pytest.mark.parametrize("fmt", ["markdown", "html", "jsonl"])
def test_exports_say_what_they_are(db: Path, tmp_path: Path, fmt: str) -> None:  # noqa: F811
    out = tmp_path / f"x.{fmt}"
    assert run("export", "--db", str(db), "--format", fmt, "--out", str(out), "--cancer", "Prostate").exit_code == 0
    text = out.read_text()
    for fact in ("date", "database", "query", "last run", "extractor", "filters"):
        assert fact in text
    assert str(db) in text and "cancer prostate" in text
    if fmt != "jsonl":  # the review-style tables: the supporting sentence and its article's title
        assert "Serum BSP discriminated patients" in text
        assert "Bone sialoprotein for detecting skeletal metastases of prostate cancer" in text
    if fmt == "html":
        assert "class='legend'" in text and "Darker is more" in text
