"""`miner run`, `extract`, `export`, `evaluate` and `explain` as a user runs them."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from click.testing import CliRunner, Result
from spacy.training import Example

from miner.cli import cli
from miner.standin import StandIn, article_xml, pubmed_set

from .conftest import shared_file

ABSTRACTS = {
    "101": ("Serum bone sialoprotein in prostate cancer with bone metastases",
            "Results: Serum bone sialoprotein (BSP) was significantly higher in patients with bone metastases "
            "than in those without bone metastases (p < 0.001), with an AUC of 0.86."),
    "102": ("Alkaline phosphatase and survival in lung cancer with skeletal metastases",
            "Results: High serum alkaline phosphatase was associated with shorter overall survival "
            "(hazard ratio 1.9, p = 0.003)."),
    "103": ("Denosumab dosing schedules in breast cancer",
            "Patients with bone metastases were randomized to two schedules. Pain scores were recorded."),
}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def dev_like(tmp_path: Path) -> Path:
    xml = tmp_path / "three.xml"
    xml.write_text(pubmed_set(article_xml(p, t, a) for p, (t, a) in ABSTRACTS.items()))
    return xml


def test_run_fetches_extracts_and_stores_evidence(standin: StandIn, cli_env: dict, tmp_path: Path) -> None:
    from datetime import date

    for pmid, (title, abstract) in ABSTRACTS.items():
        standin.add(pmid, article_xml(pmid, title, abstract), edat=date(2021, 1, int(pmid) - 100))
    db = tmp_path / "ev.db"
    result = invoke("run", "--query", "cancer", "--db", str(db))
    assert result.exit_code == 0, result.output
    assert "extracted 3" in result.output
    evidence = rows(db, "select pmid, marker, cancer, use, finding, sentence_start < sentence_end from evidence "
                        "order by pmid")
    assert evidence == [("101", "BSP", "prostate", "diagnosis", "supports", 1),
                        ("102", "ALP", "lung", "prognosis", "supports", 1)]
    assert rows(db, "select count(*) from articles where extracted_with is not null") == [(3,)]


def test_extract_is_idempotent_and_only_does_new_work(dev_like: Path, tmp_path: Path) -> None:
    db = tmp_path / "ev.db"
    invoke("ingest", str(dev_like), "--db", str(db), "--no-extract")
    first = invoke("extract", "--db", str(db))
    assert "extract: 3 articles" in first.output
    before = rows(db, "select * from evidence order by id")
    again = invoke("extract", "--db", str(db))
    assert "extract: 0 articles" in again.output
    assert rows(db, "select * from evidence order by id") == before
    everything = invoke("extract", "--db", str(db), "--all")
    assert "extract: 3 articles, 0 evidence rows new or changed" in everything.output
    assert rows(db, "select * from evidence order by id") == before


def test_two_processes_extract_the_same_evidence(dev_like: Path, tmp_path: Path) -> None:
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    for db, n in ((one, "1"), (two, "2")):
        invoke("ingest", str(dev_like), "--db", str(db), "--no-extract")
        assert invoke("extract", "--db", str(db), "--n-process", n).exit_code == 0
    query = "select pmid, marker, cancer, use, finding, sentence from evidence order by pmid, marker, use"
    assert rows(one, query) == rows(two, query) != []


def test_a_changed_extractor_fingerprint_re_extracts(dev_like: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "ev.db"
    invoke("ingest", str(dev_like), "--db", str(db), "--no-extract")
    invoke("extract", "--db", str(db))
    monkeypatch.setattr("miner.nlp.pipeline.EXTRACTOR_VERSION", "test-next")
    result = invoke("extract", "--db", str(db))
    assert "extract: 3 articles" in result.output
    assert rows(db, "select distinct extractor_version like 'test-next:%' from evidence") == [(1,)]


def test_a_revised_article_replaces_its_evidence(tmp_path: Path) -> None:
    db = tmp_path / "ev.db"
    first = tmp_path / "v1.xml"
    title, abstract = ABSTRACTS["101"]
    first.write_text(pubmed_set([article_xml("101", title, abstract)]))
    invoke("ingest", str(first), "--db", str(db))
    invoke("extract", "--db", str(db))
    second = tmp_path / "v2.xml"
    second.write_text(pubmed_set([article_xml("101", title.replace("bone sialoprotein", "osteopontin"),
                                              abstract.replace("bone sialoprotein (BSP)", "osteopontin"))]))
    invoke("ingest", str(second), "--db", str(db))
    invoke("extract", "--db", str(db))
    assert rows(db, "select marker from evidence") == [("osteopontin",)]


def test_an_article_the_extractor_cannot_read_is_skipped_and_left_pending(
        dev_like: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import miner.nlp.pipeline as pipeline

    real = pipeline.find_relations

    def failing(entities, lexicon, title_end, text, sentences):  # noqa: ANN001, ANN202
        if "Alkaline phosphatase" in text:
            raise RuntimeError("simulated extractor bug")
        return real(entities, lexicon, title_end, text, sentences)

    monkeypatch.setattr(pipeline, "find_relations", failing)
    db = tmp_path / "ev.db"
    invoke("ingest", str(dev_like), "--db", str(db), "--no-extract")
    result = invoke("extract", "--db", str(db))
    assert result.exit_code == 0 and "PMID 102 could not be extracted" in result.output
    assert rows(db, "select pmid from evidence") == [("101",)]
    assert rows(db, "select pmid from articles where extracted_with is null") == [("102",)]


def test_export_jsonl_and_csv(dev_like: Path, tmp_path: Path) -> None:
    db = tmp_path / "ev.db"
    invoke("ingest", str(dev_like), "--db", str(db))
    invoke("extract", "--db", str(db))
    out = tmp_path / "ev.jsonl"
    assert "export: 2 rows" in invoke("export", "--db", str(db), "--format", "jsonl", "--out", str(out)).output
    provenance, first = (json.loads(line) for line in out.read_text().splitlines()[:2])
    assert {"date", "database", "query", "last run", "extractor"} <= set(provenance["provenance"])
    assert {"pmid", "marker", "cancer", "use", "finding", "sentence", "confidence"} <= set(first)
    csv_out = tmp_path / "ev.csv"
    invoke("export", "--db", str(db), "--format", "csv", "--out", str(csv_out), "--use", "prognosis")
    lines = csv_out.read_text().splitlines()
    assert lines[0].startswith("pmid,marker") and len(lines) == 2 and ",ALP," in lines[1]


def test_explain_text_shows_entities_cues_and_rejections(tmp_path: Path) -> None:
    result = invoke("explain", "--text", "Serum OC in breast cancer bone metastases\n"
                    "Results: NTX was higher in patients with bone metastases than without (p < 0.01).",
                    "--db", str(tmp_path / "none.db"))
    assert result.exit_code == 0
    out = result.output
    assert "'NTX' → NTX [MARKER] via lexicon" in out
    assert "'OC' as osteocalcin [MARKER]: ambiguous short form" in out
    assert "NTX | breast | diagnosis | supports" in out
    assert "(result)" in out and "cues: diagnosis:" in out


def test_explain_a_stored_pmid_and_a_silent_one(dev_like: Path, tmp_path: Path) -> None:
    db = tmp_path / "ev.db"
    invoke("ingest", str(dev_like), "--db", str(db))
    assert "BSP | prostate | diagnosis" in invoke("explain", "--pmid", "101", "--db", str(db)).output
    silent = invoke("explain", "--pmid", "103", "--db", str(db)).output
    assert "Relations stored:\n  none" in silent


def test_explain_fetches_an_absent_pmid(standin: StandIn, cli_env: dict, tmp_path: Path) -> None:
    from datetime import date

    title, abstract = ABSTRACTS["102"]
    standin.add("102", article_xml("102", title, abstract), edat=date(2020, 1, 1))
    result = invoke("explain", "--pmid", "102", "--db", str(tmp_path / "empty.db"))
    assert "ALP | lung | prognosis" in result.output
    assert standin.requests_to("efetch") == 1


def test_explain_needs_one_of_pmid_or_text() -> None:
    result = CliRunner().invoke(cli, ["explain"])
    assert result.exit_code == 2 and "give --pmid or --text" in result.output


def test_evaluate_agrees_with_the_shared_scorer(tmp_path: Path) -> None:
    gold = shared_file("eval/dev_gold.jsonl")
    xml = shared_file("corpus/dev_pubmed.xml")
    db = tmp_path / "dev.db"
    invoke("ingest", str(xml), "--db", str(db), "--no-extract")
    invoke("extract", "--db", str(db))
    ours = json.loads(invoke("evaluate", "--gold", str(gold), "--db", str(db), "--json").output)
    out = tmp_path / "ev.jsonl"
    invoke("export", "--db", str(db), "--format", "jsonl", "--out", str(out))
    scorer = subprocess.run([sys.executable, str(gold.parent / "score.py"), str(gold), str(out), "--json"],
                            capture_output=True, text=True, check=True)
    theirs = json.loads(scorer.stdout)
    for level in ("marker", "marker+cancer", "marker+cancer+use"):
        assert (ours[level]["tp"], ours[level]["fp"], ours[level]["fn"]) == (
            theirs[level]["tp"], theirs[level]["fp"], theirs[level]["fn"])
    # the dev-set targets of the extraction issue
    assert ours["marker+cancer+use"]["f1"] >= 0.75 and ours["marker+cancer+use"]["precision"] >= 0.80
    assert ours["marker"]["f1"] >= 0.90


def test_a_tiny_statistical_ner_model_adds_candidates(tmp_path: Path) -> None:
    """The --ner-model path with a spaCy NER model trained here on made-up gene names."""
    model = spacy.blank("en")
    ner = model.add_pipe("ner")
    ner.add_label("GENE_OR_GENE_PRODUCT")
    names = ["QKZ7", "WXP3", "TRVQ9", "ZZB1"]
    train = []
    for name in names:
        for template in ("Levels of {} rose after surgery.", "We saw {} in the cohort.", "{} was high."):
            text = template.format(name)
            start = text.index(name)
            train.append((text, {"entities": [(start, start + len(name), "GENE_OR_GENE_PRODUCT")]}))
    optimizer = model.initialize(lambda: [Example.from_dict(model.make_doc(t), a) for t, a in train])
    random.seed(0)
    for _ in range(30):
        random.shuffle(train)
        for text, gold in train:
            model.update([Example.from_dict(model.make_doc(text), gold)], sgd=optimizer, drop=0.1)
    path = tmp_path / "tiny_ner"
    model.to_disk(path)
    result = invoke("explain", "--ner-model", str(path), "--db", str(tmp_path / "x.db"), "--text",
                    "QKZ7 in prostate cancer bone metastases\nResults: QKZ7 was higher in patients with bone "
                    "metastases than in those without (p < 0.01).")
    assert result.exit_code == 0, result.output
    assert "'QKZ7' → QKZ7 [MARKER] via model (candidate, not in the lexicon)" in result.output
    assert "QKZ7 | prostate | diagnosis" in result.output


def test_an_unknown_ner_model_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["explain", "--ner-model", "en_no_such_model", "--text", "a\nb",
                                      "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2 and "cannot load the NER model" in result.output


def test_evaluate_lists_errors(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"pmid": "101", "relations": [
        {"marker": "BSP", "cancer": "prostate", "use": "diagnosis"},
        {"marker": "PSA", "cancer": "prostate", "use": "monitoring"}]}) + "\n")
    xml = tmp_path / "one.xml"
    xml.write_text(pubmed_set([article_xml("101", *ABSTRACTS["101"])]))
    db = tmp_path / "ev.db"
    invoke("ingest", str(xml), "--db", str(db))
    result = invoke("evaluate", "--gold", str(gold), "--db", str(db), "--show-errors", "5")
    assert "missed: 101/PSA/prostate/monitoring" in result.output
    assert "marker+cancer+use       1.000  0.500  0.667" in result.output
