"""The `evidence` and `mentions` tables, and the lexicon tables `markers` and `cancers`.

Evidence is upserted by (pmid, marker, cancer, use): a row keeps the run that first found it, and moves
to the current run only when its finding changed, so "what is new since run N" stays true across
re-extractions with another extractor; `extractor_version` is the extractor that last confirmed it. A
row a re-extraction no longer finds is removed, unless a reviewer accepted or corrected it: it then
stays, flagged `unconfirmed`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields

from miner.store.tables import Table, marks

Key = tuple[str, str, str]
"""(marker, cancer, use)"""

EVIDENCE_CONTENT = ("finding",)
"""The columns (besides the key) whose change makes an evidence row 'changed' (and moves it to the current run)."""
EVIDENCE_DETAILS = ("marker_surface", "marker_category", "candidate", "direction", "sample", "confidence",
                    "sentence", "sentence_start", "sentence_end", "cues", "extractor_version")
"""The columns updated in place when they change, the row keeping its run."""


@dataclass
class EvidenceRow:
    """An evidence row of an active article, with the article's year and title and the reviewer's verdict
    applied (what exports write): rejected rows are left out, corrected rows carry the reviewer's values."""

    pmid: str
    marker: str
    marker_category: str | None
    candidate: int
    cancer: str
    use: str
    finding: str
    direction: str | None
    sample: str | None
    confidence: float
    sentence: str
    sentence_start: int
    sentence_end: int
    year: int | None
    title: str | None
    extractor_version: str
    run_id: int
    verdict: str | None
    """accepted, corrected, or None (not reviewed)."""
    unconfirmed: int
    """1 when the article's latest extraction no longer finds the row (kept for a reviewer's verdict)."""


@dataclass
class EvidenceDetail:
    """A row of the `evidence_detail` view: evidence joined to its article."""

    id: int
    pmid: str
    year: int | None
    journal: str | None
    title: str | None
    marker: str
    marker_category: str | None
    candidate: int
    cancer: str
    use: str
    finding: str
    direction: str | None
    sample: str | None
    confidence: float
    sentence: str
    run_id: int


