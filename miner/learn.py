"""Training and held-out measurement of the relation scorer.

Annotated abstracts (gold JSONL, as ``../shared/eval/*_gold.jsonl``: pmid and relations) and their
texts (PubMed XML) → every candidate of each abstract with its features and a label (is the candidate
in the gold, after name normalisation) → a logistic regression (scikit-learn), in which each use feature
has a part shared by the four uses, calibrated and given a threshold on cross-validated predictions (the
best balanced F-beta, which weighs precision above recall), stored as plain numbers
(``miner.nlp.scoring.Model``).

``cross_validate`` measures what the model does on abstracts it was not fitted to: the abstracts are
split into K folds; each fold is scored by a model trained on the others (its calibration and threshold
chosen by an inner cross-validation on those others), exactly as ``../shared/eval/score.py`` scores.
Training is deterministic: the same data gives the same model file.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from miner import __version__
from miner.evaluate import Score, errors, keyed, read_gold, relation_keys, score
from miner.nlp.candidates import AbstractView, Candidate
from miner.nlp.features import FEATURES_VERSION, USE_PREFIXES, featurize
from miner.nlp.lexicon import USES, load_lexicon
from miner.nlp.pipeline import ArticleText, analyse, build_pipeline
from miner.nlp.relations import Relation
from miner.nlp.scoring import Model, score_candidates, sigmoid
from miner.pubmed import Article, SourceError, parse_file
from miner.review import verdict_labels
from miner.store import Store

REGULARISATION = 0.07
"""scikit-learn's C: chosen by cross-validation on the annotated sets (0.03–1 tried)."""
FOLDS = 5
"""Cross-validation folds for ``miner evaluate``."""
CALIBRATION_FOLDS = 10
"""Inner folds that give the out-of-fold scores the calibration and the threshold are fitted on: more folds
train each inner model on more of the data, closer to the model that is stored (10 gave steadier held-out
scores than 5 across fold splits)."""
SEED = 13
F_BETA = 0.6
"""The beta of the F-measure the threshold maximises: under 1, precision weighs more than recall, as reviewers
read what is stored (0.5–1 tried over 13 fold splits: 0.6 gave the best F1 that kept precision at 0.85 or more
on each)."""
SHARED_PREFIX = "any|"
"""Prefix of a use feature's shared part while training (``any|cue@result`` beside ``monitoring|cue@result``)."""


@dataclass
class Example:
    """One candidate of one annotated abstract."""

    pmid: str
    candidate: Candidate
    features: dict[str, float]
    label: int


@dataclass
class AnnotatedAbstract:
    pmid: str
    examples: list[Example]
    relations: list[dict]
    """The gold relations, as annotated (marker, cancer, use, finding, sample)."""
    view: AbstractView | None = None
    """How the pipeline read the abstract (kept for cross-validation, which scores held-out abstracts)."""


@dataclass
class TrainingSet:
    abstracts: list[AnnotatedAbstract]
    sources: list[dict] = field(default_factory=list)
    """The files it was read from, with their SHA-256."""

    @property
    def examples(self) -> list[Example]:
        return [e for a in self.abstracts for e in a.examples]


def gold_key(pmid: str, marker: str, cancer: str, use: str) -> tuple:
    return relation_keys(pmid, marker, cancer, use)[2]


