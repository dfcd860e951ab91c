"""Exports of the evidence: rows as CSV or JSON Lines; the review-style table as Markdown or HTML."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, fields
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TextIO

from miner.names import readable
from miner.store import EvidenceRow, Store, SummaryRow

EVIDENCE_COLUMNS = [f.name for f in fields(EvidenceRow)]


def provenance(store: Store, filters: dict[str, object]) -> dict[str, str]:
    """What an export is: when it was made, from which database, query, last run and extractor, filtered how."""
    last = store.runs.recent(1)
    chosen = ", ".join(f"{readable(k)} {readable(str(v))}" for k, v in filters.items() if v not in (None, 1))
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "database": str(store.path.resolve()),
        "query": store.runs.last_fetched_query() or "(none: articles ingested from files)",
        "last run": (f"#{last[0].id} {last[0].command}, {last[0].status}, {last[0].finished or last[0].started}"
                     if last else "(none)"),
        "extractor": store.runs.last_extractor() or "(nothing extracted)",
        "filters": chosen or "none",
    }


def write_jsonl(store: Store, out: TextIO, **filters: object) -> int:
    """A first line {"provenance": {...}}, then one evidence row a line."""
    out.write(json.dumps({"provenance": provenance(store, filters)}, ensure_ascii=False) + "\n")
    count = 0
    for row in store.evidence.rows(**filters):  # type: ignore[arg-type]
        out.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(store: Store, out: TextIO, **filters: object) -> int:
    """The header and one evidence row a line, nothing else, so that every CSV reader takes it (each row
    carries its extractor_version and run_id)."""
    writer = csv.DictWriter(out, fieldnames=EVIDENCE_COLUMNS)
    writer.writeheader()
    count = 0
    for row in store.evidence.rows(**filters):  # type: ignore[arg-type]
        writer.writerow(asdict(row))
        count += 1
    return count


def default_output(db: Path, fmt: str) -> Path:
    suffix = {"jsonl": ".jsonl", "csv": ".csv", "markdown": ".md", "html": ".html"}[fmt]
    return db.parent / f"evidence{suffix}"


CATEGORY_TITLES = {
    "bone_formation": "Bone formation markers", "bone_resorption": "Bone resorption markers",
    "osteoclast_regulator": "Osteoclast regulators", "bone_matrix": "Bone matrix proteins",
    "tumor_marker": "Tumour markers", "cytokine": "Cytokines and growth factors", "chemokine": "Chemokines",
    "cell_based": "Circulating cells", "nucleic_acid": "Circulating nucleic acids", "microRNA": "MicroRNAs",
    "vesicle": "Extracellular vesicles", "enzyme": "Enzymes", "hormone": "Hormones", "mineral": "Minerals",
    "blood_count": "Blood counts", "other_protein": "Other proteins", "candidate": "Candidates (not in the lexicon)",
}
USE_ORDER = {"diagnosis": 0, "prognosis": 1, "risk_prediction": 2, "monitoring": 3}


def table_rows(store: Store, cancer: str | None = None, use: str | None = None,
               min_articles: int = 1) -> list[SummaryRow]:
    """Summary rows for the review-style table, grouped by marker category, strongest first."""
    return sorted(store.summary.rows(cancer, use, min_articles),
                  key=lambda r: (list(CATEGORY_TITLES).index(r.category) if r.category in CATEGORY_TITLES else 99,
                                 r.marker.lower(), r.cancer, USE_ORDER.get(r.use, 9)))


def _years(row: SummaryRow) -> str:
    first, last = row.first_year, row.last_year
    if not first:
        return ""
    return str(first) if first == last else f"{first}–{last}"


def _pmids(row: SummaryRow, most: int = 5) -> list[str]:
    return row.pmid_list[:most]


def supporting(store: Store, rows: list[SummaryRow]) -> dict[str, str]:
    """The title of the article of each row's supporting sentence, by PMID."""
    pmids = sorted({r.sentence_pmid for r in rows if r.sentence_pmid})
    return {a.pmid: a.title for a in store.articles.texts(pmids)} if pmids else {}


def _cell(text: str | None) -> str:
    return " ".join((text or "").replace("|", "\\|").split())


def write_markdown(store: Store, out: TextIO, **filters: object) -> int:
    rows = table_rows(store, **filters)  # type: ignore[arg-type]
    titles = supporting(store, rows)
    out.write("# Circulating biomarkers of bone metastasis: evidence table\n\n")
    out.writelines(f"- {key}: {_cell(value)}\n" for key, value in provenance(store, filters).items())
    out.write(f"\nMined from PubMed abstracts by miner; {len(rows)} (marker, cancer, use) rows. "
              "Evidence: articles (supporting / refuting). Key PMIDs link to PubMed; the supporting sentence is "
              "the strongest, with its article.\n")
    category = None
    for row in rows:
        if row.category != category:
            category = row.category
            out.write(f"\n## {CATEGORY_TITLES.get(category, category or 'Other')}\n\n")
            out.write("| marker | cancer | use | evidence | years | samples | key PMIDs | supporting sentence |\n")
            out.write("|---|---|---|---|---|---|---|---|\n")
        links = " ".join(f"[{p}](https://pubmed.ncbi.nlm.nih.gov/{p}/)" for p in _pmids(row))
        sentence = (f"{_cell(row.sentence)} — PMID {row.sentence_pmid}: *{_cell(titles.get(row.sentence_pmid))}*"
                    if row.sentence else "")
        out.write(f"| {_cell(row.marker)} | {readable(row.cancer)} | {readable(row.use)} | {row.articles} "
                  f"({row.supporting} / {row.refuting}) | {_years(row)} | {readable(row.samples)} | {links} "
                  f"| {sentence} |\n")
    return len(rows)


