"""The `curation` table: reviewers' verdicts on evidence rows, keyed by (pmid, marker, cancer, use) as the
extractor wrote them, so that they hold through refreshes, re-extractions and bulk ingests.

A verdict is accepted, rejected or corrected (with the reviewer's marker, cancer, use or finding). The
view `evidence_curated` applies them: what the summary, exports and releases read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import astuple, dataclass, fields

from miner.store.runs import now
from miner.store.tables import Table, marks

VERDICTS = ("accepted", "rejected", "corrected")
EvidenceKey = tuple[str, str, str, str]
"""(pmid, marker, cancer, use)"""


@dataclass
class Verdict:
    pmid: str
    marker: str
    cancer: str
    use: str
    verdict: str
    corrected_marker: str | None = None
    corrected_cancer: str | None = None
    corrected_use: str | None = None
    corrected_finding: str | None = None
    note: str | None = None
    reviewer: str | None = None
    decided: str | None = None

    @property
    def key(self) -> EvidenceKey:
        return (self.pmid, self.marker, self.cancer, self.use)

    def same_decision(self, other: Verdict) -> bool:
        """The same verdict, corrections and note (whoever decided it, whenever)."""
        return astuple(self)[:-2] == astuple(other)[:-2]


@dataclass
class ReviewItem:
    """An evidence row as a reviewer sees it: the article, the sentence, the words the rules read, and
    the verdict if there is one."""

    pmid: str
    marker: str
    cancer: str
    use: str
    finding: str
    confidence: float
    marker_surface: str | None
    sentence: str
    cues: str | None
    title: str | None
    year: int | None
    run_id: int
    verdict: str | None
    corrected_marker: str | None
    corrected_cancer: str | None
    corrected_use: str | None
    corrected_finding: str | None
    note: str | None

    @property
    def key(self) -> EvidenceKey:
        return (self.pmid, self.marker, self.cancer, self.use)


ORDERS = {"newest": "e.run_id desc, a.year desc, e.pmid desc, e.marker, e.cancer, e.use",
          "least-confident": "e.confidence, e.pmid, e.marker, e.cancer, e.use",
          "pmid": "e.pmid, e.marker, e.cancer, e.use"}
"""How the review queue and the sheet can be ordered."""


class CurationTable(Table):
    """Verdicts, upserted by evidence key; the evidence they judge, as review items."""

    def items(self, order: str = "pmid", *, undecided: bool = False, limit: int | None = None) -> Iterator[ReviewItem]:
        """Evidence rows of active articles with their article and verdict (only those without one when
        ``undecided``), in one of the ``ORDERS``, ``limit`` at most."""
        names = ", ".join(f"e.{f.name}" if f.name in EVIDENCE_SIDE else f"c.{f.name}" if f.name in CURATION_SIDE
                          else f"a.{f.name}" for f in fields(ReviewItem))
        sql = f"select {names} {ITEMS}{' and c.verdict is null' if undecided else ''} order by {ORDERS[order]}"
        for row in self.db.execute(sql + (f" limit {int(limit)}" if limit else "")):
            yield ReviewItem(*row)

    def undecided(self) -> int:
        """How many evidence rows of active articles have no verdict."""
        return self.db.execute(f"select count(*) {ITEMS} and c.verdict is null").fetchone()[0]

    def decide(self, verdicts: list[Verdict]) -> int:
        """Store verdicts in one transaction; one that repeats the stored decision changes nothing.
        Returns how many were new or different."""
        stored = self.get([v.key for v in verdicts])
        changed = [v for v in verdicts if v.key not in stored or not v.same_decision(stored[v.key])]
        with self.db.conn:
            for verdict in changed:
                verdict.decided = verdict.decided or now()
            self.db["curation"].upsert_all([vars(v) for v in changed], pk=("pmid", "marker", "cancer", "use"))
        if changed:
            self.store.summary_stale = True
        return len(changed)

    def get(self, keys: list[EvidenceKey]) -> dict[EvidenceKey, Verdict]:
        """The stored verdicts of these evidence keys."""
        found: dict[EvidenceKey, Verdict] = {}
        for start in range(0, len(keys), 200):
            chunk = keys[start : start + 200]
            where = " or ".join(["(pmid = ? and marker = ? and cancer = ? and use = ?)"] * len(chunk))
            for row in self.db.query(f"select * from curation where {where}", [v for k in chunk for v in k]):
                verdict = Verdict(**row)
                found[verdict.key] = verdict
        return found

    def count_by_verdict(self) -> dict[str, int]:
        """How many rows carry each verdict (accepted, rejected, corrected)."""
        return dict(self.db.execute("select verdict, count(*) from curation group by verdict").fetchall())

    def all(self) -> list[Verdict]:
        return [Verdict(**row) for row in self.db.query("select * from curation order by pmid, marker, cancer, use")]

    def endorsed(self, keys: list[EvidenceKey]) -> set[EvidenceKey]:
        """Those of these keys a reviewer accepted or corrected (their evidence stays when no longer found)."""
        if not keys:
            return set()
        return {k for k, v in self.get(keys).items() if v.verdict in ("accepted", "corrected")}

    def evidence_keys(self, pmids: list[str]) -> set[EvidenceKey]:
        """The evidence keys stored for these articles."""
        keys: set[EvidenceKey] = set()
        for start in range(0, len(pmids), 500):
            chunk = pmids[start : start + 500]
            keys |= {tuple(r) for r in self.db.execute(  # type: ignore[misc]
                f"select pmid, marker, cancer, use from evidence where pmid in ({marks(chunk)})", chunk)}
        return keys

    def known_pmids(self, pmids: list[str]) -> set[str]:
        """Those of these PMIDs the database holds as active articles."""
        found: set[str] = set()
        for start in range(0, len(pmids), 500):
            chunk = pmids[start : start + 500]
            found |= {r[0] for r in self.db.execute(
                f"select pmid from articles where status = 'active' and pmid in ({marks(chunk)})", chunk)}
        return found

    def names(self) -> tuple[set[str], set[str]]:
        """The marker and cancer names a correction may use (the lexicons' and the candidates')."""
        return ({r[0] for r in self.db.execute("select marker from markers")},
                {r[0] for r in self.db.execute("select cancer from cancers")})

    def counts(self) -> dict[str, int]:
        """Verdicts by kind."""
        return dict(self.db.execute("select verdict, count(*) from curation group by verdict").fetchall())


ITEMS = ("from evidence e join articles a on a.pmid = e.pmid left join curation c on c.pmid = e.pmid"
         " and c.marker = e.marker and c.cancer = e.cancer and c.use = e.use where a.status = 'active'")
EVIDENCE_SIDE = {"pmid", "marker", "cancer", "use", "finding", "confidence", "marker_surface", "sentence", "cues",
                 "run_id"}
CURATION_SIDE = {"verdict", "corrected_marker", "corrected_cancer", "corrected_use", "corrected_finding", "note"}
