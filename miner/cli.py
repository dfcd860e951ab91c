"""The `miner` command line: parses options, calls the stages, prints, sets the exit code.

Exit codes: 0 done; 1 failed (nothing stored is lost); 2 usage or configuration error;
75 (EX_TEMPFAIL) try later: another process holds the database's lock, or NCBI is unavailable;
130 interrupted by SIGINT/SIGTERM after storing the batch under way.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from miner import __version__
from miner.config import Settings, default_query, load_settings, read_query_file
from miner.eutils import DATETYPES, EutilsClient, EutilsError, QueryError, ServiceUnavailable
from miner.jobs import Interrupted, fetch_query, recorded_run, stop_on_signals
from miner.pubmed import SourceError
from miner.store import Locked, RunCounts, Store, StoreError

EXIT_FAILED, EXIT_USAGE, EXIT_TEMPFAIL, EXIT_INTERRUPTED = 1, 2, 75, 130
log = logging.getLogger("miner")


class Failed(Exception):
    """The job ran but did not complete everything it was asked to (details were logged)."""


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the errors users can cause or meet into one clear line and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Locked as exc:
            fail(str(exc), EXIT_TEMPFAIL)
        except ServiceUnavailable as exc:
            fail(f"{exc}. Nothing stored was lost; try again later.", EXIT_TEMPFAIL)
        except QueryError as exc:
            fail(str(exc), EXIT_USAGE)
        except StoreError as exc:
            fail(str(exc), EXIT_USAGE)
        except (EutilsError, SourceError, Failed) as exc:
            fail(str(exc), EXIT_FAILED)
        except Interrupted as exc:
            fail(f"interrupted: {exc}", EXIT_INTERRUPTED)

    return wrapper


def fail(message: str, code: int) -> None:
    click.echo(f"miner: error: {message}", err=True)
    sys.exit(code)


class RedactKey(logging.Filter):
    """Hide API keys in any log line (urllib3's debug lines carry the request URL)."""

    pattern = re.compile(r"(api_key=)[^&\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.pattern.sub(r"\1***", record.getMessage())
        record.args = ()
        return True


def setup_logging(quiet: bool, verbose: int, log_file: Path | None) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.addFilter(RedactKey())
    logging.basicConfig(level=level, handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def logging_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--quiet, --verbose and --log for the commands that do work."""

    @click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors on stderr (for cron).")
    @click.option("-v", "--verbose", count=True, help="Debug logging.")
    @click.option("--log", "log_file", type=click.Path(dir_okay=False, path_type=Path),
                  help="Also append the log to this file.")
    @functools.wraps(func)
    def wrapper(*args: Any, quiet: bool, verbose: int, log_file: Path | None, **kwargs: Any) -> Any:
        setup_logging(quiet, verbose, log_file)
        return func(*args, **kwargs)

    return wrapper


db_option = click.option(
    "--db", "db_path", type=click.Path(path_type=Path),
    help="SQLite database (default: $MINER_DB or outputs/evidence.db).")


def eutils_options(func: Callable[..., Any]) -> Callable[..., Any]:
    @click.option("--eutils-url", help="E-utilities base URL (default: $MINER_EUTILS_URL or NCBI's).")
    @click.option("--email", help="Contact e-mail sent to NCBI (default: $NCBI_EMAIL).")
    @click.option("--batch-size", type=click.IntRange(1, 10000), help="Records per efetch request.")
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


def settings_from(db_path: Path | None = None, **options: Any) -> Settings:
    return load_settings().with_options(db=db_path, **options)


def parse_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    for fmt in ("%Y/%m/%d", "%Y-%m-%d", "%Y/%m", "%Y-%m", "%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise click.BadParameter(f"{value!r} is not a date (YYYY/MM/DD)")


def query_from(query: str | None, query_file: Path | None) -> str:
    if query and query_file:
        raise click.UsageError("give --query or --query-file, not both")
    if query_file:
        text = read_query_file(query_file)
    else:
        text = default_query() if query is None else query
    if not text.strip():
        raise click.UsageError("the query is empty")
    if text.count("(") != text.count(")") or text.count('"') % 2:
        raise click.UsageError("the query has unbalanced parentheses or quotes")
    return text


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="miner")
def cli() -> None:
    """Keep an evidence table of circulating bone-metastasis biomarkers up to date from PubMed."""


# -- fetch / ingest / status -------------------------------------------------------------------
query_options = [
    click.option("--query", help="PubMed query (default: the shipped corpora/query.txt)."),
    click.option("--query-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="Read the query from a file ('#' lines are comments)."),
    click.option("--since", callback=parse_day, help="Only records on or after this date (YYYY/MM/DD)."),
    click.option("--until", callback=parse_day, help="Only records on or before this date."),
    click.option("--datetype", type=click.Choice(DATETYPES), default="edat", show_default=True,
                 help="Date the window applies to: entrez (edat), modification (mdat), publication (pdat)."),
]


def apply(options: list[Callable[..., Any]]) -> Callable[..., Any]:
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


@cli.command()
@apply(query_options)
@db_option
@eutils_options
@logging_options
@handle_errors
def fetch(query: str | None, query_file: Path | None, since: date | None, until: date | None,
          datetype: str, db_path: Path | None, eutils_url: str | None, email: str | None,
          batch_size: int | None) -> None:
    """Search PubMed and store the matching articles (no extraction)."""
    settings = settings_from(db_path, eutils_url=eutils_url, email=email, batch_size=batch_size)
    text = query_from(query, query_file)
    store = Store(settings.db)
    counts = fetch_into(store, settings, text, since, until, datetype, command="fetch")
    click.echo(f"fetch: {counts.summary() or 'nothing found'} → {settings.db}")


def fetch_into(store: Store, settings: Settings, query: str, since: date | None, until: date | None,
               datetype: str, command: str) -> RunCounts:
    client = EutilsClient(settings)
    with store.lock(), stop_on_signals() as stop, recorded_run(
        store, command, query=query, since=since, until=until, datetype=datetype
    ) as (run_id, counts):
        try:
            for batch in fetch_query(store, client, query, run_id, since, until, datetype, stop):
                counts.add(batch.counts)
        finally:
            counts.requests = client.requests_made
    return counts


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@db_option
@logging_options
@handle_errors
def ingest(files: tuple[Path, ...], db_path: Path | None) -> None:
    """Store articles from local PubMed XML files (.xml, .xml.gz) or MEDLINE text files."""
    from miner.bulk import plan_jobs, run_jobs, write_results

    settings = settings_from(db_path)
    store = Store(settings.db)
    with store.lock(), stop_on_signals() as stop, recorded_run(
        store, "ingest", query=" ".join(str(f) for f in files)
    ) as (run_id, counts):
        jobs, missing, done = plan_jobs(store, list(files), filter_query=False, extract=False,
                                        extracted_with="")
        for problem in missing:
            log.error(problem)
        added, _changed, errors = write_results(store, run_jobs(jobs, 1, None), run_id, "", len(jobs), stop)
        counts.add(added)
    problems = missing + errors
    click.echo(f"ingest: {len(jobs) - len(errors)} files read, {counts.summary() or 'no records'}"
               f"{f', {done} already ingested' if done else ''} → {settings.db}")
    if problems:
        raise Failed(f"{len(problems)} file(s) could not be read: " + "; ".join(problems))
    if counts.failed:
        raise Failed(f"{counts.failed} malformed record(s) skipped; the others were stored")


@cli.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def status(db_path: Path | None, as_json: bool) -> None:
    """What the database holds and its last runs."""
    info = Store(settings_from(db_path).db, write=False).status()
    if as_json:
        click.echo(json.dumps(info, indent=2, default=str))
        return
    click.echo(f"database: {info['database']}")
    by_status = ", ".join(f"{k} {v}" for k, v in sorted(info["by_status"].items()))
    click.echo(f"articles: {info['articles']} ({by_status or 'none'}); "
               f"{info['without_abstract']} without abstract")
    click.echo(f"evidence rows: {info['evidence']}")
    click.echo("last runs:")
    for run in info["runs"]:
        counts = RunCounts(**{k: run[k] or 0 for k in RunCounts.__dataclass_fields__})
        click.echo(f"  #{run['id']} {run['command']:<8} {run['status']:<11} {run['started']}  "
                   f"{counts.summary()}{'  — ' + run['message'] if run['message'] else ''}")
