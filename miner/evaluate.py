"""Precision, recall and F1 of stored evidence against hand-annotated abstracts.

The same metrics as the dev set's scorer: micro P/R/F1 over (pmid, marker), (pmid, marker, cancer)
and (pmid, marker, cancer, use), restricted to the annotated PMIDs, names normalised through the
lexicon (case, spaces, hyphens and Greek letters folded); and P/R/F1 per use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from miner.nlp.lexicon import USES, fold, load_lexicon

LEVELS = ("marker", "marker+cancer", "marker+cancer+use")


@dataclass
class Score:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def relation_keys(pmid: str, marker: str, cancer: str, use: str) -> tuple[tuple, ...]:
    lexicon = load_lexicon()
    m = lexicon.marker_for(marker) or fold(marker)
    c = lexicon.cancer_for(cancer or "") or fold(cancer or "")
    u = (use or "").strip().lower().replace(" ", "_")
    return (pmid, m), (pmid, m, c), (pmid, m, c, u)


def read_gold(path: Path) -> list[dict]:
    """Annotated abstracts, one JSON object a line: pmid and relations (marker, cancer, use, ...)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the gold file {path}: {exc}") from None
    gold = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            ok = isinstance(row, dict) and "pmid" in row and all(
                isinstance(r, dict) and {"marker", "cancer", "use"} <= r.keys() for r in row.get("relations", []))
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"the gold file {path}, line {number}: not an annotated abstract (JSON with pmid "
                             "and relations of marker, cancer and use)")
        gold.append(row)
    return gold


def keyed(gold: list[dict], system: list[dict]) -> tuple[list[set], list[set]]:
    """Gold and system relations as key sets at the three levels, system rows kept to the gold PMIDs."""
    pmids = {str(g["pmid"]) for g in gold}
    gold_sets: list[set] = [set(), set(), set()]
    for g in gold:
        for rel in g.get("relations", []):
            for level, key in zip(gold_sets, relation_keys(str(g["pmid"]), rel["marker"], rel["cancer"], rel["use"]),
                                  strict=True):
                level.add(key)
    system_sets: list[set] = [set(), set(), set()]
    for row in system:
        pmid = str(row["pmid"])
        if pmid in pmids and row.get("marker"):
            for level, key in zip(system_sets, relation_keys(pmid, row["marker"], row.get("cancer"), row.get("use")),
                                  strict=True):
                level.add(key)
    return gold_sets, system_sets


def score(gold_sets: list[set], system_sets: list[set]) -> dict[str, Score]:
    """Scores per level and per use (keys 'use=diagnosis', ...)."""
    result = {name: Score(len(g & s), len(s - g), len(g - s))
              for name, g, s in zip(LEVELS, gold_sets, system_sets, strict=True)}
    for use in USES:
        g = {k for k in gold_sets[2] if k[3] == use}
        s = {k for k in system_sets[2] if k[3] == use}
        result[f"use={use}"] = Score(len(g & s), len(s - g), len(g - s))
    return result


def errors(gold_sets: list[set], system_sets: list[set]) -> tuple[list[tuple], list[tuple]]:
    """Misses and false hits at the marker+cancer+use level."""
    return sorted(gold_sets[2] - system_sets[2]), sorted(system_sets[2] - gold_sets[2])
