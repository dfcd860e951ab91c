"""The store's table objects, without spaCy: articles by content hash, evidence upserts that keep the run
that first found a row, the summary, runs and ingested files."""

from __future__ import annotations

from pathlib import Path

import pytest

from miner.pubmed import Article, parse_bytes
from miner.runs import Interrupted, job
from miner.standin import article_xml, pubmed_set
from miner.store import Abstract, Store


def articles(*records: tuple[str, str]) -> list[Article]:
    xml = pubmed_set(article_xml(pmid, f"Study {pmid}", text) for pmid, text in records)
    return [r for r in parse_bytes(xml.encode()) if isinstance(r, Article)]


def evidence(pmid: str, marker: str, finding: str = "supports", run_id: int = 1, extractor: str = "x",
             sentence: str = "") -> dict:
    return {"pmid": pmid, "marker": marker, "marker_surface": marker, "marker_category": "bone_resorption",
            "candidate": 0, "cancer": "prostate", "use": "diagnosis", "finding": finding, "direction": "up",
            "sample": "serum", "confidence": 0.9, "sentence": sentence or f"{marker} was higher.",
            "sentence_start": 0, "sentence_end": 20, "cues": "[]", "extractor_version": extractor, "run_id": run_id}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store.db")


def test_articles_are_new_unchanged_or_revised_by_content(store: Store) -> None:
    first = store.articles.save(articles(("1", "Serum CTX."), ("2", "Serum NTX.")), run_id=1)
    assert (first.counts.new, first.new) == (2, ["1", "2"])
    second = store.articles.save(articles(("1", "Serum CTX."), ("2", "Serum NTX was higher.")), run_id=2)
    assert (second.counts.unchanged, second.counts.updated, second.revised) == (1, 1, ["2"])
    assert store.articles.texts(["2"]) == [Abstract("2", "Study 2", "Serum NTX was higher.")]
    assert store.articles.text("9") is None


def test_needing_extraction_is_one_query_for_all_and_for_some(store: Store) -> None:
    store.articles.save(articles(("1", "a"), ("2", "b"), ("3", "c")), run_id=1)
    store.evidence.replace([], {"1": []}, "fp", set())
    assert store.articles.needing_extraction("fp") == ["2", "3"]
    assert store.articles.needing_extraction("fp", everything=True) == ["1", "2", "3"]
    assert store.articles.needing_extraction("fp", among=["1", "3"]) == ["3"]
    assert store.articles.needing_extraction("other", among=[]) == []
    assert store.articles.mark_deleted(["3"], run_id=2) == 1
    assert store.articles.needing_extraction("fp") == ["2"]


def test_evidence_keeps_the_run_that_first_found_a_row(store: Store) -> None:
    store.articles.save(articles(("1", "a")), run_id=1)
    assert store.evidence.replace([], {"1": [evidence("1", "CTX"), evidence("1", "NTX")]}, "x", set()) == 2
    again = {"1": [evidence("1", "CTX", run_id=2), evidence("1", "NTX", "refutes", run_id=2)]}
    assert store.evidence.replace([], again, "x", {("PINP", "candidate")}) == 1
    store.refresh_summary()
    rows = {r.marker: r for r in store.evidence.rows()}
    assert (rows["CTX"].run_id, rows["NTX"].run_id, rows["NTX"].finding) == (1, 2, "refutes")
    assert [e.marker for e in store.evidence.since(1)] == ["NTX"]
    assert store.evidence.keys_until(1) == {("CTX", "prostate", "diagnosis")}
    summary = store.summary.snapshot()
    assert summary[("CTX", "prostate", "diagnosis")].supporting == 1
    assert summary[("NTX", "prostate", "diagnosis")].refuting == 1
    assert store.lexicons.candidates() == {"PINP"}
    store.articles.save(articles(("1", "a, revised")), run_id=3)
    assert store.articles.needing_extraction("x") == ["1"]  # kept until the revision is re-extracted
    store.evidence.replace([], {"1": []}, "x", set())
    store.refresh_summary()
    assert list(store.evidence.rows()) == [] and store.summary.rows() == []


def test_a_new_extractor_moves_a_row_only_when_its_finding_changed(store: Store) -> None:
    store.articles.save(articles(("1", "a")), run_id=1)
    store.evidence.replace([], {"1": [evidence("1", "CTX"), evidence("1", "NTX")]}, "x", set())
    again = [evidence("1", "CTX", run_id=2, extractor="y", sentence="CTX rose."),
             evidence("1", "NTX", "refutes", run_id=2, extractor="y")]
    assert store.evidence.replace([], {"1": again}, "y", set()) == 1
    rows = {r.marker: r for r in store.evidence.rows()}
    assert [(r.run_id, r.extractor_version, r.sentence) for r in rows.values()] == [
        (1, "y", "CTX rose."), (2, "y", "NTX was higher.")]


def test_a_job_records_its_run_whatever_happens(store: Store) -> None:
    with job(store, "fetch", fingerprint="fp", query="bone") as ctx:
        ctx.counts.new = 3
    with pytest.raises(Interrupted), job(store, "extract"):
        raise Interrupted("stopped")
    with pytest.raises(ValueError), job(store, "ingest"):
        raise ValueError("broken file")
    runs = store.runs.recent()
    assert [(r.command, r.status) for r in runs] == [("ingest", "failed"), ("extract", "interrupted"),
                                                    ("fetch", "done")]
    assert runs[2].counts.new == 3 and runs[2].extractor_version == "fp" and runs[0].message == "broken file"
    assert store.runs.last_full_fetch("bone") == runs[2].started and store.runs.exists(3)
    assert not store.runs.exists(4)


def test_files_done_by_content_and_key(store: Store) -> None:
    store.files.record("a.xml", "abc", 10, "fp|filter=all", run_id=1)
    assert store.files.done("abc", "fp|filter=all") and not store.files.done("abc", "other")


def test_a_read_only_store_writes_nothing(store: Store) -> None:
    store.articles.save(articles(("1", "a")), run_id=1)
    store.checkpoint()
    reader = Store(store.path, write=False)
    assert reader.status().articles == 1
    with pytest.raises(Exception, match="readonly"):
        reader.articles.save(articles(("2", "b")), run_id=2)
