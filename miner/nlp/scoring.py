"""The learned relation scorer: candidate features → a calibrated probability → stored relations.

The model is a logistic regression stored as plain numbers in JSON (``corpora/scorer.json``, written by
``miner train``): a weight per feature name, an intercept, a Platt calibration (slope and intercept on
the model's log-odds, fitted on cross-validated predictions) and the threshold chosen on
cross-validation. Scoring needs no scikit-learn: it is a sum of weights.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field, replace
from itertools import repeat
from operator import mul
from pathlib import Path

from miner.config import ConfigurationError, corpus_path
from miner.nlp.candidates import AbstractView, Candidate, MarkerMention, Sentence
from miner.nlp.features import FEATURES_VERSION, featurize
from miner.nlp.lexicon import Lexicon
from miner.nlp.relations import Relation, direction_of, finding_of, sample_of, segment_at

MODEL_FORMAT = 1
MODEL_FILE = "scorer.json"


class ModelError(ConfigurationError):
    """The scorer's model file is missing, unreadable or made for other features."""


@dataclass
class Model:
    weights: dict[str, float]
    intercept: float
    calibration: tuple[float, float] = (1.0, 0.0)
    threshold: float = 0.5
    features_version: str = FEATURES_VERSION
    metadata: dict = field(default_factory=dict)

    def log_odds(self, features: dict[str, float]) -> float:
        weights = map(self.weights.get, features, repeat(0.0))
        return self.intercept + sum(map(mul, weights, features.values()))

    def probability(self, features: dict[str, float]) -> float:
        slope, offset = self.calibration
        return sigmoid(slope * self.log_odds(features) + offset)

    def contributions(self, features: dict[str, float], n: int = 5) -> list[tuple[str, float]]:
        """The features that moved this candidate's score most, strongest first."""
        parts = [(name, self.weights[name] * value) for name, value in features.items() if name in self.weights]
        return sorted(parts, key=lambda p: -abs(p[1]))[:n]

    def to_json(self) -> str:
        data = {"format": MODEL_FORMAT, "features_version": self.features_version, "threshold": self.threshold,
                "calibration": list(self.calibration), "intercept": self.intercept,
                "metadata": self.metadata, "weights": dict(sorted(self.weights.items()))}
        return json.dumps(data, indent=1, sort_keys=False) + "\n"


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def model_from_json(text: str, source: str = "the model") -> Model:
    try:
        data = json.loads(text)
        if data.get("format") != MODEL_FORMAT:
            raise ModelError(f"{source} has format {data.get('format')!r}; this miner reads format {MODEL_FORMAT}")
        if data.get("features_version") != FEATURES_VERSION:
            raise ModelError(f"{source} was trained on features version {data.get('features_version')!r}, "
                             f"this miner computes version {FEATURES_VERSION}: run `miner train`")
        weights = {str(k): float(v) for k, v in data["weights"].items()}
        slope, offset = (float(x) for x in data["calibration"])
        return Model(weights, float(data["intercept"]), (slope, offset), float(data["threshold"]),
                     FEATURES_VERSION, dict(data.get("metadata", {})))
    except ModelError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelError(f"{source} is not a miner scorer model (JSON with weights, intercept, calibration "
                         f"and threshold): {exc}") from None


def model_path(path: str | Path | None = None) -> Path:
    return Path(path) if path else corpus_path(MODEL_FILE)


def load_model(path: str | Path | None = None) -> Model:
    """The scorer's model: a given file, or the one shipped in corpora/."""
    file = model_path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"cannot read the scorer model {file}: {exc.strerror or exc}") from None
    return model_from_json(text, str(file))


def model_hash(path: str | Path | None = None) -> str:
    """A short digest of the model file, part of the extractor fingerprint."""
    file = model_path(path)
    try:
        return hashlib.sha256(file.read_bytes()).hexdigest()[:12]
    except OSError as exc:
        raise ModelError(f"cannot read the scorer model {file}: {exc.strerror or exc}") from None


@dataclass
class ScoredCandidate:
    candidate: Candidate
    probability: float
    features: dict[str, float]


def score_candidates(view: AbstractView, model: Model, lexicon: Lexicon, min_confidence: float | None = None
                     ) -> tuple[list[Relation], list[ScoredCandidate]]:
    """The relations to store (probability at or above the threshold) and every candidate's score."""
    threshold = model.threshold if min_confidence is None else min_confidence
    scored, relations = [], []
    for candidate, features in featurize(view):
        probability = model.probability(features)
        scored.append(ScoredCandidate(candidate, probability, features))
        if probability >= threshold:
            relations.append(_relation(view, lexicon, candidate, probability))
    return relations, scored


def _relation(view: AbstractView, lexicon: Lexicon, candidate: Candidate, probability: float) -> Relation:
    """A stored relation: the candidate with the sentence that best supports it, and the finding,
    direction and sample read there."""
    sentence, mention = evidence_sentence(view, candidate)
    ruled = next((r for r in view.rules.relations
                  if (r.marker, r.cancer, r.use) == (candidate.marker, candidate.cancer, candidate.use)), None)
    if ruled is not None:
        return replace(ruled, confidence=round(probability, 3))
    in_sentence = sentence.start <= mention.entity.start_char < sentence.end  # not when reached by a group
    part = segment_at(lexicon, sentence.text, mention.entity.start_char - sentence.start if in_sentence else 0)
    cues = sentence.uses.get(candidate.use, [])
    group = sentence.groups.get(candidate.marker)
    return Relation(
        marker=candidate.marker, marker_surface=mention.surface, category=mention.category,
        candidate=mention.candidate, cancer=candidate.cancer, use=candidate.use, finding=finding_of(lexicon, part),
        direction=direction_of(lexicon, part),
        sample=sample_of(mention, sentence.samples, view.sample),
        confidence=round(probability, 3), sentence=sentence.text, start=sentence.start, end=sentence.end,
        cues=[*cues, *([f"group: {group}"] if group else [])])


ROLE_ORDER = {"result": 0, "conclusion": 1, "title": 2, "objective": 3, "methods": 4, "background": 5}


def evidence_sentence(view: AbstractView, candidate: Candidate) -> tuple[Sentence, MarkerMention]:
    """The sentence that best supports a candidate: one naming the marker (or reaching it through a group
    phrase) with a cue for the use, in a result before a conclusion before the title or aim; and the
    marker's mention there (or its first mention, when a group phrase reaches it)."""
    ranked = []
    for s in view.sentences:
        mention = next(m for m in s.markers if m.marker == candidate.marker) if candidate.marker in s.named else None
        if mention is not None or candidate.marker in s.groups:
            ranked.append(((candidate.use not in s.uses, mention is None, ROLE_ORDER.get(s.role, 6)), s.index,
                           s, mention))
    _, _, sentence, mention = min(ranked)  # a measured marker is named in some sentence
    return sentence, mention or view.measured[candidate.marker]
