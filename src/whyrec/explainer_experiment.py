"""Explanation systems side by side on one split: their ratings and their explanations, one row
per explainer (MT-U, MT-I, MT-P, PETER, PETER+).

    table = compare_explainers(split, {"MT": MultiTask(epochs=10), "PETER+": Peter(use_feature=True)},
                               features)
    print(table.to_markdown()); table.save("runs/explain")

Each system is fitted on ``split.train`` (with ``split.valid`` for its model selection) and the
extracted features, then scored on ``split.test``: RMSE and MAE of its ratings over every test
record (clipped to the rating scale), and for each of its explainers the metrics of
:func:`whyrec.explanation_scores.score_explanations` on the test records whose user and item it knows
— BLEU-1/4, ROUGE-1/2/L, USR, FMR, FCR, DIV, perplexity, the share of empty explanations
(``empty``, %), and sentiment accuracy against the system's own predicted rating, read by one
judge trained once on the train reviews. The rows form a
:class:`whyrec.results_table.ResultsTable` (markdown, CSV, JSON, an RMSE chart, and ``metrics.png``:
a chart each for RMSE, BLEU-1, ROUGE-L, USR, FMR, DIV and sentiment accuracy); its p-values are paired
t-tests of each row's squared rating errors against the first row's. MT's three explainers share
one rating model, so their rating columns are equal. With ``by_activity`` each row also has its
RMSE over the test records grouped by their user's number of train ratings
(:func:`whyrec.experiment.rmse_by_activity`; :meth:`ResultsTable.activity_markdown`), and each
row after the first its p-values against the first on every group's records
(:func:`whyrec.experiment.group_p_values`). Each explainer row after the first is also tested
against the first explainer row on the test records both explain: each explanation metric's
difference and its approximate randomization p (``trials`` random swaps;
:func:`whyrec.metrics.significance.randomization_test`; :meth:`ResultsTable.text_significance_markdown`).
:func:`combine_splits` makes one table of the tables of several splits (mean ± sd per row; the
test of the mean difference over the splits).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from whyrec.data.features import feature_set as quadruple_features
from whyrec.data.split import Split
from whyrec.errors import DataError
from whyrec.explain.decoding import Decoding
from whyrec.experiment import (activity_groups_of, group_p_values, ordered_activity, p_values_against_reference,
                               test_to_train_ratio)
from whyrec.metrics.rating import mae, rmse, rmse_by_group
from whyrec.results_table import ResultsTable, SystemResult
from whyrec.settings import settings_of

EXPLANATION_METRICS = ["bleu1", "bleu4", "rouge1", "rouge2", "rougeL", "usr", "fmr", "fcr", "div", "ppl", "empty",
                       "acc5", "acc3", "base5", "base3"]
# metrics.png: the rating error, then overlap with the real review, variety, features, agreement with the rating
PLOTTED = ["rmse", "bleu1", "rougeL", "usr", "fmr", "div", "acc5"]


def compare_explainers(split: Split, systems: Mapping[str, object], features=None, encoder=None,
                       on_progress: Callable[[str], None] | None = None,
                       on_step: Callable[[str], None] | None = None,
                       on_records: Callable[[str, list[dict]], None] | None = None,
                       by_activity: bool = False, decoding: Decoding | None = None,
                       trials: int = 1000) -> ResultsTable:
    """Fit every system of ``systems`` (name → unfitted MT or PETER) on ``split`` and score it
    (see the module docstring); ``features``: the extracted quadruples of the split's records.
    With a sentence ``encoder``, the table also has MMI's ``mi_rating`` and ``mi_feature``.
    ``on_progress`` gets each stage; ``on_step`` the work within a training epoch, as it goes
    ("training MT: epoch 2, teacher forcing 120/3,750"), many times a second; ``on_records``
    each system's name and its :func:`whyrec.prediction_records.prediction_records` of the test
    records, explainers named as the table's rows (``explanation_MT-P``; merge them with
    :func:`whyrec.prediction_records.side_by_side`). ``by_activity``: see the module docstring.
    ``decoding``: how the scored explanations are written (None: the plain greedy decoding the
    PETER benchmark scores; :func:`whyrec.explanation_scores.write_explanations`). ``trials``: the
    random swaps of the test of each explainer against the first (0: no test)."""
    judge = _judge_for(split, on_progress)
    rows: list[SystemResult] = []
    for name, system in systems.items():
        if on_progress:
            on_progress(f"training {name}")
        began = time.perf_counter()
        within = (lambda epoch, what, name=name: on_step(f"training {name}: epoch {epoch}, {what}")) \
            if on_step else None
        system.fit(split.train, split.valid if len(split.valid) else None, features, on_step=within)
        train_s = time.perf_counter() - began
        if on_progress:
            on_progress(f"scoring {name}")
        rows += _scored_rows(name, system, split, features, judge, encoder, on_records, train_s, by_activity,
                             decoding)
    return _table(rows, split, encoder, decoding, trials=trials)


def compare_trained(split: Split, systems: Mapping[str, object], features=None, encoder=None,
                    on_progress: Callable[[str], None] | None = None,
                    on_records: Callable[[str, list[dict]], None] | None = None,
                    by_activity: bool = False, decoding: Decoding | None = None,
                    trials: int = 1000) -> ResultsTable:
    """:func:`compare_explainers` for systems trained already (saved bundles, loaded): each one
    scored on ``split.test`` as it is, nothing fitted. A rating model gets one row, its text
    scores NaN (shown n/a); ``train_s`` is NaN, the training having happened elsewhere. Without
    an explaining system among them, no sentiment judge is trained (the data may hold ratings only)."""
    from whyrec.explanations import explainers_of

    explaining = any(explainers_of(s) for s in systems.values())
    judge = _judge_for(split, on_progress, needed=explaining)
    rows: list[SystemResult] = []
    for name, system in systems.items():
        if on_progress:
            on_progress(f"scoring {name}")
        rows += _scored_rows(name, system, split, features, judge, encoder, on_records, float("nan"), by_activity,
                             decoding)
    return _table(rows, split, encoder, decoding, text=explaining, trials=trials)


def combine_splits(tables: Sequence[ResultsTable], splits: Sequence[Split], trials: int = 0) -> ResultsTable:
    """One table from the :func:`compare_explainers` tables of several ``splits`` (the same systems
    on each, in the same order): each row's metrics per split (mean ± sd in the table), its RMSE
    by activity group pooled over the splits, and its p-values against the first row over the
    splits (:func:`whyrec.experiment.p_values_against_reference`: the paired t-test on every
    split's squared errors pooled, and the corrected resampled t-test on the splits' MSEs) — as
    the PETER benchmark reports the mean over its five splits. With ``trials``, each explainer
    row's text metrics are tested against the first row's over the splits
    (:func:`_text_tests`), when every split's rows hold their explanations."""
    if len(tables) != len(splits) or not tables:
        raise ValueError(f"{len(tables)} tables for {len(splits)} splits")
    names = [r.system for r in tables[0].results]
    if any([r.system for r in t.results] != names for t in tables):
        raise ValueError("the tables of the splits do not have the same rows")
    rows = []
    for n, name in enumerate(names):
        parts = [t.results[n] for t in tables]
        rows.append(SystemResult(name, parts[0].params, [f for r in parts for f in r.per_fold],
                                 [e for r in parts for e in r.squared_errors],
                                 by_activity=_pooled_activity([r.by_activity for r in parts]),
                                 activity_groups=[g for r in parts for g in r.activity_groups]))
    _against_first_row(rows, splits)
    if trials:
        _text_tests(rows, [t.results for t in tables], trials)
    first = tables[0]
    return ResultsTable(rows, first.metrics, first.reference, [s.name for s in splits], first.panels, first.note)


