"""How the mined evidence compares with the review's table, and what is new since a run."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from miner.config import corpus_path
from miner.nlp.lexicon import load_lexicon
from miner.store import Store

Key = tuple[str, str, str]


@dataclass
class SummaryRow:
    marker: str
    category: str
    cancer: str
    use: str
    articles: int
    supporting: int
    refuting: int
    pmids: list[str]


@dataclass
class Comparison:
    supported: list[SummaryRow] = field(default_factory=list)
    not_found: list[Key] = field(default_factory=list)
    new: list[SummaryRow] = field(default_factory=list)
    reference_rows: int = 0


def read_reference(path: Path | None = None) -> set[Key]:
    """(marker, cancer, use) rows of a reference table (CSV with those columns), names normalised."""
    lexicon = load_lexicon()
    path = path or corpus_path("reference.csv")
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"marker", "cancer", "use"} <= set(reader.fieldnames):
                raise ValueError(f"{path} needs the columns marker, cancer, use")
            return {(lexicon.marker_for(r["marker"]) or r["marker"].strip(),
                     lexicon.cancer_for(r["cancer"]) or r["cancer"].strip(), r["use"].strip()) for r in reader}
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None


def summary_rows(store: Store, where: str = "1", args: list | None = None) -> list[SummaryRow]:
    return [
        SummaryRow(r["marker"], r["category"] or "", r["cancer"], r["use"], r["articles"], r["supporting"],
                   r["refuting"], (r["pmids"] or "").split())
        for r in store.db.query(f"select * from evidence_summary where {where}", args or [])
    ]


def compare(store: Store, reference: set[Key], min_articles: int = 1) -> Comparison:
    rows = {(r.marker, r.cancer, r.use): r for r in summary_rows(store) if r.articles >= min_articles}
    result = Comparison(reference_rows=len(reference))
    result.supported = sorted((rows[k] for k in reference if k in rows),
                              key=lambda r: (-r.supporting, -r.articles, r.marker))
    result.not_found = sorted(reference - rows.keys())
    result.new = sorted((r for k, r in rows.items() if k not in reference),
                        key=lambda r: (-r.supporting, -r.articles, r.marker))
    return result


def comparison_markdown(result: Comparison, reference_name: str) -> str:
    lines = [f"# Mined evidence compared with the review's table ({reference_name})", "",
             f"{len(result.supported)} of {result.reference_rows} reference rows are supported by mined evidence; "
             f"{len(result.not_found)} are not found; {len(result.new)} (marker, cancer, use) rows are new.", "",
             "## Reference rows supported", "", "| marker | cancer | use | articles | supporting | refuting | PMIDs |",
             "|---|---|---|---:|---:|---:|---|"]
    lines += [f"| {r.marker} | {r.cancer} | {r.use} | {r.articles} | {r.supporting} | {r.refuting} | "
              f"{pmid_links(r.pmids)} |" for r in result.supported]
    lines += ["", "## Reference rows not found in the mined literature", "",
              "| marker | cancer | use |", "|---|---|---|"]
    lines += [f"| {m} | {c} | {u} |" for m, c, u in result.not_found]
    lines += ["", "## New rows the literature supports but the reference lacks (by evidence)", "",
              "| marker | category | cancer | use | articles | supporting | PMIDs |", "|---|---|---|---|---:|---:|---|"]
    lines += [f"| {r.marker} | {r.category} | {r.cancer} | {r.use} | {r.articles} | {r.supporting} | "
              f"{pmid_links(r.pmids)} |" for r in result.new]
    return "\n".join(lines) + "\n"


def pmid_links(pmids: list[str], most: int = 8) -> str:
    shown = " ".join(f"[{p}](https://pubmed.ncbi.nlm.nih.gov/{p}/)" for p in pmids[:most])
    return shown + (f" +{len(pmids) - most}" if len(pmids) > most else "")


@dataclass
class Changes:
    since_run: int
    new_rows: list[SummaryRow]
    changed_rows: list[SummaryRow]
    evidence: list[dict]


def run_before(store: Store, since: str) -> int:
    """The last run to exclude: a run id as given, or the last run that started before a date."""
    if since.isdigit():
        if not store.db.execute("select 1 from runs where id = ?", [int(since)]).fetchone():
            raise ValueError(f"no run {since} in {store.path}")
        return int(since)
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            moment = datetime.strptime(since, fmt).strftime("%Y-%m-%dT%H:%M:%SZ")
            break
        except ValueError:
            continue
    else:
        raise ValueError(f"--since takes a run id or a date (YYYY-MM-DD), not {since!r}")
    row = store.db.execute("select max(id) from runs where started < ?", [moment]).fetchone()
    return int(row[0] or 0)


def changes_since(store: Store, run_id: int) -> Changes:
    """Evidence added or changed after a run, and the summary rows it created or changed."""
    evidence = list(store.db.query(
        "select * from evidence_detail where run_id > ? order by marker, cancer, use, pmid", [run_id]))
    touched = {(e["marker"], e["cancer"], e["use"]) for e in evidence}
    rows = [r for r in summary_rows(store) if (r.marker, r.cancer, r.use) in touched]
    older = {tuple(r) for r in store.db.execute(
        "select distinct marker, cancer, use from evidence where run_id <= ?", [run_id])}
    new = [r for r in rows if (r.marker, r.cancer, r.use) not in older]
    changed = [r for r in rows if (r.marker, r.cancer, r.use) in older]
    return Changes(run_id, new, changed, evidence)
