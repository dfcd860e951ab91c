"""The `miner` command line: the group, the options commands share, and errors → exit codes.

The commands live in `miner.commands`, one module a feature, each with ``register_commands(cli)``
(found by `register_command_modules`); they parse options, call the stages, and print.

Exit codes: 0 done; 1 failed (nothing stored is lost); 2 usage or configuration error;
75 (EX_TEMPFAIL) try later: another process holds the database's lock, or NCBI is unavailable;
130 interrupted by SIGINT/SIGTERM after storing the batch under way.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import pkgutil
import re
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from miner import __version__
from miner.config import ENV_LEXICON, ConfigurationError, Settings, default_query, load_settings, read_query_file
from miner.eutils import DATETYPES, EutilsError, QueryError, ServiceUnavailable
from miner.nlp.lexicon import LexiconError, load_lexicon
from miner.pubmed import SourceError
from miner.runs import Interrupted
from miner.store import Locked, StoreError

if TYPE_CHECKING:
    from miner.nlp.pipeline import ExtractorConfig

EXIT_FAILED, EXIT_USAGE, EXIT_TEMPFAIL, EXIT_INTERRUPTED = 1, 2, 75, 130


class Failed(Exception):
    """The job ran but did not complete everything it was asked to (details were logged)."""


class BadUsage(ConfigurationError):
    """A usage error found after the options were parsed (a path that is not there, an empty date window,
    a file without the columns it needs): one line, exit 2, before anything is stored."""


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
        except (StoreError, ConfigurationError) as exc:
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
                 help="Stop retrying a failing request after this long (default 120; refresh 300)."),
    click.option("--reply-timeout", type=click.FloatRange(0.1), metavar="SECONDS",
                 help="Wait this long for a reply before retrying; each retry waits twice as long (default 10)."),
])


def settings_from(db_path: Path | None = None, **options: Any) -> Settings:
    return load_settings().with_options(db=db_path, **options)


def eutils_settings(db_path: Path | None, eutils_url: str | None, email: str | None, batch_size: int | None,
                    give_up_after: float | None, reply_timeout: float | None, *, refresh: bool = False,
                    **more: Any) -> Settings:
    """The settings of a command that talks to E-utilities (with the refresh's retry budget for ``refresh``)."""
    defaults = load_settings()
    return (defaults.for_refresh() if refresh else defaults).with_options(
        db=db_path, eutils_url=eutils_url, email=email, batch_size=batch_size, give_up_after=give_up_after,
        timeout=reply_timeout, **more)


DATE_FORMS = "YYYY/MM/DD or YYYY-MM-DD"


def parse_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    for fmt in ("%Y/%m/%d", "%Y-%m-%d", "%Y/%m", "%Y-%m", "%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise click.BadParameter(f"{value!r} is not a date ({DATE_FORMS})")


def check_window(since: date | None, until: date | None) -> None:
    if since and until and since > until:
        raise BadUsage(f"the date window is empty: --since {since} is after --until {until}")


def output_path(out: Path | None, default: Path) -> Path:
    """Where a command writes: ``out`` when given (its folder must exist: a typo is not a new folder), else
    ``default``, whose folder is made."""
    if out is None:
        default.parent.mkdir(parents=True, exist_ok=True)
        return default
    if str(out) != "-" and not out.parent.is_dir():
        raise BadUsage(f"cannot write {out}: no folder {out.parent}")
    return out


def query_from(query: str | None, query_file: Path | None) -> str:
    if query and query_file:
        raise click.UsageError("give --query or --query-file, not both")
    text = read_query_file(query_file) if query_file else (default_query() if query is None else query)
    if not text.strip():
        raise click.UsageError("the query is empty")
    if text.count("(") != text.count(")") or text.count('"') % 2:
        raise click.UsageError("the query has unbalanced parentheses or quotes")
    return text


def use_lexicon(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    """Add the user's lexicon folder for this process and the workers it starts (as $MINER_LEXICON)."""
    if value is None:
        return
    os.environ[ENV_LEXICON] = str(value.resolve())
    try:
        load_lexicon()
    except LexiconError as exc:
        raise click.BadParameter(str(exc), param_hint="--lexicon") from None


lexicon_option = click.option(
    "--lexicon", type=click.Path(file_okay=False, path_type=Path), envvar=ENV_LEXICON, expose_value=False,
    callback=use_lexicon, metavar="DIR",
    help="Add your own markers.csv, cancers.csv, samples.csv, cues.toml, not_markers.txt from DIR "
         "(default: $MINER_LEXICON).")
n_process_option = click.option("--n-process", type=click.IntRange(1, 64), default=1, show_default=True,
                                 help="Worker processes for extraction.")


def extractor_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--ner-model, --scorer and --min-confidence, passed on as one ``extractor`` (an ExtractorConfig), and
    --lexicon: what extraction reads."""

    @lexicon_option
    @click.option("--ner-model", metavar="NAME|PATH",
                  help="Also use a spaCy/scispacy NER model (e.g. en_ner_bionlp13cg_md) for candidate entities.")
    @click.option("--scorer", type=click.Path(dir_okay=False), metavar="MODEL.json",
                  help="The relation scorer's model (default: the shipped corpora/scorer.json; `miner train` "
                       "makes one).")
    @click.option("--min-confidence", type=click.FloatRange(0, 1), metavar="P",
                  help="Store relations whose calibrated probability is at least P (default: the model's "
                       "threshold, chosen by cross-validation).")
    @functools.wraps(func)
    def wrapper(*args: Any, ner_model: str | None, scorer: str | None, min_confidence: float | None,
                **kwargs: Any) -> Any:
        from miner.nlp.pipeline import ExtractorConfig

        return func(*args, extractor=ExtractorConfig(ner_model, scorer, min_confidence), **kwargs)

    return wrapper


def check_extractor(extractor: ExtractorConfig) -> str:
    """Build the extractor's pipeline once, so that a bad NER model or scorer file is a usage error before
    any work; return its fingerprint."""
    try:
        extractor.pipeline()
        return extractor.fingerprint()
    except OSError as exc:
        raise click.UsageError(f"cannot load the NER model {extractor.ner_model!r}: {exc}") from None


class MinerGroup(click.Group):
    """The group: a reader that closes the pipe early (``miner export --out - | head``) ends the command
    quietly with exit 0, as Unix tools do, for every command at once."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
            return result
        except BrokenPipeError:
            quiet_stdout()
            sys.exit(0)


def quiet_stdout() -> None:
    """Point stdout at /dev/null so that Python's final flush does not fail again (Python's docs' recipe)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (the test runner's capture)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


@click.group(cls=MinerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="miner")
def cli() -> None:
    """Keep an evidence table of circulating bone-metastasis biomarkers up to date from PubMed.

    \b
    Exit codes:
      0   done
      1   failed; what was stored before the failure is kept
      2   usage or configuration error (bad option, query, path, or a database of another tool)
      75  try later: another process holds the database's lock, or NCBI is unavailable
      130 stopped by SIGINT/SIGTERM after storing the batch under way
    """


query_options = [
    click.option("--query", help="PubMed query (default: the shipped corpora/query.txt)."),
    click.option("--query-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="Read the query from a file ('#' lines are comments)."),
    click.option("--since", callback=parse_day, help=f"Only records on or after this date ({DATE_FORMS})."),
    click.option("--until", callback=parse_day, help=f"Only records on or before this date ({DATE_FORMS})."),
    click.option("--datetype", type=click.Choice(DATETYPES), default="edat", show_default=True,
                 help="Date the window applies to: entrez (edat), modification (mdat), publication (pdat)."),
]


def register_command_modules(group: click.Group) -> None:
    """Every module of `miner.commands` adds its commands with its ``register_commands(cli)``: a new
    feature's commands are a new module there, with no change here."""
    import miner.commands

    for module in pkgutil.iter_modules(miner.commands.__path__):
        importlib.import_module(f"miner.commands.{module.name}").register_commands(group)


register_command_modules(cli)
