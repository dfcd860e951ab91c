"""The SQLite store: schema, article upserts keyed on PMID, runs, evidence, the per-database lock.

Written with sqlite-utils in WAL mode. Every batch is one transaction, so a run killed at any moment
leaves a consistent database that the next run completes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils
from filelock import FileLock, Timeout

from miner import __version__
from miner.pubmed import Article

SCHEMA_VERSION = 1


class StoreError(Exception):
    """The database cannot be used: a bad path, not SQLite, or another tool's database."""


class Locked(StoreError):
    """Another miner process is writing to this database."""


@dataclass
class RunCounts:
    found: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    retracted: int = 0
    failed: int = 0
    skipped: int = 0
    extracted: int = 0
    evidence: int = 0
    requests: int = 0

    def add(self, other: RunCounts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def summary(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in asdict(self).items() if v)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    """One miner database. Opening it validates the path and creates the schema when ``write``."""

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
        self._check_owner()
        if write:
            try:
                self.db.execute("PRAGMA busy_timeout = 30000")
                self.db.enable_wal()
                self.ensure_schema()
            except sqlite3.Error as exc:
                raise StoreError(f"cannot write to {self.path}: {exc}") from None

    def _check_owner(self) -> None:
        tables = set(self.db.table_names())
        if tables and "articles" not in tables:
            raise StoreError(f"{self.path} is not a miner database (it has tables {', '.join(sorted(tables)[:5])})")
        if "articles" in tables and "runs" not in tables:
            raise StoreError(f"{self.path} is not a miner database (an `articles` table without `runs`)")

    # -- schema --------------------------------------------------------------------------------
    def ensure_schema(self) -> None:
        db = self.db
        with db.conn:
            db["runs"].create(
                {"id": int, "command": str, "query": str, "since": str, "until": str, "datetype": str,
                 "found": int, "new": int, "updated": int, "unchanged": int, "deleted": int,
                 "retracted": int, "failed": int, "skipped": int, "extracted": int, "evidence": int,
                 "requests": int, "started": str, "finished": str, "status": str, "message": str,
                 "tool_version": str, "extractor_version": str, "lexicon_hash": str, "deletion_check": int},
                pk="id", if_not_exists=True,
            )
            db["articles"].create(
                {"pmid": str, "version": int, "title": str, "abstract": str, "journal": str,
                 "journal_iso": str, "year": int, "pub_date": str, "authors": str, "doi": str,
                 "pmcid": str, "mesh": str, "keywords": str, "publication_types": str,
                 "language": str, "date_revised": str, "entrez_date": str, "has_abstract": int,
                 "status": str, "retracted_by": str, "content_hash": str, "first_seen_run": int,
                 "last_seen_run": int, "changed_run": int, "extracted_with": str},
                pk="pmid", if_not_exists=True,
                foreign_keys=[("first_seen_run", "runs", "id")],
            )
            db["ingested_files"].create(
                {"name": str, "sha256": str, "records": int, "extracted_with": str, "run_id": int,
                 "finished": str},
                pk=("sha256", "extracted_with"), if_not_exists=True,
            )
            db["markers"].create(
                {"marker": str, "full_name": str, "category": str, "synonyms": str, "in_lexicon": int},
                pk="marker", if_not_exists=True,
            )
            db["cancers"].create({"cancer": str, "synonyms": str}, pk="cancer", if_not_exists=True)
            db["mentions"].create(
                {"id": int, "pmid": str, "label": str, "text": str, "canonical": str, "category": str,
                 "source": str, "candidate": int, "start": int, "end": int, "sentence_index": int},
                pk="id", if_not_exists=True, foreign_keys=[("pmid", "articles", "pmid")],
            )
            db["evidence"].create(
                {"id": int, "pmid": str, "marker": str, "marker_surface": str, "marker_category": str,
                 "candidate": int, "cancer": str, "use": str, "finding": str, "direction": str,
                 "sample": str, "confidence": float, "sentence": str, "sentence_start": int,
                 "sentence_end": int, "cues": str, "extractor_version": str, "run_id": int},
                pk="id", if_not_exists=True,
                foreign_keys=[("pmid", "articles", "pmid"), ("run_id", "runs", "id"),
                              ("marker", "markers", "marker"), ("cancer", "cancers", "cancer")],
            )
            for table, columns, unique in (
                ("articles", ["status"], False), ("articles", ["year"], False),
                ("articles", ["changed_run"], False),
                ("mentions", ["pmid"], False), ("mentions", ["canonical"], False),
                ("evidence", ["pmid", "marker", "cancer", "use"], True),
                ("evidence", ["marker", "cancer", "use"], False), ("evidence", ["cancer", "use"], False),
                ("evidence", ["run_id"], False),
            ):
                db[table].create_index(columns, unique=unique, if_not_exists=True)
            db["summary"].create(
                {"marker": str, "category": str, "cancer": str, "use": str, "articles": int, "supporting": int,
                 "refuting": int, "first_year": int, "last_year": int, "samples": str, "pmids": str,
                 "candidate": int, "sentence": str, "sentence_pmid": str, "first_run": int, "last_run": int},
                pk=("marker", "cancer", "use"), if_not_exists=True,
                foreign_keys=[("marker", "markers", "marker"), ("cancer", "cancers", "cancer"),
                              ("sentence_pmid", "articles", "pmid")],
            )
            for table, columns in (("summary", ["cancer", "use"]), ("summary", ["category"]),
                                   ("summary", ["supporting", "articles"]), ("summary", ["last_run"])):
                db[table].create_index(columns, if_not_exists=True)
            db.execute("create index if not exists evidence_candidates on evidence (marker) where candidate = 1")
            db.execute(
                "create view if not exists evidence_summary as select * from summary"
                " order by supporting desc, articles desc, marker, cancer, use")
            db.execute(
                "create view if not exists evidence_detail as select e.id, e.pmid, a.year, a.journal, a.title,"
                " e.marker, e.marker_category, e.candidate, e.cancer, e.use, e.finding, e.direction, e.sample,"
                " e.confidence, e.sentence, e.run_id from evidence e join articles a on a.pmid = e.pmid"
                " where a.status = 'active'")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        for table, columns in (("articles", ["title", "abstract"]), ("evidence", ["sentence", "marker", "cancer"])):
            if not db[table].detect_fts():
                db[table].enable_fts(columns, create_triggers=True, tokenize="porter")

    # -- the lock ------------------------------------------------------------------------------
    @contextmanager
    def lock(self) -> Iterator[None]:
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
            self._close_dead_runs()
            yield
        finally:
            lock.release()

    def _close_dead_runs(self) -> None:
        """Runs still marked running when the lock is free were killed: mark them interrupted."""
        with self.db.conn:
            self.db.execute(
                "update runs set status = 'interrupted', finished = coalesce(finished, ?),"
                " message = coalesce(message, 'process ended before the run finished')"
                " where status = 'running'", [now()])

    # -- runs ----------------------------------------------------------------------------------
    def start_run(self, command: str, **params: object) -> int:
        row = {"command": command, "started": now(), "status": "running", "tool_version": __version__}
        row.update({k: (str(v) if v is not None else None) for k, v in params.items()})
        with self.db.conn:
            return int(self.db["runs"].insert(row).last_pk)

    def finish_run(self, run_id: int, status: str, counts: RunCounts, message: str | None = None) -> None:
        """Record how a run ended, with the summary brought up to date with the run's evidence."""
        self.refresh_summary()
        with self.db.conn:
            self.db["runs"].update(
                run_id, {**asdict(counts), "status": status, "finished": now(), "message": message}
            )
        self.checkpoint()

    # -- articles ------------------------------------------------------------------------------
    def save_articles(self, articles: Iterable[Article], run_id: int) -> tuple[RunCounts, list[str], list[str]]:
        """Upsert one batch in one transaction: the counts, the PMIDs new, and the PMIDs revised."""
        counts = RunCounts()
        new: list[str] = []
        revised: list[str] = []
        batch = {a.pmid: a for a in articles}  # a later copy of a PMID in a batch wins
        if not batch:
            return counts, new, revised
        with self.db.conn:
            known = self._hashes(list(batch))
            retraction_targets: list[str] = []
            new_rows, unchanged = [], []
            for pmid, article in batch.items():
                digest = article.content_hash()
                if pmid not in known:
                    new_rows.append({**article_row(article, digest), "first_seen_run": run_id,
                                     "last_seen_run": run_id, "changed_run": run_id})
                    new.append(pmid)
                elif known[pmid] != digest:
                    self.db["articles"].update(
                        pmid, {**article_row(article, digest), "last_seen_run": run_id, "changed_run": run_id})
                    self.drop_evidence([pmid])
                    counts.updated += 1
                    revised.append(pmid)
                else:
                    unchanged.append((run_id, pmid))
                if article.retracted:
                    counts.retracted += 1
                retraction_targets.extend(article.retraction_of)
            if new_rows:
                self.db["articles"].insert_all(new_rows, batch_size=500)
            if unchanged:
                self.db.conn.executemany("update articles set last_seen_run = ? where pmid = ?", unchanged)
            counts.new, counts.unchanged = len(new_rows), len(unchanged)
            if retraction_targets:
                counts.retracted += self._mark(retraction_targets, "retracted", run_id)
        return counts, new, revised

    def _hashes(self, pmids: list[str]) -> dict[str, str]:
        """Content hashes of known PMIDs; a deleted one hashes to '' so that its return updates it."""
        marks = ",".join("?" * len(pmids))
        return {
            pmid: (digest if status != "deleted" else "")
            for pmid, digest, status in self.db.execute(
                f"select pmid, content_hash, status from articles where pmid in ({marks})", pmids)
        }

    def mark_deleted(self, pmids: list[str], run_id: int) -> int:
        with self.db.conn:
            return self._mark(pmids, "deleted", run_id)

    def _mark(self, pmids: list[str], status: str, run_id: int) -> int:
        """Set a status on known articles whose status differs; their evidence leaves."""
        marks = ",".join("?" * len(pmids))
        targets = [r[0] for r in self.db.execute(
            f"select pmid from articles where pmid in ({marks}) and status != ?", [*pmids, status])]
        if targets:
            tm = ",".join("?" * len(targets))
            self.db.execute(
                f"update articles set status = ?, changed_run = ?, extracted_with = null"
                f" where pmid in ({tm})", [status, run_id, *targets])
            self.drop_evidence(targets)
        return len(targets)

    def drop_evidence(self, pmids: list[str]) -> None:
        self.summary_stale = True
        marks = ",".join("?" * len(pmids))
        self.db.execute(f"delete from evidence where pmid in ({marks})", pmids)
        self.db.execute(f"delete from mentions where pmid in ({marks})", pmids)

    def refresh_summary(self) -> None:
        """Rebuild the summary if evidence changed since it was last built in this process."""
        if self.summary_stale:
            self.rebuild_summary()

    def rebuild_summary(self) -> None:
        """The summary table: one row per (marker, cancer, use) over the evidence of active articles,
        with its strongest sentence. Rebuilt in one transaction after evidence changes."""
        with self.db.conn:
            self.db.execute("delete from summary")
            self.db.execute(SUMMARY_SQL)
        self.summary_stale = False

    def checkpoint(self) -> None:
        """Fold the WAL into the main file, so that a read-only (immutable) open sees everything."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- ingested files ------------------------------------------------------------------------
    def file_done(self, sha256: str, extracted_with: str) -> bool:
        return bool(self.db.execute(
            "select 1 from ingested_files where sha256 = ? and extracted_with = ?",
            [sha256, extracted_with]).fetchone())

    def record_file(self, name: str, sha256: str, records: int, extracted_with: str, run_id: int) -> None:
        self.db["ingested_files"].upsert(
            {"name": name, "sha256": sha256, "records": records, "extracted_with": extracted_with,
             "run_id": run_id, "finished": now()}, pk=("sha256", "extracted_with"))

    # -- status --------------------------------------------------------------------------------
    def status(self) -> dict:
        db = self.db
        by_status = dict(db.execute("select status, count(*) from articles group by status").fetchall())
        return {
            "database": str(self.path),
            "articles": sum(by_status.values()),
            "by_status": by_status,
            "without_abstract": db.execute("select count(*) from articles where has_abstract = 0").fetchone()[0],
            "evidence": db["evidence"].count,
            "runs": list(db["runs"].rows_where(order_by="id desc", limit=5)),
        }


SUMMARY_SQL = """
insert into summary
with active as (
    select e.*, a.year,
           row_number() over (partition by e.marker, e.cancer, e.use
                              order by e.finding = 'supports' desc, e.confidence desc, a.year desc, e.pmid) as rank
    from evidence e join articles a on a.pmid = e.pmid and a.status = 'active'
)
select x.marker, coalesce(m.category, max(x.marker_category)), x.cancer, x.use,
       count(distinct x.pmid),
       count(distinct case when x.finding = 'supports' then x.pmid end),
       count(distinct case when x.finding = 'refutes' then x.pmid end),
       min(x.year), max(x.year),
       group_concat(distinct x.sample),
       group_concat(x.pmid, ' '),  -- strongest evidence first
       max(x.candidate),
       max(case when x.rank = 1 then x.sentence end),
       max(case when x.rank = 1 then x.pmid end),
       min(x.run_id), max(x.run_id)
from (select * from active order by marker, cancer, use, rank) x
left join markers m on m.marker = x.marker
group by x.marker, x.cancer, x.use
"""


def article_row(article: Article, digest: str) -> dict:
    """An Article as an `articles` row (lists as JSON)."""
    return {
        "pmid": article.pmid,
        "version": article.version,
        "title": article.title,
        "abstract": article.abstract,
        "journal": article.journal,
        "journal_iso": article.journal_iso,
        "year": article.year,
        "pub_date": article.pub_date,
        "authors": json.dumps(article.authors, ensure_ascii=False),
        "doi": article.doi,
        "pmcid": article.pmcid,
        "mesh": json.dumps([asdict(m) for m in article.mesh], ensure_ascii=False),
        "keywords": json.dumps(article.keywords, ensure_ascii=False),
        "publication_types": json.dumps(article.publication_types, ensure_ascii=False),
        "language": article.language,
        "date_revised": article.date_revised,
        "entrez_date": article.entrez_date,
        "has_abstract": int(article.has_abstract),
        "status": "retracted" if article.retracted else "active",
        "retracted_by": json.dumps(article.retracted_by) if article.retracted_by else None,
        "content_hash": digest,
        "extracted_with": None,
    }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

