"""What is new since a run: the evidence added or changed after it, and the summary rows it created or changed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from miner.store import EvidenceDetail, Store, SummaryRow
from miner.store.runs import TIME_FORMAT


@dataclass
class Changes:
    since_run: int
    new_rows: list[SummaryRow]
    changed_rows: list[SummaryRow]
    evidence: list[EvidenceDetail]

    def as_json(self) -> dict:
        """Summary rows as (marker, category, cancer, use, counts, PMIDs as a list), evidence as its rows."""
        def row(r: SummaryRow) -> dict:
            return {"marker": r.marker, "category": r.category or "", "cancer": r.cancer, "use": r.use,
                    "articles": r.articles, "supporting": r.supporting, "refuting": r.refuting,
                    "pmids": r.pmid_list}

        return {"since_run": self.since_run, "new_rows": [row(r) for r in self.new_rows],
                "changed_rows": [row(r) for r in self.changed_rows], "evidence": [asdict(e) for e in self.evidence]}


def run_before(store: Store, since: str) -> int:
    """The last run to exclude: a run id as given (0: none, everything is new), or the last run that
    started before a date."""
    if since.isdigit():
        if int(since) and not store.runs.exists(int(since)):
            raise ValueError(f"no run {since} in {store.path}")
        return int(since)
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", TIME_FORMAT):
        try:
            moment = datetime.strptime(since, fmt).strftime(TIME_FORMAT)
            break
        except ValueError:
            continue
    else:
        raise ValueError(f"--since takes a run id or a date (YYYY-MM-DD or YYYY/MM/DD), not {since!r}")
    return store.runs.last_before(moment)


def changes_since(store: Store, run_id: int) -> Changes:
    """Evidence added or changed after a run, and the summary rows it created or changed."""
    evidence = store.evidence.since(run_id)
    touched = {(e.marker, e.cancer, e.use) for e in evidence}
    rows = [r for r in store.summary.rows() if r.key in touched]
    older = store.evidence.keys_until(run_id)
    return Changes(run_id, [r for r in rows if r.key not in older], [r for r in rows if r.key in older], evidence)