def _pooled_activity(per_split: list[dict[str, dict]]) -> dict[str, dict]:
    """RMSE by activity group over several splits' records: ``√(Σ_s n_s·RMSE_s² / Σ_s n_s)``."""
    if not all(per_split):
        return {}
    pooled = {}
    for group in dict.fromkeys(g for groups in per_split for g in groups):
        counts = [groups[group]["count"] for groups in per_split if group in groups]
        squares = [groups[group]["count"] * groups[group]["rmse"] ** 2 for groups in per_split if group in groups]
        pooled[group] = {"count": int(sum(counts)), "rmse": float(np.sqrt(sum(squares) / sum(counts)))}
    return ordered_activity(pooled)


def _judge_for(split: Split, on_progress, needed: bool = True):
    """The one sentiment judge every system is read by, trained on the split's train reviews (None
    when not ``needed``: no system explains). A split without test records is refused either way."""
    from whyrec.explanation_scores import sentiment_judge

    if len(split.test) == 0:
        raise DataError(f"split {split.name} has no test records to score")
    if not needed:
        return None
    if on_progress:
        on_progress("training the sentiment judge on the train reviews")
    return sentiment_judge(split.train)


def _scored_rows(name: str, system, split: Split, features, judge, encoder, on_records, train_s: float,
                 by_activity: bool, decoding: Decoding | None = None) -> list[SystemResult]:
    """One row per explainer of a trained ``system`` (one row for a rating model), scored on ``split.test``."""
    from whyrec.explanation_scores import score_explanations, write_explanations
    from whyrec.explanations import EXPLAINER_LABELS, explainers_of
    from whyrec.prediction_records import prediction_records, relabel

    test = split.test
    began = time.perf_counter()
    predicted = np.clip(system.predict_corpus(test), *test.rating_scale)
    names = explainers_of(system)
    written = write_explanations(system, test, features, decoding) if names else None
    scores = score_explanations(system, test, features, judge=judge, encoder=encoder, written=written)[1] \
        if names else {}
    test_s = time.perf_counter() - began
    rating = {"rmse": rmse(predicted, test.ratings), "mae": mae(predicted, test.ratings)}
    labels = {explainer: name if len(names) == 1 else (
        EXPLAINER_LABELS[explainer] if name == "MT" else f"{name} {EXPLAINER_LABELS[explainer]}")
        for explainer in names}
    if on_records:
        on_records(name, relabel(prediction_records(system, test, predicted, written, judge), name, labels))
    feature_set = quadruple_features(features)
    known_classes = None  # the known records' predicted rating classes, which the judge's readings should match
    if names and judge is not None and len(written.known):
        from whyrec.data.scale import five_point

        at = {position: n for n, position in enumerate(test.positions.tolist())}
        known_classes = five_point(predicted[[at[p] for p in written.known.positions.tolist()]], test.rating_scale)
    groups = activity_groups_of(split) if by_activity else None
    activity = ordered_activity(rmse_by_group(predicted, test.ratings, groups)) if by_activity else {}
    rows = []
    for explainer, label in (labels.items() if labels else [(None, name)]):  # a rating model: its one row
        measured = {**rating, **{m: scores.get(explainer, {}).get(m, float("nan")) for m in _metrics(encoder)},
                    "train_s": train_s, "test_s": test_s}
        rows.append(SystemResult(label, settings_of(system), [measured], [(predicted - test.ratings) ** 2],
                                 by_activity={group: dict(entry) for group, entry in activity.items()},
                                 activity_groups=[groups] if by_activity else [],
                                 explained=ScoredTexts.of(written, explainer, feature_set, judge, known_classes)
                                 if explainer else None))
    return rows


