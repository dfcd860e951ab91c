"""Datasette for reviewing: PMIDs link to PubMed, readable names, compact records, full-text search with OR
and quotes, canned queries that take any name, live by default; and the pages in headless Chromium."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from miner.cli import cli
from miner.datasette_plugin import miner_name, render_cell
from miner.serve import datasette_for
from miner.standin import article_xml, pubmed_set
from tests.test_table import db, free_port  # noqa: F401 - the fixture: BSP/prostate (3 articles), ALP/lung

__all__ = ["db"]


def get(path: Path, url: str, immutable: bool = False) -> tuple[int, str]:
    async def fetch() -> tuple[int, str]:
        reply = await datasette_for(path, immutable).client.get(url)
        return reply.status_code, reply.text

    return asyncio.run(fetch())


def test_pmids_link_to_pubmed_and_names_read_well(db: Path) -> None:  # noqa: F811
    _, page = get(db, "/ev/evidence?marker=BSP")  # pmid: a foreign key, labelled with the article's title
    assert ('<a href="https://pubmed.ncbi.nlm.nih.gov/201/">201</a> <a class="article" href="/ev/articles/201">'
            "Serum bone sialoprotein in prostate cancer with bone metastases</a>") in page
    _, rows = get(db, "/ev/evidence?cancer=lung")  # cancer: a foreign key to cancers
    assert '<a href="/ev/cancers/lung">lung</a>' in rows
    _, summary = get(db, "/ev/evidence_summary")
    assert re.search(r'<td class="col-pmids[^"]*">(<a href="https://pubmed\.ncbi\.nlm\.nih\.gov/\d+/">\d+</a> ?){3}',
                     summary)
    assert "/-/miner/review.css" in summary
    assert str(render_cell(None, "multiple_myeloma", "cancer", "summary", "ev", None)) == "multiple myeloma"
    assert str(render_cell(None, "serum,bone_marrow", "samples", "summary", "ev", None)) == "serum, bone marrow"
    assert render_cell(None, "multiple_myeloma", "marker", "summary", "ev", None) is None


def test_the_stylesheet_is_served(db: Path) -> None:  # noqa: F811
    status, css = get(db, "/-/miner/review.css")
    assert status == 200 and "col-sentence" in css


def test_an_article_is_one_compact_column_with_links(db: Path) -> None:  # noqa: F811
    status, page = get(db, "/ev/articles/201")
    assert status == 200 and 'class="miner-record"' in page
    # one field a line, not one row of 25 columns
    assert page.count("<tr>") < 40 and '<table class="rows-and-columns">' not in page
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/201/">PubMed</a>' in page
    assert "/ev/evidence?pmid=201" in page


@pytest.mark.parametrize(("search", "pmids"), [
    ("sialoprotein OR phosphatase", ["201", "202", "203", "204"]),
    ('"skeletal metastases"', ["202", "204"]),
    ("sialoprotein NOT detecting", ["201", "203"]),
])
def test_search_understands_or_and_quotes(db: Path, search: str, pmids: list[str]) -> None:  # noqa: F811
    from urllib.parse import quote

    _, body = get(db, f"/ev/articles.json?_search={quote(search)}&_shape=array&_col=pmid")
    assert sorted(re.findall(r'"pmid": "(\d+)"', body)) == pmids


@pytest.mark.parametrize(("query", "expected"), [
    ("markers_for_cancer_and_use.json?cancer=Prostate&use=Diagnosis", ['"BSP"']),
    ("markers_for_cancer_and_use.json?cancer=prostate%20cancer&use=diagnostic", ['"BSP"']),
    ("evidence_for_marker.json?marker=bone%20sialoprotein", ['"201"', '"202"', '"203"']),
])
def test_canned_queries_take_any_name(db: Path, query: str, expected: list[str]) -> None:  # noqa: F811
    _, body = get(db, f"/ev/{query}&_shape=array")
    for value in expected:
        assert value in body
    assert miner_name("cancers", "PCa") == "prostate" and miner_name("cancers", "nothing") == "nothing"


def test_served_live_a_refresh_shows_at_once(db: Path, tmp_path: Path) -> None:  # noqa: F811
    ds = datasette_for(db)

    async def count() -> str:
        return (await ds.client.get("/ev.json?sql=select+count(*)+as+n+from+evidence&_shape=array")).text

    before = asyncio.run(count())
    more = tmp_path / "more.xml"
    more.write_text(pubmed_set([article_xml("205", "Osteopontin in breast cancer with bone metastases",
                                            "Results: Serum osteopontin was significantly higher in patients with "
                                            "bone metastases than in those without (p < 0.001).")]))
    CliRunner().invoke(cli, ["ingest", str(more), "--db", str(db)], catch_exceptions=False)
    assert asyncio.run(count()) != before
    assert not datasette_for(db, immutable=True).databases["ev"].is_mutable


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium)")
    return found


def browse(browser: str, url: str, *args: str) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                        f"--user-data-dir={profile}", *args, url], capture_output=True, timeout=60, check=True)


def test_pages_in_headless_chromium(db: Path, tmp_path: Path) -> None:  # noqa: F811
    browser = chromium()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "miner", "serve", "--db", str(db), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/ev"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=5)  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.1)
        pdf, png = tmp_path / "article.pdf", tmp_path / "summary.png"
        browse(browser, f"{base}/articles/201", f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
        assert len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes())) == 1  # an article fits on one page
        browse(browser, f"{base}/evidence_summary", f"--screenshot={png}", "--window-size=1400,1000")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    finally:
        server.terminate()
        server.wait(timeout=10)