def read_training_set(gold: list[dict], articles: Iterable[ArticleText], sources: list[dict] | None = None,
                      keep_views: bool = False, verdicts: list[dict] | None = None) -> TrainingSet:
    """Each annotated abstract's candidates, featurised and labelled. Abstracts without text are skipped.

    ``gold`` annotates abstracts completely: a candidate it does not list is a negative. ``verdicts``
    (reviewers' labels: pmid, marker, cancer, use, label) are partial: in an abstract the gold does not
    cover, only the candidates a reviewer judged become examples."""
    by_pmid = {str(g["pmid"]): g for g in gold}
    judged: dict[str, dict[tuple, int]] = {}
    for v in verdicts or []:
        if str(v["pmid"]) not in by_pmid:
            judged.setdefault(str(v["pmid"]), {})[gold_key(str(v["pmid"]), v["marker"], v["cancer"], v["use"])] = \
                int(v["label"])
    texts = [a for a in articles if a.pmid in by_pmid or a.pmid in judged]
    nlp = build_pipeline(score=False)
    abstracts = []
    for analysed in analyse(nlp, texts):
        pmid = analysed.pmid
        featurized = [(gold_key(pmid, c.marker, c.cancer, c.use), c, f) for c, f in featurize(analysed.view)]
        if pmid in by_pmid:
            relations = by_pmid[pmid].get("relations", [])
            wanted = {gold_key(pmid, r["marker"], r["cancer"], r["use"]) for r in relations}
            examples = [Example(pmid, c, f, int(key in wanted)) for key, c, f in featurized]
        else:
            labels = judged[pmid]
            examples = [Example(pmid, c, f, labels[key]) for key, c, f in featurized if key in labels]
            relations = [{"marker": c.marker, "cancer": c.cancer, "use": c.use} for e in examples if e.label
                         for c in [e.candidate]]
        if examples or pmid in by_pmid:  # an annotated abstract without candidates still counts its misses
            abstracts.append(AnnotatedAbstract(pmid, examples, relations, analysed.view if keep_views else None))
    abstracts.sort(key=lambda a: a.pmid)
    return TrainingSet(abstracts, sources or [])


def read_annotated(gold_files: Sequence[Path], article_files: Sequence[Path], keep_views: bool = False,
                   verdicts_db: Path | None = None) -> TrainingSet:
    """The training set from annotation files (JSON Lines: pmid, relations) and the articles' PubMed XML or
    MEDLINE files, and the reviewers' verdicts in a miner database (its articles' texts with them). Raises
    ValueError for an unreadable file or annotations without any article text."""
    gold: list[dict] = []
    for path in gold_files:
        gold.extend(read_gold(path))
    articles: list[Article] = []
    for path in article_files:
        try:
            articles.extend(r for r in parse_file(path) if isinstance(r, Article))
        except (OSError, SourceError) as exc:
            raise ValueError(f"cannot read the articles file {path}: {exc}") from None
    verdicts: list[dict] = []
    if verdicts_db is not None:
        store = Store(verdicts_db, write=False)
        verdicts = verdict_labels(store)
        articles.extend(store.articles.texts(sorted({v["pmid"] for v in verdicts})))
    annotated = {str(g["pmid"]) for g in gold} | {v["pmid"] for v in verdicts}
    if not annotated & {a.pmid for a in articles}:
        raise ValueError("none of the annotated PMIDs is among the articles given")
    sources = [{"file": p.name, "sha256": _digest(p)} for p in (*gold_files, *article_files)]
    if verdicts_db is not None:
        sources.append({"verdicts": verdicts_db.name, "labels": len(verdicts)})
    return read_training_set(gold, articles, sources, keep_views, verdicts)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- fitting -----------------------------------------------------------------------------------------


def folds_by_abstract(pmids: Sequence[str], k: int, seed: int = SEED) -> list[list[str]]:
    """K folds of abstracts: each abstract in exactly one fold (shuffled with a fixed seed)."""
    if k < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    if len(pmids) < k:
        raise ValueError(f"{len(pmids)} annotated abstracts cannot be split into {k} folds")
    order = sorted(set(pmids))
    random.Random(seed).shuffle(order)
    return [sorted(order[i::k]) for i in range(k)]


def with_shared_parts(features: dict[str, float]) -> dict[str, float]:
    """The features with a shared copy of each use feature. A use feature (``prognosis|cue@result``) is
    crossed with the candidate's use, so it learns only from that use's candidates; its shared copy
    (``any|cue@result``) learns from all four, and the crossed one keeps what is particular to the use.
    The rare uses (risk prediction, monitoring) thereby borrow from the common ones. Marker features need
    no copy: ``featurize`` sets them plain as well as crossed."""
    shared = {}
    for name, value in features.items():
        if name.startswith(USE_PREFIXES):
            plain = name.partition("|")[2]
            if plain not in features:
                shared[SHARED_PREFIX + plain] = value
    return features | shared


