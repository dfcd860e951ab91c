"""Releases: a dated, versioned snapshot of the curated evidence table (reviewers' verdicts applied), as
CIViCmine and CancerMine publish theirs: the evidence as CSV and JSON Lines, the review-style table as
Markdown and HTML, a manifest naming its provenance (query, dates, counts, extractor, database checksum,
miner version, each file's checksum) and release notes (summary rows new, changed and removed since
the previous release, which the database remembers)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from miner import __version__
from miner.export import WRITERS
from miner.store import Store, file_sha256, now
from miner.store.releases import Release

ROW_KEY = ("marker", "cancer", "use")
ROW_CONTENT = ("category", "articles", "supporting", "refuting", "first_year", "last_year", "pmids", "curated")
"""What a released summary row holds; a row is 'changed' when any of it differs from the previous release."""
FILES = {"evidence.csv": "csv", "evidence.jsonl": "jsonl", "table.md": "markdown", "table.html": "html"}


class ReleaseError(Exception):
    """The release cannot be written (its folder exists already, or cannot be made)."""


@dataclass
class Notes:
    previous: int | None
    new: list[dict] = field(default_factory=list)
    changed: list[tuple[dict, dict]] = field(default_factory=list)
    """(before, after) pairs."""
    removed: list[dict] = field(default_factory=list)

    def markdown(self, version: int, released: str) -> str:
        since = f"release {self.previous}" if self.previous else "the beginning (this is the first release)"
        lines = [f"# Release {version} ({released})", "",
                 f"Since {since}: {len(self.new)} new, {len(self.changed)} changed and {len(self.removed)} removed"
                 " (marker, cancer, use) rows.", ""]
        head = ["| marker | cancer | use | articles | supporting | refuting | curated | PMIDs |",
                "|---|---|---|---:|---:|---:|---:|---|"]
        lines += ["## New rows", "", *head, *(_line(r) for r in self.new), ""]
        lines += ["## Changed rows (before → after)", "", *head,
                  *(_line(after, before) for before, after in self.changed), ""]
        lines += ["## Removed rows", "", *head, *(_line(r) for r in self.removed), ""]
        return "\n".join(lines)


def _line(row: dict, before: dict | None = None) -> str:
    def cell(name: str) -> str:
        if before is not None and before[name] != row[name]:
            return f"{before[name]} → {row[name]}"
        return str(row[name])

    return f"| {row['marker']} | {row['cancer']} | {row['use']} | {cell('articles')} | {cell('supporting')} | " \
           f"{cell('refuting')} | {cell('curated')} | {row['pmids']} |"


def release_rows(store: Store) -> list[dict]:
    """The curated summary as plain rows (key and content)."""
    return [{c: getattr(r, c) for c in (*ROW_KEY, *ROW_CONTENT)} for r in store.summary.rows()]


def notes_between(before: list[dict], after: list[dict], previous: int | None = None) -> Notes:
    """Rows new, changed and removed from one release's rows to another's."""
    old = {tuple(r[c] for c in ROW_KEY): r for r in before}
    new = {tuple(r[c] for c in ROW_KEY): r for r in after}
    return Notes(
        previous,
        new=[new[k] for k in sorted(new.keys() - old.keys())],
        changed=[(old[k], new[k]) for k in sorted(new.keys() & old.keys())
                 if any(old[k].get(c) != new[k][c] for c in ROW_CONTENT)],
        removed=[old[k] for k in sorted(old.keys() - new.keys())])


def make_release(store: Store, out: Path) -> tuple[Path, dict, Notes]:
    """Write the next release into a new folder ``out/v<N>-<date>`` and record it; hold the write lock."""
    with store.lock():
        store.summary.rebuild()
        previous = store.releases.latest()
        version = previous.version + 1 if previous else 1
        released = datetime.now(UTC).date().isoformat()
        folder = out / f"v{version}-{released}"
        try:
            folder.mkdir(parents=True)
        except FileExistsError:
            raise ReleaseError(f"{folder} exists already: release into another folder") from None
        except OSError as exc:
            raise ReleaseError(f"cannot make {folder}: {exc.strerror or exc}") from None
        counts: dict[str, int] = {}
        for name, fmt in FILES.items():
            with (folder / name).open("w", encoding="utf-8", newline="") as fh:
                counts[name] = WRITERS[fmt](store, fh)
        rows = release_rows(store)
        notes = notes_between(previous.rows if previous else [], rows, previous.version if previous else None)
        store.checkpoint()
        extent = store.releases.extent()
        evidence_counts = {"curated": sum(r["curated"] or 0 for r in rows)}
        manifest = {
            "name": "circulating biomarkers of bone metastasis: curated evidence table",
            "version": version, "released": released, "created": now(),
            "previous_release": notes.previous,
            "query": store.runs.last_fetched_query(),
            "publication_years": extent["years"], "entrez_dates": extent["entrez_dates"],
            "counts": {"summary_rows": len(rows), "evidence_rows": counts["evidence.csv"],
                       "articles": extent["articles"], "curated_evidence_rows": evidence_counts["curated"],
                       "uncurated_evidence_rows": counts["evidence.csv"] - evidence_counts["curated"],
                       "verdicts": store.curation.counts(), "new_rows": len(notes.new),
                       "changed_rows": len(notes.changed), "removed_rows": len(notes.removed)},
            "extractor": extent["extractors"][0] if extent["extractors"] else None,
            "extractors": extent["extractors"],
            "database": {"file": store.path.name, "sha256": file_sha256(store.path), "schema_version": store.version},
            "miner_version": __version__,
            "files": {name: file_sha256(folder / name) for name in FILES},
        }
        (folder / "NOTES.md").write_text(notes.markdown(version, released), encoding="utf-8")
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
        store.releases.add(Release(version, released, str(folder), manifest, rows))
        store.checkpoint()
    return folder, manifest, notes
