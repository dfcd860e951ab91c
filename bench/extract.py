"""Benchmark: extraction throughput, abstracts per second, on one core and with n_process=2, and the
full pipeline's speed as a ratio of scispacy's tokenizer alone on the same abstracts (measured in the
same run, alternately, three times each; the best of each, as timeit does, so that machine noise
weighs less). The --n-process 2 figure is one run. Uses the dev abstracts in ../shared when present
(real text), else synthetic ones.
python3 bench/extract.py [COPIES]"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from miner.extract import Extractor
from miner.nlp.pipeline import DEFAULT_EXTRACTOR, analyse, article_text
from miner.store import Abstract as Text

ROUNDS = 3
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "dev_abstracts.jsonl"


def texts(copies: int) -> list[Text]:
    if SHARED.exists():
        base = [Text(str(r["pmid"]), r["title"], r["abstract"]) for r in map(json.loads, SHARED.open())]
    else:
        base = [Text(str(i), "Serum NTX in prostate cancer bone metastases",
                     "Background: bone markers. Methods: we measured serum NTX, CTX and PINP in 120 men. "
                     "Results: NTX was higher in patients with bone metastases than without (p < 0.01), with "
                     "an AUC of 0.82. High PINP predicted shorter survival (HR 2.1). " * 3) for i in range(60)]
    return [Text(f"{t.pmid}-{c}", t.title, t.abstract) for c in range(copies) for t in base]


def rate(items: list[Text], work) -> float:  # noqa: ANN001 - a callable over the items
    started = time.perf_counter()
    count = sum(1 for _ in work(items))
    return count / (time.perf_counter() - started)


def main(copies: int = 20) -> None:
    nlp = DEFAULT_EXTRACTOR.pipeline()
    items = texts(copies)
    words = sum(len(t.abstract.split()) for t in items) / len(items)
    list(analyse(nlp, items[:60]))
    print(f"{len(items)} abstracts, {words:.0f} words on average")
    tokenizer = full = 0.0
    for _ in range(ROUNDS):
        tokenizer = max(tokenizer, rate(items, lambda xs: (nlp.tokenizer(article_text(x)[0]) for x in xs)))
        full = max(full, rate(items, lambda xs: analyse(nlp, xs)))
    print(f"scispacy's tokenizer alone: {tokenizer:.0f} abstracts/s")
    print(f"one core (the full pipeline with the scorer): {full:.0f} abstracts/s")
    print(f"ratio full / tokenizer: {full / tokenizer:.2f}")
    with Extractor(DEFAULT_EXTRACTOR, n_process=2) as extractor:
        extractor(items[:200])  # the workers build their pipelines
        started = time.perf_counter()
        count = sum(len(extractor(items[i : i + 500])) for i in range(0, len(items), 500))
        print(f"--n-process 2: {count / (time.perf_counter() - started):.0f} abstracts/s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