def fold_shared_parts(weights: dict[str, float]) -> dict[str, float]:
    """Weights without shared parts: each shared weight is added to the weight of the feature crossed with
    each use (the scores stay the same; scoring never computes the copies)."""
    folded = {name: w for name, w in weights.items() if not name.startswith(SHARED_PREFIX)}
    for name, w in weights.items():
        if name.startswith(SHARED_PREFIX):
            for prefix in USE_PREFIXES:
                crossed = prefix + name.removeprefix(SHARED_PREFIX)
                folded[crossed] = folded.get(crossed, 0.0) + w
    return folded


def _fit_weights(examples: list[Example], c: float) -> tuple[dict[str, float], float]:
    """A logistic regression over the examples' features and their shared parts (``with_shared_parts``):
    weights by feature name, shared parts folded in, and the intercept."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    labels = [e.label for e in examples]
    if len(set(labels)) < 2:
        raise ValueError("the annotated abstracts give no positive or no negative candidates to learn from")
    vectorizer = DictVectorizer(sort=True)
    matrix = vectorizer.fit_transform([with_shared_parts(e.features) for e in examples])
    model = LogisticRegression(C=c, max_iter=5000, solver="lbfgs").fit(matrix, labels)
    names = vectorizer.get_feature_names_out()
    weights = fold_shared_parts(dict(zip(map(str, names), map(float, model.coef_[0]), strict=True)))
    rounded = {name: round(w, 6) for name, w in sorted(weights.items()) if abs(w) >= 1e-6}
    return rounded, round(float(model.intercept_[0]), 6)


def _out_of_fold_log_odds(abstracts: list[AnnotatedAbstract], c: float, k: int) -> list[float]:
    """Each example's log-odds from a model that did not see its abstract, in example order."""
    folds = folds_by_abstract([a.pmid for a in abstracts], min(k, len(abstracts)))
    fold_of = {pmid: i for i, fold in enumerate(folds) for pmid in fold}
    log_odds: dict[tuple[str, int], float] = {}
    for i in range(len(folds)):
        train = [e for a in abstracts if fold_of[a.pmid] != i for e in a.examples]
        weights, intercept = _fit_weights(train, c)
        model = Model(weights, intercept)
        for a in abstracts:
            if fold_of[a.pmid] == i:
                for j, e in enumerate(a.examples):
                    log_odds[(a.pmid, j)] = model.log_odds(e.features)
    return [log_odds[(a.pmid, j)] for a in abstracts for j in range(len(a.examples))]


def _calibration(log_odds: list[float], labels: list[int]) -> tuple[float, float]:
    """Platt scaling: slope and offset that turn log-odds into calibrated probabilities."""
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression(C=1e6, max_iter=5000).fit([[x] for x in log_odds], labels)
    return round(float(fitted.coef_[0][0]), 6), round(float(fitted.intercept_[0]), 6)


def _f_beta(hits: int, kept: int, gold: int) -> float:
    """The F-beta (``F_BETA``) of ``hits`` true among ``kept`` relations against ``gold`` ones."""
    return (1 + F_BETA**2) * hits / (kept + F_BETA**2 * gold) if kept or gold else 0.0


def _best_threshold(abstracts: list[AnnotatedAbstract], probabilities: list[float]) -> float:
    """The threshold (within 0.05–0.95) with the best balanced F-beta (``F_BETA``) over these abstracts: (the
    marker+cancer+use F-beta + the mean of the four uses' F-betas) / 2, gold relations that are not
    candidates counting as misses. The overall score alone favours the common uses; in the mean, a use's few
    relations count as much as diagnosis's many. A use without gold relations scores 1 while none of it is
    kept, 0 otherwise. Of equal scores, the higher threshold wins; it is rounded down to 4 decimals, so that
    it keeps the candidate it was chosen at."""
    gold = {gold_key(a.pmid, r["marker"], r["cancer"], r["use"]) for a in abstracts for r in a.relations}
    scored = sorted(((p, gold_key(e.pmid, e.candidate.marker, e.candidate.cancer, e.candidate.use))
                     for p, e in zip(probabilities, (e for a in abstracts for e in a.examples), strict=True)),
                    reverse=True)
    gold_by_use = {use: sum(1 for key in gold if key[3] == use) for use in USES}
    kept_by_use, hits_by_use = dict.fromkeys(USES, 0), dict.fromkeys(USES, 0)
    best, best_balanced, kept = 0.5, -1.0, set()
    for i, (p, key) in enumerate(scored):
        if key not in kept:
            kept.add(key)
            kept_by_use[key[3]] += 1
            hits_by_use[key[3]] += key in gold
        if i + 1 < len(scored) and scored[i + 1][0] == p:
            continue
        overall = _f_beta(sum(hits_by_use.values()), len(kept), len(gold))
        by_use = [_f_beta(hits_by_use[u], kept_by_use[u], gold_by_use[u]) if gold_by_use[u] else
                  float(not kept_by_use[u]) for u in USES]
        balanced = (overall + sum(by_use) / len(USES)) / 2
        if balanced > best_balanced and 0.05 <= p <= 0.95:
            best, best_balanced = p, balanced
    return math.floor(best * 10_000) / 10_000


