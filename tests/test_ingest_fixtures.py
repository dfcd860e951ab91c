"""Ingest and status on the project's own fixtures (XML with markup, MathML, retraction notices; MEDLINE
text), through the installed command, so that a fresh clone without ../shared tests them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def miner(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "miner", *args], capture_output=True, text=True, check=False)


def test_ingest_own_fixtures_and_status(tmp_path: Path) -> None:
    db = str(tmp_path / "own.db")
    files = [str(FIXTURES / name) for name in ("efetch_markup.xml", "efetch_2019.xml", "medline.txt")]
    done = miner("ingest", *files, "--db", db, "--no-extract")
    assert done.returncode == 0, done.stderr
    info = json.loads(miner("status", "--db", db, "--json").stdout)
    # 39000102 has a retraction notice without a PMID; 39000301 is retracted by 39000399 (MEDLINE RIN/ROF)
    assert info["articles"] == 5 and info["by_status"] == {"active": 3, "retracted": 2}
    again = miner("ingest", *files, "--db", db, "--no-extract")
    assert again.returncode == 0
    assert json.loads(miner("status", "--db", db, "--json").stdout)["articles"] == 5
