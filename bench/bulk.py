"""Benchmark: bulk ingestion of generated baseline-style files (gzipped PubmedArticleSet) with
--workers 1, --workers 2 and a 2-worker Dask LocalCluster: records/s, parallel efficiency, peak memory
per worker, and the projected time for the full baseline (36 M records).
python3 bench/bulk.py [FILES] [RECORDS_PER_FILE]"""

from __future__ import annotations

import gzip
import random
import sys
import tempfile
import time
from pathlib import Path

from miner.bulk import plan_jobs, run_jobs, write_results
from miner.nlp.lexicon import matches_topic
from miner.nlp.pipeline import DEFAULT_EXTRACTOR
from miner.pubmed import Article, parse_file
from miner.runs import job
from miner.standin import article_xml, pubmed_set
from miner.store import Store

BASELINE = 36_000_000
SENTENCES = [
    "Serum {m} was significantly higher in patients with bone metastases than in those without (p < 0.01).",
    "High {m} was associated with shorter overall survival (hazard ratio 1.8, p = 0.02).",
    "We measured {m} in 120 patients with prostate cancer by ELISA.",
    "The incidence of skeletal-related events was 30 % during follow-up.",
    "Patients were treated with zoledronic acid every four weeks.",
]
MARKERS = ["NTX", "CTX", "bone sialoprotein", "osteopontin", "PINP", "sclerostin", "CEA", "PSA", "DKK1"]


def make_files(folder: Path, files: int, per_file: int) -> list[Path]:
    rng = random.Random(1)
    paths = []
    for f in range(files):
        records = []
        for r in range(per_file):
            pmid = str(40_000_000 + f * per_file + r)
            marker = rng.choice(MARKERS)
            abstract = " ".join(rng.choice(SENTENCES).format(m=marker) for _ in range(9))
            records.append(article_xml(pmid, f"{marker} in cancer with bone metastases", abstract))
        path = folder / f"pubmed26n{f + 1:04d}.xml.gz"
        path.write_bytes(gzip.compress(pubmed_set(records).encode()))
        paths.append(path)
    return paths


def ingest(paths: list[Path], db: Path, workers: int, dask: str | None) -> tuple[float, float, float]:
    """Wall time, peak memory of a worker, and the seconds the writer worked (not waiting on workers)."""
    store = Store(db)
    jobs, _, _ = plan_jobs(store, paths, False, DEFAULT_EXTRACTOR.fingerprint())
    peak, waiting = 0.0, 0.0

    def tracked():
        nonlocal peak, waiting
        results = run_jobs(jobs, workers, dask)
        while True:
            started = time.perf_counter()
            result = next(results, None)
            waiting += time.perf_counter() - started
            if result is None:
                return
            peak = max(peak, result.peak_memory_mb)
            yield result

    started = time.perf_counter()
    with job(store, "ingest") as ctx:
        _counts, errors = write_results(store, tracked(), ctx.run_id, len(jobs), ctx.stop)
    assert not errors, errors
    wall = time.perf_counter() - started
    return wall, peak, wall - waiting


def parse_and_filter_rate(paths: list[Path]) -> float:
    """Records/s of one core parsing and applying --filter query (what most baseline records cost)."""
    started = time.perf_counter()
    count = sum(1 for p in paths for r in parse_file(p) if isinstance(r, Article) and (matches_topic(r) or True))
    return count / (time.perf_counter() - started)


def main(files: int = 8, per_file: int = 3000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = make_files(folder, files, per_file)
        total = files * per_file
        print(f"{files} files × {per_file} records = {total} records")
        results = {}
        writer_rate = 0.0
        setups = (("--workers 1", 1, None), ("--workers 2", 2, None), ("Dask, 2 workers", 0, "local"))
        for label, workers, dask in setups:
            address = None
            cluster = None
            if dask:
                from distributed import LocalCluster

                cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
                address = cluster.scheduler_address
            wall, peak, writing = ingest(paths, folder / f"{label.replace(' ', '_')}.db", workers, address)
            if cluster:
                cluster.close()
            results[label] = total / wall
            writer_rate = max(writer_rate, total / writing)
            print(f"{label:<18}{total / wall:>9.0f} records/s{wall:>8.1f}s   peak memory per worker {peak:.0f} MB")
        speedup = results["--workers 2"] / results["--workers 1"]
        print(f"parallel efficiency on 2 cores: {speedup:.2f}× (--workers 2 vs 1); "
              f"Dask: {results['Dask, 2 workers'] / results['--workers 1']:.2f}×")
        per_core = results["--workers 1"]
        filter_rate = parse_and_filter_rate(paths)
        print(f"the writer alone: {writer_rate:.0f} records/s (stored and extracted); parsing + --filter query on "
              f"one core: {filter_rate:.0f} records/s")
        print("projected full baseline (36 M records):")
        for cores in (2, 16, 64):
            every = min(per_core * cores * speedup / 2, writer_rate)
            # with --filter query about 1 % of baseline records are about bone metastasis and get extracted
            filtered = min(1 / (1 / filter_rate + 0.01 / per_core) * cores * speedup / 2, writer_rate / 0.01)
            print(f"  {cores:>2} cores: extracting every record {BASELINE / every / 3600:6.1f} h; "
                  f"with --filter query {BASELINE / filtered / 3600:5.1f} h")

if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
