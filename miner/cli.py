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
        try:
            handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
        except OSError as exc:
            raise click.BadParameter(f"cannot write the log file {log_file}: {exc.strerror or exc}",
                                     param_hint="--log") from None
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


def apply(options: list[Callable[..., Any]]) -> Callable[..., Any]:
    """A decorator that applies several click options, in the order listed."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


eutils_options = apply([
    click.option("--eutils-url", help="E-utilities base URL (default: $MINER_EUTILS_URL or NCBI's)."),
    click.option("--email", help="Contact e-mail sent to NCBI (default: $NCBI_EMAIL)."),
    click.option("--batch-size", type=click.IntRange(1, 10000), help="Records per efetch request."),
    click.option("--give-up-after", type=click.FloatRange(1), metavar="SECONDS",
                 help="Stop retrying a failing request after this long (default 300)."),
])


def settings_from(db_path: Path | None = None, **options: Any) -> Settings:
    return load_settings().with_options(db=db_path, **options)


def eutils_settings(db_path: Path | None, eutils_url: str | None, email: str | None, batch_size: int | None,
                    give_up_after: float | None, **more: Any) -> Settings:
    return settings_from(db_path, eutils_url=eutils_url, email=email, batch_size=batch_size,
                         give_up_after=give_up_after, **more)


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
    text = read_query_file(query_file) if query_file else (default_query() if query is None else query)
    if not text.strip():
        raise click.UsageError("the query is empty")
    if text.count("(") != text.count(")") or text.count('"') % 2:
        raise click.UsageError("the query has unbalanced parentheses or quotes")
    return text


ner_model_option = click.option(
    "--ner-model", metavar="NAME|PATH",
    help="Also use a spaCy/scispacy NER model (e.g. en_ner_bionlp13cg_md) for candidate entities.")
n_process_option = click.option("--n-process", type=click.IntRange(1, 64), default=1, show_default=True,
                                 help="Worker processes for extraction.")


def load_nlp(ner_model: str | None):  # noqa: ANN201 - spaCy Language
    from miner.nlp.pipeline import build_pipeline

    try:
        return build_pipeline(ner_model)
    except OSError as exc:
        raise click.UsageError(f"cannot load the NER model {ner_model!r}: {exc}") from None


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


@cli.command()
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
    store = Store(settings.db)
    counts = fetch_job(store, settings, text, since, until, datetype, command="fetch")
    click.echo(f"fetch: {counts.summary() or 'nothing found'} → {settings.db}")


def fetch_job(store: Store, settings: Settings, query: str, since: date | None, until: date | None,
              datetype: str, command: str, extract: bool = False, ner_model: str | None = None,
              n_process: int = 1) -> RunCounts:
    """Fetch a query into the store as one recorded run; then extract, when asked, in the same run."""
    client = EutilsClient(settings)
    with store.lock(), stop_on_signals() as stop, recorded_run(
        store, command, query=query, since=since, until=until, datetype=datetype
    ) as (run_id, counts):
        try:
            for batch in fetch_query(store, client, query, run_id, since, until, datetype, stop):
                counts.add(batch.counts)
        finally:
            counts.requests = client.requests_made
        if extract:
            extract_into(store, ner_model, counts, run_id, n_process=n_process, stop=stop)
    return counts


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@db_option
@click.option("--filter", "filter_mode", type=click.Choice(("all", "query")), default="all", show_default=True,
              help="Keep every record, or only those matching the shipped bone-metastasis filter.")
@click.option("--no-extract", is_flag=True, help="Only store articles; extract later with `miner extract`.")
@click.option("--workers", type=click.IntRange(1, 512), help="Worker processes (default: all cores).")
@click.option("--dask", "dask_address", metavar="ADDRESS", help="Run the per-file work on a Dask scheduler.")
@click.option("--force", is_flag=True, help="Process files even if they were ingested already.")
@ner_model_option
@logging_options
@handle_errors
def ingest(files: tuple[Path, ...], db_path: Path | None, filter_mode: str, no_extract: bool, workers: int | None,
           dask_address: str | None, force: bool, ner_model: str | None) -> None:
    """Store (and extract) articles from PubMed XML files (.xml, .xml.gz: efetch dumps, baseline and
    update files) or MEDLINE text files. Files are applied in the order given."""
    from miner.bulk import default_workers, plan_jobs, run_jobs, write_results
    from miner.nlp.pipeline import extractor_fingerprint

    settings = settings_from(db_path)
    store = Store(settings.db)
    fingerprint = None if no_extract else extractor_fingerprint(ner_model)
    if ner_model and not no_extract:
        load_nlp(ner_model)  # a bad model name is a usage error before any work
    with store.lock(), stop_on_signals() as stop, recorded_run(
        store, "ingest", query=" ".join(str(f) for f in files)
    ) as (run_id, counts):
        store.db["runs"].update(run_id, {"extractor_version": fingerprint})
        jobs, missing, done = plan_jobs(store, list(files), filter_mode == "query", fingerprint, ner_model, force)
        for problem in missing:
            log.error(problem)
        results = run_jobs(jobs, workers or default_workers(), dask_address)
        added, errors = write_results(store, results, run_id, len(jobs), stop)
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


# -- extraction ----------------------------------------------------------------------------------
def extract_into(store: Store, ner_model: str | None, counts: RunCounts, run_id: int, *, everything: bool = False,
                 n_process: int = 1, stop=None) -> None:  # noqa: ANN001
    from miner.extract import extract_pending
    from miner.nlp.pipeline import extractor_fingerprint

    fingerprint = extractor_fingerprint(ner_model)
    store.db["runs"].update(run_id, {"extractor_version": fingerprint})
    counts.add(extract_pending(store, load_nlp(ner_model), fingerprint, run_id, everything=everything,
                               n_process=n_process, ner_model=ner_model, stop=stop))


@cli.command()
@db_option
@click.option("--all", "everything", is_flag=True, help="Re-extract every article, not only new or changed ones.")
@ner_model_option
@n_process_option
@logging_options
@handle_errors
def extract(db_path: Path | None, everything: bool, ner_model: str | None, n_process: int) -> None:
    """Find markers, cancers and uses in stored articles; store the evidence."""
    settings = settings_from(db_path)
    store = Store(settings.db)
    with store.lock(), stop_on_signals() as stop, recorded_run(store, "extract") as (run_id, counts):
        extract_into(store, ner_model, counts, run_id, everything=everything, n_process=n_process, stop=stop)
    click.echo(f"extract: {counts.extracted} articles, {counts.evidence} evidence rows new or changed → {settings.db}")


@cli.command("run")
@apply(query_options)
@db_option
@eutils_options
@ner_model_option
@n_process_option
@logging_options
@handle_errors
def run_job(query: str | None, query_file: Path | None, since: date | None, until: date | None, datetype: str,
            db_path: Path | None, eutils_url: str | None, email: str | None, batch_size: int | None,
            give_up_after: float | None, ner_model: str | None, n_process: int) -> None:
    """The main job: fetch the query's articles, extract and store their evidence."""
    settings = eutils_settings(db_path, eutils_url, email, batch_size, give_up_after)
    text = query_from(query, query_file)
    counts = fetch_job(Store(settings.db), settings, text, since, until, datetype, command="run", extract=True,
                       ner_model=ner_model, n_process=n_process)
    click.echo(f"run: {counts.summary() or 'nothing found'} → {settings.db}")


