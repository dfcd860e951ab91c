"""`miner extract` and `miner explain`: reading abstracts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from miner.cli import (
    check_extractor,
    db_option,
    eutils_options,
    eutils_settings,
    extractor_options,
    handle_errors,
    logging_options,
    n_process_option,
    settings_from,
)
from miner.runs import job
from miner.store import Store

if TYPE_CHECKING:
    from miner.nlp.pipeline import ExtractorConfig


def register_commands(cli: click.Group) -> None:
    cli.add_command(extract)
    cli.add_command(explain)


@click.command()
@db_option
@click.option("--all", "everything", is_flag=True, help="Re-extract every article, not only new or changed ones.")
@extractor_options
@n_process_option
@logging_options
@handle_errors
def extract(db_path: Path | None, everything: bool, extractor: ExtractorConfig, n_process: int) -> None:
    """Find markers, cancers and uses in stored articles; store the evidence."""
    from miner.extract import extract_into

    settings = settings_from(db_path)
    check_extractor(extractor)
    with job(Store(settings.db), "extract") as ctx:
        extract_into(ctx, extractor, everything=everything, n_process=n_process)
    click.echo(f"extract: {ctx.counts.extracted} articles, {ctx.counts.evidence} evidence rows new or changed"
               f" → {settings.db}")


@click.command()
@click.option("--pmid", help="A stored article (fetched from PubMed when not stored).")
@click.option("--text", help="A text to analyse (the first line is taken as the title).")
@db_option
@extractor_options
@eutils_options
@handle_errors
def explain(pmid: str | None, text: str | None, db_path: Path | None, extractor: ExtractorConfig,
            eutils_url: str | None, email: str | None, batch_size: int | None, give_up_after: float | None,
            reply_timeout: float | None) -> None:
    """Show how one abstract was read: entities, sentences, cues, relations, and what was rejected."""
    from miner.explain import explain_article, load_article

    if bool(pmid) == bool(text):
        raise click.UsageError("give --pmid or --text")
    settings = eutils_settings(db_path, eutils_url, email, batch_size, give_up_after, reply_timeout)
    article = load_article(settings, pmid=pmid, text=text)
    check_extractor(extractor)
    click.echo(explain_article(extractor.pipeline(), article))
