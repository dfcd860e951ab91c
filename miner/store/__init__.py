"""The SQLite store, the only place with SQL: a `Store` owns the connection, the lock and the schema
version, and holds one table object per table (``store.articles``, ``store.evidence``, ``store.runs``,
``store.files``, ``store.summary``, ``store.lexicons``, ``store.curation``, ``store.releases``) whose
methods take and return plain values and dataclasses.

Written with sqlite-utils in WAL mode. Every batch is one transaction, so a run killed at any moment
leaves a consistent database that the next run completes. Opening for writing upgrades an older
database in place (`miner.store.migrations`); opening for reading asks for `miner upgrade` instead.

A new table: a migration that creates it (``@migration(N)`` in migrations.py), a module here with a
`Table` subclass whose methods hold its SQL and return dataclasses, and an attribute for it in
``Store.__init__`` (``self.verdicts = VerdictsTable(self)``).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils
from filelock import FileLock, Timeout

from miner.store import migrations
from miner.store.articles import Abstract, ArticlesTable, SavedArticles
from miner.store.curation import CurationTable
from miner.store.evidence import EvidenceDetail, EvidenceRow, EvidenceTable, Key, LexiconTables
from miner.store.files import FilesTable, file_sha256
from miner.store.releases import ReleasesTable
from miner.store.runs import Run, RunCounts, RunsTable, now
from miner.store.summary import SummaryRow, SummaryTable

__all__ = [
    "Abstract", "EvidenceDetail", "EvidenceRow", "Key", "Locked", "NeedsUpgrade", "Run", "RunCounts",
    "SavedArticles", "Status", "Store", "StoreError", "SummaryRow", "Upgrade", "file_sha256", "now",
]

log = logging.getLogger(__name__)

FULL_TEXT = (("articles", ["title", "abstract"]), ("evidence", ["sentence", "marker", "cancer"]))


class StoreError(Exception):
    """The database cannot be used: a bad path, not SQLite, another tool's database, a newer schema."""


class NeedsUpgrade(StoreError):
    """A reading command met a database made by an older miner: `miner upgrade` first."""


class Locked(StoreError):
    """Another miner process is writing to this database."""


@dataclass
class Upgrade:
    """What opening the database for writing did to its schema."""

    from_version: int
    to_version: int
    backup: Path | None = None
    applied: list[str] = field(default_factory=list)


