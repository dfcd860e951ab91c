"""The extractor on hand-written abstracts: one behaviour a test."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from spacy.language import Language
from spacy.tokens import Doc

from miner.nlp.entities import CANDIDATE_POSITION, candidate_starts
from miner.nlp.patterns import CaselessPattern
from miner.nlp.pipeline import analyse, build_pipeline
from miner.nlp.relations import Extraction


@dataclass
class Text:
    pmid: str
    title: str
    abstract: str


@pytest.fixture(scope="module")
def nlp() -> Language:
    return build_pipeline()


def read(nlp: Language, title: str, abstract: str) -> Extraction:
    return next(analyse(nlp, [Text("1", title, abstract)])).extraction


def triples(extraction: Extraction) -> set[tuple[str, str, str]]:
    return {(r.marker, r.cancer, r.use) for r in extraction.relations}


def entities(nlp: Language, text: str) -> list[tuple[str, str, str, str]]:
    doc = next(analyse(nlp, [Text("1", "", text)])).doc
    return [(s.text, s.label_, s.kb_id_, s._.source) for s in doc.spans["entities"]]


def test_defined_abbreviation_resolves_to_the_long_forms_marker(nlp: Language) -> None:
    found = entities(nlp, "Serum carboxy-terminal cross-linking telopeptide of type I collagen (sCTX) "
                          "was measured. sCTX was higher in women with bone metastases.")
    assert ("sCTX", "MARKER", "CTX") in [f[:3] for f in found]
    assert sum(1 for f in found if f[2] == "CTX") >= 2


def test_ambiguous_short_forms_need_support(nlp: Language) -> None:
    alone = entities(nlp, "OC and AP were recorded in the clinic.")
    assert not [f for f in alone if f[1] == "MARKER"]
    supported = entities(nlp, "Serum osteocalcin (OC) was raised. OC correlated with pain.")
    assert [f[2] for f in supported if f[0] == "OC"] == ["osteocalcin", "osteocalcin"]


def test_sample_prefix_glued_to_a_marker_acronym(nlp: Language) -> None:
    found = entities(nlp, "We measured sPICP, uDPD, s-BALP and u-NTX; sOC fell and uPA did not.")
    markers = {f[0]: f[2] for f in found if f[1] == "MARKER"}
    assert markers == {"sPICP": "PICP", "uDPD": "DPD", "s-BALP": "BALP", "u-NTX": "NTX", "sOC": "osteocalcin"}
    extraction = read(nlp, "Bone markers in breast cancer bone metastases",
                      "Results: uNTX was significantly higher in patients with bone metastases than in those "
                      "without (p < 0.001).")
    relation = next(r for r in extraction.relations if r.marker == "NTX")
    assert relation.sample == "urine" and relation.use == "diagnosis"


def test_laboratory_analytes(nlp: Language) -> None:
    found = entities(nlp, "Baseline gamma-glutamyltransferase, serum chloride, haematocrit and the absolute "
                          "lymphocyte count were recorded.")
    markers = {f[2] for f in found if f[1] == "MARKER"}
    assert markers == {"GGT", "chloride", "hematocrit", "lymphocyte count"}


def test_laboratory_short_forms_need_the_full_name(nlp: Language) -> None:
    alone = entities(nlp, "AST, ALT, PT and Na were within range in the ALT trial.")
    assert not [f for f in alone if f[1] == "MARKER"]
    named = entities(nlp, "Serum aspartate aminotransferase (AST) and sodium were recorded; AST was high.")
    assert [f[2] for f in named if f[0] == "AST"] == ["AST", "AST"]


def test_lncrnas_and_blood_variants(nlp: Language) -> None:
    found = entities(nlp, "Serum lncRNA ZFAS9 and NEAT1 were raised. AR-V7 in circulating tumour cells and "
                          "TP53 mutations in plasma ctDNA were detected.")
    markers = {f[2] for f in found if f[1] == "MARKER"}
    assert {"ZFAS9", "NEAT1", "AR-V7", "TP53 mutation"} <= markers
    assert not [f for f in entities(nlp, "Serum lncRNA as a marker.") if f[1] == "MARKER"]
    tumour = entities(nlp, "KRAS mutations were frequent in the primary tumours.")
    assert not [f for f in tumour if f[1] == "MARKER"]


def test_ratios_of_cell_counts_are_markers(nlp: Language) -> None:
    found = entities(nlp, "The neutrophil/lymphocyte (N/L) ratio, NLR, the lymphocyte-to-monocyte ratio and the "
                          "monocyte count were calculated.")
    markers = [f[2] for f in found if f[1] == "MARKER"]
    assert markers == ["NLR", "NLR", "LMR", "monocyte count"]
    extraction = read(nlp, "Inflammation indices in lung cancer with bone metastasis",
                      "Results: A high neutrophil-to-lymphocyte ratio predicted shorter overall survival in "
                      "patients with bone metastases (HR 1.9, p = 0.002).")
    assert ("NLR", "lung", "prognosis") in triples(extraction)


def test_ambiguous_short_form_listed_among_markers_is_kept(nlp: Language) -> None:
    found = entities(nlp, "Serum CaN, OPG and IL-6 were measured by ELISA.")
    assert ("CaN", "calcineurin") in [(f[0], f[2]) for f in found]
    alone = entities(nlp, "CaN and FIB were low.")
    assert not [f for f in alone if f[1] == "MARKER"]


def test_en_dash_in_a_marker_name(nlp: Language) -> None:
    found = entities(nlp, "Serum parathyroid hormone–related peptide was raised.")
    assert [f[2] for f in found if f[1] == "MARKER"] == ["PTHrP"]


def test_short_form_defined_as_something_else_is_not_the_marker(nlp: Language) -> None:
    found = entities(nlp, "Patients received chemotherapy (CTX) for six cycles. CTX was well tolerated.")
    assert not [f for f in found if f[2] == "CTX"]


def test_a_bracketed_short_form_of_a_more_specific_marker_names_it(nlp: Language) -> None:
    found = entities(nlp, "Serum C-terminal telopeptide of type I collagen (ICTP) was measured.")
    assert {f[2] for f in found if f[1] == "MARKER"} == {"ICTP"}
    found = entities(nlp, "Serum bone alkaline phosphatase (ALP) was measured.")  # the name is the specific one
    assert ("bone alkaline phosphatase", "MARKER", "BALP") in [f[:3] for f in found]


def test_the_ligand_of_a_bracketed_receptor_is_the_ligand(nlp: Language) -> None:
    found = entities(nlp, "MIP-1alpha correlated with receptor activator of nuclear factor-kappaB (RANK) ligand.")
    assert {f[2] for f in found if f[1] == "MARKER"} == {"MIP-1alpha", "RANKL"}


def test_the_soluble_receptor_written_after_its_ligand_is_the_receptor(nlp: Language) -> None:
    found = entities(nlp, "Plasma IL-6 and IL-6sR levels were highest in men with bone metastases.")
    assert {f[2] for f in found if f[1] == "MARKER"} == {"IL-6", "sIL-6R"}


def test_hypercalcaemia_is_a_condition_not_a_calcium_measurement(nlp: Language) -> None:
    found = entities(nlp, "SREs included hypercalcemia (2%); serum calcium was higher in men with bone metastases.")
    assert [f[0] for f in found if f[1] == "MARKER"] == ["serum calcium"]


def test_the_entity_finders_output_can_be_serialised(nlp: Language) -> None:
    doc = nlp.make_doc("Serum CTX (C-terminal telopeptide) was higher in breast cancer with bone metastases.")
    with nlp.select_pipes(disable=["miner_relations"]):  # what a worker process would send back
        doc = nlp(doc)
    restored = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    assert [(s.text, s.kb_id_) for s in restored.spans["entities"]] == [("Serum CTX", "CTX"),
                                                                        ("breast cancer", "breast")]


def test_mirna_family_patterns(nlp: Language) -> None:
    found = entities(nlp, "Plasma miR-141-3p, hsa-miR-21 and microRNA-9999 and let-7c were quantified.")
    markers = {f[2] for f in found if f[1] == "MARKER"}
    assert {"miR-141", "miR-21", "miR-9999", "let-7c"} <= markers
    found = entities(nlp, "Serum MIR-21-5P and let-7B were higher.")  # the family letter as written
    assert {f[2] for f in found if f[1] == "MARKER"} >= {"miR-21", "let-7B"}


def test_unknown_marker_in_biomarker_position_is_a_candidate(nlp: Language) -> None:
    extraction = read(nlp, "Serum ZNF999 in prostate cancer bone metastasis",
                      "Serum ZNF999 levels were significantly higher in patients with bone metastases than in "
                      "those without bone metastases (p < 0.001).")
    relation = next(r for r in extraction.relations if r.marker == "ZNF999")
    assert relation.candidate and relation.use == "diagnosis" and relation.cancer == "prostate"


def test_cancer_comes_from_the_title_when_the_sentence_names_none(nlp: Language) -> None:
    extraction = read(nlp, "Bone sialoprotein in renal cell carcinoma with skeletal metastases",
                      "Results: Serum bone sialoprotein showed an AUC of 0.84 for detecting bone metastases.")
    assert triples(extraction) == {("BSP", "renal", "diagnosis")}


@pytest.mark.parametrize(("sentence", "use"), [
    ("Serum PINP discriminated patients with and without bone metastases with a sensitivity of 80%.", "diagnosis"),
    ("High baseline PINP was associated with shorter overall survival in men with bone metastases "
     "(hazard ratio 2.1, p = 0.01).", "prognosis"),
    ("Elevated PINP predicted the development of bone metastases and a shorter time to first skeletal-related "
     "event (p < 0.01).", "risk_prediction"),
    ("PINP declined during treatment with zoledronic acid and its changes tracked the response to therapy of "
     "bone metastases.", "monitoring"),
])
def test_each_use(nlp: Language, sentence: str, use: str) -> None:
    extraction = read(nlp, "Procollagen markers in prostate cancer", f"Results: {sentence}")
    assert ("P1NP", "prostate", use) in triples(extraction)


def test_negated_finding_is_a_refuting_relation(nlp: Language) -> None:
    extraction = read(nlp, "Osteopontin in lung cancer bone metastasis",
                      "Results: Plasma osteopontin did not differ between patients with and without bone "
                      "metastases (p = 0.62).")
    relation = next(r for r in extraction.relations if r.marker == "osteopontin")
    assert (relation.use, relation.finding, relation.sample) == ("diagnosis", "refutes", "plasma")


def test_several_markers_and_a_contrast_in_one_sentence(nlp: Language) -> None:
    extraction = read(nlp, "Bone markers in breast cancer",
                      "Results: Serum CTX and osteocalcin distinguished patients with bone metastases, "
                      "but serum osteoprotegerin did not.")
    findings = {r.marker: r.finding for r in extraction.relations if r.use == "diagnosis"}
    assert findings == {"CTX": "supports", "osteocalcin": "supports", "OPG": "refutes"}


def test_background_sentences_yield_nothing(nlp: Language) -> None:
    extraction = read(nlp, "Bone metastases in prostate cancer",
                      "Background: PSA is widely used to detect bone metastases in prostate cancer. "
                      "Alkaline phosphatase has been reported to predict survival.")
    assert extraction.relations == []


def test_treatment_trial_yields_nothing(nlp: Language) -> None:
    extraction = read(nlp, "A randomized trial of a bone-targeted agent in breast cancer with bone metastases",
                      "Methods: Patients with bone metastases were randomized to two schedules; urinary NTX "
                      "was measured at baseline. Results: The effect of denosumab reduced urinary NTX by 70%.")
    assert extraction.relations == []


def test_abstract_without_bone_context_yields_nothing(nlp: Language) -> None:
    extraction = read(nlp, "Serum markers in ovarian cancer",
                      "Results: CA125 showed an AUC of 0.91 for detecting recurrence (p < 0.001).")
    assert extraction.relations == []
    assert extraction.out_of_scope_reason


def test_a_bone_drug_safety_study_yields_nothing(nlp: Language) -> None:
    extraction = read(nlp, "Baseline ALP and the risk of hypocalcaemia on denosumab in patients with bone metastases",
                      "Results: High ALP was associated with hypocalcaemia in patients with bone metastases from "
                      "prostate cancer (OR 3.1, p < 0.01), and ALP was higher in patients with bone metastases.")
    assert extraction.relations == []
    assert "adverse event" in extraction.out_of_scope_reason


def test_confidence_and_sentence_are_kept(nlp: Language) -> None:
    extraction = read(nlp, "DKK1 in myeloma bone disease",
                      "Conclusions: Serum DKK1 identified patients with lytic bone lesions (AUC 0.8, p < 0.01).")
    relation = extraction.relations[0]
    assert relation.sentence.startswith("Conclusions: Serum DKK1")
    assert 0.6 <= relation.confidence <= 1.0
    assert relation.cues


@pytest.mark.parametrize(("title", "abstract"), [
    ("Serum NTX in breast cancer with bone metastases", ""),
    ("", "NTX."),
    ("One", ""),
    ("", ""),
])
def test_title_only_and_one_sentence_records(nlp: Language, title: str, abstract: str) -> None:
    extraction = read(nlp, title, abstract)
    assert extraction.relations == []


def test_members_of_a_ratio_are_not_evaluated_on_their_own(nlp: Language) -> None:
    extraction = read(nlp, "RANKL and osteoprotegerin in myeloma bone disease",
                      "Results: The sRANKL/OPG ratio predicted overall survival (p = 0.01).")
    assert extraction.relations == []


def test_a_marker_glued_to_a_unit_is_found(nlp: Language) -> None:
    extraction = read(nlp, "Circulating tumour cells in prostate cancer with bone metastases",
                      "Results: Men with 5 or more CTCs/7.5 mL had shorter overall survival (p < 0.001).")
    assert ("CTC", "prostate", "prognosis") in triples(extraction)


def test_change_after_cycles_of_treatment_is_monitoring(nlp: Language) -> None:
    extraction = read(nlp, "Bone alkaline phosphatase in prostate cancer with bone metastases",
                      "Results: A decline in bone alkaline phosphatase after three cycles of docetaxel was seen in "
                      "responders (p = 0.02).")
    assert ("BALP", "prostate", "monitoring") in triples(extraction)


def test_predicting_the_development_of_bone_metastases_is_risk(nlp: Language) -> None:
    extraction = read(nlp, "Plasma osteopontin in breast cancer",
                      "Results: High plasma osteopontin predicted the development of bone metastases during follow-up "
                      "(HR 2.7, p = 0.01).")
    assert triples(extraction) == {("osteopontin", "breast", "risk_prediction")}


def test_an_abstract_naming_no_sample_gets_the_markers_usual_one(nlp: Language) -> None:
    extraction = read(nlp, "Alkaline phosphatase and lymphocyte count in prostate cancer with bone metastases",
                      "In 200 men with bone metastases, high alkaline phosphatase and a low lymphocyte count were "
                      "associated with shorter overall survival (HR 2.1, p < 0.01).")
    samples = {r.marker: r.sample for r in extraction.relations}
    assert samples == {"ALP": "serum", "lymphocyte count": "blood"}
    extraction = read(nlp, "Plasma alkaline phosphatase in prostate cancer with bone metastases",
                      "In 200 men with bone metastases, high alkaline phosphatase was associated with shorter "
                      "overall survival (HR 2.1, p < 0.01).")
    assert {r.sample for r in extraction.relations} == {"plasma"}  # the abstract's own word comes first


def test_symbols_in_biomarker_position_are_found_as_by_the_backtracking_pattern() -> None:
    backtracking = CaselessPattern(CANDIDATE_POSITION.regex.pattern.replace("*+", "*").replace("++", "+"))
    assert backtracking.regex.pattern != CANDIDATE_POSITION.regex.pattern
    texts = ["Serum IL-6 levels and CTX-I-2b concentrations", "serum IL-6_x levels", "a- levels", "IL-6- levels",
             "TNF-\u03b1 levels", "values values levels", "x_y levels", "Soluble RANKL\tconcentration", "9 levels"]
    for text in texts:
        found = [(m.span(), m.lastindex) for m in CANDIDATE_POSITION.finditer(text)]
        assert found == [(m.span(), m.lastindex) for m in backtracking.finditer(text)], text
    assert [texts[0][m.start() : m.end()] for m in CANDIDATE_POSITION.finditer(texts[0])] == ["Serum IL-6", "CTX-I-2b "]


def test_symbols_in_biomarker_position_are_looked_for_where_they_can_start() -> None:
    words = ["serum", "Plasma", "circulating", "urinary", "blood", "soluble", "level", "levels", "Values",
             "concentrations", "expression"]  # the pattern's, written out (not read from the code under test)
    pieces = ["a", "b", "-", " ", "  ", "\n", "\t", "_", "9", "L", "IL-6", "CTX-I-2b", "serum ", "Urine ", *words,
              "\u00a0", "é", "K", "İ", "\u3000"]
    rng = random.Random(5)
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 20))) for _ in range(5000)]
    for text in ["Serum IL-6 levels and CTX-I-2b concentrations", "IL-6- levels", "a-b-c \u00a0levels", *texts]:
        expected = [(m.span(), m.groups()) for m in CANDIDATE_POSITION.finditer(text)]
        assert [(m.span(), m.groups()) for m in CANDIDATE_POSITION.finditer_from(text, candidate_starts)] == expected