EXPORT_FORMATS = ("csv", "jsonl", "markdown", "html")


@cli.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Output file ('-' for stdout; default: evidence.<ext> beside the database).")
@click.option("--min-articles", type=click.IntRange(1), default=1, show_default=True,
              help="Only (marker, cancer, use) rows supported by at least N articles.")
@click.option("--cancer", help="Only this cancer (canonical name, e.g. prostate).")
@click.option("--use", type=click.Choice(("diagnosis", "prognosis", "risk_prediction", "monitoring")))
@handle_errors
def export(db_path: Path | None, fmt: str, out: Path | None, min_articles: int, cancer: str | None,
           use: str | None) -> None:
    """Write the evidence rows (csv, jsonl) or the review-style table (markdown, html)."""
    from miner import export as exporter

    settings = settings_from(db_path)
    store = Store(settings.db, write=False)
    target = out or exporter.default_output(settings.db, fmt)
    writer = exporter.WRITERS[fmt]
    try:
        if str(target) == "-":
            count = writer(store, sys.stdout, cancer=cancer, use=use, min_articles=min_articles)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("w", encoding="utf-8", newline="") as fh:
                count = writer(store, fh, cancer=cancer, use=use, min_articles=min_articles)
    except OSError as exc:
        raise Failed(f"cannot write {target}: {exc.strerror or exc}") from None
    if str(target) != "-":
        click.echo(f"export: {count} rows → {target}")


