"""`miner status` and `miner upgrade`: what a database holds, and bringing an older one up to date."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from miner.cli import db_option, handle_errors, logging_options, settings_from
from miner.store import Store
from miner.store.migrations import latest


def register_commands(cli: click.Group) -> None:
    cli.add_command(status)
    cli.add_command(upgrade)


@click.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def status(db_path: Path | None, as_json: bool) -> None:
    """What the database holds and its last runs."""
    info = Store(settings_from(db_path).db, write=False).status()
    if as_json:
        click.echo(json.dumps(asdict(info), indent=2, default=str))
        return
    click.echo(f"database: {info.database}")
    by_status = ", ".join(f"{k} {v}" for k, v in sorted(info.by_status.items()))
    click.echo(f"articles: {info.articles} ({by_status or 'none'}); {info.without_abstract} without abstract; "
               f"{info.expression_of_concern} with an expression of concern")
    verdicts = ", ".join(f"{k} {v}" for k, v in sorted(info.verdicts.items()))
    click.echo(f"evidence rows: {info.evidence}; reviewers' verdicts: {verdicts or 'none yet'}")
    click.echo("last runs:")
    for run in info.runs:
        click.echo(f"  #{run.id} {run.command:<8} {run.status:<11} {run.started}  "
                   f"{run.counts.summary()}{'  — ' + run.message if run.message else ''}")


@click.command()
@db_option
@logging_options
@handle_errors
def upgrade(db_path: Path | None) -> None:
    """Upgrade a database made by an older miner to this miner's schema, in place (with a backup copy
    first when a table is rewritten). Writing commands do this by themselves; reading commands ask for it."""
    settings = settings_from(db_path)
    if not settings.db.exists():
        raise click.UsageError(f"no database at {settings.db}")
    done = Store(settings.db).upgrade
    if done is None:
        click.echo(f"upgrade: {settings.db} is already at schema version {latest()}")
        return
    click.echo(f"upgrade: {settings.db} from schema version {done.from_version} to {done.to_version}"
               f"{f' (the old one copied to {done.backup})' if done.backup else ''}")
    for step in done.applied:
        click.echo(f"  {step}")
