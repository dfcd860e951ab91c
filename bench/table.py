"""Benchmark: a database with N synthetic evidence rows (default 1,000,000): time to rebuild the summary,
to read the summary view, and to answer canned queries through Datasette.  python3 bench/table.py [N]"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from miner.serve import datasette_for
from miner.store import Store


def build(path: Path, n: int) -> Store:
    store = Store(path)
    rng = random.Random(7)
    markers = [f"M{i}" for i in range(300)]
    cancers = ["prostate", "breast", "lung", "renal", "multiple_myeloma", "thyroid", "colorectal", "gastric"]
    uses = ["diagnosis", "prognosis", "risk_prediction", "monitoring"]
    articles = n // 3
    db = store.db
    with db.conn:
        db.conn.executemany(
            "insert into articles (pmid, title, abstract, year, status, has_abstract) values (?, ?, ?, ?, 'active', 1)",
            ((str(p), f"Serum M{p % 300} in bone metastasis", "Serum markers were measured.", 1990 + p % 35)
             for p in range(articles)))
        run = store.runs.start("bench")
        seen = set()
        rows = []
        while len(rows) < n:
            key = (str(rng.randrange(articles)), rng.choice(markers), rng.choice(cancers), rng.choice(uses))
            if key in seen:
                continue
            seen.add(key)
            rows.append((*key, rng.choice(["supports", "supports", "refutes"]), "serum", rng.random(),
                         f"Serum {key[1]} was higher in {key[2]} cancer with bone metastases.", run, "bench"))
        db.conn.executemany(
            "insert into evidence (pmid, marker, cancer, use, finding, sample, confidence, sentence, run_id,"
            " marker_category) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return store


def timed(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main(n: int = 1_000_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        started = time.perf_counter()
        store = build(path, n)
        print(f"built {n} evidence rows in {time.perf_counter() - started:.0f}s")
        started = time.perf_counter()
        store.summary.rebuild()
        store.checkpoint()
        print(f"summary rebuild: {time.perf_counter() - started:.1f}s for "
              f"{store.db.execute('select count(*) from summary').fetchone()[0]} rows")
        db = store.db
        first_page = "select * from evidence_summary limit 100"
        one_cancer = "select * from evidence_summary where cancer = 'lung' and use = 'diagnosis'"
        print(f"evidence_summary, first 100 rows (SQL): {timed(lambda: db.execute(first_page).fetchall()):7.1f} ms")
        print(f"summary for a cancer and use (SQL):     {timed(lambda: db.execute(one_cancer).fetchall()):7.1f} ms")
        datasette = datasette_for(path, immutable=True)
        loop = asyncio.new_event_loop()

        def get(url: str) -> None:
            response = loop.run_until_complete(datasette.client.get(url))
            assert response.status_code == 200, (url, response.status_code, response.text[:200])
            json.loads(response.text)

        for label, url in (
            ("Datasette: evidence_summary page", "/bench/evidence_summary.json?_size=100"),
            ("Datasette: markers for a cancer and use",
             "/bench/markers_for_cancer_and_use.json?cancer=lung&use=diagnosis"),
            ("Datasette: all evidence for a marker", "/bench/evidence_for_marker.json?marker=M7"),
            ("Datasette: new since the last run", "/bench/new_since_last_run.json?_size=100"),
            ("Datasette: candidates not in the lexicon", "/bench/candidates_not_in_lexicon.json"),
        ):
            get(url)
            print(f"{label + ':':<46}{timed(lambda url=url: get(url)):7.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
