"""The lexicons shipped in corpora/: markers, cancers, samples, relation cues, as plain tables.

Loaded once per process. ``lexicon_hash()`` fingerprints every file, so a lexicon edit triggers
re-extraction of stored articles.
"""

from __future__ import annotations

import csv
import hashlib
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from miner.config import corpus_path

FILES = ("markers.csv", "cancers.csv", "samples.csv", "cues.toml", "not_markers.txt")
GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "κ": "kappa", "µ": "mu", "μ": "mu"}


def fold(name: str) -> str:
    """A lookup key: case, spaces, hyphens, dots and Greek letters folded."""
    text = unicodedata.normalize("NFKC", name).strip().lower()
    for greek, latin in GREEK.items():
        text = text.replace(greek, latin)
    return re.sub(r"[\s\-_/.,'()]+", "", text)


@dataclass(frozen=True)
class Marker:
    name: str
    full_name: str
    category: str
    synonyms: tuple[str, ...]
    ambiguous: frozenset[str]


@dataclass(frozen=True)
class Cancer:
    name: str
    synonyms: tuple[str, ...]
    organ_words: tuple[str, ...]
    ambiguous: frozenset[str]


@dataclass
class Lexicon:
    markers: dict[str, Marker]
    cancers: dict[str, Cancer]
    samples: dict[str, tuple[str, ...]]
    cues: dict[str, dict[str, list[re.Pattern[str]]]]
    not_markers: frozenset[str] = frozenset()
    marker_keys: dict[str, str] = field(default_factory=dict)
    cancer_keys: dict[str, str] = field(default_factory=dict)
    combined: dict[tuple[str, str], re.Pattern[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for group, table in self.cues.items():
            for name, patterns in table.items():
                self.combined[(group, name)] = combine([p.pattern for p in patterns])
        for marker in self.markers.values():
            for synonym in marker.synonyms:
                self.marker_keys.setdefault(fold(synonym), marker.name)
        for cancer in self.cancers.values():
            for synonym in (cancer.name, *cancer.synonyms):
                self.cancer_keys.setdefault(fold(synonym), cancer.name)

    def marker_for(self, name: str) -> str | None:
        """The canonical marker a name stands for, if the lexicon knows it."""
        return self.marker_keys.get(fold(name))

    def cancer_for(self, name: str) -> str | None:
        return self.cancer_keys.get(fold(name))

    def has(self, group: str, name: str, text: str) -> bool:
        """Whether a text holds any cue of one kind (one search of all the patterns at once)."""
        return _found(self.combined[(group, name)], text)

    def cue(self, group: str, name: str, text: str) -> list[str]:
        """The cue words of one kind found in a text (one pass of the combined pattern)."""
        return list(_cue_list(self.combined[(group, name)], text))


@lru_cache(maxsize=4096)
def _found(pattern: re.Pattern[str], text: str) -> bool:
    """Cached within a document (see ``forget_cues``): the rules, the candidates and the features read
    the same sentences for the same cues."""
    return pattern.search(text) is not None


def forget_cues() -> None:
    """Empty the cue caches: called for each new document, so that a cache never outlives one."""
    _found.cache_clear()
    _cue_list.cache_clear()


@lru_cache(maxsize=4096)
def _cue_list(pattern: re.Pattern[str], text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_cue_words(m) for m in pattern.finditer(text)))


def _cue_words(match: re.Match[str]) -> str:
    """What a cue matched; for a long match (a pattern that looks ahead over the sentence), its last group."""
    if len(match.group(0)) <= 60 or not match.lastindex:
        return match.group(0)
    return match.group(match.lastindex)


def combine(patterns: list[str]) -> re.Pattern[str]:
    """One regex for a list of patterns. Those that start at a word boundary share one leading ``\\b``,
    so that the search gives up at once inside words instead of trying every pattern at every letter."""
    at_word, others = [], []
    for pattern in patterns:
        if pattern.startswith("\\b") and not _top_level_alternation(pattern):
            at_word.append(pattern[2:])
        else:
            others.append(pattern)
    parts = ([f"\\b(?:{'|'.join(f'(?:{p})' for p in at_word)})"] if at_word else []) + [f"(?:{p})" for p in others]
    return re.compile("|".join(parts), re.IGNORECASE)


def _top_level_alternation(pattern: str) -> bool:
    depth, escaped, in_class = 0, False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
    return False


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split("|") if v.strip())


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    with corpus_path("markers.csv").open(encoding="utf-8", newline="") as fh:
        markers = {
            row["marker"]: Marker(row["marker"], row["full_name"], row["category"],
                                  _split(row["synonyms"]), frozenset(_split(row["ambiguous"])))
            for row in csv.DictReader(fh)
        }
    with corpus_path("cancers.csv").open(encoding="utf-8", newline="") as fh:
        cancers = {
            row["cancer"]: Cancer(row["cancer"], _split(row["synonyms"]), _split(row["organ_words"]),
                                  frozenset(_split(row["ambiguous"])))
            for row in csv.DictReader(fh)
        }
    with corpus_path("samples.csv").open(encoding="utf-8", newline="") as fh:
        samples = {row["sample"]: _split(row["synonyms"]) for row in csv.DictReader(fh)}
    with corpus_path("cues.toml").open("rb") as fh:
        raw = tomllib.load(fh)
    cues = {
        group: {name: [re.compile(p, re.IGNORECASE) for p in patterns] for name, patterns in table.items()}
        for group, table in raw.items()
    }
    lines = corpus_path("not_markers.txt").read_text(encoding="utf-8").splitlines()
    not_markers = frozenset(ln.strip() for ln in lines if ln.strip() and not ln.startswith("#"))
    return Lexicon(markers, cancers, samples, cues, not_markers)


@lru_cache(maxsize=1)
def lexicon_hash() -> str:
    digest = hashlib.sha256()
    for name in FILES:
        digest.update(name.encode())
        digest.update(corpus_path(name).read_bytes())
    return digest.hexdigest()[:12]


def matches_topic(article: object) -> bool:
    """The shipped filter for bulk files, with the intent of the default query: bone metastasis
    (in title, abstract or MeSH) and something measured in blood, urine or marrow."""
    title = getattr(article, "title", "")
    abstract = getattr(article, "abstract", "")
    text = f"{title} {abstract}"
    mesh = " ".join(m.descriptor for m in getattr(article, "mesh", []))
    lexicon = load_lexicon()
    bone = lexicon.has("context", "bone", text) or "Bone Neoplasms" in mesh
    measured = bool(_MEASURED.search(text)) or "Biomarkers" in mesh
    return bone and measured


_MEASURED = re.compile(
    r"\b(serum|plasma|blood|urine|urinary|circulating|marrow|biomarkers?|markers?|levels?|concentrations?)\b",
    re.IGNORECASE,
)
