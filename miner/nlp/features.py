"""Candidate → named features, from what the pipeline knows about the abstract (pure functions).

Three kinds of features, named ``kind:detail``:
- the marker's: its category, where it is named (title, aim, result, conclusion, only background or
  methods), whether the title names other markers instead, how often and its share of all marker
  mentions, whether group phrases reach it, whether the hand rules related it;
- the use's, always crossed with the use (``prognosis|cue@result``): cue words for the use in the
  marker's sentences by role, in the title, the aim and the conclusion, the study design (survival
  analysis, serial measurements, follow-up for events, groups with and without bone metastasis),
  negation and contrast in the marker's sentences; the share of the use among the cues of the abstract
  and of the marker's sentences (most abstracts report one use for a marker);
- the cancer's: named with the marker, the study's, in the title, pooled.
Marker features appear both plain and crossed with the use, so that the scorer learns both how
likely a marker is to be reported on at all and for which use.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import NamedTuple

from miner.nlp.candidates import AbstractView, Candidate, Sentence, candidates
from miner.nlp.lexicon import USES

FEATURES_VERSION = "5"
"""Bump when the features change: a model trained on other features cannot be used."""

EVIDENCE_ROLES = ("title", "objective", "result", "conclusion")


def use_prefix(use: str) -> str:
    """The prefix of the features crossed with a use (``monitoring|cue@result``)."""
    return f"{use}|"


USE_PREFIXES = tuple(map(use_prefix, USES))
RuleScores = dict[tuple[str, str, str], float]
"""The hand rules' relations: (marker, cancer, use) → confidence."""


def featurize(view: AbstractView) -> list[tuple[Candidate, dict[str, float]]]:
    """Every candidate of an abstract with its features. What depends only on the use or only on the
    marker is read once per abstract or marker (``_UseContext``, ``_MarkerContext``); a candidate's
    features are then set from those, the use-crossed names built as ``prefix + name``."""
    found = candidates(view)
    if not found:
        return []
    rules = {(r.marker, r.cancer, r.use): r.confidence for r in view.rules.relations}
    cue_sentences = {u: [s for s in view.sentences if u in s.uses] for u in USES}
    uses = {u: _UseContext(view, u, cue_sentences, rules) for u in USES}
    cancer_counts = Counter(c for s in view.sentences for c in s.cancers)
    marker_cache: dict[str, _MarkerContext] = {}
    cancer_cache: dict[tuple[str, str], dict[str, float]] = {}  # the same for each use
    out = []
    n_markers = len(view.measured)
    for candidate in found:
        if candidate.marker not in marker_cache:
            marker_cache[candidate.marker] = _MarkerContext(view, candidate.marker, n_markers, rules)
        marker = marker_cache[candidate.marker]
        use = candidate.use
        prefix = uses[use].prefix
        features: dict[str, float] = {f"use:{use}": 1.0}
        for name, value in marker.features.items():
            features[name] = value
            features[prefix + name] = value
        _set_use_features(features, uses[use], marker, candidate, rules)
        if (candidate.marker, candidate.cancer) not in cancer_cache:
            cancer_cache[(candidate.marker, candidate.cancer)] = _cancer_features(
                view, candidate, marker.direct, marker.grouped, cancer_counts, rules)
        features.update(cancer_cache[(candidate.marker, candidate.cancer)])
        out.append((candidate, features))
    return out


class _MarkerContext:
    """What a marker's candidates share: its features (crossed with each use by ``featurize``), the
    sentences that name it or reach it through a group phrase, and each sentence's feature names."""

    def __init__(self, view: AbstractView, marker: str, n_markers: int, rules: RuleScores) -> None:
        self.features, self.direct, self.grouped = _marker_features(view, marker, n_markers, rules)
        self.sentences = [_sentence_names("cue", s) for s in self.direct]
        self.sentences += [_sentence_names("group_cue", s) for s in self.grouped]
        self.roles = {s.role for s in self.direct} | {s.role for s in self.grouped}
        self.reported = bool(self.roles & {"result", "conclusion"})
        self.cued = [s.uses for s in self.direct + self.grouped if s.uses]
        self.ruled_uses = {u for m, _, u in rules if m == marker}