class EvidenceTable(Table):
    """Evidence rows and the mentions they were read from, replaced article by article."""

    def drop(self, pmids: list[str]) -> None:
        """Remove these articles' evidence and mentions (inside the caller's transaction)."""
        self.store.summary_stale = True
        self.db.execute(f"delete from evidence where pmid in ({marks(pmids)})", pmids)
        self.db.execute(f"delete from mentions where pmid in ({marks(pmids)})", pmids)

    def replace(self, mentions: list[dict], evidence: dict[str, list[dict]], fingerprint: str,
                candidates: set[tuple[str, str]]) -> int:
        """Replace the mentions and upsert the evidence of the articles in ``evidence`` (PMID → its rows),
        marking them extracted with ``fingerprint`` and adding the candidate markers found, in one
        transaction. Returns how many evidence rows are new or changed."""
        if not evidence:
            return 0
        self.store.summary_stale = True
        db = self.db
        pmids = list(evidence)
        written = 0
        with db.conn:
            db.execute(f"delete from mentions where pmid in ({marks(pmids)})", pmids)
            db["mentions"].insert_all(mentions, pk="id", batch_size=500)
            existing: dict[str, list[dict]] = {}
            for row in db.query(f"select * from evidence where pmid in ({marks(pmids)})", pmids):
                existing.setdefault(row["pmid"], []).append(row)
            new_rows: list[dict] = []
            for pmid, rows in evidence.items():
                written += self._upsert(rows, existing.get(pmid, []), new_rows)
            db["evidence"].insert_all(new_rows, pk="id", batch_size=500)
            self.store.articles.set_extracted(pmids, fingerprint)
            self.store.lexicons.add_candidates(candidates)
        return written

    def _upsert(self, rows: list[dict], existing_rows: list[dict], new_rows: list[dict]) -> int:
        """One article's rows against its stored rows: new rows go to ``new_rows`` (inserted by the caller
        in one go), changed ones are updated, the ones gone deleted."""
        existing = {(r["marker"], r["cancer"], r["use"]): r for r in existing_rows}
        wanted = {(r["marker"], r["cancer"], r["use"]): r for r in rows}
        written = 0
        for key, row in wanted.items():
            old = existing.get(key)
            if old is None:
                new_rows.append(row)
                written += 1
            elif any(old[c] != row[c] for c in EVIDENCE_CONTENT):
                self.db["evidence"].update(old["id"], {**row, "unconfirmed": 0})
                written += 1
            elif old["unconfirmed"] or any(old[c] != row[c] for c in EVIDENCE_DETAILS):
                self.db["evidence"].update(old["id"], {**{c: row[c] for c in EVIDENCE_DETAILS}, "unconfirmed": 0})
        missing = [r for k, r in existing.items() if k not in wanted]
        kept = self.store.curation.endorsed([(r["pmid"], r["marker"], r["cancer"], r["use"]) for r in missing])
        if kept:
            ids = [r["id"] for r in missing if (r["pmid"], r["marker"], r["cancer"], r["use"]) in kept]
            self.db.execute(f"update evidence set unconfirmed = 1 where id in ({marks(ids)})", ids)
        gone = [r["id"] for r in missing if (r["pmid"], r["marker"], r["cancer"], r["use"]) not in kept]
        if gone:
            self.db.execute(f"delete from evidence where id in ({marks(gone)})", gone)
        return written

    def rows(self, cancer: str | None = None, use: str | None = None, min_articles: int = 1) -> Iterator[EvidenceRow]:
        """Evidence of active articles, with the article's year and title and the verdicts applied,
        filtered as asked."""
        where, args = filters("e.", cancer, use)
        join = ""
        if min_articles > 1:
            join = "join summary s on s.marker = e.marker and s.cancer = e.cancer and s.use = e.use "
            where.append("s.articles >= ?")
            args.append(min_articles)
        sql = (f"select e.* from evidence_curated e {join}" + (f"where {' and '.join(where)} " if where else "")
               + "order by e.marker, e.cancer, e.use, e.pmid")
        names = [f.name for f in fields(EvidenceRow)]
        for row in self.db.query(sql, args):
            yield EvidenceRow(**{c: row[c] for c in names})

    def since(self, run_id: int) -> list[EvidenceDetail]:
        """Evidence of active articles added or changed after run ``run_id``, verdicts applied."""
        names = ", ".join(f.name for f in fields(EvidenceDetail))
        return [EvidenceDetail(**row) for row in self.db.query(
            f"select {names} from evidence_curated where run_id > ? order by marker, cancer, use, pmid", [run_id])]

    def keys_until(self, run_id: int) -> set[Key]:
        """The (marker, cancer, use) of evidence rows found in run ``run_id`` or before, verdicts applied."""
        return {tuple(r) for r in self.db.execute(
            "select distinct marker, cancer, use from evidence_curated where run_id <= ?", [run_id])}

    @property
    def count(self) -> int:
        return self.db["evidence"].count

    def counts_by(self, column: str) -> dict[str, tuple[int, int]]:
        """(articles, evidence rows) for each marker, cancer or use, over active articles."""
        if column not in ("marker", "cancer", "use"):
            raise ValueError(f"no evidence counts by {column!r}")
        return {name: (articles, count) for name, articles, count in self.db.execute(
            f"select e.{column}, count(distinct e.pmid), count(*) from evidence e"
            f" join articles a on a.pmid = e.pmid and a.status = 'active' group by e.{column}")}


class LexiconTables(Table):
    """`markers` (the lexicon's, and candidates found in the text) and `cancers`."""

    def sync(self, markers: list[dict], cancers: list[dict]) -> None:
        """Upsert the lexicon's markers and cancers (candidates are added as found)."""
        with self.db.conn:
            self.db["markers"].upsert_all([{**m, "in_lexicon": 1} for m in markers], pk="marker")
            self.db["cancers"].upsert_all(cancers, pk="cancer")

    def add_candidates(self, candidates: set[tuple[str, str]]) -> None:
        """(name, category) of markers found that are not in the lexicon (inside the caller's transaction)."""
        self.db.conn.executemany(
            "insert or ignore into markers (marker, category, synonyms, in_lexicon) values (?, ?, '[]', 0)",
            sorted(candidates))

    def candidates(self) -> set[str]:
        return {r[0] for r in self.db.execute("select marker from markers where in_lexicon = 0")}


def filters(prefix: str, cancer: str | None, use: str | None) -> tuple[list[str], list[object]]:
    """SQL conditions (and their arguments) for the --cancer and --use options."""
    where: list[str] = []
    args: list[object] = []
    for column, value in (("cancer", cancer), ("use", use)):
        if value:
            where.append(f"{prefix}{column} = ?")
            args.append(value)
    return where, args
