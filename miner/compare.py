"""How the mined evidence compares with the review's table."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from miner.config import corpus_path
from miner.nlp.lexicon import load_lexicon
from miner.store import Key, Store, SummaryRow


@dataclass
class Comparison:
    supported: list[SummaryRow] = field(default_factory=list)
    """Reference rows with at least one supporting article."""
    unsupported: list[SummaryRow] = field(default_factory=list)
    """Reference rows found, but only with refuting or unclear evidence."""
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


def compare(store: Store, reference: set[Key], min_articles: int = 1) -> Comparison:
    rows = {r.key: r for r in store.summary.rows(min_articles=min_articles)}
    result = Comparison(reference_rows=len(reference))
    found = sorted((rows[k] for k in reference if k in rows), key=lambda r: (-r.supporting, -r.articles, r.marker))
    result.supported = [r for r in found if r.supporting > 0]
    result.unsupported = [r for r in found if r.supporting == 0]
    result.not_found = sorted(reference - rows.keys())
    result.new = sorted((r for k, r in rows.items() if k not in reference),
                        key=lambda r: (-r.supporting, -r.articles, r.marker))
    return result


def comparison_markdown(result: Comparison, reference_name: str) -> str:
    lines = [f"# Mined evidence compared with the review's table ({reference_name})", "",
             f"{len(result.supported)} of {result.reference_rows} reference rows are supported by mined evidence; "
             f"{len(result.unsupported)} are found only with refuting or unclear evidence; "
             f"{len(result.not_found)} are not found; {len(result.new)} (marker, cancer, use) rows are new.", "",
             "## Reference rows supported", ""]
    lines += _counts_table(result.supported)
    lines += ["", "## Reference rows found only with refuting or unclear evidence", ""]
    lines += _counts_table(result.unsupported)
    lines += ["", "## Reference rows not found in the mined literature", "",
              "| marker | cancer | use |", "|---|---|---|"]
    lines += [f"| {m} | {c} | {u} |" for m, c, u in result.not_found]
    lines += ["", "## New rows the literature supports but the reference lacks (by evidence)", "",
              "| marker | category | cancer | use | articles | supporting | PMIDs |", "|---|---|---|---|---:|---:|---|"]
    lines += [f"| {r.marker} | {r.category or ''} | {r.cancer} | {r.use} | {r.articles} | {r.supporting} | "
              f"{pmid_links(r.pmid_list)} |" for r in result.new]
    return "\n".join(lines) + "\n"


def _counts_table(rows: list[SummaryRow]) -> list[str]:
    return ["| marker | cancer | use | articles | supporting | refuting | PMIDs |", "|---|---|---|---:|---:|---:|---|",
            *(f"| {r.marker} | {r.cancer} | {r.use} | {r.articles} | {r.supporting} | {r.refuting} | "
              f"{pmid_links(r.pmid_list)} |" for r in rows)]


def pmid_links(pmids: list[str], most: int = 8) -> str:
    shown = " ".join(f"[{p}](https://pubmed.ncbi.nlm.nih.gov/{p}/)" for p in pmids[:most])
    return shown + (f" +{len(pmids) - most}" if len(pmids) > most else "")
