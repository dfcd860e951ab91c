"""`miner refresh`: the scheduled job."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import click

from miner.cli import (
    Failed,
    check_extractor,
    db_option,
    eutils_options,
    eutils_settings,
    extractor_options,
    handle_errors,
    logging_options,
    query_from,
)
from miner.eutils import EutilsClient
from miner.runs import job
from miner.store import Store

if TYPE_CHECKING:
    from miner.nlp.pipeline import ExtractorConfig

log = logging.getLogger("miner")


def register_commands(cli: click.Group) -> None:
    cli.add_command(refresh)


@click.command()
@db_option
@click.option("--query", help="PubMed query (default: the shipped corpora/query.txt).")
@click.option("--query-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read the query from a file.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write the change report (Markdown and JSON) into this folder.")
@click.option("--overlap-days", type=click.IntRange(0, 365), help="Days of overlap with the last refresh (default 3).")
@click.option("--check-deleted", is_flag=True,
              help="Check now for records that left PubMed (by default every 7 days: corpora/defaults.toml).")
@eutils_options
@extractor_options
@logging_options
@handle_errors
def refresh(db_path: Path | None, query: str | None, query_file: Path | None, report_dir: Path | None,
            overlap_days: int | None, check_deleted: bool, eutils_url: str | None, email: str | None,
            batch_size: int | None, give_up_after: float | None, reply_timeout: float | None,
            extractor: ExtractorConfig) -> None:
    """The scheduled job: fetch what changed since the last refresh, re-extract, report.

    Exit codes: 0 done; 1 failed (nothing lost); 2 usage or configuration error; 75 try later (another
    refresh holds the lock, or NCBI is unavailable); 130 stopped by SIGINT/SIGTERM after the current batch.
    """
    from miner.refresh import refresh as run_refresh
    from miner.refresh import write_report

    settings = eutils_settings(db_path, eutils_url, email, batch_size, give_up_after, reply_timeout, refresh=True,
                               overlap_days=overlap_days)
    text = query_from(query, query_file)
    fingerprint = check_extractor(extractor)
    with job(Store(settings.db), "refresh", fingerprint=fingerprint, query=text) as ctx:
        report = run_refresh(ctx, EutilsClient(settings), text, extractor,
                             overlap_days=settings.overlap_days, deletion_check_days=settings.deletion_check_days,
                             check_deleted=check_deleted)
    if report_dir:
        try:
            md_path, _ = write_report(report, report_dir)
        except OSError as exc:
            raise Failed(f"the refresh is stored, but the report cannot be written: {exc}") from None
        log.info("change report → %s", md_path)
    click.echo(report.summary())