def _against_first_row(rows: list[SystemResult], splits: Sequence[Split]) -> None:
    """With more than one row, each later row's p-values against the first row
    (:func:`whyrec.experiment.p_values_against_reference`) and, with RMSE by activity group (the
    records' groups known), on every group's records (:func:`whyrec.experiment.group_p_values`)."""
    if len(rows) < 2:
        return
    p_values_against_reference(rows, rows[0].system, splits)
    if rows[0].activity_groups:
        group_p_values({r.system: r for r in rows}, rows[0].system, test_to_train_ratio(splits))


@dataclass
class ScoredTexts:
    """One explainer's test explanations as they were scored: each record's ``position`` in the
    data, its reference tokens, the explanation's tokens and the record's feature word ("" for
    none); with a sentiment judge, ``agreement``: per record, 100 where the judge reads the
    explanation as the system's predicted rating class, else 0 (``acc5``, ``acc3``); and the
    ``feature_set`` FMR, FCR and DIV looked for (the split's extracted features)."""

    positions: list[int]
    references: list[list[str]]
    hypotheses: list[list[str]]
    feature_words: list[str]
    agreement: dict[str, np.ndarray]
    feature_set: set[str]

    @classmethod
    def of(cls, written, explainer: str, feature_set: set[str], judge=None, classes=None) -> "ScoredTexts":
        """From :func:`whyrec.explanation_scores.write_explanations`' record of one ``explainer``;
        with a ``judge``, read against the records' predicted rating ``classes`` (1..5)."""
        from whyrec.explanation_scores import judged_agreement

        texts = written.texts[explainer]
        agreement = {} if judge is None or classes is None else judged_agreement(judge, texts, classes)
        return cls(written.known.positions.tolist(), written.references, [text.split() for text in texts],
                   written.feature_words, agreement, feature_set)


