"""``whyrec evaluate``: a saved model scored on a split's test part (ratings; explanations and
their alignment for MT and PETER)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import typer

from whyrec.cli.common import app
from whyrec.cli.inputs import split_of, strangers_warning, warn_if_not_held_out
from whyrec.cli.option_checks import check_mi_read, check_out, check_relevant_at, mi_encoder, scored_decoding
from whyrec.cli.options import (ByActivity, ColumnMap, DecodingSettings, MaxRating, MiScores, MinRating, ReaderFormat,
                                RelevantAt, ScoredMethod, SentenceEncoderName, SplitSeed, TopK)
from whyrec.cli.output import console, note_random_sentence_words, status
from whyrec.strict_json import strict_dumps
from whyrec.wording import counted, usr_text


@app.command("evaluate")
def evaluate(
    bundle: Path = typer.Argument(..., help="Bundle folder written by `whyrec train`."),
    data: Path = typer.Option(..., "--data", help="Review file or folder."),
    split: Optional[Path] = typer.Option(None, "--split", help="Split folder (default: <data>/1 when present)."),
    seed: SplitSeed = None,
    format: ReaderFormat = None,
    column: ColumnMap = None,
    as_json: bool = typer.Option(False, "--json", help="Print the scores as JSON."),
    mi: MiScores = False,
    encoder: SentenceEncoderName = None,
    top_k: TopK = None,
    relevant_at: RelevantAt = None,
    intervals: bool = typer.Option(False, "--intervals", help="Also 95% bootstrap intervals (1,000 resamples of "
                                   "the test records) of RMSE and MAE, and of each explainer's BLEU, ROUGE, FMR and "
                                   "sentiment accuracies."),
    records: Optional[Path] = typer.Option(None, "--records", help="Also write one row per test record to this "
                                           ".jsonl or .csv file: user, item, rating, predicted rating; for MT and "
                                           "PETER also the reference sentence, its feature word, and each "
                                           "explainer's explanation with the rating class the judge reads in it."),
    by_activity: ByActivity = False,
    method: ScoredMethod = None,
    decode: DecodingSettings = None,
    min_rating: MinRating = 1.0,
    max_rating: MaxRating = 5.0,
) -> None:
    """Score a saved model on a split's test part: ratings, and explanations with their alignment.

    RMSE and MAE; for MT and PETER also each explainer's BLEU-1/4, ROUGE-1/2/L, USR, FMR, FCR,
    DIV and perplexity, and its alignment: how often a sentiment judge trained on the train
    reviews reads an explanation as the predicted rating (5 and 3 classes). With --records, what
    was predicted and written for each test record, as scored."""
    decoding = scored_decoding(method, decode)  # before the heavy imports and the data: refused at once
    from whyrec.bundle import load_bundle
    from whyrec.explanation_scores import explanation_intervals, score_explanations, sentiment_judge, write_explanations
    from whyrec.explanations import EXPLAINER_LABELS, check_decoding, check_rating_scale, explainers_of, system_label
    from whyrec.metrics.rating import mae, rmse

    encoder = mi_encoder(mi, encoder)  # checked before the data is read
    check_relevant_at(relevant_at, top_k)
    if records is not None:
        from whyrec.prediction_records import check_records_path

        check_records_path(records)
        check_out(records, data, folder=False, option="--records")
    estimator = load_bundle(bundle)
    check_rating_scale(estimator, (min_rating, max_rating))
    check_decoding(estimator, decoding)
    check_mi_read(mi, {estimator.name: estimator})
    note_random_sentence_words(encoder)
    # the texts read as the system was trained on them (a rating model reads none)
    parts = split_of(data, split, seed, format, (min_rating, max_rating), column,
                     getattr(estimator, "unicode_folded", False))
    test = parts.test
    if len(test) == 0:
        from whyrec.errors import DataError

        raise DataError(f"split {parts.name} has no test records to score (the data may be too small to split)")
    pred = estimator.predict_corpus(test)
    unknown = int(sum(u not in estimator.user_map for u in test.users))
    report = {"system": estimator.name, "test_ratings": len(test), "rmse": rmse(pred, test.ratings),
              "mae": mae(pred, test.ratings), "unknown_users": unknown}
    not_held_out = warn_if_not_held_out(bundle, data, parts)
    if not_held_out:
        report["split_warning"] = not_held_out
    strangers = strangers_warning("the system", estimator, test)
    if strangers:  # trained on other data?
        report["strangers_warning"] = strangers
    if intervals:
        from whyrec.metrics.significance import rating_error_intervals

        report["rating_intervals"] = rating_error_intervals(pred, test.ratings)
    if by_activity:
        from whyrec.experiment import rmse_by_activity

        report["rmse_by_activity"] = rmse_by_activity(parts, pred)
    if top_k is not None:
        from whyrec.ranking_evaluation import ranking_scores, relevance_threshold

        if relevant_at is None:
            relevant_at = relevance_threshold(test.rating_scale)
        users, scores = ranking_scores(estimator, parts, top_k, relevant_at)
        report["ranking"] = {"k": top_k, "relevant_at": relevant_at, "users": users, "items": len(estimator.item_map),
                             **scores}
    written = judge = None
    if explainers_of(estimator):
        from whyrec.data.features import split_features

        with status(console(), "extracting features and explaining the test records"):
            features = split_features(parts)
            sentences = None
            if mi:
                from whyrec.align.pipeline import sentence_encoder

                sentences = sentence_encoder(encoder, estimator.vocab)
            written = write_explanations(estimator, test, features, decoding)
            if decoding is not None:
                report["decoding"] = decoding.describe()
            judge = sentiment_judge(parts.train) if len(parts.train) else None
            report["explained_records"], report["explanations"] = score_explanations(
                estimator, test, features, judge=judge, encoder=sentences, written=written)
            if intervals:
                report["intervals"] = explanation_intervals(estimator, written, features, judge)
    unwritten = None  # why the records were not written where asked: told after the scores, which are not lost
    if records is not None:
        from whyrec.kept_elsewhere import KeptElsewhere, write_or_keep_elsewhere
        from whyrec.prediction_records import prediction_records, save_records

        rows = prediction_records(estimator, test, pred, written, judge)
        try:
            write_or_keep_elsewhere(lambda folder: save_records(rows, folder / records.name), records.parent,
                                    f"records file {records.name}")
            report["records_file"] = str(records)
        except KeptElsewhere as kept:
            unwritten, report["records_file"] = kept, str(kept.folder / records.name)
        except OSError as refused:  # refused in the temporary folder too: the records are lost, not the scores
            unwritten, report["records_file"] = refused, None
    if as_json:  # NaN (a metric without features) is null: JSON has no NaN
        print(strict_dumps(report, indent=1))
        if unwritten:
            raise unwritten
        return
    con = console()
    con.print(f"{system_label(estimator)} on split {parts.name}, {len(test):,} test ratings: "
              f"RMSE {report['rmse']:.4f}  MAE {report['mae']:.4f}  ({unknown:,} with unknown users)", highlight=False)
    if "rating_intervals" in report:
        bounds = report["rating_intervals"]
        con.print(f"  95% bootstrap intervals: RMSE {bounds['rmse'][0]:.4f}–{bounds['rmse'][1]:.4f}  "
                  f"MAE {bounds['mae'][0]:.4f}–{bounds['mae'][1]:.4f}", highlight=False)
    if strangers:
        con.print(f"  {strangers}", highlight=False)
    if "rmse_by_activity" in report:
        con.print("  RMSE by the user's number of training ratings: " + "  ".join(
            f"{group} {v['rmse']:.4f} (n={v['count']:,})" for group, v in report["rmse_by_activity"].items()),
            highlight=False)
    if "ranking" in report:
        r = report["ranking"]
        con.print(f"  top {r['k']} of each test user's unrated items ({counted(r['users'], 'user')} with a test item "
                  f"rated ≥ {r['relevant_at']:g}): " + "  ".join(f"{name} {r[name]:.4f}" for name in
                                                          ("precision", "recall", "hr", "mrr", "ndcg")))
        from whyrec.ranking_evaluation import whole_list_note

        whole = whole_list_note(r["k"], r["items"])
        if whole:
            con.print(f"  ({whole})", highlight=False)
    if "explanations" in report and not report["explained_records"]:
        con.print("  explanations not scored: no test record has a user and an item the system knows "
                  "(is this the data it was trained on?)")
    if report.get("explanations") and decoding is not None:
        con.print(f"  explanations decoded by {report['decoding']}, as `whyrec explain` shows them", highlight=False)
    for name, sc in report.get("explanations", {}).items():
        con.print(f"  {EXPLAINER_LABELS[name]} on {counted(report['explained_records'], 'record')} with a known user "
                  f"and item: BLEU-1 {sc['bleu1']:.2f}  BLEU-4 {sc['bleu4']:.2f}  ROUGE-1/2/L {sc['rouge1']:.2f}/"
                  f"{sc['rouge2']:.2f}/{sc['rougeL']:.2f}  {usr_text(sc['usr'], report['explained_records'])}  "
                  f"{_feature_scores(sc)}  "
                  f"perplexity {sc['ppl']:.2f}  sentiment "
                  f"accuracy {sc['acc5']:.1f}% / {sc['acc3']:.1f}% (5 / 3 classes; one sentence for all would score "
                  f"{sc['base5']:.1f}% / {sc['base3']:.1f}%)"
                  + (f"  I(R;E)/H(R) {_mi_value(sc['mi_rating'], 'every predicted rating in one class')}  "
                     f"I(F;E) {_mi_value(sc['mi_feature'], 'under two records with a feature word')}"
                     if "mi_rating" in sc else ""),
                  highlight=False)
        bounds = report.get("intervals", {}).get(name)
        if bounds:
            con.print("    95% bootstrap intervals: " + "  ".join(
                f"{title} {bounds[key][0]:{spec}}–{bounds[key][1]:{spec}}" for key, title, spec in INTERVALS_SHOWN
                if key in bounds), highlight=False)
        if sc.get("empty"):
            con.print(f"    {sc['empty']:.1f}% of these explanations have no words (the sentiment judge reads "
                      "those by its prior alone)", highlight=False)
    if unwritten:
        raise unwritten
    if records is not None:
        con.print(f"  each test record's prediction{' and explanations' if written else ''} written to {records}",
                  highlight=False)


INTERVALS_SHOWN = (("bleu1", "BLEU-1", ".2f"), ("bleu4", "BLEU-4", ".2f"), ("rouge1", "ROUGE-1", ".2f"),
                   ("rouge2", "ROUGE-2", ".2f"), ("rougeL", "ROUGE-L", ".2f"), ("fmr", "FMR", ".3f"),
                   ("acc5", "sentiment accuracy (5 classes)", ".1f"), ("acc3", "(3 classes)", ".1f"))


def _feature_scores(scores: dict) -> str:
    """FMR, FCR and DIV for the evaluate line; each one undefined (NaN) said to be so, with why."""
    names = ("fmr", "fcr", "div")
    if all(math.isnan(scores[n]) for n in names):
        return "FMR, FCR, DIV n/a (no feature words: none was extracted from the train reviews)"
    return "  ".join(f"{n.upper()} {'n/a' if math.isnan(scores[n]) else f'{scores[n]:.3f}'}" for n in names)


def _mi_value(value: float, why_undefined: str) -> str:
    """An MI estimate for the evaluate line (one that rounds to 0 as 0.000, not -0.000); NaN
    (undefined) said with its reason."""
    return f"undefined ({why_undefined})" if math.isnan(value) else f"{value:z.3f}"
