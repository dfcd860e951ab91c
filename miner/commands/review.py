"""`miner review`: the reviewer's queue in the terminal, and the review sheet out and back in."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from miner.cli import EXIT_USAGE, Failed, db_option, fail, handle_errors, settings_from
from miner.store import Store, StoreError
from miner.store.curation import ORDERS

reviewer_option = click.option("--reviewer", default=lambda: os.environ.get("USER"),
                               help="Name recorded with the verdicts (default: $USER).")
order_option = click.option("--order", type=click.Choice(sorted(ORDERS)), default="newest", show_default=True,
                            help="newest: latest runs first; least-confident: weakest evidence first; pmid.")


def register_commands(cli: click.Group) -> None:
    cli.add_command(review)


@click.group(invoke_without_command=True)
@db_option
@order_option
@reviewer_option
@click.option("--limit", type=click.IntRange(1), default=200, show_default=True,
              help="Review at most N rows this session.")
@click.pass_context
@handle_errors
def review(ctx: click.Context, db_path: Path | None, order: str, reviewer: str | None, limit: int) -> None:
    """Judge evidence rows one by one: accept, reject, correct, note or skip each (resumes where it stopped).

    `miner review export` and `miner review import` do the same through a spreadsheet.
    """
    if ctx.invoked_subcommand:
        return
    from miner.review import brackets, review_queue

    store = existing_store(settings_from(db_path).db)
    items = list(store.curation.items(order, undecided=True, limit=limit))
    if not items:
        click.echo("review: nothing left to review")
        return
    terminal = sys.stdin.isatty() and sys.stdout.isatty()
    session = review_queue(store, items, choose=_key if terminal else _line, enter=_text, show=click.echo,
                           reviewer=reviewer, style=_styled if terminal else brackets)
    left = store.curation.undecided()
    click.echo(f"review: {session.decided} verdicts stored, {session.skipped} skipped, {left} left to review")


def existing_store(path: Path) -> Store:
    """A database that exists, opened for writing (upgraded when older): never a new empty one."""
    if not path.exists():
        raise StoreError(f"no database at {path} (run `miner fetch` or `miner ingest` first)")
    return Store(path)


def _key(prompt: str) -> str:
    click.echo(f"{prompt} ", nl=False)
    key = click.getchar()
    click.echo(key)
    return "q" if key in ("\x03", "\x04") else key


def _line(prompt: str) -> str:
    try:
        return click.prompt(prompt, default="", show_default=False)
    except click.Abort:  # the input ended
        return "q"


def _text(prompt: str, default: str) -> str:
    try:
        return click.prompt(prompt, default=default, show_default=False)
    except click.Abort:
        return default


def _styled(text: str, kind: str) -> str:
    return click.style(text, bold=True, fg="yellow") if kind == "marker" else click.style(text, underline=True)


@review.command("export")
@db_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The sheet to write (CSV; '-' for stdout).")
@click.option("--undecided", is_flag=True, help="Only rows without a verdict.")
@order_option
@handle_errors
def export_sheet(db_path: Path | None, out: Path, undecided: bool, order: str) -> None:
    """Write a review sheet: one evidence row a line, with verdict columns to fill in."""
    from miner.review import write_sheet

    store = Store(settings_from(db_path).db, write=False)
    if str(out) == "-":
        write_sheet(store, sys.stdout, order, undecided)
        return
    try:
        with out.open("w", encoding="utf-8", newline="") as fh:
            count = write_sheet(store, fh, order, undecided)
    except OSError as exc:
        raise Failed(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"review export: {count} evidence rows → {out}")


@review.command("import")
@click.argument("sheet", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
@reviewer_option
@handle_errors
def import_sheet(sheet: Path, db_path: Path | None, reviewer: str | None) -> None:
    """Apply a filled-in review sheet: every line is checked first, then all verdicts land, or none."""
    from miner.review import SheetError
    from miner.review import import_sheet as apply_sheet

    store = existing_store(settings_from(db_path).db)
    try:
        with store.lock():
            changed, total = apply_sheet(store, sheet, reviewer)
    except SheetError as exc:
        fail(str(exc), EXIT_USAGE)
        return
    click.echo(f"review import: {total} verdicts in {sheet}, {changed} new or changed")
