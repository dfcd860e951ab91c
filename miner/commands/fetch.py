"""`miner fetch` and `miner run`: a query's articles from PubMed, with or without extraction."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from miner.cli import (
    apply,
    check_extractor,
    check_window,
    db_option,
    eutils_options,
    eutils_settings,
    extractor_options,
    handle_errors,
    logging_options,
    n_process_option,
    query_from,
    query_options,
)
from miner.eutils import EutilsClient
from miner.fetch import fetch_into
from miner.runs import job
from miner.store import RunCounts, Store

if TYPE_CHECKING:
    from miner.nlp.pipeline import ExtractorConfig


def register_commands(cli: click.Group) -> None:
    cli.add_command(fetch)
    cli.add_command(run)


@click.command()
@apply(query_options)
@db_option
@eutils_options
@logging_options
@handle_errors
def fetch(query: str | None, query_file: Path | None, since: date | None, until: date | None,
          datetype: str, db_path: Path | None, eutils_url: str | None, email: str | None,
          batch_size: int | None, give_up_after: float | None, reply_timeout: float | None) -> None:
    """Search PubMed and store the matching articles (no extraction)."""
    check_window(since, until)
    settings = eutils_settings(db_path, eutils_url, email, batch_size, give_up_after, reply_timeout)
    text = query_from(query, query_file)
    with job(Store(settings.db), "fetch", query=text, since=since, until=until, datetype=datetype) as ctx:
        fetch_into(ctx, EutilsClient(settings), text, since, until, datetype)
    click.echo(f"fetch: {found_summary(ctx.counts)} → {settings.db}")


@click.command()
@apply(query_options)
@db_option
@eutils_options
@extractor_options
@n_process_option
@logging_options
@handle_errors
def run(query: str | None, query_file: Path | None, since: date | None, until: date | None, datetype: str,
        db_path: Path | None, eutils_url: str | None, email: str | None, batch_size: int | None,
        give_up_after: float | None, reply_timeout: float | None, extractor: ExtractorConfig, n_process: int) -> None:
    """The main job: fetch the query's articles, extract and store their evidence."""
    from miner.extract import extract_into

    check_window(since, until)
    settings = eutils_settings(db_path, eutils_url, email, batch_size, give_up_after, reply_timeout)
    text = query_from(query, query_file)
    check_extractor(extractor)
    with job(Store(settings.db), "run", query=text, since=since, until=until, datetype=datetype) as ctx:
        fetch_into(ctx, EutilsClient(settings), text, since, until, datetype)
        extract_into(ctx, extractor, n_process=n_process)
    click.echo(f"run: {found_summary(ctx.counts)} → {settings.db}")


def found_summary(counts: RunCounts) -> str:
    """The counts of a fetch, saying so when the query found nothing."""
    return counts.summary() if counts.found else f"found 0 records; {counts.summary() or 'no requests'}"
