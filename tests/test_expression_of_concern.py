"""Expressions of concern: stored with the article (migration 3), counted by `miner status`, listed by the
refresh report; the article's evidence is kept."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

from click.testing import CliRunner, Result

from miner.cli import cli
from miner.standin import StandIn, article_xml, pubmed_set

from .test_pubmed import corrections


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_expression_of_concern_is_stored_and_counted(tmp_path: Path) -> None:
    xml = tmp_path / "concern.xml"
    xml.write_text(pubmed_set([
        article_xml("7", "T", "A", extra=corrections(("ExpressionOfConcernIn", "90"))),
        article_xml("8", "T", "A")]))
    db = tmp_path / "a.db"
    assert invoke("ingest", str(xml), "--db", str(db), "--no-extract").exit_code == 0
    assert rows(db, "select pmid, expression_of_concern_in from articles order by pmid") == [
        ("7", '["90"]'), ("8", None)]
    assert json.loads(invoke("status", "--db", str(db), "--json").output)["expression_of_concern"] == 1
    assert "1 with an expression of concern" in invoke("status", "--db", str(db)).output


def test_refresh_reports_expressions_of_concern(standin: StandIn, cli_env: dict, tmp_path: Path) -> None:
    standin.add("7", article_xml("7", "T", "A", extra=corrections(("ExpressionOfConcernIn", "90"))), edat=date.today())
    standin.add("8", article_xml("8", "T", "A"), edat=date.today())
    reports = tmp_path / "reports"
    result = invoke("refresh", "--query", "bone", "--db", str(tmp_path / "a.db"), "--report", str(reports))
    assert result.exit_code == 0, result.output
    assert "1 with an expression of concern" in result.output
    report = json.loads(next(reports.glob("*.json")).read_text())
    assert report["concern_articles"] == ["7"]
    assert "## Articles with an expression of concern" in next(reports.glob("*.md")).read_text()
