"""Look at the review pages in headless Chromium (Debian's `chromium`): serves a database with `miner serve`,
prints how many printed pages each review page takes and writes screenshots to outputs/screenshots/ (not
committed).  python3 bench/pages.py [DB]   (default: a database built from ../shared/corpus, else from the
tests' invented records)."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_review_pages import browse  # noqa: E402 - the same headless Chromium call as the test

SHOTS = ROOT / "outputs" / "screenshots"
PAGES = {
    "summary": "evidence_summary",
    "summary-prostate": "markers_for_cancer_and_use?cancer=Prostate&use=Diagnosis",
    "evidence": "evidence?_sort_desc=confidence",
    "search": "articles?_search=osteopontin+OR+periostin",
    "article": "articles/{pmid}",
}


def build(tmp: Path) -> Path:
    db = tmp / "pages.db"
    corpus = sorted((ROOT.parent / "shared" / "corpus").glob("*_pubmed.xml"))
    if not corpus:
        from miner.standin import article_xml, pubmed_set
        from tests.test_table import ARTICLES

        xml = tmp / "articles.xml"
        xml.write_text(pubmed_set(article_xml(p, t, a, year=y) for p, y, t, a in ARTICLES))
        corpus = [xml]
    subprocess.run([sys.executable, "-m", "miner", "ingest", *map(str, corpus), "--db", str(db), "-q"], check=True)
    return db


def main() -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        sys.exit("pages: install headless Chromium first (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(sys.argv[1]) if len(sys.argv) > 1 else build(Path(tmp))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen([sys.executable, "-m", "miner", "serve", "--db", str(db), "--port", str(port)],
                                  stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}/{db.stem}"
        try:
            for _ in range(100):
                try:
                    with urllib.request.urlopen(f"{base}.json?sql=select+max(pmid)+from+evidence&_shape=arrays",  # noqa: S310
                                                timeout=5) as reply:
                        pmid = re.search(rb'"(\d+)"', reply.read()).group(1).decode()  # type: ignore[union-attr]
                    break
                except OSError:
                    time.sleep(0.2)
            SHOTS.mkdir(parents=True, exist_ok=True)
            for name, page in PAGES.items():
                url = f"{base}/{page.format(pmid=pmid)}"
                pdf = Path(tmp) / f"{name}.pdf"
                browse(browser, url, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
                pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
                browse(browser, url, f"--screenshot={SHOTS / name}.png", "--window-size=1400,1000")
                print(f"{name:<18}{pages:>3} printed pages  {SHOTS / name}.png  ({url})")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
