"""`miner release`: a dated, versioned snapshot of the curated evidence table."""

from __future__ import annotations

from pathlib import Path

import click

from miner.cli import Failed, db_option, handle_errors, settings_from
from miner.commands.review import existing_store


def register_commands(cli: click.Group) -> None:
    cli.add_command(release)


@click.command()
@db_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of releases; each goes into v<N>-<date>/ inside it (default: releases/ beside the"
                   " database).")
@handle_errors
def release(db_path: Path | None, out: Path | None) -> None:
    """Write the next release of the curated table: CSV, JSONL, Markdown, HTML, manifest and release notes."""
    from miner.release import ReleaseError, make_release

    settings = settings_from(db_path)
    store = existing_store(settings.db)
    try:
        folder, manifest, notes = make_release(store, out or settings.db.parent / "releases")
    except ReleaseError as exc:
        raise Failed(str(exc)) from None
    counts = manifest["counts"]
    since = f"release {notes.previous}" if notes.previous else "the start"
    click.echo(f"release {manifest['version']}: {counts['summary_rows']} rows, {counts['evidence_rows']} evidence "
               f"rows ({counts['curated_evidence_rows']} curated); {len(notes.new)} new, {len(notes.changed)} "
               f"changed, {len(notes.removed)} removed since {since} → {folder}")
