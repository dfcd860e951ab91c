"""The `ingested_files` table: files ingested, by content hash and what their ingestion depended on."""

from __future__ import annotations

import hashlib
from pathlib import Path

from miner.store.runs import now
from miner.store.tables import Table


class FilesTable(Table):
    """Files ingested: a file whose content was ingested with the same extractor and filter is skipped."""

    def done(self, sha256: str, key: str) -> bool:
        """Whether a file with this content was ingested with this key (extractor and filter)."""
        return bool(self.db.execute(
            "select 1 from ingested_files where sha256 = ? and extracted_with = ?", [sha256, key]).fetchone())

    def record(self, name: str, sha256: str, records: int, key: str, run_id: int) -> None:
        with self.db.conn:
            self.db["ingested_files"].upsert(
                {"name": name, "sha256": sha256, "records": records, "extracted_with": key,
                 "run_id": run_id, "finished": now()}, pk=("sha256", "extracted_with"))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
