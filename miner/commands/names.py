"""`miner names`: the canonical markers, cancers and uses, with their counts, for filters and queries."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from miner.cli import db_option, handle_errors, lexicon_option, settings_from
from miner.names import COLUMN, KINDS, listing
from miner.nlp.lexicon import load_lexicon
from miner.store import Store


def register_commands(cli: click.Group) -> None:
    cli.add_command(names)


@click.command()
@click.argument("kind", type=click.Choice(KINDS))
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines.")
@lexicon_option
@handle_errors
def names(kind: str, db_path: Path | None, as_json: bool) -> None:
    """List the markers, cancers or uses that filters accept: canonical name, articles and evidence rows in the
    database, synonyms. Without a database, the lexicon's names alone."""
    settings = settings_from(db_path)
    if settings.db.exists():
        counts = Store(settings.db, write=False).evidence.counts_by(COLUMN[kind])
    else:
        click.echo(f"miner: no database at {settings.db}: names from the lexicon only", err=True)
        counts = {}
    found = listing(kind, load_lexicon(), counts)
    if as_json:
        for name in found:
            click.echo(json.dumps(asdict(name), ensure_ascii=False))
        return
    click.echo(f"{'articles':>8} {'evidence':>8}  {COLUMN[kind]:<24}synonyms")
    for name in found:
        extra = "(candidate, not in the lexicon)" if not name.in_lexicon else ", ".join(name.synonyms[:6])
        click.echo(f"{name.articles:>8} {name.evidence:>8}  {name.name:<24}{extra}")
