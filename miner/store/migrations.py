"""Schema migrations: ordered functions keyed on ``PRAGMA user_version``.

Version 1 is the schema of the first miner (it created its tables in one go). Each later change to the
schema is a new function registered with ``@migration(N)``, N one more than the last; `Store` applies
the pending ones, in order, each in its own transaction, before any writing command. A migration that
rewrites a table (``rewrites=True``) gets a backup copy of the database written first.

To add one::

    @migration(5)
    def add_marker_notes(db: Database) -> None:
        \"\"\"A free-text note on each marker.\"\"\"
        db["markers"].add_column("note", str)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlite_utils import Database


@dataclass(frozen=True)
class Migration:
    version: int
    apply: Callable[[Database], None]
    rewrites: bool
    """The migration rewrites a table: a backup of the database is written before it runs."""

    @property
    def description(self) -> str:
        """The first paragraph of the function's docstring, on one line."""
        doc = (self.apply.__doc__ or self.apply.__name__).strip().split("\n\n")[0]
        return " ".join(line.strip() for line in doc.splitlines())


MIGRATIONS: list[Migration] = []


def migration(version: int, *, rewrites: bool = False) -> Callable[[Callable[[Database], None]], Callable]:
    """Register ``func`` as the migration to schema ``version`` (the next one in order)."""

    def register(func: Callable[[Database], None]) -> Callable[[Database], None]:
        expected = len(MIGRATIONS) + 1
        if version != expected:
            raise ValueError(f"migration {func.__name__} is numbered {version}; the next number is {expected}")
        MIGRATIONS.append(Migration(version, func, rewrites))
        return func

    return register


def latest() -> int:
    return len(MIGRATIONS)


def pending(current: int) -> list[Migration]:
    return MIGRATIONS[current:]


@migration(1)
def create_schema(db: Database) -> None:
    """The first schema: articles, runs, evidence, mentions, summary, lexicons, files, views, full text."""
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


@migration(2, rewrites=True)
def drop_unwritten_columns(db: Database) -> None:
    """Drop the columns no miner ever wrote: runs.lexicon_hash (the extractor fingerprint holds the
    lexicon hash) and mentions.category (the marker's category is in `markers`)."""
    db.execute("alter table runs drop column lexicon_hash")
    db.execute("alter table mentions drop column category")


@migration(3)
def add_expression_of_concern(db: Database) -> None:
    """Add articles.expression_of_concern_in: the notices of an expression of concern about an article (JSON
    list of PMIDs or citations), kept like retracted_by."""
    db["articles"].add_column("expression_of_concern_in", str)


@migration(4)
def add_curation(db: Database) -> None:
    """Reviewers' verdicts (`curation`), releases (`releases`), evidence kept for its verdict though no
    longer found (`evidence.unconfirmed`), curated and uncurated counts in the summary, and the
    `evidence_curated` view (verdicts applied) that the summary and exports read."""
    db["curation"].create(
        {"pmid": str, "marker": str, "cancer": str, "use": str, "verdict": str, "corrected_marker": str,
         "corrected_cancer": str, "corrected_use": str, "corrected_finding": str, "note": str,
         "reviewer": str, "decided": str},
        pk=("pmid", "marker", "cancer", "use"), if_not_exists=True,
    )
    db["curation"].create_index(["verdict"], if_not_exists=True)
    db["releases"].create(
        {"version": int, "released": str, "path": str, "manifest": str, "rows": str},
        pk="version", if_not_exists=True,
    )
    db.execute("alter table evidence add column unconfirmed integer not null default 0")
    db.execute("alter table summary add column curated int")
    db.execute("alter table summary add column uncurated int")
    db.execute("update summary set curated = 0, uncurated = (select count(*) from evidence e join articles a"
               " on a.pmid = e.pmid and a.status = 'active' where e.marker = summary.marker"
               " and e.cancer = summary.cancer and e.use = summary.use)")
    db.execute("drop view if exists evidence_detail")
    db.execute(
        "create view evidence_detail as select e.id, e.pmid, a.year, a.journal, a.title,"
        " e.marker, e.marker_category, e.candidate, e.cancer, e.use, e.finding, e.direction, e.sample,"
        " e.confidence, e.sentence, e.run_id, c.verdict, c.corrected_marker, c.corrected_cancer,"
        " c.corrected_use, c.corrected_finding, c.note"
        " from evidence e join articles a on a.pmid = e.pmid"
        " left join curation c on c.pmid = e.pmid and c.marker = e.marker and c.cancer = e.cancer"
        " and c.use = e.use where a.status = 'active'")
    db.execute(
        "create view evidence_curated as select e.id, e.pmid,"
        " coalesce(c.corrected_marker, e.marker) as marker, e.marker_surface,"
        " coalesce(m.category, e.marker_category) as marker_category, e.candidate,"
        " coalesce(c.corrected_cancer, e.cancer) as cancer, coalesce(c.corrected_use, e.use) as use,"
        " coalesce(c.corrected_finding, e.finding) as finding, e.direction, e.sample, e.confidence,"
        " e.sentence, e.sentence_start, e.sentence_end, e.cues, e.extractor_version, e.run_id,"
        " a.year, a.title, a.journal, c.verdict,"
        " e.unconfirmed"
        " from evidence e join articles a on a.pmid = e.pmid and a.status = 'active'"
        " left join curation c on c.pmid = e.pmid and c.marker = e.marker and c.cancer = e.cancer"
        " and c.use = e.use"
        " left join markers m on m.marker = c.corrected_marker"
        " where c.verdict is null or c.verdict != 'rejected'")
