"""Fixtures: the loopback E-utilities stand-in, settings aimed at it, and ../shared when present."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from miner.config import Settings, load_settings
from miner.standin import Running, StandIn, article_xml

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


def shared_file(relative: str) -> Path:
    """A file of ../shared, or skip the test when the folder is not beside the checkout."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"../shared/{relative} is not here")
    return path


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = Running(slow_seconds=2.0)
    try:
        yield server.state
    finally:
        server.stop()


@pytest.fixture
def settings(standin: StandIn, tmp_path: Path) -> Settings:
    """Settings aimed at the stand-in; a fast rate so that tests do not wait on NCBI's limits."""
    return load_settings({}).with_options(
        eutils_url=standin.url, email="tests@example.org", db=tmp_path / "test.db",
        rate_without_key=200.0, rate_with_key=200.0, timeout=1.0, give_up_after=20.0,
    )


@pytest.fixture
def cli_env(standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("MINER_EUTILS_URL", standin.url)
    monkeypatch.setenv("NCBI_EMAIL", "tests@example.org")
    monkeypatch.delenv("NCBI_API_KEY", raising=False)
    return {"MINER_EUTILS_URL": standin.url}


def add_synthetic(standin: StandIn, count: int, start_pmid: int = 1000, first_day: date = date(2000, 1, 1),
                  per_day: int = 1,
                  text: str = "Serum CTX was elevated in prostate cancer patients with bone metastases.") -> list[str]:
    """Add ``count`` records, ``per_day`` a day from ``first_day`` (entrez date); return their PMIDs."""
    pmids = []
    for i in range(count):
        pmid = str(start_pmid + i)
        day = first_day + timedelta(days=i // per_day)
        standin.add(pmid, article_xml(pmid, f"Bone marker study {pmid}", text, year=day.year), edat=day)
        pmids.append(pmid)
    return pmids
