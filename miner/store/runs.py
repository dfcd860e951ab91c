"""The `runs` table: one row per command run, with its counts, status and versions."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime

from miner import __version__
from miner.store.tables import Table

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def now() -> str:
    return datetime.now(UTC).strftime(TIME_FORMAT)


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


@dataclass
class Run:
    """A `runs` row."""

    id: int
    command: str
    query: str | None
    since: str | None
    until: str | None
    datetype: str | None
    found: int | None
    new: int | None
    updated: int | None
    unchanged: int | None
    deleted: int | None
    retracted: int | None
    failed: int | None
    skipped: int | None
    extracted: int | None
    evidence: int | None
    requests: int | None
    started: str
    finished: str | None
    status: str
    message: str | None
    tool_version: str | None
    extractor_version: str | None
    deletion_check: int | None

    @property
    def counts(self) -> RunCounts:
        return RunCounts(**{f.name: getattr(self, f.name) or 0 for f in fields(RunCounts)})


class RunsTable(Table):
    """Runs: started as 'running', finished as done, failed, unavailable or interrupted."""

    def start(self, command: str, **params: object) -> int:
        """A new run of ``command`` with its parameters (query, since, until, datetype)."""
        row = {"command": command, "started": now(), "status": "running", "tool_version": __version__}
        row.update({k: (str(v) if v is not None else None) for k, v in params.items()})
        with self.db.conn:
            return int(self.db["runs"].insert(row).last_pk)

    def update(self, run_id: int, **values: object) -> None:
        """Record more about a run under way (its window, extractor fingerprint, deletion check)."""
        with self.db.conn:
            self.db["runs"].update(run_id, values)

    def finish(self, run_id: int, status: str, counts: RunCounts, message: str | None = None) -> None:
        with self.db.conn:
            self.db["runs"].update(run_id, {**asdict(counts), "status": status, "finished": now(), "message": message})

    def close_dead(self) -> None:
        """Runs still marked running when the lock is free were killed: mark them interrupted."""
        with self.db.conn:
            self.db.execute(
                "update runs set status = 'interrupted', finished = coalesce(finished, ?),"
                " message = coalesce(message, 'process ended before the run finished')"
                " where status = 'running'", [now()])

    def recent(self, limit: int = 5) -> list[Run]:
        return [Run(**r) for r in self.db["runs"].rows_where(order_by="id desc", limit=limit)]

    def exists(self, run_id: int) -> bool:
        return bool(self.db.execute("select 1 from runs where id = ?", [run_id]).fetchone())

    def last_before(self, moment: str) -> int:
        """The id of the last run started before ``moment`` (0 when none)."""
        return int(self.db.execute("select max(id) from runs where started < ?", [moment]).fetchone()[0] or 0)

    def last_full_fetch(self, query: str) -> str | None:
        """When the last successful refresh, or fetch or run without a window, of ``query`` started."""
        row = self.db.execute(
            "select started from runs where status = 'done' and query = ?"
            " and (command = 'refresh' or (command in ('fetch', 'run') and since is null and until is null))"
            " order by id desc limit 1", [query]).fetchone()
        return row[0] if row else None

    def last_deletion_check(self, query: str) -> str | None:
        """When the last successful run that checked ``query`` for records that left PubMed started."""
        return self.db.execute(
            "select max(started) from runs where status = 'done' and query = ? and deletion_check = 1",
            [query]).fetchone()[0]

    def last_fetched_query(self) -> str | None:
        """The query of the last successful fetch, run or refresh."""
        row = self.db.execute(
            "select query from runs where command in ('fetch', 'run', 'refresh') and status = 'done' "
            "order by id desc limit 1").fetchone()
        return row[0] if row else None

    def last_extractor(self) -> str | None:
        """The extractor fingerprint of the last successful run that extracted."""
        row = self.db.execute(
            "select extractor_version from runs where status = 'done' and extractor_version is not null "
            "order by id desc limit 1").fetchone()
        return row[0] if row else None
