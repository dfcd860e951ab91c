"""Names as users type them and as readers see them.

A filter value (`--cancer "Prostate cancer"`, `--use "risk prediction"`) resolves to its canonical name through
the lexicons, case-insensitively and by any synonym; a value that matches nothing is an error that names the
closest known names. ``readable`` is the one way a canonical name is shown (`multiple_myeloma` → "multiple
myeloma") in exports and in Datasette.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from miner.nlp.lexicon import USES, Lexicon, fold
from miner.store import Store

KINDS = ("markers", "cancers", "uses")
USE_SYNONYMS = {"diagnostic": "diagnosis", "detection": "diagnosis", "prognostic": "prognosis",
                "risk": "risk_prediction", "prediction": "risk_prediction", "therapeutic monitoring": "monitoring",
                "treatment monitoring": "monitoring", "response monitoring": "monitoring"}
COLUMN = {"markers": "marker", "cancers": "cancer", "uses": "use"}


class UnknownName(ValueError):
    """A filter value that names no marker, cancer or use the lexicons or the database know."""

    def __init__(self, kind: str, value: str, closest: list[str]) -> None:
        hint = f"; closest: {', '.join(closest)}" if closest else ""
        super().__init__(f"no {COLUMN[kind]} is called {value!r}{hint} (`miner names {kind}` lists them all)")


def readable(name: str | None) -> str:
    """A canonical name (or a comma-separated list of them) as people write it: "multiple myeloma",
    "serum, bone marrow"."""
    return ", ".join(part.replace("_", " ") for part in (name or "").split(","))


def synonym_keys(kind: str, lexicon: Lexicon) -> dict[str, str]:
    """Every folded name and synonym of a kind → its canonical name."""
    if kind == "markers":
        return {**lexicon.marker_keys, **{fold(m): m for m in lexicon.markers}}
    if kind == "cancers":
        return dict(lexicon.cancer_keys)
    return {**{fold(s): u for s, u in USE_SYNONYMS.items()}, **{fold(u): u for u in USES}}


def resolve(kind: str, value: str, lexicon: Lexicon, known: Iterable[str] = ()) -> str:
    """The canonical name ``value`` stands for; ``known`` adds names found in a database (candidate markers,
    cancers the lexicon lost). Raises UnknownName with the closest names."""
    keys = {**{fold(n): n for n in known}, **synonym_keys(kind, lexicon)}
    found = keys.get(fold(value))
    if found:
        return found
    close = difflib.get_close_matches(fold(value), list(keys), n=8, cutoff=0.6)
    raise UnknownName(kind, value, list(dict.fromkeys(readable(keys[k]) for k in close))[:4])


def resolve_filter(store: Store, kind: str, value: str | None, lexicon: Lexicon) -> str | None:
    """A filter option resolved for one database (None stays None)."""
    if value is None:
        return None
    return resolve(kind, value, lexicon, store.evidence.counts_by(COLUMN[kind]))


@dataclass(frozen=True)
class Name:
    name: str
    readable: str
    articles: int
    evidence: int
    in_lexicon: bool
    synonyms: tuple[str, ...]


def listing(kind: str, lexicon: Lexicon, counts: dict[str, tuple[int, int]]) -> list[Name]:
    """The names of a kind, the lexicon's and the database's, with (articles, evidence rows); most used first."""
    if kind == "markers":
        synonyms = {name: m.synonyms for name, m in lexicon.markers.items()}
    elif kind == "cancers":
        synonyms = {name: c.synonyms for name, c in lexicon.cancers.items()}
    else:
        synonyms = {u: tuple(s for s, c in USE_SYNONYMS.items() if c == u) for u in USES}
    names = [Name(n, readable(n), *counts.get(n, (0, 0)), n in synonyms, tuple(synonyms.get(n, ())))
             for n in set(synonyms) | set(counts)]
    return sorted(names, key=lambda n: (-n.articles, -n.evidence, n.name.lower()))
