"""miner's Datasette plugin, registered in-process by `miner serve`: PMIDs link to PubMed, canonical names
show readable, long text gets room (miner/static/review.css), a record page is one compact column of fields
(miner/templates/row.html), and SQL gets ``miner_name(kind, value)`` so that canned queries take any name.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from datasette import hookimpl
from markupsafe import Markup, escape

from miner.names import KINDS, UnknownName, readable, resolve
from miner.nlp.lexicon import load_lexicon

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STATIC_MOUNT = "-/miner"
PUBMED = "https://pubmed.ncbi.nlm.nih.gov/{}/"
PMID_COLUMNS = ("pmid", "sentence_pmid")
PMID_LIST_COLUMNS = ("pmids", "retracted_by")
READABLE_COLUMNS = ("cancer", "use", "sample", "samples", "category", "marker_category")
"""Columns of canonical names shown with spaces (a reviewer's verdict column would join them)."""
LIST_COLUMNS = ("authors", "keywords", "publication_types", "synonyms", "cues")
PMIDS_SHOWN = 5


def pubmed_link(pmid: str) -> str:
    return f'<a href="{PUBMED.format(escape(pmid))}">{escape(pmid)}</a>'


def miner_name(kind: str, value: str | None) -> str | None:
    """The canonical name of a marker, cancer or use typed any way; the value itself when none matches."""
    if value is None or kind not in KINDS:
        return value
    try:
        return resolve(kind, value, load_lexicon())
    except UnknownName:
        return value


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.create_function("miner_name", 2, miner_name, deterministic=True)


@hookimpl
def extra_css_urls(datasette: Any) -> list[str]:
    return [datasette.urls.path(f"/{STATIC_MOUNT}/review.css")]


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any) -> Markup | None:
    if value in (None, ""):
        return None
    if column in PMID_COLUMNS and isinstance(value, dict):  # a foreign key to articles, labelled with its title
        article = datasette.urls.row(database, "articles", str(value["value"]))
        return Markup(f'{pubmed_link(str(value["value"]))} <a class="article" href="{article}">'
                      f'{escape(value.get("label") or "")}</a>')
    if column in PMID_COLUMNS:
        return Markup(pubmed_link(str(value)))
    if column in PMID_LIST_COLUMNS:
        return Markup(pmid_list(row, str(value), table, database, datasette))
    if column in READABLE_COLUMNS and isinstance(value, str):
        return Markup(escape(readable(value)))
    if column == "cancer" and isinstance(value, dict):  # a foreign key to cancers
        link = datasette.urls.row(database, "cancers", str(value["value"]))
        return Markup(f'<a href="{link}">{escape(readable(str(value["value"])))}</a>')
    if column in LIST_COLUMNS and isinstance(value, str) and value.startswith("["):
        return Markup(escape(json_list(value)) or "&nbsp;")
    if column == "mesh" and isinstance(value, str) and value.startswith("["):
        return Markup(escape(mesh_terms(value)) or "&nbsp;")
    return None


def pmid_list(row: Any, value: str, table: str | None, database: str, datasette: Any) -> str:
    """The first PMIDs as links; the rest counted, linking to the evidence rows of a summary row."""
    pmids = json.loads(value) if value.startswith("[") else value.split()
    links = " ".join(pubmed_link(str(p)) for p in pmids[:PMIDS_SHOWN])
    rest = len(pmids) - PMIDS_SHOWN
    if rest <= 0:
        return links
    keys = row.keys() if hasattr(row, "keys") else []
    if {"marker", "cancer", "use"} <= set(keys):
        query = "&".join(f"{k}={escape(row[k])}" for k in ("marker", "cancer", "use"))
        return f'{links} <a href="{datasette.urls.table(database, "evidence")}?{query}">+{rest} more</a>'
    return f"{links} +{rest} more"


def json_list(value: str) -> str:
    try:
        items = json.loads(value)
    except ValueError:
        return value
    return "; ".join(item if isinstance(item, str) else json.dumps(item, ensure_ascii=False) for item in items)


def mesh_terms(value: str) -> str:
    """MeSH descriptors, major topics starred."""
    try:
        terms = json.loads(value)
    except ValueError:
        return value
    return "; ".join(f"{t.get('descriptor', '')}{'*' if t.get('major') else ''}" if isinstance(t, dict) else str(t)
                     for t in terms)