class Store:
    """One miner database. Opening it validates the path; opening it for writing (``write``) creates
    the schema or upgrades an older one in place."""

    def __init__(self, path: Path, *, write: bool = True) -> None:
        self.path = Path(path)
        if not write and not self.path.exists():
            raise StoreError(f"no database at {self.path} (run `miner fetch` or `miner ingest` first)")
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a directory, not a database file")
        if write:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create {self.path.parent}: {exc.strerror or exc}") from None
        try:
            conn = sqlite3.connect(self.path) if write else sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            conn.execute("select count(*) from sqlite_master").fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {self.path} as an SQLite database: {exc}") from None
        self.db = sqlite_utils.Database(conn)
        self.summary_stale = False
        """Set when evidence changes; `refresh_summary` then rebuilds the summary, once."""
        self.articles = ArticlesTable(self)
        self.evidence = EvidenceTable(self)
        self.lexicons = LexiconTables(self)
        self.runs = RunsTable(self)
        self.files = FilesTable(self)
        self.summary = SummaryTable(self)
        self.curation = CurationTable(self)
        self.releases = ReleasesTable(self)
        self.upgrade: Upgrade | None = None
        """Set when this opening upgraded the schema."""
        self._check_owner()
        self._check_version(write)
        if write:
            try:
                self.db.execute("PRAGMA busy_timeout = 30000")
                self.db.enable_wal()
                self._migrate()
                self._ensure_full_text()
            except sqlite3.Error as exc:
                raise StoreError(f"cannot write to {self.path}: {exc}") from None

    # -- schema --------------------------------------------------------------------------------
    @property
    def version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def _check_owner(self) -> None:
        tables = set(self.db.table_names())
        if tables and "articles" not in tables:
            raise StoreError(f"{self.path} is not a miner database (it has tables {', '.join(sorted(tables)[:5])})")
        if "articles" in tables and "runs" not in tables:
            raise StoreError(f"{self.path} is not a miner database (an `articles` table without `runs`)")

    def _check_version(self, write: bool) -> None:
        version, latest = self.version, migrations.latest()
        if version > latest:
            raise StoreError(f"{self.path} was made by a newer miner (schema version {version}; this miner "
                             f"knows up to {latest}): install the newer miner to use it")
        if not write and version < latest:
            if version == 0:
                raise StoreError(f"{self.path} is not a miner database (it has no miner tables)")
            raise NeedsUpgrade(f"{self.path} was made by an older miner (schema version {version}, now {latest}):"
                               f" run `miner upgrade --db {self.path}` first")

    def _migrate(self) -> None:
        """Apply the pending migrations, each in its own transaction, under the write lock; back up
        first when one of them rewrites a table of an existing database."""
        if self.version == migrations.latest():
            return
        with self.lock(close_dead_runs=False):
            start = self.version  # again, now that no other process can be migrating
            todo = migrations.pending(start)
            if not todo:
                return
            upgrade = Upgrade(start, todo[-1].version)
            if start > 0 and any(m.rewrites for m in todo):
                upgrade.backup = self.backup(self.path.with_name(f"{self.path.name}.schema-v{start}.bak"))
            for step in todo:
                self._apply(step)
                upgrade.applied.append(f"{step.version}: {step.description}")
        if start > 0:
            log.warning("upgraded %s from schema version %d to %d%s", self.path, start, upgrade.to_version,
                        f" (a copy of the old one: {upgrade.backup})" if upgrade.backup else "")
        self.upgrade = upgrade

    def _apply(self, step: migrations.Migration) -> None:
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            step.apply(self.db)
            conn.execute(f"PRAGMA user_version = {step.version}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _ensure_full_text(self) -> None:
        """Full-text search tables and their triggers (sqlite-utils commits while making them, so they
        are made outside the migrations' transactions; making them is idempotent)."""
        for table, columns in FULL_TEXT:
            if not self.db[table].detect_fts():
                self.db[table].enable_fts(columns, create_triggers=True, tokenize="porter")

    def backup(self, target: Path) -> Path:
        """A consistent copy of the database at ``target`` (SQLite's online backup)."""
        with sqlite3.connect(target) as copy:
            self.db.conn.backup(copy)
        copy.close()
        return target

    # -- the lock ------------------------------------------------------------------------------
    @contextmanager
    def lock(self, *, close_dead_runs: bool = True) -> Iterator[None]:
        """Hold the database's write lock; raise Locked at once when another process has it.

        The lock is an OS file lock: it dies with its process (even on SIGKILL), so a stale lock
        file left by a killed run is simply taken over.
        """
        lock = FileLock(str(self.path) + ".lock", timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise Locked(f"another miner process is writing to {self.path}; try again later") from None
        try:
            if close_dead_runs:
                self.runs.close_dead()
            yield
        finally:
            lock.release()

    # -- the summary and the file --------------------------------------------------------------
    def refresh_summary(self) -> None:
        """Rebuild the summary if evidence changed since it was last built in this process."""
        if self.summary_stale:
            self.summary.rebuild()

    def checkpoint(self) -> None:
        """Fold the WAL into the main file, so that a read-only (immutable) open sees everything."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def status(self) -> Status:
        by_status = self.articles.count_by_status()
        return Status(str(self.path), sum(by_status.values()), by_status, self.articles.count_without_abstract(),
                      self.articles.count_with_expression_of_concern(), self.evidence.count,
                      self.curation.count_by_verdict(), self.runs.recent(5), self.version)


@dataclass
class Status:
    """What `miner status` reports."""

    database: str
    articles: int
    by_status: dict[str, int]
    without_abstract: int
    expression_of_concern: int
    """Articles (not deleted) with an expression of concern."""
    evidence: int
    verdicts: dict[str, int]
    """Reviewers' verdicts, by kind."""
    runs: list[Run]
    schema_version: int