def _paired(first: ScoredTexts, other: ScoredTexts):
    """``other``'s explanations (as the first system) and ``first``'s (as the second) of the test
    records both explain, paired by their position in the data; None when they share none."""
    from whyrec.metrics.significance import PairedExplanations

    at = {position: n for n, position in enumerate(first.positions)}
    pairs = [(at[position], n) for n, position in enumerate(other.positions) if position in at]
    if not pairs:
        return None
    mine, theirs = [n for _, n in pairs], [n for n, _ in pairs]
    means = {name: (other.agreement[name][mine], first.agreement[name][theirs])
             for name in other.agreement if name in first.agreement}
    return PairedExplanations(  # this row's scores minus the first's
        [other.references[n] for n in mine], [other.hypotheses[n] for n in mine],
        [first.hypotheses[n] for n in theirs], [other.feature_words[n] for n in mine],
        second_references=[first.references[n] for n in theirs], record_means=means,
        feature_set=first.feature_set)


def _text_tests(rows: list[SystemResult], per_split: Sequence[list[SystemResult]], trials: int) -> None:
    """Each explainer row after the first: its explanation metrics against the first row's, on the
    test records both explain (paired by their position in the data), by approximate
    randomization (:func:`whyrec.metrics.significance.stratified_randomization_test`: difference
    and p), the sentiment alignment ``acc5``/``acc3`` too when a judge read them; a row whose paired
    records are an earlier tested row's (``PairedExplanations.same_tests_as``) is marked as
    repeating it (``text_repeats``). ``rows``: the table's rows; ``per_split``: each split's rows
    in the same order (``[rows]`` for one split).
    Over several splits, the mean of the splits' differences is tested, records swapped within
    their split, each split's features read in it. Rows are tested only against the table's
    reference (its first row), so a first row that writes no explanations (a rating bundle), in
    any split, leaves them untested."""
    from whyrec.metrics.significance import stratified_randomization_test

    if len(rows) < 2 or any(split_rows[0].explained is None for split_rows in per_split):
        return
    firsts: list[tuple[SystemResult, list]] = []  # the rows tested in their own right so far, with their parts
    for n, row in enumerate(rows[1:], start=1):
        parts = [_paired(split_rows[0].explained, split_rows[n].explained) if split_rows[n].explained else None
                 for split_rows in per_split]
        if not all(parts):
            continue
        row.text_tested_records = sum(len(part.references) for part in parts)
        row.text_tests = stratified_randomization_test(parts, trials=trials)
        row.text_as_reference = all(part.identical for part in parts)
        if row.text_as_reference:
            continue
        first = next((earlier for earlier, theirs in firsts
                      if all(a.same_tests_as(b) for a, b in zip(parts, theirs))), None)
        if first is None:
            firsts.append((row, parts))
        row.text_repeats = first.system if first is not None else None


def _metrics(encoder) -> list[str]:
    return EXPLANATION_METRICS + (["mi_rating", "mi_feature"] if encoder is not None else [])


def _table(rows: list[SystemResult], split: Split, encoder, decoding: Decoding | None = None,
           text: bool = True, trials: int = 1000) -> ResultsTable:
    """The rows as a table; p-values of each row's squared rating errors against the first row's,
    and of its explanation metrics (:func:`_text_tests`); its note says how the explanations were
    decoded when not as the PETER benchmark does. Without ``text`` (no system explains: rating
    bundles compared), the rating columns alone, which every text column would otherwise follow as n/a."""
    reference = rows[0].system if len(rows) > 1 else None
    _against_first_row(rows, [split])
    if text and trials:
        _text_tests(rows, [rows], trials)
    if not text:
        return ResultsTable(rows, ["rmse", "mae"], reference, [split.name])
    panels = PLOTTED + (["mi_rating"] if encoder is not None else [])
    return ResultsTable(rows, ["rmse", "mae", *_metrics(encoder)], reference, [split.name], panels,
                        decoding_note(decoding))


def decoding_note(decoding: Decoding | None) -> str:
    """How the scored explanations were written, in a sentence ("" for the plain greedy default)."""
    if decoding is None:
        return ""
    return (f"Explanations decoded by {decoding.describe()}, as `whyrec explain` shows them (repeated words and "
            "bigrams and `<unk>` blocked), not by the PETER benchmark's plain greedy decoding.")

