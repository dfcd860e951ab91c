"""`miner fetch` and `miner run`: a query's articles from PubMed, with or without extraction."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from miner.cli import (
    apply,
    db_option,
    eutils_options,
    eutils_settings,
    handle_errors,
    lexicon_option,
    load_nlp,
    logging_options,
    n_process_option,
    ner_model_option,
    query_from,
    query_options,
)
from miner.eutils import EutilsClient
from miner.fetch import fetch_into
from miner.runs import job
from miner.store import Store


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
          batch_size: int | None, give_up_after: float | None) -> None:
    """Search PubMed and store the matching articles (no extraction)."""
    settings = eutils_settings(db_path, eutils_url, email, batch_size, give_up_after)
    text = query_from(query, query_file)
    with job(Store(settings.db), "fetch", query=text, since=since, until=until, datetype=datetype) as ctx:
        fetch_into(ctx, EutilsClient(settings), text, since, until, datetype)
    click.echo(f"fetch: {ctx.counts.summary() or 'nothing found'} → {settings.db}")


@click.command()
@apply(query_options)
@db_option
@eutils_options
@ner_model_option
@lexicon_option
@n_process_option
@logging_options
@handle_errors
def run(query: str | None, query_file: Path | None, since: date | None, until: date | None, datetype: str,
        db_path: Path | None, eutils_url: str | None, email: str | None, batch_size: int | None,
        give_up_after: float | None, ner_model: str | None, n_process: int) -> None:
    """The main job: fetch the query's articles, extract and store their evidence."""
    from miner.extract import extract_into
    from miner.nlp.pipeline import extractor_fingerprint

    settings = eutils_settings(db_path, eutils_url, email, batch_size, give_up_after)
    text = query_from(query, query_file)
    with job(Store(settings.db), "run", query=text, since=since, until=until, datetype=datetype) as ctx:
        fetch_into(ctx, EutilsClient(settings), text, since, until, datetype)
        extract_into(ctx, load_nlp(ner_model), extractor_fingerprint(ner_model), ner_model=ner_model,
                     n_process=n_process)
    click.echo(f"run: {ctx.counts.summary() or 'nothing found'} → {settings.db}")
