"""The learned relation scorer: candidates (group phrases, glued prefixes), training, cross-validation,
the threshold and --min-confidence, a bad model file, and `miner explain`'s candidate table."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from miner.cli import cli
from miner.learn import (
    AnnotatedAbstract,
    Example,
    _best_threshold,
    _fit_weights,
    fold_shared_parts,
    folds_by_abstract,
    with_shared_parts,
)
from miner.nlp.candidates import Candidate, candidates
from miner.nlp.features import FEATURES_VERSION, USE_PREFIXES, featurize
from miner.nlp.pipeline import analyse, build_pipeline
from miner.standin import article_xml, pubmed_set
from miner.store import Abstract

from .conftest import shared_file


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def reader():  # noqa: ANN201 - a spaCy pipeline that reads abstracts without scoring them
    return build_pipeline(score=False)


def view_of(reader, title: str, abstract: str):  # noqa: ANN001, ANN201
    return next(analyse(reader, [Abstract("1", title, abstract)])).view


def test_all_markers_except_one_reach_every_measured_marker_but_that_one(reader) -> None:  # noqa: ANN001
    view = view_of(reader, "Bone markers in breast cancer",
                   "Methods: Serum CTX, NTX and osteoprotegerin (OPG) were measured in 60 women with breast cancer. "
                   "Results: All markers except OPG were higher in patients with bone metastases than without.")
    result = next(s for s in view.sentences if "except" in s.text)
    assert {"CTX", "NTX"} <= set(result.groups)
    assert result.excluded == {"OPG"}
    assert {(c.marker, c.use) for c in candidates(view)} >= {("CTX", "diagnosis"), ("NTX", "monitoring")}


def test_a_negative_group_statement_reaches_the_measured_markers(reader) -> None:  # noqa: ANN001
    view = view_of(reader, "Biochemical markers and skeletal events in prostate cancer",
                   "We measured urinary NTX and serum BALP in 120 men with prostate cancer and bone metastases. "
                   "None of the markers predicted skeletal-related events during follow-up.")
    statement = next(s for s in view.sentences if "None of the markers" in s.text)
    assert {"NTX", "BALP"} <= set(statement.groups)
    assert "finding.refutes" in statement.flags


def test_bone_turnover_markers_reach_bone_markers_only(reader) -> None:  # noqa: ANN001
    view = view_of(reader, "Markers in lung cancer",
                   "Serum CTX, P1NP and CEA were measured in 90 patients with lung cancer. "
                   "Bone turnover markers were higher in patients with bone metastases.")
    statement = next(s for s in view.sentences if s.text.startswith("Bone turnover"))
    assert {"CTX", "P1NP"} <= set(statement.groups) and "CEA" not in statement.groups


def test_bone_biomarkers_is_a_group_phrase(reader) -> None:  # noqa: ANN001
    view = view_of(reader, "The usefulness of bone biomarkers for monitoring treatment",
                   "Serum CTX and P1NP were measured in 40 women with bone metastases from breast cancer.")
    assert {"CTX", "P1NP"} <= set(view.sentences[0].groups)


def test_bone_turnover_gives_candidates_in_myeloma_only(reader) -> None:  # noqa: ANN001
    text = "Serum CTX and P1NP were measured in 80 {}. Bone turnover markers were higher in fractured patients."
    assert not candidates(view_of(reader, "Bone turnover markers", text.format("women with osteoporosis")))
    assert not candidates(view_of(reader, "Bone turnover markers", text.format("women on breast cancer therapy")))
    myeloma = view_of(reader, "Bone turnover markers", text.format("patients with multiple myeloma"))
    assert {(c.marker, c.cancer) for c in candidates(myeloma)} == {("CTX", "multiple_myeloma"),
                                                                   ("P1NP", "multiple_myeloma")}


def test_a_cancer_named_only_in_a_restatement_of_earlier_work_gives_no_candidates(reader) -> None:  # noqa: ANN001
    text = ("BALP has been shown to be elevated in breast cancer patients with bone metastases. "
            "BALP was measured in 80 men with prostate cancer. BALP was higher in men with bone metastases "
            "than without (p < 0.01).")
    view = view_of(reader, "Bone alkaline phosphatase in prostate cancer", text)
    assert {c.cancer for c in candidates(view)} == {"prostate"}
    methods = view_of(reader, "Bone alkaline phosphatase in prostate cancer", text.replace(
        "BALP has been shown to be elevated in breast cancer patients with bone metastases.",
        "Methods: BALP was measured in 40 women with breast cancer who had been evaluated with bone scintigraphy."))
    assert "sentence.background" in methods.sentences[1].flags and methods.sentences[1].role == "methods"
    assert {c.cancer for c in candidates(methods)} == {"breast", "prostate"}


def test_only_a_bone_drug_safety_title_puts_an_abstract_out_of_scope(reader) -> None:  # noqa: ANN001
    text = ("Serum ALP was measured in 60 men with prostate cancer and bone metastases treated with denosumab. "
            "ALP was higher in men with more bone metastases (p < 0.01), and hypocalcaemia was rare.")
    safety = view_of(reader, "ALP and hypocalcaemia on denosumab in prostate cancer", text)
    assert "adverse event" in safety.out_of_scope_reason and candidates(safety) == []
    in_the_text = view_of(reader, "ALP in prostate cancer with bone metastases", text)
    assert in_the_text.out_of_scope_reason is None and candidates(in_the_text)
    no_drug = view_of(reader, "Hypocalcaemia as a sign of osteoblastic bone metastases",
                      text.replace(" treated with denosumab", ""))
    assert no_drug.out_of_scope_reason is None and candidates(no_drug)


@pytest.mark.parametrize("sentence", [
    "Plasma IL-6 levels were highest in patients with bone metastases (P < 0.001).",
    "Plasma IL-6 levels were elevated in the men with prostate cancer metastatic to bone.",
    "Serum IL-6 levels did not correlate with the presence of osteolysis.",
])
def test_levels_by_bone_involvement_are_diagnosis_cues(reader, sentence: str) -> None:  # noqa: ANN001
    view = view_of(reader, "Interleukin-6 in prostate cancer", sentence)
    assert "diagnosis" in view.sentences[-1].uses


@pytest.mark.parametrize("sentence", [
    "Treatment with bortezomib caused a significant increase in bone-specific alkaline phosphatase.",
    "Serum CTX declined at 2 months in most patients.",
])
def test_changes_caused_by_treatment_or_timed_are_monitoring_cues(reader, sentence: str) -> None:  # noqa: ANN001
    view = view_of(reader, "Bone markers in myeloma", sentence)
    assert "monitoring" in view.sentences[-1].uses


def test_a_marker_the_title_leaves_out_while_naming_others_is_marked_so(reader) -> None:  # noqa: ANN001
    view = view_of(reader, "Serum NTX in breast cancer bone metastases",
                   "NTX was measured in 60 women with breast cancer. NTX was higher in women with bone metastases "
                   "and correlated with CTX (p < 0.01). NTX levels predicted skeletal-related events.")
    features = {(c.marker, c.use): f for c, f in featurize(view)}
    assert "marker:title_names_others" in features[("CTX", "diagnosis")]
    assert "marker:title_names_others" not in features[("NTX", "diagnosis")]
    assert features[("NTX", "diagnosis")]["marker:mention_share"] == pytest.approx(4 / 5)  # the title counts
    assert features[("CTX", "diagnosis")]["marker:mention_share"] == pytest.approx(1 / 5)


def test_bone_metastasis_or_death_is_not_a_prognosis_cue(reader) -> None:  # noqa: ANN001
    view = view_of(reader, "PSA doubling time in prostate cancer",
                   "Men with shorter PSA doubling time were at greater risk for bone metastasis or death. "
                   "PSA doubling time predicted death in men with bone metastases.")
    assert "prognosis" not in view.sentences[-2].uses
    assert "prognosis" in view.sentences[-1].uses


def test_a_concluding_sentence_of_an_unstructured_abstract_is_a_conclusion(reader) -> None:  # noqa: ANN001
    view = view_of(reader, "NTX in breast cancer",
                   "We measured urinary NTX in 120 women with bone metastases. NTX was higher in women with "
                   "bone metastases (p < 0.01). In conclusion, NTX may help to diagnose bone metastases.")
    assert [s.role for s in view.sentences][-2:] == ["result", "conclusion"]


def test_glued_sample_prefixes_are_candidates_with_their_sample(reader) -> None:  # noqa: ANN001
    view = view_of(reader, "sCTX and uNTX in breast cancer bone metastases",
                   "sCTX and uNTX were higher in 40 women with breast cancer and bone metastases than in 40 "
                   "without (p < 0.001; AUC 0.81).")
    assert {"CTX", "NTX"} <= {c.marker for c in candidates(view)}
    relations = next(analyse(build_pipeline(min_confidence=0.0), [Abstract(
        "1", "sCTX and uNTX in breast cancer bone metastases",
        "sCTX and uNTX were higher in 40 women with breast cancer and bone metastases than in 40 without "
        "(p < 0.001; AUC 0.81).")])).extraction.relations
    samples = {(r.marker, r.sample) for r in relations if r.use == "diagnosis"}
    assert {("CTX", "serum"), ("NTX", "urine")} <= samples


def test_folds_hold_each_abstract_once() -> None:
    pmids = [str(i) for i in range(103)]
    folds = folds_by_abstract(pmids + pmids[:10], 5)  # an abstract's candidates all go to one fold
    flat = [p for fold in folds for p in fold]
    assert sorted(flat) == sorted(pmids) and len(flat) == len(set(flat))
    assert {len(f) for f in folds} <= {20, 21}
    assert folds == folds_by_abstract(pmids, 5)
    with pytest.raises(ValueError, match="cannot be split"):
        folds_by_abstract(pmids[:3], 5)


def test_the_threshold_weighs_a_rare_use_as_much_as_a_common_one() -> None:
    """Twenty sure diagnosis relations and one monitoring relation among two false ones, all three at 0.3 to
    0.35: the marker+cancer+use F1 alone is best at 0.9 (40/41 against 42/44), which drops monitoring; the
    balanced score (with the mean of the uses' F-betas) keeps it."""
    markers = [f"M{i}" for i in range(20)]
    rows = [(m, "diagnosis", 0.9, True) for m in markers]
    rows += [("M0", "monitoring", 0.3, True), ("M1", "monitoring", 0.35, False), ("M2", "monitoring", 0.32, False)]
    examples = [Example("1", Candidate(m, "breast", use), {}, int(gold)) for m, use, _, gold in rows]
    abstract = AnnotatedAbstract("1", examples, [{"marker": m, "cancer": "breast", "use": use}
                                                 for m, use, _, gold in rows if gold])
    assert _best_threshold([abstract], [p for _, _, p, _ in rows]) == 0.3
    abstract.relations.pop()  # no monitoring relation: nothing to gain below 0.9
    assert _best_threshold([abstract], [p for _, _, p, _ in rows]) == 0.9
    # two more diagnosis relations at 0.3 do not pay for three false rows of a use without relations
    rows = [(m, "diagnosis", 0.9, True) for m in markers] + [(m, "diagnosis", 0.3, True) for m in ("N1", "N2")]
    rows += [(m, "monitoring", 0.3, False) for m in ("M0", "M1", "M2")]
    examples = [Example("1", Candidate(m, "breast", use), {}, int(gold)) for m, use, _, gold in rows]
    abstract = AnnotatedAbstract("1", examples, [{"marker": m, "cancer": "breast", "use": use}
                                                 for m, use, _, gold in rows if gold])
    assert _best_threshold([abstract], [p for _, _, p, _ in rows]) == 0.9


def test_the_threshold_weighs_precision_above_recall() -> None:
    """Forty sure diagnosis relations, then two true and two false ones at 0.3: keeping them raises the F1
    (84/86 against 80/82) and precision stays at 42/44, but the F-beta of beta 0.6 drops them; three true
    ones for one false are worth keeping."""
    rows = [(f"M{i}", 0.9, True) for i in range(40)] + [(f"N{i}", 0.3, i < 2) for i in range(4)]
    examples = [Example("1", Candidate(m, "breast", "diagnosis"), {}, int(gold)) for m, _, gold in rows]
    abstract = AnnotatedAbstract("1", examples, [{"marker": m, "cancer": "breast", "use": "diagnosis"}
                                                 for m, _, gold in rows if gold])
    probabilities = [p for _, p, _ in rows]
    assert _best_threshold([abstract], probabilities) == 0.9
    abstract.relations.append({"marker": "N2", "cancer": "breast", "use": "diagnosis"})
    assert _best_threshold([abstract], probabilities) == 0.3


def test_use_features_get_a_part_shared_by_the_uses() -> None:
    features = {"use:monitoring": 1.0, "cat:bone_resorption": 1.0, "monitoring|cat:bone_resorption": 1.0,
                "monitoring|cue@result": 1.0, "monitoring|cue:share": 0.5}
    assert with_shared_parts(features) == features | {"any|cue@result": 1.0, "any|cue:share": 0.5}


def test_a_use_features_plain_form_is_never_another_feature(reader) -> None:  # noqa: ANN001
    """Whether a use feature gets a shared copy depends on its name alone: its plain form is either always set
    beside it (a marker feature, set plain and crossed) or never set at all."""
    beside, apart = set(), set()
    for i, (marker, (words, _)) in enumerate(zip(MARKERS, CANCERS * 3, strict=False)):
        view = view_of(reader, f"{marker} in {words} with bone metastases",
                       f"Serum {marker} and CEA were measured at baseline and every 3 months during zoledronic acid "
                       f"in {40 + i} patients with {words}. {marker} fell in responders and predicted skeletal events "
                       f"and shorter survival (p < 0.01); CEA did not differ from those without bone metastases.")
        for _, features in featurize(view):
            for name in features:
                if name.startswith(USE_PREFIXES):
                    (beside if name.partition("|")[2] in features else apart).add(name.partition("|")[2])
    assert apart and beside and not apart & beside


def test_folded_shared_parts_score_as_the_fitted_weights() -> None:
    weights = {"any|cue@result": 0.5, "any|cue:share": -0.25, "diagnosis|cue@result": 0.125, "cat:bone": 1.0}
    folded = fold_shared_parts(weights)
    assert not any(name.startswith("any|") for name in folded)
    for use in ("diagnosis", "prognosis", "risk_prediction", "monitoring"):
        features = {"cat:bone": 1.0, f"{use}|cue@result": 1.0, f"{use}|cue:share": 0.5}
        fitted = sum(weights.get(n, 0.0) * v for n, v in with_shared_parts(features).items())
        assert sum(folded.get(n, 0.0) * v for n, v in features.items()) == pytest.approx(fitted)


def test_a_rare_use_borrows_what_a_feature_means_from_the_common_ones() -> None:
    """Diagnosis candidates with a cue in a result are true, those without false; monitoring has three
    candidates, none with the cue: its cue weight is learned from diagnosis."""
    examples = [Example(str(i), Candidate("CTX", "breast", "diagnosis"),
                        {"use:diagnosis": 1.0, **({"diagnosis|cue@result": 1.0} if i % 2 else {})}, i % 2)
                for i in range(40)]
    examples += [Example(str(i), Candidate("CTX", "breast", "monitoring"), {"use:monitoring": 1.0}, 0)
                 for i in range(40, 43)]
    weights, _ = _fit_weights(examples, 0.07)
    assert weights["monitoring|cue@result"] > 0.4 * weights["diagnosis|cue@result"] > 0


MARKERS = ["CTX", "NTX", "bone-specific alkaline phosphatase", "osteoprotegerin", "P1NP", "osteocalcin", "CEA",
           "TRACP-5b"]
CANONICAL = {"bone-specific alkaline phosphatase": "BALP", "osteoprotegerin": "OPG"}
CANCERS = [("breast cancer", "breast"), ("prostate cancer", "prostate"), ("lung cancer", "lung")]


def annotated_set(folder: Path, n: int = 36) -> tuple[Path, Path]:
    """Invented annotated abstracts: diagnostic comparisons, survival results, and treatment trials that
    report nothing about a marker's use; as PubMed XML and gold JSON Lines."""
    records, gold = [], []
    for i in range(n):
        marker, other = MARKERS[i % len(MARKERS)], MARKERS[(i + 3) % len(MARKERS)]
        words, cancer = CANCERS[i % len(CANCERS)]
        pmid = str(500000 + i)
        kind = i % 3
        if kind == 0:
            title = f"Serum {marker} in {words} with bone metastases"
            text = (f"We measured serum {marker} and {other} in {40 + i} patients with {words}. "
                    f"{marker} was higher in patients with bone metastases than in those without "
                    f"(p < 0.01; AUC 0.{80 + i % 10}). {other} levels did not differ between the groups.")
            relations = [{"marker": CANONICAL.get(marker, marker), "cancer": cancer, "use": "diagnosis"},
                         {"marker": CANONICAL.get(other, other), "cancer": cancer, "use": "diagnosis"}]
        elif kind == 1:
            title = f"{marker} and survival in {words} metastatic to bone"
            text = (f"Serum {marker} was measured at baseline in {60 + i} patients with bone metastases from "
                    f"{words}. High {marker} predicted shorter overall survival (HR 2.{i % 9}, p = 0.0{1 + i % 4}) "
                    f"in multivariate analysis.")
            relations = [{"marker": CANONICAL.get(marker, marker), "cancer": cancer, "use": "prognosis"}]
        else:
            title = f"A randomised trial of a new bisphosphonate in {words} with bone metastases"
            text = (f"Patients were randomised to the new drug or placebo; {marker} was recorded at baseline. "
                    f"The drug delayed skeletal-related events (HR 0.{60 + i % 30}).")
            relations = []
        records.append(article_xml(pmid, title, text))
        gold.append({"pmid": pmid, "relations": relations})
    articles, annotations = folder / "set.xml", folder / "gold.jsonl"
    articles.write_text(pubmed_set(records), encoding="utf-8")
    annotations.write_text("".join(json.dumps(g) + "\n" for g in gold), encoding="utf-8")
    return annotations, articles


def test_train_writes_the_same_model_from_the_same_data(tmp_path: Path) -> None:
    gold, articles = annotated_set(tmp_path)
    first = invoke("train", "--gold", str(gold), "--articles", str(articles), "--out", str(tmp_path / "a.json"))
    assert first.exit_code == 0, first.output
    assert "train: 36 abstracts" in first.output
    invoke("train", "--gold", str(gold), "--articles", str(articles), "--out", str(tmp_path / "b.json"))
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    model = json.loads((tmp_path / "a.json").read_text())
    assert model["metadata"]["abstracts"] == 36 and 0 < model["threshold"] < 1
    assert model["metadata"]["trained_on"][0]["file"] == "gold.jsonl"

    # the model in use: its stored relations follow the annotations on a new abstract
    db = tmp_path / "ev.db"
    new = tmp_path / "new.xml"
    new.write_text(pubmed_set([article_xml(
        "600001", "Serum CTX in breast cancer with bone metastases",
        "We measured serum CTX in 55 patients with breast cancer. CTX was higher in patients with bone metastases "
        "than in those without (p < 0.01; AUC 0.84).")]))
    result = invoke("ingest", str(new), "--db", str(db), "--scorer", str(tmp_path / "a.json"))
    assert result.exit_code == 0, result.output
    assert ("CTX", "breast", "diagnosis") in rows(db, "select marker, cancer, use from evidence")


def test_cross_validation_scores_held_out_folds(tmp_path: Path) -> None:
    gold, articles = annotated_set(tmp_path)
    result = invoke("evaluate", "--cv", "3", "--gold", str(gold), "--articles", str(articles), "--json")
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["folds"] == 3 and scores["abstracts"] == 36 and len(scores["thresholds"]) == 3
    assert scores["marker+cancer+use"]["tp"] + scores["marker+cancer+use"]["fn"] == 36  # 12 × 2 + 12 × 1
    assert scores["marker+cancer+use"]["f1"] > 0.5


def test_cv_needs_the_articles_and_readable_gold(tmp_path: Path) -> None:
    gold, _ = annotated_set(tmp_path, 6)
    result = invoke("evaluate", "--cv", "3", "--gold", str(gold))
    assert result.exit_code == 2 and "--articles" in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"pmid": "1", "relations": [{"marker": "CTX"}]}\n')
    result = invoke("train", "--gold", str(bad), "--articles", str(tmp_path / "set.xml"))
    assert result.exit_code == 2 and "line 1" in result.output


