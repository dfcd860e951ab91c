"""Serve a miner database with Datasette: shipped metadata, facets, canned queries, miner's plugin.

The database is served live by default: Datasette's read-only connections see a refresh as it lands.
``immutable=True`` serves a published snapshot (faster; restart to see changes).
"""

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


SETTINGS = {"sql_time_limit_ms": 3000, "suggest_facets": False, "truncate_cells_html": 400}
"""Datasette settings: the facets are configured in the metadata (suggesting more scans every column); long
abstracts are cut in table pages (a record's own page shows all of it)."""


def check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (is the port in use?)") from None


def datasette_for(path: Path, immutable: bool = False):  # noqa: ANN201 - datasette.app.Datasette
    """A Datasette over the database, with the metadata, settings, templates and plugin miner ships."""
    from datasette.app import Datasette
    from datasette.plugins import pm

    from miner import datasette_plugin

    if not pm.is_registered(datasette_plugin):
        pm.register(datasette_plugin, name="miner")
    store = Store(path, write=False)
    files = {"immutables": [str(path)]} if immutable else {"files": [str(path)]}
    return Datasette(metadata=metadata_for(store), settings=SETTINGS,  # type: ignore[arg-type]
                     template_dir=str(datasette_plugin.TEMPLATES),
                     static_mounts=[(datasette_plugin.STATIC_MOUNT, str(datasette_plugin.STATIC))], **files)


def serve(path: Path, host: str = "127.0.0.1", port: int = 8001, immutable: bool = False) -> None:
    """Run Datasette until interrupted."""
    import uvicorn

    datasette = datasette_for(path, immutable)
    check_port(host, port)
    uvicorn.run(datasette.app(), host=host, port=port, log_level="warning")
