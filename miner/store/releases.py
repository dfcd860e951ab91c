"""The `releases` table: one row per release of the curated table, with its manifest and its summary
rows (what the next release's notes are computed against)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from miner.store.tables import Table


@dataclass
class Release:
    version: int
    released: str
    path: str
    manifest: dict
    rows: list[dict]
    """The release's summary rows, as plain dicts."""


class ReleasesTable(Table):
    def latest(self) -> Release | None:
        row = next(self.db.query("select * from releases order by version desc limit 1"), None)
        if row is None:
            return None
        return Release(row["version"], row["released"], row["path"], json.loads(row["manifest"]),
                       json.loads(row["rows"]))

    def add(self, release: Release) -> None:
        with self.db.conn:
            self.db["releases"].insert({"version": release.version, "released": release.released,
                                        "path": release.path, "manifest": json.dumps(release.manifest),
                                        "rows": json.dumps(release.rows)})

    def extent(self) -> dict:
        """What the released evidence covers: articles, publication years and entrez dates, extractors."""
        articles, first_year, last_year, first_entrez, last_entrez = self.db.execute(
            "select count(distinct e.pmid), min(a.year), max(a.year), min(a.entrez_date), max(a.entrez_date)"
            " from evidence_curated e join articles a on a.pmid = e.pmid").fetchone()
        extractors = [r[0] for r in self.db.execute(
            "select extractor_version from evidence_curated group by 1 order by count(*) desc")]
        return {"articles": articles, "years": [first_year, last_year], "entrez_dates": [first_entrez, last_entrez],
                "extractors": extractors}