@pytest.fixture
def extracted(tmp_path: Path) -> Path:
    db = tmp_path / "ev.db"
    _, articles = annotated_set(tmp_path, 12)
    assert invoke("ingest", str(articles), "--db", str(db)).exit_code == 0
    return db


def test_min_confidence_overrides_the_threshold_and_re_extracts(extracted: Path) -> None:
    default = rows(extracted, "select count(*) from evidence")[0][0]
    assert default > 0
    result = invoke("extract", "--db", str(extracted), "--min-confidence", "0.999")
    assert "extract: 12 articles" in result.output  # another threshold is another extractor
    assert rows(extracted, "select count(*) from evidence")[0][0] < default
    invoke("extract", "--db", str(extracted), "--min-confidence", "0.05")
    assert rows(extracted, "select count(*) from evidence")[0][0] > default
    assert rows(extracted, "select min(confidence) >= 0.05 from evidence") == [(1,)]


@pytest.mark.parametrize("content", [None, "{not json", f'{{"format": 1, "features_version": "{FEATURES_VERSION}"}}',
                                     '{"format": 1, "features_version": "0", "weights": {}}',
                                     '{"format": 99, "weights": {}}'])
def test_a_missing_or_corrupt_model_is_a_clear_error_and_loses_nothing(extracted: Path, tmp_path: Path,
                                                                      content: str | None) -> None:
    model = tmp_path / "model.json"
    if content is not None:
        model.write_text(content)
    before = rows(extracted, "select * from evidence order by pmid, marker, cancer, use")
    result = CliRunner().invoke(cli, ["extract", "--db", str(extracted), "--all", "--scorer", str(model)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and str(model) in result.output
    assert rows(extracted, "select * from evidence order by pmid, marker, cancer, use") == before


def test_explain_lists_every_candidate_with_its_score() -> None:
    result = invoke("explain", "--text", "Serum CTX in breast cancer with bone metastases\n"
                                         "CTX was higher in patients with bone metastases than without (p<0.01).")
    assert result.exit_code == 0
    table = result.output.split("Candidates", 1)[1]
    for use in ("diagnosis", "prognosis", "risk_prediction", "monitoring"):
        assert f"CTX | breast | {use}" in table
    assert "stored CTX | breast | diagnosis" in table


def test_explain_says_why_an_abstract_out_of_scope_has_no_candidates() -> None:
    result = invoke("explain", "--text", "Serum CTX and osteonecrosis of the jaw on zoledronic acid\n"
                                         "CTX was higher in patients with bone metastases than without (p<0.01).")
    assert result.exit_code == 0
    assert "none: a study of an adverse event of bone drugs" in result.output.split("Candidates", 1)[1]


def test_held_out_quality_on_the_annotated_sets() -> None:
    """Cross-validation by abstract on ../shared's 157 annotated abstracts (a quality floor)."""
    files = [str(shared_file(f)) for f in ("eval/dev_gold.jsonl", "eval/train_gold.jsonl",
                                             "corpus/dev_pubmed.xml", "corpus/train_pubmed.xml")]
    result = invoke("evaluate", "--cv", "5", "--gold", files[0], "--gold", files[1], "--articles", files[2],
                    "--articles", files[3], "--json")
    scores = json.loads(result.output)
    assert scores["marker"]["f1"] >= 0.86
    assert scores["marker+cancer+use"]["f1"] >= 0.75


def test_train_learns_from_reviewers_verdicts(extracted: Path, tmp_path: Path) -> None:
    from tests.test_review import fill

    sheet = tmp_path / "sheet.csv"
    invoke("review", "export", "--db", str(extracted), "--out", str(sheet))
    with sheet.open(newline="", encoding="utf-8") as fh:
        lines = list(csv.DictReader(fh))
    judged = {row["pmid"]: {"verdict": "accepted" if row["use"] == "diagnosis" else "rejected"} for row in lines}
    fill(sheet, judged)
    assert invoke("review", "import", str(sheet), "--db", str(extracted)).exit_code == 0
    result = invoke("train", "--verdicts", str(extracted), "--out", str(tmp_path / "m.json"))
    assert result.exit_code == 0, result.output
    model = json.loads((tmp_path / "m.json").read_text())
    assert model["metadata"]["abstracts"] == len(judged)
    assert model["metadata"]["trained_on"] == [{"verdicts": "ev.db", "labels": len(lines)}]
    nothing = invoke("train", "--out", str(tmp_path / "n.json"))
    assert nothing.exit_code == 2 and "--verdicts" in nothing.output


def test_the_shipped_model_is_what_train_writes(tmp_path: Path) -> None:
    """`miner train` on ../shared's annotated abstracts reproduces corpora/scorer.json byte for byte."""
    from miner.nlp.scoring import model_path

    files = [str(shared_file(f)) for f in ("eval/dev_gold.jsonl", "eval/train_gold.jsonl",
                                             "corpus/dev_pubmed.xml", "corpus/train_pubmed.xml")]
    out = tmp_path / "scorer.json"
    result = invoke("train", "--gold", files[0], "--gold", files[1], "--articles", files[2], "--articles", files[3],
                    "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == model_path().read_bytes(), "the shipped model is stale: run `miner train`"
