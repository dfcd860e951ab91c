"""Bulk ingestion of baseline-style files: workers, Dask, resumption, update files, the filter."""

from __future__ import annotations

import gzip
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from miner.cli import cli
from miner.standin import article_xml, pubmed_set

TOPICS = [
    ("Serum {m} in prostate cancer with bone metastases",
     "Results: Serum {m} was significantly higher in patients with bone metastases than in those without "
     "(p < 0.01)."),
    ("{m} and survival in breast cancer with skeletal metastases",
     "Results: High serum {m} was associated with shorter overall survival (hazard ratio 1.8, p = 0.02)."),
    ("Diet and exercise in healthy adults", "Results: Walking improved mood in 200 volunteers."),
]
MARKERS = ["NTX", "bone sialoprotein", "osteopontin", "PINP", "sclerostin", "CEA"]


def record(pmid: int, revision: int = 0) -> str:
    title, abstract = TOPICS[pmid % 3]
    marker = MARKERS[(pmid + revision) % len(MARKERS)]
    return article_xml(str(pmid), title.format(m=marker), abstract.format(m=marker), year=2000 + pmid % 20)


def baseline(folder: Path, files: int = 4, per_file: int = 30) -> list[Path]:
    paths = []
    for f in range(files):
        path = folder / f"pubmed26n{f + 1:04d}.xml.gz"
        start = 1000 + f * per_file
        path.write_bytes(gzip.compress(pubmed_set(record(p) for p in range(start, start + per_file)).encode()))
        paths.append(path)
    return paths


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def state(db: Path) -> tuple[list, list]:
    with sqlite3.connect(db) as conn:
        return (conn.execute("select pmid, content_hash, status from articles order by pmid").fetchall(),
                conn.execute("select pmid, marker, cancer, use, finding, sentence from evidence "
                             "order by pmid, marker, cancer, use").fetchall())


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    return baseline(tmp_path)


def test_one_worker_extracts_everything(files: list[Path], tmp_path: Path) -> None:
    db = tmp_path / "one.db"
    result = invoke("ingest", *map(str, files), "--db", str(db), "--workers", "1")
    assert result.exit_code == 0, result.output
    articles, evidence = state(db)
    assert len(articles) == 120
    assert len(evidence) == 80  # two of the three topics carry a relation
    again = invoke("ingest", *map(str, files), "--db", str(db), "--workers", "1")
    assert "0 files read" in again.output and "4 already ingested" in again.output


def test_two_workers_give_the_same_database(files: list[Path], tmp_path: Path) -> None:
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    invoke("ingest", *map(str, files), "--db", str(one), "--workers", "1")
    invoke("ingest", *map(str, files), "--db", str(two), "--workers", "2")
    assert state(one) == state(two)


def test_dask_local_cluster_gives_the_same_database(files: list[Path], tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    one, cluster_db = tmp_path / "one.db", tmp_path / "dask.db"
    invoke("ingest", *map(str, files), "--db", str(one), "--workers", "1")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        result = invoke("ingest", *map(str, files), "--db", str(cluster_db), "--dask", lc.scheduler_address)
    assert result.exit_code == 0, result.output
    assert state(one) == state(cluster_db)


def test_unreachable_dask_scheduler(files: list[Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["ingest", str(files[0]), "--db", str(tmp_path / "x.db"),
                                      "--dask", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1 and "cannot reach the Dask scheduler" in result.output


def test_a_corrupt_file_is_reported_and_the_others_land(files: list[Path], tmp_path: Path) -> None:
    corrupt = tmp_path / "pubmed26n0099.xml.gz"
    corrupt.write_bytes(gzip.compress(pubmed_set(record(p) for p in range(5000, 5030)).encode())[:500])
    db = tmp_path / "ev.db"
    result = CliRunner().invoke(cli, ["ingest", str(files[0]), str(corrupt), str(files[1]), "--db", str(db),
                                      "--workers", "2"])
    assert result.exit_code == 1 and "pubmed26n0099.xml.gz" in result.output
    assert len(state(db)[0]) == 60


def test_update_files_give_the_final_state(files: list[Path], tmp_path: Path) -> None:
    update = tmp_path / "pubmed26n1001.xml.gz"
    deleted = ["1003", "1040"]
    update.write_bytes(gzip.compress(pubmed_set(
        [record(1000, revision=1), record(1002, revision=2), record(9001)]
        + [f'<DeleteCitation><PMID Version="1">{p}</PMID></DeleteCitation>' for p in deleted]).encode()))
    db = tmp_path / "updated.db"
    invoke("ingest", *map(str, files), "--db", str(db))
    result = invoke("ingest", str(update), "--db", str(db))
    assert "updated 2" in result.output and "deleted 2" in result.output
    # the final state ingested directly
    final = tmp_path / "final.xml.gz"
    survivors = [p for p in range(1000, 1120) if str(p) not in deleted]
    revision = {1000: 1, 1002: 2}
    final.write_bytes(gzip.compress(pubmed_set(
        [record(p, revision.get(p, 0)) for p in survivors] + [record(9001)]).encode()))
    direct = tmp_path / "direct.db"
    invoke("ingest", str(final), "--db", str(direct))
    articles, evidence = state(db)
    direct_articles, direct_evidence = state(direct)
    assert [a for a in articles if a[2] == "active"] == direct_articles
    assert {a[0] for a in articles if a[2] == "deleted"} == set(deleted)
    assert evidence == direct_evidence


def test_filter_query_keeps_the_bone_metastasis_records(files: list[Path], tmp_path: Path) -> None:
    db = tmp_path / "filtered.db"
    result = invoke("ingest", *map(str, files), "--db", str(db), "--filter", "query", "--no-extract")
    assert result.exit_code == 0
    articles, evidence = state(db)
    assert len(articles) == 80 and evidence == []


def test_a_killed_bulk_run_resumes(tmp_path: Path) -> None:
    files = baseline(tmp_path, files=6, per_file=60)
    reference = tmp_path / "reference.db"
    invoke("ingest", *map(str, files), "--db", str(reference), "--workers", "1")
    db = tmp_path / "killed.db"
    command = [sys.executable, "-m", "miner", "ingest", *map(str, files), "--db", str(db), "--workers", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(400):
        time.sleep(0.05)
        if db.exists():
            try:
                with sqlite3.connect(db) as conn:
                    if conn.execute("select count(*) from ingested_files").fetchone()[0] >= 2:
                        break
            except sqlite3.Error:
                continue
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert subprocess.run(command, capture_output=True, check=False).returncode == 0
    assert state(db) == state(reference)


def test_force_processes_an_ingested_file_again(files: list[Path], tmp_path: Path) -> None:
    db = tmp_path / "ev.db"
    invoke("ingest", str(files[0]), "--db", str(db), "--no-extract")
    again = invoke("ingest", str(files[0]), "--db", str(db), "--no-extract", "--force")
    assert "1 files read" in again.output and "unchanged 30" in again.output