class _UseContext:
    """What a use's candidates share in an abstract: the crossed names' prefix, the abstract's cues for the
    use (crossed features), its aim or title, and the abstract's designs."""

    def __init__(self, view: AbstractView, use: str, cue_sentences: dict[str, list[Sentence]],
                 rules: RuleScores) -> None:
        self.use = use
        self.prefix = prefix = use_prefix(use)
        sentences = cue_sentences[use]
        cues: dict[str, float] = {}
        for s in sentences:
            if s.role in EVIDENCE_ROLES:
                cues[f"{prefix}abstract_cue@{s.role}"] = 1.0
        cues[f"{prefix}abstract_cue:sentences"] = math.log1p(len(sentences))
        counts = {u: len(cue_sentences[u]) for u in USES}
        if counts[use]:
            cues[f"{prefix}abstract_cue:share"] = counts[use] / sum(counts.values())
            if counts[use] == max(counts.values()):
                cues[f"{prefix}abstract_cue:top"] = 1.0
        self.abstract_cues = cues
        aim_or_title = [s for s in sentences if s.role in ("title", "objective")]
        self.aim = bool(aim_or_title)
        self.generic_aim = self.aim and not any(s.markers for s in aim_or_title)
        self.reported_designs = [f"{prefix}reported&{flag}" for flag in view.flags if flag.startswith("design.")]
        self.serial_on_treatment = {"design.serial", "design.treatment"} <= view.flags
        self.ruled = any(u == use for _, _, u in rules)


def _marker_features(view: AbstractView, marker: str, n_markers: int,
                     rules: RuleScores) -> tuple[dict[str, float], list[Sentence], list[Sentence]]:
    direct = [s for s in view.sentences if marker in s.named and marker not in s.excluded]
    grouped = [s for s in view.sentences if marker in s.groups and marker not in s.excluded and marker not in s.named]
    excluded = [s for s in view.sentences if marker in s.excluded]
    mention = view.measured[marker]
    mentions = sum(1 for s in direct for m in s.markers if m.marker == marker)
    features: dict[str, float] = {
        f"cat:{mention.category}": 1.0,
        "marker:mentions": math.log1p(mentions),
        "marker:n_measured": math.log1p(n_markers),
        "marker:first_position": (direct[0].index / max(1, len(view.sentences) - 1)) if direct else 1.0,
    }
    if mention.candidate:
        features["marker:not_in_lexicon"] = 1.0
    if all_mentions := sum(len(s.markers) for s in view.sentences):
        features["marker:mention_share"] = mentions / all_mentions
    roles = {s.role for s in direct}
    for role in roles:
        features[f"marker@{role}"] = 1.0
    if "title" not in roles and any(s.markers for s in view.sentences if s.role == "title"):
        features["marker:title_names_others"] = 1.0
    if roles and roles <= {"background", "methods"}:
        features["marker:only_background_or_methods"] = 1.0
    for role in {s.role for s in grouped}:
        features[f"group@{role}"] = 1.0
    if excluded:
        features["marker:excepted"] = 1.0
    reporting = [s for s in direct if s.role in ("result", "conclusion")]
    if any(min(s.markers, key=lambda m: m.entity.start_char).marker == marker for s in reporting):
        features["marker:leads_a_result"] = 1.0
    if reporting and all(_only_a_correlate(s, marker) for s in reporting):
        features["marker:only_a_correlate"] = 1.0
    if any(m == marker for m, _, _ in rules):
        features["rules:marker"] = 1.0
    for flag in view.flags:
        features[f"abstract:{flag}"] = 1.0
    return features, direct, grouped


def _only_a_correlate(sentence: Sentence, marker: str) -> bool:
    """Whether a sentence names the marker only after "correlated with", another marker before it: the
    other marker is being evaluated, this one is its yardstick."""
    at = sentence.correlate_end
    if at is None:
        return False
    mine = [m.entity.start_char for m in sentence.markers if m.marker == marker]
    return all(start >= at for start in mine) and any(
        m.entity.start_char < at for m in sentence.markers if m.marker != marker)


class SentenceNames(NamedTuple):
    """The use features one of a marker's sentences sets, by name (before they are crossed with the use)."""

    uses: dict[str, list[str]]
    """The sentence's cues, by use."""
    hit: list[str]
    """Set for a use the sentence has a cue for."""
    other_use: list[str]
    """Set for a use it has no cue for, when it has cues for others."""
    always: list[str]
    """Set for any use."""


