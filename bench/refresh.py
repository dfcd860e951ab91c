"""Benchmark: the scheduled refresh over a database of N articles (default 25,000) served by the local
stand-in with an API key's rate: a full rebuild, a no-op refresh, and a refresh with 1 % new records.
python3 bench/refresh.py [N]"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from miner.config import load_settings
from miner.eutils import EutilsClient
from miner.nlp.pipeline import DEFAULT_EXTRACTOR
from miner.refresh import refresh
from miner.runs import job
from miner.standin import Running, article_xml
from miner.store import Store

TITLE = "Serum NTX in prostate cancer with bone metastases"
ABSTRACT = "Results: Serum NTX was higher in patients with bone metastases than in those without (p < 0.01)."


def main(n: int = 25_000) -> None:
    server = Running()
    today = date.today()
    for i in range(n):
        pmid = str(20_000_000 + i)
        server.state.add(pmid, article_xml(pmid, TITLE, ABSTRACT), edat=today - timedelta(days=30 + i // 20))
    settings = load_settings({}).with_options(eutils_url=server.url, api_key="BENCHKEY", email="bench@example.org")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")

        def one(label: str) -> tuple[float, int]:
            client = EutilsClient(settings)
            started = time.perf_counter()
            with job(store, "refresh", query="bone") as ctx:
                report = refresh(ctx, client, "bone", DEFAULT_EXTRACTOR, overlap_days=3,
                                 check_deleted="deletion" in label)
            wall = time.perf_counter() - started
            print(f"{label:<26}{wall:>9.1f}s{client.requests_made:>10} requests   {report.summary()}")
            return wall, client.requests_made

        full, full_requests = one("full rebuild")
        noop, noop_requests = one("no-op refresh")
        one("no-op, deletion check")
        for i in range(n // 100):
            pmid = str(30_000_000 + i)
            server.state.add(pmid, article_xml(pmid, TITLE, ABSTRACT), edat=today)
        new, new_requests = one("refresh, 1 % new")
    print(f"no-op / full: {noop / full:.3f} of the time, {noop_requests / full_requests:.3f} of the requests")
    print(f"1 % new / full: {new / full:.3f} of the time, {new_requests / full_requests:.3f} of the requests")
    server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 25_000)
