"""`miner ingest`: PubMed XML and MEDLINE files, on all cores or a Dask cluster."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from miner.cli import (
    BadUsage,
    Failed,
    check_extractor,
    db_option,
    extractor_options,
    handle_errors,
    logging_options,
    settings_from,
)
from miner.runs import job
from miner.store import Store

if TYPE_CHECKING:
    from miner.nlp.pipeline import ExtractorConfig


def register_commands(cli: click.Group) -> None:
    cli.add_command(ingest)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@db_option
@click.option("--filter", "filter_mode", type=click.Choice(("all", "query")), default="all", show_default=True,
              help="Keep every record, or only those matching the shipped bone-metastasis filter.")
@click.option("--no-extract", is_flag=True, help="Only store articles; extract later with `miner extract`.")
@click.option("--workers", type=click.IntRange(1, 512), help="Worker processes (default: all cores).")
@click.option("--dask", "dask_address", metavar="ADDRESS", help="Run the per-file work on a Dask scheduler.")
@click.option("--force", is_flag=True, help="Process files even if they were ingested already.")
@click.option("--max-record-mb", type=click.FloatRange(0.001), metavar="MB",
              help="Skip a record larger than this as malformed (default 16: [pubmed] in corpora/defaults.toml).")
@extractor_options
@logging_options
@handle_errors
def ingest(files: tuple[Path, ...], db_path: Path | None, filter_mode: str, no_extract: bool, workers: int | None,
           dask_address: str | None, force: bool, max_record_mb: float | None, extractor: ExtractorConfig) -> None:
    """Store (and extract) articles from PubMed XML files (.xml, .xml.gz: efetch dumps, baseline and
    update files) or MEDLINE text files. Files are applied in the order given."""
    from miner.bulk import ingest_into, unreadable

    bad_paths = unreadable(list(files))
    if bad_paths:  # a usage error before anything runs
        raise BadUsage("; ".join(bad_paths) + " (nothing was ingested)")
    settings = settings_from(db_path)
    store = Store(settings.db)
    fingerprint = None if no_extract else check_extractor(extractor)
    max_record_bytes = round(max_record_mb * 1_000_000) if max_record_mb else None
    with job(store, "ingest", fingerprint=fingerprint, query=" ".join(str(f) for f in files)) as ctx:
        done = ingest_into(ctx, list(files), filter_query=filter_mode == "query", extractor=extractor,
                           force=force, workers=workers, dask_address=dask_address,
                           max_record_bytes=max_record_bytes)
        counts = ctx.counts
        click.echo(f"ingest: {done.files_read} files read, {counts.summary() or 'no records'}"
                   f"{f', {done.already_done} already ingested' if done.already_done else ''} → {settings.db}")
        if done.problems:  # inside the job: the run is recorded as failed, with the reason
            raise Failed(f"{len(done.problems)} file(s) could not be read: " + "; ".join(done.problems))
        if counts.failed:
            raise Failed(f"{counts.failed} malformed record(s) skipped; the others were stored")
