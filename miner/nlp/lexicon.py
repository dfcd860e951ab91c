"""The lexicons shipped in corpora/ (markers, cancers, samples, relation cues) as plain tables, with a
user's own rows added from a lexicon folder (`--lexicon DIR` / $MINER_LEXICON).

Loaded once per process and folder. ``lexicon_hash()`` fingerprints every file, the user's included, so
a lexicon edit triggers re-extraction of stored articles.
"""

from __future__ import annotations

import csv
import hashlib
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from miner.config import ConfigurationError, corpus_path, user_lexicon_dir
from miner.nlp.patterns import (
    CaselessPattern,
    CueReader,
    combine,
    cue_list,
    found_by,
    found_in,
    remember_reading,
)

USES = ("diagnosis", "prognosis", "risk_prediction", "monitoring")
"""The four clinical uses of a marker that evidence is about."""
FILES = ("markers.csv", "cancers.csv", "samples.csv", "cues.toml", "not_markers.txt")
GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "κ": "kappa", "µ": "mu", "μ": "mu"}


@lru_cache(maxsize=16384)
def fold(name: str) -> str:
    """A lookup key: case, spaces, hyphens, dots and Greek letters folded (cached: the same names recur)."""
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
    combined: dict[tuple[str, str], CaselessPattern] = field(default_factory=dict)
    readers: dict[tuple[tuple[str, str], ...], CueReader] = field(default_factory=dict)

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
        """Whether a text holds any cue of one kind (see ``CaselessPattern.occurs``)."""
        return found_in(self.combined[(group, name)], text)

    def cue(self, group: str, name: str, text: str) -> list[str]:
        """The cue words of one kind found in a text (read only where ``has`` finds one)."""
        pattern = self.combined[(group, name)]
        return list(cue_list(pattern, text)) if found_in(pattern, text) else []

    def first_cue(self, group: str, name: str, text: str) -> str | None:
        """The first cue of one kind in a text, as written there."""
        span = self.first_cue_span(group, name, text)
        return text[span[0] : span[1]] if span else None

    def first_cue_span(self, group: str, name: str, text: str) -> tuple[int, int] | None:
        """Where the first cue of one kind in a text starts and ends."""
        pattern = self.combined[(group, name)]
        match = pattern.search(text) if found_in(pattern, text) else None
        return match.span() if match else None

    def cue_starts(self, group: str, name: str, text: str) -> list[int]:
        """Where each cue of one kind starts in a text."""
        pattern = self.combined[(group, name)]
        return [m.start() for m in pattern.finditer(text)] if found_in(pattern, text) else []

    def holds(self, kinds: tuple[tuple[str, str], ...], text: str) -> frozenset[tuple[str, str]]:
        """Which of these cue kinds (group, name) a text holds, as ``has`` tells each, read in one pass
        (``CueReader``) or answered from the text's reading ahead: faster when most of them are asked of one text."""
        return frozenset(kinds[i] for i in found_by(self._reader(kinds), text))

    def read_ahead(self, kinds: tuple[tuple[str, str], ...], text: str) -> None:
        """Read these cue kinds in a text in one pass (``holds``) before they are asked one by one: ``has``,
        ``cue`` and the others then take the answer from this reading (until ``forget_cues``). Worth it for a
        text that most of the kinds will be asked of (each sentence)."""
        remember_reading(self._reader(kinds), text)

    def _reader(self, kinds: tuple[tuple[str, str], ...]) -> CueReader:
        reader = self.readers.get(kinds)
        if reader is None:
            reader = self.readers[kinds] = CueReader([self.combined[kind] for kind in kinds])
        return reader


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split("|") if v.strip())


class LexiconError(ConfigurationError):
    """A user lexicon that cannot be read: no such folder, a missing column, bad TOML, a bad pattern."""


def lexicon_files(name: str, user: Path | None) -> list[Path]:
    """The shipped file of that name, then the user's (when the user's folder has one)."""
    paths = [corpus_path(name)]
    if user is not None and (user / name).is_file():
        paths.append(user / name)
    return paths


def check_user_dir(user: Path) -> None:
    if not user.is_dir():
        raise LexiconError(f"no lexicon folder at {user}")
    if not any((user / name).is_file() for name in FILES):
        raise LexiconError(f"the lexicon folder {user} holds none of {', '.join(FILES)}")


def _csv_rows(path: Path, key: str) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if key not in (reader.fieldnames or []):
            raise LexiconError(f"{path}: the first line must name the columns, with '{key}' among them")
        return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader if (row.get(key) or "").strip()]


def _marker(row: dict[str, str]) -> Marker:
    name = row["marker"]
    synonyms = _split(row.get("synonyms", ""))
    return Marker(name, row.get("full_name") or name, row.get("category") or "other_protein",
                  synonyms if name in synonyms else (name, *synonyms), frozenset(_split(row.get("ambiguous", ""))))


def _cues(path: Path) -> dict[str, dict[str, list[str]]]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise LexiconError(f"{path}: {exc}") from None


def _compile(pattern: str, path: Path) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise LexiconError(f"{path}: bad pattern {pattern!r}: {exc}") from None


def load_lexicon() -> Lexicon:
    """The shipped lexicons, with the rows of the user's lexicon folder ($MINER_LEXICON) added: a user's
    row with a shipped name replaces it; cue patterns and not-markers are added to the shipped ones."""
    return _load(user_lexicon_dir())


@lru_cache(maxsize=4)
def _load(user: Path | None) -> Lexicon:
    if user is not None:
        check_user_dir(user)
    markers: dict[str, Marker] = {}
    cancers: dict[str, Cancer] = {}
    samples: dict[str, tuple[str, ...]] = {}
    cues: dict[str, dict[str, list[re.Pattern[str]]]] = {}
    not_markers: set[str] = set()
    for path in lexicon_files("markers.csv", user):
        markers.update((row["marker"], _marker(row)) for row in _csv_rows(path, "marker"))
    for path in lexicon_files("cancers.csv", user):
        cancers.update((row["cancer"], Cancer(row["cancer"], _split(row.get("synonyms", "")),
                                              _split(row.get("organ_words", "")),
                                              frozenset(_split(row.get("ambiguous", "")))))
                       for row in _csv_rows(path, "cancer"))
    for path in lexicon_files("samples.csv", user):
        samples.update((row["sample"], _split(row.get("synonyms", "")) or (row["sample"],))
                       for row in _csv_rows(path, "sample"))
    for path in lexicon_files("cues.toml", user):
        for group, table in _cues(path).items():
            for name, patterns in table.items():
                cues.setdefault(group, {}).setdefault(name, []).extend(_compile(p, path) for p in patterns)
    for path in lexicon_files("not_markers.txt", user):
        lines = path.read_text(encoding="utf-8").splitlines()
        not_markers.update(ln.strip() for ln in lines if ln.strip() and not ln.startswith("#"))
    return Lexicon(markers, cancers, samples, cues, frozenset(not_markers))


def lexicon_hash() -> str:
    """A fingerprint of every lexicon file, the user's included."""
    return _hash(user_lexicon_dir())


@lru_cache(maxsize=4)
def _hash(user: Path | None) -> str:
    digest = hashlib.sha256()
    for name in FILES:
        for path in lexicon_files(name, user):
            digest.update(name.encode())
            digest.update(path.read_bytes())
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