def write_html(store: Store, out: TextIO, **filters: object) -> int:
    rows = table_rows(store, **filters)  # type: ignore[arg-type]
    titles = supporting(store, rows)
    out.write(HTML_HEAD)
    facts = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in provenance(store, filters).items())
    out.write(f"<h1>Circulating biomarkers of bone metastasis</h1><p>Mined from PubMed abstracts by miner: "
              f"{len(rows)} (marker, cancer, use) rows.</p><dl class='provenance'>{facts}</dl>")
    out.write(heatmap(rows))
    category = None
    for row in rows:
        if row.category != category:
            if category is not None:
                out.write("</tbody></table>")
            category = row.category
            out.write(f"<h2>{escape(CATEGORY_TITLES.get(category, category or 'Other'))}</h2><table><thead><tr>"
                      "<th>marker</th><th>cancer</th><th>use</th><th>articles</th><th>supporting</th>"
                      "<th>refuting</th><th>years</th><th>samples</th><th>key PMIDs</th>"
                      "<th>supporting sentence</th></tr></thead><tbody>")
        links = " ".join(f'<a href="https://pubmed.ncbi.nlm.nih.gov/{p}/">{p}</a>' for p in _pmids(row))
        sentence = (f"{escape(row.sentence)}<br><small><a href='https://pubmed.ncbi.nlm.nih.gov/{row.sentence_pmid}/'>"
                    f"PMID {row.sentence_pmid}</a>: <i>{escape(titles.get(row.sentence_pmid) or '')}</i></small>"
                    if row.sentence else "")
        out.write(f"<tr><td>{escape(row.marker)}</td><td>{escape(readable(row.cancer))}</td>"
                  f"<td>{readable(row.use)}</td><td>{row.articles}</td><td>{row.supporting}</td><td>{row.refuting}</td>"
                  f"<td>{_years(row)}</td><td>{escape(readable(row.samples))}</td><td>{links}</td>"
                  f"<td class='sentence'>{sentence}</td></tr>")
    if category is not None:
        out.write("</tbody></table>")
    out.write("</body></html>\n")
    return len(rows)


def heatmap(rows: list[SummaryRow]) -> str:
    """A marker × cancer grid of distinct articles (any use), shaded by count: plain HTML and CSS."""
    articles: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        articles.setdefault((row.marker, row.cancer), set()).update(row.pmid_list)
    counts = {key: len(pmids) for key, pmids in articles.items()}
    if not counts:
        return "<p>No evidence yet.</p>"
    markers = sorted({m for m, _ in counts}, key=lambda m: -sum(n for (x, _), n in counts.items() if x == m))
    cancers = sorted({c for _, c in counts}, key=lambda c: -sum(n for (_, x), n in counts.items() if x == c))
    top = max(counts.values())
    cells = ["<h2>Evidence heat-map: articles per marker and cancer</h2>", legend(top),
             "<table class='heat'><thead><tr><th></th>"]
    cells += [f"<th class='rot'><span>{escape(readable(c))}</span></th>" for c in cancers]
    cells.append("</tr></thead><tbody>")
    for marker in markers:
        cells.append(f"<tr><th>{escape(marker)}</th>")
        for cancer in cancers:
            n = counts.get((marker, cancer), 0)
            cells.append(f"<td style='background: {shade(n, top)}' title='{escape(marker)} × "
                         f"{escape(readable(cancer))}: {n} articles'>{n or ''}</td>")
        cells.append("</tr>")
    cells.append("</tbody></table>")
    return "".join(cells)


def shade(n: int, top: int) -> str:
    """The colour of a heat-map cell holding n articles, when the fullest holds top."""
    return f"rgba(178, 34, 34, {0 if not n else 0.15 + 0.85 * n / top:.2f})"


def legend(top: int) -> str:
    """What the heat-map's cells mean, and the shade of a few counts from 1 to the highest."""
    steps = sorted({1, max(1, top // 4), max(1, top // 2), max(1, 3 * top // 4), top})
    swatches = "".join(f"<td style='background: {shade(n, top)}'>{n}</td>" for n in steps)
    return ("<p class='legend'>Each cell counts the distinct articles with evidence for the marker (row) in the "
            "cancer (column), any use; empty: none. Darker is more; hover a cell for its count.</p>"
            f"<table class='heat legend'><tr><th>articles</th>{swatches}</tr></table>")


HTML_HEAD = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>miner: circulating biomarkers of bone metastasis</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; }
thead th { background: #f3f3f3; }
table.heat td { text-align: center; min-width: 1.8rem; }
th.rot { height: 7rem; white-space: nowrap; vertical-align: bottom; }
th.rot span { writing-mode: vertical-rl; transform: rotate(180deg); }
td.sentence { min-width: 28rem; }
dl.provenance { display: grid; grid-template-columns: max-content auto; gap: 0.1rem 1rem; font-size: 0.85rem; }
dl.provenance dt { font-weight: 600; } dl.provenance dd { margin: 0; }
</style></head><body>
"""

WRITERS = {"csv": write_csv, "jsonl": write_jsonl, "markdown": write_markdown, "html": write_html}
