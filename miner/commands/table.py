"""`miner export`, `miner compare` and `miner diff`: the evidence table out of the database."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from miner.cli import DATE_FORMS, BadUsage, Failed, db_option, handle_errors, lexicon_option, output_path, settings_from
from miner.store import Store

EXPORT_FORMATS = ("csv", "jsonl", "markdown", "html")


def register_commands(cli: click.Group) -> None:
    cli.add_command(export)
    cli.add_command(compare)
    cli.add_command(diff)


@click.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="csv", show_default=True,
              help="Evidence rows (csv, jsonl) or the review-style table (markdown, html).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Output file ('-' for stdout; default: evidence.<ext> beside the database).")
@click.option("--min-articles", type=click.IntRange(1), default=1, show_default=True,
              help="Only (marker, cancer, use) rows supported by at least N articles.")
@click.option("--cancer", help="Only this cancer, by any name the lexicon knows (prostate, 'Prostate cancer', PCa).")
@click.option("--use", help="Only this clinical use: diagnosis, prognosis, risk prediction or monitoring.")
@lexicon_option
@handle_errors
def export(db_path: Path | None, fmt: str, out: Path | None, min_articles: int, cancer: str | None,
           use: str | None) -> None:
    """Write the evidence rows (csv, jsonl) or the review-style table (markdown, html)."""
    from miner import export as exporter

    settings = settings_from(db_path)
    store = Store(settings.db, write=False)
    cancer, use = filter_names(store, cancer=cancer, use=use)
    target = output_path(out, exporter.default_output(settings.db, fmt))
    writer = exporter.WRITERS[fmt]
    if str(target) == "-":
        writer(store, sys.stdout, cancer=cancer, use=use, min_articles=min_articles)
        return
    try:
        with target.open("w", encoding="utf-8", newline="") as fh:
            count = writer(store, fh, cancer=cancer, use=use, min_articles=min_articles)
    except OSError as exc:
        raise Failed(f"cannot write {target}: {exc.strerror or exc}") from None
    click.echo(f"export: {count} rows → {target}")


def filter_names(store: Store, **values: str | None) -> list[str | None]:
    """Filter options resolved to canonical names; a name that matches nothing is a usage error."""
    from miner.names import UnknownName, resolve_filter
    from miner.nlp.lexicon import load_lexicon

    resolved = []
    for option, value in values.items():
        try:
            resolved.append(resolve_filter(store, f"{option}s", value, load_lexicon()))
        except UnknownName as exc:
            raise click.BadParameter(str(exc), param_hint=f"--{option}") from None
    return resolved


@click.command()
@db_option
@click.option("--reference", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Reference table: CSV with marker, cancer, use (default: the review's, in corpora/).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Markdown report (default: comparison.md beside the database).")
@click.option("--min-articles", type=click.IntRange(1), default=1, show_default=True,
              help="Count a mined row only with at least N articles.")
@handle_errors
def compare(db_path: Path | None, reference: Path | None, out: Path | None, min_articles: int) -> None:
    """Compare the mined evidence with the review's table: supported, not found, and new rows."""
    from miner import compare as comparing

    settings = settings_from(db_path)
    store = Store(settings.db, write=False)
    target = output_path(out, settings.db.parent / "comparison.md")
    try:
        ref = comparing.read_reference(reference)
    except ValueError as exc:
        raise BadUsage(str(exc)) from None
    result = comparing.compare(store, ref, min_articles)
    click.echo(f"reference rows: {result.reference_rows}; supported: {len(result.supported)}; "
               f"not found: {len(result.not_found)}; new rows: {len(result.new)}; "
               f"found but not supported: {len(result.unsupported)}")
    click.echo(f"\n{'marker':<22}{'cancer':<18}{'use':<17}{'articles':>9}{'support':>9}{'refute':>8}  status")
    for row in result.supported:
        click.echo(f"{row.marker:<22}{row.cancer:<18}{row.use:<17}{row.articles:>9}{row.supporting:>9}"
                   f"{row.refuting:>8}  in the reference")
    for row in result.unsupported:
        click.echo(f"{row.marker:<22}{row.cancer:<18}{row.use:<17}{row.articles:>9}{row.supporting:>9}"
                   f"{row.refuting:>8}  in the reference, not supported")
    for row in result.new[:25]:
        click.echo(f"{row.marker:<22}{row.cancer:<18}{row.use:<17}{row.articles:>9}{row.supporting:>9}"
                   f"{row.refuting:>8}  new")
    try:
        target.write_text(comparing.comparison_markdown(result, str(reference or "corpora/reference.csv")),
                          encoding="utf-8")
    except OSError as exc:
        raise Failed(f"cannot write {target}: {exc.strerror or exc}") from None
    click.echo(f"\nreport → {target}")


@click.command()
@db_option
@click.option("--since", required=True, metavar="RUN_ID|DATE",
              help=f"A run id (0: from the start), or a date ({DATE_FORMS}).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def diff(db_path: Path | None, since: str, as_json: bool) -> None:
    """What is new since a run: summary rows and evidence added or changed after it."""
    from miner.diff import changes_since, run_before

    store = Store(settings_from(db_path).db, write=False)
    try:
        run_id = run_before(store, since)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    changes = changes_since(store, run_id)
    if as_json:
        click.echo(json.dumps(changes.as_json(), indent=2, default=str))
        return
    click.echo(f"since run {run_id}: {len(changes.new_rows)} new summary rows, {len(changes.changed_rows)} changed, "
               f"{len(changes.evidence)} evidence rows added or changed")
    for label, rows in (("new", changes.new_rows), ("changed", changes.changed_rows)):
        for row in rows:
            click.echo(f"  {label:<8}{row.marker} | {row.cancer} | {row.use}: {row.articles} articles "
                       f"({row.supporting} supporting) PMIDs {' '.join(row.pmid_list[:6])}")
    for ev in changes.evidence:
        click.echo(f"  + {ev.pmid} {ev.marker} | {ev.cancer} | {ev.use} | {ev.finding}: {ev.sentence[:120]}")
