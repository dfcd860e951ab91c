"""Schema migrations: a database made by the first miner (tests/fixtures/schema-v1.db) upgrades in place."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from miner.cli import cli
from miner.store import Store, StoreError, migrations

FIXTURES = Path(__file__).parent / "fixtures"
KEPT = {
    "articles": "select pmid, version, title, abstract, journal, journal_iso, year, pub_date, authors, doi, pmcid,"
                " mesh, keywords, publication_types, language, date_revised, entrez_date, has_abstract, status,"
                " retracted_by, content_hash, first_seen_run, last_seen_run, changed_run, extracted_with"
                " from articles order by pmid",  # the columns of schema 1
    "evidence": "select id, pmid, marker, marker_surface, marker_category, candidate, cancer, use, finding, direction,"
                " sample, confidence, sentence, sentence_start, sentence_end, cues, extractor_version, run_id"
                " from evidence order by id",
    "runs": "select id, command, query, since, until, found, new, updated, extracted, evidence, requests, started,"
            " finished, status, message, extractor_version, deletion_check from runs order by id",
    "mentions": "select id, pmid, label, text, canonical, source, candidate, start, end, sentence_index"
                " from mentions order by id",
    "summary": "select marker, category, cancer, use, articles, supporting, refuting, first_year, last_year, samples,"
               " pmids, candidate, sentence, sentence_pmid, first_run, last_run from summary"
               " order by marker, cancer, use",
    "markers": "select * from markers order by marker",
    "ingested_files": "select * from ingested_files order by sha256",
    "articles_fts": "select rowid, title from articles_fts where articles_fts match 'bone' order by rowid",
}


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    path = tmp_path / "evidence.db"
    shutil.copy(FIXTURES / "schema-v1.db", path)
    return path


def contents(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as conn:
        return {name: conn.execute(sql).fetchall() for name, sql in KEPT.items()}


def version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def invoke(*args: str):  # noqa: ANN201
    return CliRunner().invoke(cli, list(args))


def test_upgrade_keeps_every_article_evidence_row_and_run(old_db: Path) -> None:
    before = contents(old_db)
    assert version(old_db) == 1 and len(before["articles"]) == 8 and len(before["evidence"]) == 6
    result = invoke("upgrade", "--db", str(old_db))
    assert result.exit_code == 0, result.output
    assert f"from schema version 1 to {migrations.latest()}" in result.output
    assert "2: Drop the columns no miner ever wrote: runs.lexicon_hash (the extractor fingerprint holds the lexicon" \
        " hash) and mentions.category" in result.output
    assert version(old_db) == migrations.latest()
    assert contents(old_db) == before
    backup = old_db.with_name("evidence.db.schema-v1.bak")
    assert version(backup) == 1 and contents(backup) == before
    status = invoke("status", "--db", str(old_db))
    assert status.exit_code == 0, status.output
    assert status.output.splitlines()[1:] == (FIXTURES / "schema-v1.status.txt").read_text().splitlines()
    again = invoke("upgrade", "--db", str(old_db))
    assert again.exit_code == 0 and "already at schema version" in again.output


def test_the_unwritten_columns_are_gone(old_db: Path) -> None:
    invoke("upgrade", "--db", str(old_db))
    with sqlite3.connect(old_db) as conn:
        assert "lexicon_hash" not in {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
        assert "category" not in {r[1] for r in conn.execute("PRAGMA table_info(mentions)")}


@pytest.mark.parametrize("command", [["status"], ["export", "--out", "-"], ["compare"], ["diff", "--since", "1"],
                                     ["serve"], ["evaluate", "--gold", __file__]])
def test_reading_commands_ask_for_an_upgrade_and_change_nothing(old_db: Path, command: list[str]) -> None:
    digest = sha(old_db)
    result = invoke(*command, "--db", str(old_db))
    assert result.exit_code == 2
    assert f"run `miner upgrade --db {old_db}`" in result.output
    assert sha(old_db) == digest and not list(old_db.parent.glob("*.bak"))


def test_a_writing_command_upgrades_by_itself_and_says_so_once(old_db: Path, tmp_path: Path) -> None:
    from miner.standin import article_xml, pubmed_set

    before = contents(old_db)
    xml = tmp_path / "more.xml"
    xml.write_text(pubmed_set([article_xml("2001", "Serum CTX", "Serum CTX was measured.")]))
    first = invoke("ingest", str(xml), "--no-extract", "--db", str(old_db))
    assert first.exit_code == 0, first.output
    assert first.output.count("upgraded") == 1 and version(old_db) == migrations.latest()
    after = contents(old_db)
    assert set(before["articles"]) < set(after["articles"]) and after["evidence"] == before["evidence"]
    assert after["runs"][:4] == before["runs"] and after["runs"][4][1] == "ingest"
    second = invoke("ingest", str(xml), "--no-extract", "--db", str(old_db), "--force")
    assert second.exit_code == 0 and "upgraded" not in second.output


def test_a_database_of_a_newer_miner_is_refused(old_db: Path) -> None:
    with sqlite3.connect(old_db) as conn:
        conn.execute(f"PRAGMA user_version = {migrations.latest() + 1}")
    digest = sha(old_db)
    for command in (["status"], ["upgrade"], ["extract"]):
        result = invoke(*command, "--db", str(old_db))
        assert result.exit_code == 2 and "made by a newer miner" in result.output, result.output
    assert sha(old_db) == digest


def test_a_failing_migration_changes_nothing(old_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def half_done(db) -> None:  # noqa: ANN001
        db.execute("alter table runs add column note text")
        raise RuntimeError("the migration broke")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, migrations.Migration(
        migrations.latest() + 1, half_done, rewrites=False)])
    with pytest.raises(RuntimeError):
        Store(old_db)
    assert version(old_db) == migrations.latest() - 1  # the earlier migrations landed, each in its own transaction
    with sqlite3.connect(old_db) as conn:
        assert "note" not in {r[1] for r in conn.execute("PRAGMA table_info(runs)")}


def test_migrations_are_numbered_in_order() -> None:
    assert [m.version for m in migrations.MIGRATIONS] == list(range(1, migrations.latest() + 1))
    with pytest.raises(ValueError, match="the next number is"):
        migrations.migration(migrations.latest() + 2)(lambda db: None)


def test_a_new_database_starts_at_the_latest_version(tmp_path: Path) -> None:
    store = Store(tmp_path / "new.db")
    assert store.version == migrations.latest() and store.upgrade is not None and store.upgrade.backup is None
    assert not list(tmp_path.glob("*.bak"))
    with pytest.raises(StoreError, match="not a miner database"):
        empty = tmp_path / "empty.db"
        sqlite3.connect(empty).close()
        Store(empty, write=False)


def test_the_curation_migration_counts_existing_evidence_as_uncurated(old_db: Path) -> None:
    assert invoke("upgrade", "--db", str(old_db)).exit_code == 0
    with sqlite3.connect(old_db) as conn:
        active = conn.execute("select count(*) from evidence e join articles a on a.pmid = e.pmid"
                              " where a.status = 'active'").fetchone()[0]
        assert conn.execute("select sum(curated), sum(uncurated) from summary").fetchone() == (0, active)
        assert conn.execute("select count(*) from evidence_curated").fetchone()[0] == active
        assert conn.execute("select count(*) from curation").fetchone()[0] == 0
