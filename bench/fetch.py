"""Benchmark: fetch N synthetic records (past the 9,999 cap) from the local stand-in, at NCBI's real
rate limits, without and with an API key. Prints requests made vs the minimum, records/s, wall time vs
the rate-limit floor, and peak memory.  python3 bench/fetch.py [N]"""

from __future__ import annotations

import math
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from miner.config import load_settings
from miner.eutils import EutilsClient
from miner.fetch import fetch_into
from miner.runs import job
from miner.standin import Running, article_xml
from miner.store import Store


def main(n: int = 25_000) -> None:
    server = Running()
    first = date(2005, 1, 1)
    for i in range(n):
        pmid = str(10_000_000 + i)
        server.state.add(pmid, article_xml(pmid, f"Serum marker study {i} in bone metastasis",
                                           "Serum CTX was higher in patients with bone metastases. " * 8),
                         edat=first + timedelta(days=i // 4))
    print(f"{n} records served by the stand-in; batch 500")
    print(f"{'key':<8}{'requests':>9}{'minimum':>9}{'searches':>9}{'records/s':>11}{'wall s':>8}{'floor s':>8}")
    for key in (None, "BENCHKEY"):
        settings = load_settings({}).with_options(eutils_url=server.url, api_key=key, email="bench@example.org")
        server.state.log.clear()
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(Path(tmp) / "bench.db")
            client = EutilsClient(settings)
            started = time.perf_counter()
            with job(store, "fetch", query="bone") as ctx:
                fetch_into(ctx, client, "bone")
            stored = ctx.counts.new
            wall = time.perf_counter() - started
        searches = server.state.requests_to("esearch")
        minimum = searches + math.ceil(n / settings.batch_size)
        floor = (client.requests_made - 1) / settings.rate
        assert stored == n, stored
        print(f"{'with' if key else 'without':<8}{client.requests_made:>9}{minimum:>9}{searches:>9}"
              f"{n / wall:>11.0f}{wall:>8.1f}{floor:>8.1f}")
    print(f"peak memory (whole process, both runs): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 25_000)
