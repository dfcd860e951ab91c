"""A user's lexicon folder (--lexicon DIR / $MINER_LEXICON) adds markers without touching the package."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from miner.cli import cli
from miner.config import ENV_LEXICON
from miner.standin import article_xml, pubmed_set

ABSTRACT = ("Results: Serum gremlin-7 levels were significantly higher in patients with bone metastases than in "
            "those without bone metastases (p < 0.001), with an AUC of 0.88.")


@pytest.fixture(autouse=True)
def no_user_lexicon(monkeypatch: pytest.MonkeyPatch) -> None:
    """--lexicon sets $MINER_LEXICON for the process: restore it after each test."""
    monkeypatch.delenv(ENV_LEXICON, raising=False)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def user_lexicon(folder: Path) -> Path:
    folder.mkdir()
    (folder / "markers.csv").write_text("marker,full_name,category,synonyms\n"
                                        "gremlin-7,gremlin 7 fragment,bone_matrix,gremlin-7|GREM7\n")
    return folder


def evidence(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("select marker, marker_category, candidate, cancer, use from evidence").fetchall()


def test_a_user_marker_is_found_and_stored_articles_are_re_extracted(tmp_path: Path) -> None:
    xml = tmp_path / "a.xml"
    xml.write_text(pubmed_set([article_xml("301", "Gremlin-7 in breast cancer with bone metastases", ABSTRACT)]))
    db = str(tmp_path / "ev.db")
    assert invoke("ingest", str(xml), "--db", db).exit_code == 0
    assert ("gremlin-7", "bone_matrix", 0, "breast", "diagnosis") not in evidence(Path(db))
    lexicon = user_lexicon(tmp_path / "mine")
    again = invoke("extract", "--db", db, "--lexicon", str(lexicon))
    assert again.exit_code == 0 and "extract: 1 articles" in again.output  # the fingerprint changed
    assert ("gremlin-7", "bone_matrix", 0, "breast", "diagnosis") in evidence(Path(db))
    assert "extract: 0 articles" in invoke("extract", "--db", db, "--lexicon", str(lexicon)).output
    listed = invoke("names", "markers", "--db", db, "--lexicon", str(lexicon)).output.splitlines()
    assert listed[1].split() == ["1", "1", "gremlin-7", "gremlin-7,", "GREM7"]


def test_the_environment_names_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_LEXICON, str(user_lexicon(tmp_path / "mine")))
    result = invoke("explain", "--text", f"GREM7 in prostate cancer bone metastasis\n{ABSTRACT}")
    assert "gremlin-7 | prostate | diagnosis | supports" in result.output


@pytest.mark.parametrize(("files", "message"), [
    (None, "no lexicon folder"),
    ({}, "holds none of"),
    ({"markers.csv": "name,category\nX,enzyme\n"}, "'marker' among them"),
    ({"cues.toml": "[use]\ndiagnosis = ['(unclosed']\n"}, "bad pattern"),
    ({"cues.toml": "[use\n"}, "cues.toml"),
])
def test_a_bad_lexicon_folder_is_a_usage_error(tmp_path: Path, files: dict[str, str] | None, message: str) -> None:
    folder = tmp_path / "lex"
    if files is not None:
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_text(text)
    result = invoke("explain", "--lexicon", str(folder), "--text", "x")
    assert result.exit_code == 2 and message in result.output
