"""Candidate → named features, from what the pipeline knows about the abstract (pure functions).

Three kinds of features, named ``kind:detail``:
- the marker's: its category, where it is named (title, aim, result, conclusion, only background or
  methods), how often, whether group phrases reach it, whether the hand rules related it;
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

from miner.nlp.candidates import AbstractView, Candidate, Sentence, candidates
from miner.nlp.lexicon import USES

FEATURES_VERSION = "4"
"""Bump when the features change: a model trained on other features cannot be used."""

EVIDENCE_ROLES = ("title", "objective", "result", "conclusion")
RuleScores = dict[tuple[str, str, str], float]
"""The hand rules' relations: (marker, cancer, use) → confidence."""


def featurize(view: AbstractView) -> list[tuple[Candidate, dict[str, float]]]:
    """Every candidate of an abstract with its features."""
    rules = {(r.marker, r.cancer, r.use): r.confidence for r in view.rules.relations}
    cue_sentences = {u: [s for s in view.sentences if u in s.uses] for u in USES}
    cancer_counts = Counter(c for s in view.sentences for c in s.cancers)
    marker_cache: dict[str, tuple[dict[str, float], list[Sentence], list[Sentence]]] = {}
    cancer_cache: dict[tuple[str, str], dict[str, float]] = {}  # the same for each use
    out = []
    n_markers = len(view.measured)
    for candidate in candidates(view):
        if candidate.marker not in marker_cache:
            marker_cache[candidate.marker] = _marker_features(view, candidate.marker, n_markers, rules)
        marker, direct, grouped = marker_cache[candidate.marker]
        use = candidate.use
        features: dict[str, float] = {f"use:{use}": 1.0}
        for name, value in marker.items():
            features[name] = value
            features[f"{use}|{name}"] = value
        for name, value in _use_features(view, candidate, direct, grouped, cue_sentences, rules).items():
            features[f"{use}|{name}"] = value
        if (candidate.marker, candidate.cancer) not in cancer_cache:
            cancer_cache[(candidate.marker, candidate.cancer)] = _cancer_features(
                view, candidate, direct, grouped, cancer_counts, rules)
        features.update(cancer_cache[(candidate.marker, candidate.cancer)])
        out.append((candidate, features))
    return out


def _marker_features(view: AbstractView, marker: str, n_markers: int,
                     rules: RuleScores) -> tuple[dict[str, float], list[Sentence], list[Sentence]]:
    direct = [s for s in view.sentences if marker in s.named and marker not in s.excluded]
    grouped = [s for s in view.sentences if marker in s.groups and marker not in s.excluded and marker not in s.named]
    excluded = [s for s in view.sentences if marker in s.excluded]
    mention = view.measured[marker]
    features: dict[str, float] = {
        f"cat:{mention.category}": 1.0,
        "marker:mentions": math.log1p(sum(1 for s in direct for m in s.markers if m.marker == marker)),
        "marker:n_measured": math.log1p(n_markers),
        "marker:first_position": (direct[0].index / max(1, len(view.sentences) - 1)) if direct else 1.0,
    }
    if mention.candidate:
        features["marker:not_in_lexicon"] = 1.0
    roles = {s.role for s in direct}
    for role in roles:
        features[f"marker@{role}"] = 1.0
    if roles and roles <= {"background", "methods"}:
        features["marker:only_background_or_methods"] = 1.0
    for role in {s.role for s in grouped}:
        features[f"group@{role}"] = 1.0
    if excluded:
        features["marker:excepted"] = 1.0
    reporting = [s for s in direct if s.role in ("result", "conclusion")]
    if any(min(s.markers, key=lambda m: m.span.start_char).marker == marker for s in reporting):
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
    mine = [m.span.start_char for m in sentence.markers if m.marker == marker]
    return all(start >= at for start in mine) and any(
        m.span.start_char < at for m in sentence.markers if m.marker != marker)