@cli.command()
@click.option("--gold", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Annotated abstracts (JSON Lines: pmid, relations[marker, cancer, use]).")
@db_option
@click.option("--show-errors", type=click.IntRange(0), default=0, help="List N misses and N false hits.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def evaluate(gold: Path, db_path: Path | None, show_errors: int, as_json: bool) -> None:
    """Precision, recall and F1 of the stored evidence against annotated abstracts."""
    from miner import evaluate as scorer
    from miner.export import evidence_rows

    store = Store(settings_from(db_path).db, write=False)
    try:
        gold_rows = scorer.read_gold(gold)
    except ValueError as exc:
        raise Failed(str(exc)) from None
    gold_sets, system_sets = scorer.keyed(gold_rows, list(evidence_rows(store)))
    scores = scorer.score(gold_sets, system_sets)
    if as_json:
        click.echo(json.dumps({k: {"precision": round(s.precision, 4), "recall": round(s.recall, 4),
                                   "f1": round(s.f1, 4), "tp": s.tp, "fp": s.fp, "fn": s.fn}
                               for k, s in scores.items()}, indent=2))
    else:
        click.echo(f"abstracts scored: {len(gold_rows)}")
        click.echo(f"{'level':<22}{'P':>7}{'R':>7}{'F1':>7}{'tp':>6}{'fp':>6}{'fn':>6}")
        for name, s in scores.items():
            click.echo(f"{name:<22}{s.precision:>7.3f}{s.recall:>7.3f}{s.f1:>7.3f}{s.tp:>6}{s.fp:>6}{s.fn:>6}")
    if show_errors:
        missed, false = scorer.errors(gold_sets, system_sets)
        click.echo("missed: " + "; ".join("/".join(k) for k in missed[:show_errors]))
        click.echo("false:  " + "; ".join("/".join(k) for k in false[:show_errors]))


@cli.command()
@click.option("--pmid", help="A stored article (fetched from PubMed when not stored).")
@click.option("--text", help="A text to analyse (the first line is taken as the title).")
@db_option
@ner_model_option
@eutils_options
@handle_errors
def explain(pmid: str | None, text: str | None, db_path: Path | None, ner_model: str | None,
            eutils_url: str | None, email: str | None, batch_size: int | None, give_up_after: float | None) -> None:
    """Show how one abstract was read: entities, sentences, cues, relations, and what was rejected."""
    from miner.explain import explain_article, load_article

    if bool(pmid) == bool(text):
        raise click.UsageError("give --pmid or --text")
    settings = eutils_settings(db_path, eutils_url, email, batch_size, give_up_after)
    article = load_article(settings, pmid=pmid, text=text)
    click.echo(explain_article(load_nlp(ner_model), article))


# -- the evidence table --------------------------------------------------------------------------
@cli.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--port", type=click.IntRange(1, 65535), default=8001, show_default=True)
@click.option("--mutable", is_flag=True, help="Open the database for writing instead of immutable (read-only).")
@handle_errors
def serve(db_path: Path | None, host: str, port: int, mutable: bool) -> None:
    """Browse and query the database with Datasette (metadata, facets and canned queries shipped)."""
    from miner.serve import ServeError
    from miner.serve import serve as run_server

    settings = settings_from(db_path)
    click.echo(f"serving {settings.db} at http://{host}:{port}/ (Ctrl-C to stop)", err=True)
    try:
        run_server(settings.db, host, port, immutable=not mutable)
    except ServeError as exc:
        raise Failed(str(exc)) from None


@cli.command()
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
    try:
        ref = comparing.read_reference(reference)
    except ValueError as exc:
        raise Failed(str(exc)) from None
    result = comparing.compare(store, ref, min_articles)
    click.echo(f"reference rows: {result.reference_rows}; supported: {len(result.supported)}; "
               f"not found: {len(result.not_found)}; new rows: {len(result.new)}")
    click.echo(f"\n{'marker':<22}{'cancer':<18}{'use':<17}{'articles':>9}{'support':>9}{'refute':>8}  status")
    for row in result.supported:
        click.echo(f"{row.marker:<22}{row.cancer:<18}{row.use:<17}{row.articles:>9}{row.supporting:>9}"
                   f"{row.refuting:>8}  in the reference")
    for row in result.new[:25]:
        click.echo(f"{row.marker:<22}{row.cancer:<18}{row.use:<17}{row.articles:>9}{row.supporting:>9}"
                   f"{row.refuting:>8}  new")
    target = out or settings.db.parent / "comparison.md"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(comparing.comparison_markdown(result, str(reference or "corpora/reference.csv")),
                          encoding="utf-8")
    except OSError as exc:
        raise Failed(f"cannot write {target}: {exc.strerror or exc}") from None
    click.echo(f"\nreport → {target}")


@cli.command()
@db_option
@click.option("--since", required=True, metavar="RUN_ID|DATE", help="A run id, or a date (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def diff(db_path: Path | None, since: str, as_json: bool) -> None:
    """What is new since a run: summary rows and evidence added or changed after it."""
    from dataclasses import asdict

    from miner.compare import changes_since, run_before

    store = Store(settings_from(db_path).db, write=False)
    try:
        run_id = run_before(store, since)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    changes = changes_since(store, run_id)
    if as_json:
        click.echo(json.dumps(asdict(changes), indent=2, default=str))
        return
    click.echo(f"since run {run_id}: {len(changes.new_rows)} new summary rows, {len(changes.changed_rows)} changed, "
               f"{len(changes.evidence)} evidence rows added or changed")
    for label, rows in (("new", changes.new_rows), ("changed", changes.changed_rows)):
        for row in rows:
            click.echo(f"  {label:<8}{row.marker} | {row.cancer} | {row.use}: {row.articles} articles "
                       f"({row.supporting} supporting) PMIDs {' '.join(row.pmids[:6])}")
    for ev in changes.evidence:
        click.echo(f"  + {ev['pmid']} {ev['marker']} | {ev['cancer']} | {ev['use']} | {ev['finding']}: "
                   f"{ev['sentence'][:120]}")


# -- the scheduled refresh -----------------------------------------------------------------------
@cli.command()
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
@ner_model_option
@logging_options
@handle_errors
def refresh(db_path: Path | None, query: str | None, query_file: Path | None, report_dir: Path | None,
            overlap_days: int | None, check_deleted: bool, eutils_url: str | None, email: str | None,
            batch_size: int | None, give_up_after: float | None, ner_model: str | None) -> None:
    """The scheduled job: fetch what changed since the last refresh, re-extract, report.

    Exit codes: 0 done; 1 failed (nothing lost); 2 usage or configuration error; 75 try later (another
    refresh holds the lock, or NCBI is unavailable); 130 stopped by SIGINT/SIGTERM after the current batch.
    """
    from miner.nlp.pipeline import extractor_fingerprint
    from miner.refresh import refresh as run_refresh
    from miner.refresh import write_report

    settings = eutils_settings(db_path, eutils_url, email, batch_size, give_up_after, overlap_days=overlap_days)
    text = query_from(query, query_file)
    store = Store(settings.db)
    client = EutilsClient(settings)
    with store.lock(), stop_on_signals() as stop, recorded_run(store, "refresh", query=text) as (run_id, counts):
        nlp = load_nlp(ner_model)
        report = run_refresh(store, client, text, nlp, extractor_fingerprint(ner_model), run_id, counts,
                             overlap_days=settings.overlap_days, deletion_check_days=settings.deletion_check_days,
                             check_deleted=check_deleted, stop=stop)
    if report_dir:
        try:
            md_path, _ = write_report(report, report_dir)
        except OSError as exc:
            raise Failed(f"the refresh is stored, but the report cannot be written: {exc}") from None
        log.info("change report → %s", md_path)
    click.echo(report.summary())