def _sentence_names(kind: str, s: Sentence) -> SentenceNames:
    """A marker's sentence's use features (``kind``: 'cue' where it names the marker, 'group_cue' where a
    group phrase reaches it)."""
    flags = s.flags
    hit = [f"{kind}@{s.role}"]
    if "finding.refutes" in flags:
        hit.append(f"{kind}:refuted")
    if "grammar.statistics" in flags:
        hit.append(f"{kind}:statistics")
    if "sentence.treatment_effect" in flags:
        hit.append(f"{kind}:treatment_effect")
    other = [f"{kind}:other_use@{s.role}"] if s.uses and s.role in EVIDENCE_ROLES else []
    always = []
    if "grammar.timepoints" in flags:
        always.append(f"{kind}:timepoints")
        if "grammar.on_treatment" in flags:
            always.append(f"{kind}:timepoints_on_treatment")
    if s.role in ("result", "conclusion"):
        if "grammar.comparison" in flags:
            always.append(f"{kind}:comparison")
        if "context.bone" in flags:
            always.append(f"{kind}:bone")
            if flags & {"grammar.comparison", "grammar.up", "grammar.down"}:
                always.append(f"{kind}:bone_comparison")
        if "finding.refutes" in flags:
            always.append(f"{kind}:refutes_in_result")
        if "grammar.change" in flags:
            always.append(f"{kind}:change")
            if flags & {"grammar.timepoints", "grammar.on_treatment"}:
                always.append(f"{kind}:change_over_time")
    return SentenceNames(s.uses, hit, other, always)


def _set_use_features(features: dict[str, float], context: _UseContext, marker: _MarkerContext,
                      candidate: Candidate, rules: RuleScores) -> None:
    """Add the candidate's features of its use, crossed with the use (the abstract's flags, crossed, come
    with the marker's features)."""
    use, prefix = context.use, context.prefix
    for uses, hit, other, always in marker.sentences:
        for name in hit if use in uses else other:
            features[prefix + name] = 1.0
        for name in always:
            features[prefix + name] = 1.0
    features.update(context.abstract_cues)
    if marker.cued:
        features[f"{prefix}cue:share"] = sum(1 for uses in marker.cued if use in uses) / len(marker.cued)
    if context.aim:
        if marker.reported:
            features[f"{prefix}aim_use:marker_reported"] = 1.0
        if "methods" in marker.roles:
            features[f"{prefix}aim_use:marker_measured"] = 1.0
        if context.generic_aim:
            features[f"{prefix}aim_use:generic"] = 1.0
            if marker.roles:
                features[f"{prefix}aim_use:generic_marker_seen"] = 1.0
    if marker.reported:
        for name in context.reported_designs:
            features[name] = 1.0
    if marker.roles and context.serial_on_treatment:
        features[f"{prefix}serial_on_treatment"] = 1.0
    if (candidate.marker, candidate.cancer, use) in rules:
        features[f"{prefix}rules:relation"] = 1.0
        features[f"{prefix}rules:confidence"] = rules[(candidate.marker, candidate.cancer, use)]
    elif use in marker.ruled_uses:
        features[f"{prefix}rules:marker_use"] = 1.0
    if context.ruled:
        features[f"{prefix}rules:use"] = 1.0


def _cancer_features(view: AbstractView, candidate: Candidate, direct: list[Sentence], grouped: list[Sentence],
                     cancer_counts: Counter[str], rules: RuleScores) -> dict[str, float]:
    cancer = candidate.cancer
    features: dict[str, float] = {}
    if cancer in view.study_cancers:
        features["cancer:study"] = 1.0
    features["cancer:n_study"] = float(len(view.study_cancers))
    if any(cancer in s.cancers for s in direct):
        features["cancer:with_marker"] = 1.0
    if any(cancer in s.cancers for s in grouped):
        features["cancer:with_group"] = 1.0
    if any(cancer in s.cancers for s in view.sentences if s.role == "title"):
        features["cancer:title"] = 1.0
    if cancer == "solid_tumors":
        features["cancer:pooled"] = 1.0
    total = sum(cancer_counts.values())
    features["cancer:share"] = cancer_counts[cancer] / total if total else 0.0
    if any(m == candidate.marker and c == cancer for m, c, _ in rules):
        features["rules:marker_cancer"] = 1.0
    return features