def _use_features(view: AbstractView, candidate: Candidate, direct: list[Sentence], grouped: list[Sentence],
                  cue_sentences: dict[str, list[Sentence]], rules: RuleScores) -> dict[str, float]:
    use = candidate.use
    features: dict[str, float] = {}
    for kind, sentences in (("cue", direct), ("group_cue", grouped)):
        for s in sentences:
            if use in s.uses:
                features[f"{kind}@{s.role}"] = 1.0
                if "finding.refutes" in s.flags:
                    features[f"{kind}:refuted"] = 1.0
                if "grammar.statistics" in s.flags:
                    features[f"{kind}:statistics"] = 1.0
                if "sentence.treatment_effect" in s.flags:
                    features[f"{kind}:treatment_effect"] = 1.0
            elif s.uses and s.role in EVIDENCE_ROLES:
                features[f"{kind}:other_use@{s.role}"] = 1.0
            if "grammar.timepoints" in s.flags:
                features[f"{kind}:timepoints"] = 1.0
                if "grammar.on_treatment" in s.flags:
                    features[f"{kind}:timepoints_on_treatment"] = 1.0
            if s.role in ("result", "conclusion"):
                if "grammar.comparison" in s.flags:
                    features[f"{kind}:comparison"] = 1.0
                if "context.bone" in s.flags:
                    features[f"{kind}:bone"] = 1.0
                    if s.flags & {"grammar.comparison", "grammar.up", "grammar.down"}:
                        features[f"{kind}:bone_comparison"] = 1.0
                if "finding.refutes" in s.flags:
                    features[f"{kind}:refutes_in_result"] = 1.0
                if "grammar.change" in s.flags:
                    features[f"{kind}:change"] = 1.0
                    if s.flags & {"grammar.timepoints", "grammar.on_treatment"}:
                        features[f"{kind}:change_over_time"] = 1.0
    for s in cue_sentences[use]:
        if s.role in EVIDENCE_ROLES:
            features[f"abstract_cue@{s.role}"] = 1.0
    features["abstract_cue:sentences"] = math.log1p(len(cue_sentences[use]))
    counts = {u: len(cue_sentences[u]) for u in USES}
    if counts[use]:
        features["abstract_cue:share"] = counts[use] / sum(counts.values())
        if counts[use] == max(counts.values()):
            features["abstract_cue:top"] = 1.0
    with_uses = [s for s in direct + grouped if s.uses]
    if with_uses:
        features["cue:share"] = sum(1 for s in with_uses if use in s.uses) / len(with_uses)
    roles = {s.role for s in direct} | {s.role for s in grouped}
    reported = bool(roles & {"result", "conclusion"})
    aim_or_title = [s for s in cue_sentences[use] if s.role in ("title", "objective")]
    if aim_or_title and reported:
        features["aim_use:marker_reported"] = 1.0
    if aim_or_title and roles & {"methods"}:
        features["aim_use:marker_measured"] = 1.0
    if aim_or_title and not any(s.markers for s in aim_or_title):
        features["aim_use:generic"] = 1.0
        if roles:
            features["aim_use:generic_marker_seen"] = 1.0
    for flag in view.flags:
        if flag.startswith("design.") and reported:
            features[f"reported&{flag}"] = 1.0
    if roles and {"design.serial", "design.treatment"} <= view.flags:
        features["serial_on_treatment"] = 1.0
    if (candidate.marker, candidate.cancer, use) in rules:
        features["rules:relation"] = 1.0
        features["rules:confidence"] = rules[(candidate.marker, candidate.cancer, use)]
    elif any(m == candidate.marker and u == use for m, _, u in rules):
        features["rules:marker_use"] = 1.0
    if any(u == use for _, _, u in rules):
        features["rules:use"] = 1.0
    for flag in view.flags:
        features[f"abstract:{flag}"] = 1.0
    return features


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
