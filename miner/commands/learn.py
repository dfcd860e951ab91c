"""`miner train` and `miner evaluate`: fitting the relation scorer, and measuring extraction."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from miner.cli import BadUsage, db_option, handle_errors, lexicon_option, logging_options, settings_from
from miner.store import Store


def gold_option(required: bool):  # noqa: ANN201 - a click option
    return click.option(
        "--gold", "gold_files", multiple=True, required=required,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Annotated abstracts (JSON Lines: pmid, relations of marker, cancer, use); repeatable.")
articles_option = click.option(
    "--articles", "article_files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The annotated abstracts' texts: PubMed XML (.xml, .xml.gz) or MEDLINE files; repeatable.")


def register_commands(cli: click.Group) -> None:
    cli.add_command(train)
    cli.add_command(evaluate)


@click.command()
@gold_option(required=False)
@articles_option
@click.option("--verdicts", "verdicts_db", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              metavar="DB", help="Also learn from the reviewers' verdicts stored in this miner database "
                                 "(`miner review`): accepted rows as positives, rejected ones as negatives.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Model file to write (default: the scorer the package ships, corpora/scorer.json).")
@click.option("--regularisation", type=click.FloatRange(min=0, min_open=True), metavar="C",
              help="Inverse regularisation strength of the logistic regression (default 0.1).")
@lexicon_option
@logging_options
@handle_errors
def train(gold_files: tuple[Path, ...], article_files: tuple[Path, ...], verdicts_db: Path | None, out: Path | None,
          regularisation: float | None) -> None:
    """Fit the relation scorer on annotated abstracts and write its model (JSON). The same data gives the
    same file; the model's threshold is chosen by cross-validation."""
    from miner import learn
    from miner.nlp.scoring import model_path

    if not verdicts_db and not (gold_files and article_files):
        raise BadUsage("give annotated abstracts (--gold with their texts, --articles) or --verdicts")
    training = _annotated(gold_files, article_files, keep_views=False, verdicts_db=verdicts_db)
    model = learn.fit(training, regularisation or learn.REGULARISATION)
    path = out or model_path()
    try:
        path.write_text(model.to_json(), encoding="utf-8")
    except OSError as exc:
        raise BadUsage(f"cannot write {path}: {exc.strerror or exc}") from None
    meta = model.metadata
    click.echo(f"train: {meta['abstracts']} abstracts, {meta['candidates']} candidates ({meta['positives']} "
               f"annotated), threshold {model.threshold:.2f} → {path}")


@click.command()
@gold_option(required=True)
@articles_option
@click.option("--cv", "folds", type=click.IntRange(2, 50), metavar="K",
              help="Cross-validate the scorer on the annotated abstracts given with --articles: K folds by "
                   "abstract (default 5), each scored by a model trained on the others.")
@db_option
@click.option("--show-errors", type=click.IntRange(0), default=0, help="List N misses and N false hits.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@lexicon_option
@handle_errors
def evaluate(gold_files: tuple[Path, ...], article_files: tuple[Path, ...], folds: int | None, db_path: Path | None,
             show_errors: int, as_json: bool) -> None:
    """Precision, recall and F1 against annotated abstracts: of the evidence stored in the database, or,
    with --articles, held-out by cross-validation (what to expect on abstracts the scorer never saw)."""
    from miner import evaluate as scoring

    if folds and not article_files:
        raise click.UsageError("--cv needs the annotated abstracts' texts (--articles)")
    if article_files:
        from miner import learn

        result = learn.cross_validate(_annotated(gold_files, article_files, keep_views=True), folds or 5)
        scores, errors = result.scores, result.errors
        extra = {"folds": result.folds, "abstracts": result.abstracts, "matched": result.matched,
                 "finding_accuracy": result.finding_accuracy, "sample_accuracy": result.sample_accuracy,
                 "thresholds": result.thresholds}
    else:
        store = Store(settings_from(db_path).db, write=False)
        gold = [g for path in gold_files for g in _read_gold(path)]
        gold_sets, system_sets = scoring.keyed(gold, [asdict(r) for r in store.evidence.rows()])
        scores, errors = scoring.score(gold_sets, system_sets), scoring.errors(gold_sets, system_sets)
        extra = {"abstracts": len(gold)}
    if as_json:
        click.echo(json.dumps({**extra, **{k: {"precision": round(s.precision, 4), "recall": round(s.recall, 4),
                                                "f1": round(s.f1, 4), "tp": s.tp, "fp": s.fp, "fn": s.fn}
                                            for k, s in scores.items()}}, indent=2))
    else:
        if article_files:
            click.echo(f"cross-validation: {extra['folds']} folds by abstract, {extra['abstracts']} abstracts "
                       "(pooled held-out scores)")
        else:
            click.echo(f"abstracts scored: {extra['abstracts']}")
        click.echo(f"{'level':<22}{'P':>7}{'R':>7}{'F1':>7}{'tp':>6}{'fp':>6}{'fn':>6}")
        for name, s in scores.items():
            click.echo(f"{name:<22}{s.precision:>7.3f}{s.recall:>7.3f}{s.f1:>7.3f}{s.tp:>6}{s.fp:>6}{s.fn:>6}")
        if article_files and extra["matched"]:
            click.echo(f"on the {extra['matched']} matched relations: finding {extra['finding_accuracy']:.3f}, "
                       f"sample {extra['sample_accuracy']:.3f} agree with the annotation")
    if show_errors:
        missed, false = errors
        click.echo("missed: " + "; ".join("/".join(k) for k in missed[:show_errors]))
        click.echo("false:  " + "; ".join("/".join(k) for k in false[:show_errors]))


def _read_gold(path: Path) -> list[dict]:
    from miner.evaluate import read_gold

    try:
        return read_gold(path)
    except ValueError as exc:
        raise BadUsage(str(exc)) from None


def _annotated(gold_files: tuple[Path, ...], article_files: tuple[Path, ...], keep_views: bool,  # noqa: ANN202
               verdicts_db: Path | None = None):
    from miner.learn import read_annotated

    try:
        return read_annotated(gold_files, article_files, keep_views, verdicts_db)
    except ValueError as exc:
        raise BadUsage(str(exc)) from None