def fit(training: TrainingSet, c: float = REGULARISATION, k: int = CALIBRATION_FOLDS) -> Model:
    """The scorer trained on every annotated abstract; calibration and threshold from an inner CV."""
    abstracts = training.abstracts
    examples = training.examples
    log_odds = _out_of_fold_log_odds(abstracts, c, k)
    slope, offset = _calibration(log_odds, [e.label for e in examples])
    probabilities = [sigmoid(slope * x + offset) for x in log_odds]
    threshold = _best_threshold(abstracts, probabilities)
    weights, intercept = _fit_weights(examples, c)
    metadata = {
        "trained_on": training.sources,
        "abstracts": len(abstracts),
        "candidates": len(examples),
        "positives": sum(e.label for e in examples),
        "regularisation": c,
        "f_beta": F_BETA,
        "folds": k,
        "miner": __version__,
    }
    return Model(weights, intercept, (slope, offset), threshold, FEATURES_VERSION, metadata)


# -- held-out measurement ----------------------------------------------------------------------------


@dataclass
class CrossValidation:
    folds: int
    abstracts: int
    scores: dict[str, Score]
    finding_accuracy: float | None
    sample_accuracy: float | None
    matched: int
    thresholds: list[float]
    errors: tuple[list[tuple], list[tuple]]
    """Misses and false hits at the marker+cancer+use level."""


def cross_validate(training: TrainingSet, k: int = FOLDS, c: float = REGULARISATION) -> CrossValidation:
    """Pooled held-out scores: each fold scored by a model fitted (with its own inner CV) on the others."""
    lexicon = load_lexicon()
    abstracts = {a.pmid: a for a in training.abstracts}
    if any(a.view is None for a in abstracts.values()):
        raise ValueError("cross-validation needs the abstracts' views (read_training_set(keep_views=True))")
    folds = folds_by_abstract(list(abstracts), k)
    system: list[dict] = []
    relations_by_key: dict[tuple, Relation] = {}
    thresholds = []
    for fold in folds:
        held_out = set(fold)
        model = fit(TrainingSet([a for p, a in abstracts.items() if p not in held_out]), c)
        thresholds.append(model.threshold)
        for pmid in fold:
            relations, _ = score_candidates(abstracts[pmid].view, model, lexicon)
            for r in relations:
                system.append({"pmid": pmid, "marker": r.marker, "cancer": r.cancer, "use": r.use})
                relations_by_key[gold_key(pmid, r.marker, r.cancer, r.use)] = r
    gold = [{"pmid": a.pmid, "relations": a.relations} for a in training.abstracts]
    gold_sets, system_sets = keyed(gold, system)
    matched = findings = samples = 0
    for a in training.abstracts:
        for r in a.relations:
            found = relations_by_key.get(gold_key(a.pmid, r["marker"], r["cancer"], r["use"]))
            if found is None:
                continue
            matched += 1
            findings += found.finding == r.get("finding")
            samples += found.sample == r.get("sample")
    return CrossValidation(k, len(abstracts), score(gold_sets, system_sets),
                           findings / matched if matched else None, samples / matched if matched else None,
                           matched, thresholds, errors(gold_sets, system_sets))
