"""Serve a miner database with Datasette: shipped metadata, facets, canned queries, read-only."""

from __future__ import annotations

import json
import socket
from html import escape
from pathlib import Path

from miner.config import corpus_path
from miner.store import Store


class ServeError(Exception):
    """The server cannot start (the port is taken, the address is unusable)."""


def metadata_for(store: Store) -> dict:
    """The shipped metadata (corpora/datasette.json), for this database, with the query it was built from."""
    template = json.loads(corpus_path("datasette.json").read_text(encoding="utf-8"))
    template["databases"] = {store.path.stem: template["databases"]["DATABASE"]}
    query = store.runs.last_fetched_query()
    if query:
        template["description_html"] += f"<p>PubMed query of the last fetch: <code>{escape(query)}</code></p>"
    return template


SETTINGS = {"sql_time_limit_ms": 3000, "suggest_facets": False}
"""Datasette settings: the facets are configured in the metadata; suggesting more scans every column."""


def check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (is the port in use?)") from None


def serve(path: Path, host: str = "127.0.0.1", port: int = 8001, immutable: bool = True) -> None:
    """Run Datasette until interrupted."""
    import uvicorn
    from datasette.app import Datasette

    store = Store(path, write=False)
    metadata = metadata_for(store)
    check_port(host, port)
    files = {"immutables": [str(path)]} if immutable else {"files": [str(path)]}
    datasette = Datasette(metadata=metadata, settings=SETTINGS, **files)  # type: ignore[arg-type]
    uvicorn.run(datasette.app(), host=host, port=port, log_level="warning")
