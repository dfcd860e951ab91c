"""`miner serve`: Datasette over the database."""

from __future__ import annotations

from pathlib import Path

import click

from miner.cli import BadUsage, Failed, db_option, handle_errors, settings_from


def register_commands(cli: click.Group) -> None:
    cli.add_command(serve)


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--port", type=click.IntRange(1, 65535), default=8001, show_default=True, help="Port to listen on.")
@click.option("--immutable", is_flag=True,
              help="Serve a published snapshot: faster, but a refresh shows only after a restart.")
@handle_errors
def serve(db_path: Path | None, host: str, port: int, immutable: bool) -> None:
    """Browse and query the database with Datasette (metadata, facets, canned queries and review pages shipped);
    read-only connections that see a refresh as it lands."""
    from miner.serve import ServeError, check_port
    from miner.serve import serve as run_server

    settings = settings_from(db_path)
    try:
        check_port(host, port)  # a port in use is a usage error, before any claim to serve
    except ServeError as exc:
        raise BadUsage(str(exc)) from None
    click.echo(f"serving {settings.db} at http://{host}:{port}/ (Ctrl-C to stop)", err=True)
    try:
        run_server(settings.db, host, port, immutable=immutable)
    except ServeError as exc:
        raise Failed(str(exc)) from None
