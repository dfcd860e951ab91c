"""Benchmark: parsing and the --filter query check on one core, on a generated baseline-style file.
python3 bench/parse.py [RECORDS]"""

from __future__ import annotations

import gzip
import random
import sys
import tempfile
import time
from pathlib import Path

from miner.nlp.lexicon import matches_topic
from miner.pubmed import Article, parse_file
from miner.standin import article_xml, pubmed_set

SENTENCES = [
    "Serum {m} was significantly higher in patients with bone metastases than in those without (p < 0.01).",
    "High {m} was associated with shorter overall survival (hazard ratio 1.8, p = 0.02).",
    "Patients were treated with zoledronic acid every four weeks.",
]
MARKERS = ["NTX", "CTX", "bone sialoprotein", "osteopontin", "PINP", "sclerostin", "CEA", "PSA"]


def make_file(path: Path, records: int) -> int:
    """A gzipped PubmedArticleSet of generated records; its uncompressed size."""
    rng = random.Random(1)
    texts = []
    for r in range(records):
        marker = rng.choice(MARKERS)
        abstract = " ".join(rng.choice(SENTENCES).format(m=marker) for _ in range(9))
        texts.append(article_xml(str(40_000_000 + r), f"{marker} in cancer with bone metastases", abstract))
    data = pubmed_set(texts).encode()
    path.write_bytes(gzip.compress(data))
    return len(data)


def main() -> None:
    records = int(sys.argv[1]) if len(sys.argv) > 1 else 30_000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pubmed26n0001.xml.gz"
        size = make_file(path, records)
        best = 0.0
        for _ in range(3):
            started = time.perf_counter()
            count = sum(1 for r in parse_file(path) if isinstance(r, Article) and (matches_topic(r) or True))
            best = max(best, count / (time.perf_counter() - started))
        print(f"{count} records, {size / 1e6:.0f} MB: parsing + --filter query {best:.0f} records/s on one core")


if __name__ == "__main__":
    main()
