"""`miner extract`, `miner explain` and `miner evaluate`: reading abstracts, and how well it is done."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from miner.cli import (
    Failed,
    db_option,
    eutils_options,
    eutils_settings,
    handle_errors,
    lexicon_option,
    load_nlp,
    logging_options,
    n_process_option,
    ner_model_option,
    settings_from,
)
from miner.runs import job
from miner.store import Store


def register_commands(cli: click.Group) -> None:
    cli.add_command(extract)
    cli.add_command(explain)
    cli.add_command(evaluate)


@click.command()
@db_option
@click.option("--all", "everything", is_flag=True, help="Re-extract every article, not only new or changed ones.")
@ner_model_option
@lexicon_option
@n_process_option
@logging_options
@handle_errors
def extract(db_path: Path | None, everything: bool, ner_model: str | None, n_process: int) -> None:
    """Find markers, cancers and uses in stored articles; store the evidence."""
    from miner.extract import extract_into
    from miner.nlp.pipeline import extractor_fingerprint

    settings = settings_from(db_path)
    with job(Store(settings.db), "extract") as ctx:
        extract_into(ctx, load_nlp(ner_model), extractor_fingerprint(ner_model), ner_model=ner_model,
                     everything=everything, n_process=n_process)
    click.echo(f"extract: {ctx.counts.extracted} articles, {ctx.counts.evidence} evidence rows new or changed"
               f" → {settings.db}")


@click.command()
@click.option("--pmid", help="A stored article (fetched from PubMed when not stored).")
@click.option("--text", help="A text to analyse (the first line is taken as the title).")
@db_option
@ner_model_option
@lexicon_option
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


@click.command()
@click.option("--gold", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Annotated abstracts (JSON Lines: pmid, relations[marker, cancer, use]).")
@db_option
@click.option("--show-errors", type=click.IntRange(0), default=0, help="List N misses and N false hits.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@lexicon_option
@handle_errors
def evaluate(gold: Path, db_path: Path | None, show_errors: int, as_json: bool) -> None:
    """Precision, recall and F1 of the stored evidence against annotated abstracts."""
    from miner import evaluate as scorer

    store = Store(settings_from(db_path).db, write=False)
    try:
        gold_rows = scorer.read_gold(gold)
    except ValueError as exc:
        raise Failed(str(exc)) from None
    gold_sets, system_sets = scorer.keyed(gold_rows, [asdict(r) for r in store.evidence.rows()])
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
