"""Compare systems side by side: one split or k folds → a results table.

Like Cornac's ``Experiment``, one row per system with the metrics, train and test seconds;
over several folds each cell is mean ± std. When the table has a reference system (the first
by default) each row also gets the p-value of a paired t-test of its per-record squared
errors against the reference's (pooled over folds).

    table = Experiment(split, {"bias": BiasBaseline(), "als": ContextAwareALS()}).run()
    print(table.to_markdown()); table.save("runs/x")
"""

from __future__ import annotations

import re
import time
from typing import Callable, Mapping, Sequence

import numpy as np

from whyrec.data.split import Split
from whyrec.errors import ConfigError, DataError
from whyrec.metrics.ranking import RANKING_METRICS
from whyrec.metrics.rating import (RATING_METRICS, activity_groups, activity_labels, corrected_resampled_t_test,
                                   paired_p_by_group, paired_t_test, rmse_by_group)
from whyrec.ranking_evaluation import check_top_k, ranking_scores, whole_list_note
from whyrec.results_table import ResultsTable, SystemResult


class Experiment:
    """Run rating systems on one or more splits. An MT or PETER among ``systems`` is scored on its
    ratings alone; :func:`whyrec.explainer_experiment.compare_explainers` scores the explanations
    of each of its explainers too (text metrics, perplexity, sentiment alignment).

    Parameters
    ----------
    splits : Split or list of Split
        One split, or the folds of a cross-validation.
    systems : mapping of name → unfitted model
        Each is cloned per fold (so the same object can be reused).
    metrics : names from ``whyrec.metrics.rating.RATING_METRICS``.
    clamp : bool
        Clip predictions to the rating scale before scoring (the benchmarks do).
    reference : str, optional
        Name of the system the paired t-tests compare against (default: the first).
    top_k : int, optional
        Also rank, for every test user with a relevant test item (rated at least ``relevant_at``;
        default: :func:`relevance_threshold` of the split's scale, 4 on 1–5),
        all the items the user did not rate in train by predicted rating, and score the top k
        with :data:`whyrec.metrics.ranking.RANKING_METRICS` (columns ``ndcg@k``, ...); the
        table's ``metrics.png`` then draws every metric, a chart each.
    on_progress : callable(str), optional
        Called with a line of text before each fit (the CLI shows it).
    on_step : callable(str), optional
        Called with a line of text within a fit: before each combination of a
        :class:`~whyrec.rating.tuning.TunedModel`'s grid (many times; the CLI throttles it).
    by_activity : bool
        Also give each system's RMSE over the test records grouped by their user's number of
        training ratings in the split (:func:`whyrec.metrics.rating.activity_groups`: new users,
        1–2, 3–5, ...), over every split together (:meth:`ResultsTable.activity_markdown`).
    """

    def __init__(self, splits: Split | Sequence[Split], systems: Mapping[str, object],
                 metrics: Sequence[str] = ("rmse", "mae"), clamp: bool = True, reference: str | None = None,
                 top_k: int | None = None, relevant_at: float | None = None,
                 on_progress: Callable[[str], None] | None = None,
                 on_step: Callable[[str], None] | None = None, by_activity: bool = False) -> None:
        self.splits = [splits] if isinstance(splits, Split) else list(splits)
        if not self.splits:
            raise ValueError("an experiment needs at least one split")
        unknown = [m for m in metrics if m not in RATING_METRICS]
        if unknown:
            raise ValueError(f"unknown metric(s) {unknown}; known: {sorted(RATING_METRICS)}")
        if top_k is not None:
            check_top_k(top_k)  # before any fitting
        self.systems = dict(systems)
        if not self.systems:
            raise ConfigError("an experiment needs at least one model")
        for name, model in self.systems.items():  # checked before any fitting
            lacking = [m for m in ("fit", "predict", "clone", "get_params") if not callable(getattr(model, m, None))]
            if lacking:
                raise ConfigError(f"model '{name}' ({type(model).__name__}) has no {', '.join(lacking)}: an "
                                  "experiment fits rating models, MultiTask or Peter")
        if reference is not None and reference not in self.systems:
            raise ConfigError(f"reference '{reference}' is not one of the models: {', '.join(self.systems)}")
        self.rating_metrics = list(metrics)
        self.top_k, self.relevant_at = top_k, relevant_at
        self.metrics = self.rating_metrics + ([f"{name}@{top_k}" for name in RANKING_METRICS] if top_k else [])
        self.clamp = clamp
        self.reference = reference if reference is not None else (next(iter(self.systems)) if len(self.systems) > 1 else None)
        self.on_progress, self.on_step = on_progress, on_step
        self.by_activity = by_activity

    def run(self) -> ResultsTable:
        from whyrec.rating.tuning import TunedModel

        empty = [s.name for s in self.splits if len(s.test) == 0]
        if empty:  # checked before any fitting: nothing to score on that split
            raise DataError(f"split {empty[0]} has no test records (the data may be too small to split)")
        tuned = [name for name, model in self.systems.items() if isinstance(model, TunedModel)]
        unvalidated = [s.name for s in self.splits if len(s.valid) == 0]
        if tuned and unvalidated:  # checked before any fitting, as above
            raise DataError(f"split {unvalidated[0]} has no validation records, on which '{tuned[0]}' picks its "
                            "settings")
        results = {name: SystemResult(name, model.get_params()) for name, model in self.systems.items()}
        grouped: dict[str, list] = {name: [] for name in self.systems}  # (predictions, ratings, groups) per fold
        ranked_from: list[int] = []  # with top_k: how many items each fitted model ranked from
        for fold, split in enumerate(self.splits, start=1):
            test = split.test
            groups = activity_groups_of(split) if self.by_activity else None
            for name, prototype in self.systems.items():
                where = f"fold {fold}/{len(self.splits)} · {name}"
                if self.on_progress:
                    self.on_progress(where)
                model = prototype.clone()
                start = time.perf_counter()
                if isinstance(model, TunedModel) and self.on_step:  # a grid takes long: say where it is
                    model.fit(split.train, split.valid,
                              on_trial=lambda k, n, _: self.on_step(f"{where} · combination {k}/{n}"))
                else:
                    model.fit(split.train, split.valid if len(split.valid) else None)
                train_s = time.perf_counter() - start
                start = time.perf_counter()
                pred = model.predict(test.users, test.items)
                test_s = time.perf_counter() - start
                clamp = test.rating_scale if self.clamp else None
                row = {m: RATING_METRICS[m](pred, test.ratings, clamp=clamp) for m in self.rating_metrics}
                if self.top_k:
                    _, scores = ranking_scores(model, split, self.top_k, self.relevant_at)
                    row.update({f"{name}@{self.top_k}": value for name, value in scores.items()})
                    ranked_from.append(len(model.item_map.ids))
                row.update(train_s=train_s, test_s=test_s)
                if isinstance(model, TunedModel):  # the settings it kept on this split, and why
                    row["tuning"] = model.record()
                results[name].per_fold.append(row)
                clipped = np.clip(pred, *test.rating_scale) if self.clamp else pred
                results[name].squared_errors.append((clipped - test.ratings) ** 2)
                if groups is not None:
                    grouped[name].append((clipped, test.ratings, groups))
                    results[name].activity_groups.append(groups)
        for name, folds in grouped.items():
            if folds:
                results[name].by_activity = ordered_activity(rmse_by_group(
                    *(np.concatenate([f[k] for f in folds]) for k in range(3))))
        if self.by_activity and self.reference is not None:
            group_p_values(results, self.reference, test_to_train_ratio(self.splits))
        if self.reference is not None:
            p_values_against_reference(list(results.values()), self.reference, self.splits,
                                       [m for m in self.metrics if m not in self.rating_metrics])
        # with ranking scores, metrics.png sets the rating errors beside them (one model can lead one and trail the other)
        panels = self.metrics if self.top_k else []
        note = whole_list_note(self.top_k, min(ranked_from)) if ranked_from else None
        return ResultsTable(list(results.values()), self.metrics, self.reference, [s.name for s in self.splits],
                            panels, f"Ranking: {note}." if note else "")


def p_values_against_reference(results: Sequence[SystemResult], reference: str, splits: Sequence[Split],
                               ranking: Sequence[str] = ()) -> None:
    """Set each result's p-values against the ``reference`` one's: the paired t-test on the squared
    errors of the splits' test records pooled and, over two or more splits, the corrected
    resampled t-test on the splits' MSEs (the train parts of several splits overlap; the pooled
    test does not allow for it) and on each ``ranking`` metric's per-split values."""
    base = next(r for r in results if r.system == reference)
    pooled = np.concatenate(base.squared_errors)
    per_split = [float(np.mean(errors)) for errors in base.squared_errors]
    test_to_train = test_to_train_ratio(splits)
    for result in results:
        if result is base:
            continue
        result.p_value = paired_t_test(np.concatenate(result.squared_errors), pooled)[1]
        if len(splits) > 1:
            result.p_value_over_splits = corrected_resampled_t_test(
                [float(np.mean(errors)) for errors in result.squared_errors], per_split, test_to_train)[1]
            result.ranking_p_over_splits = {m: corrected_resampled_t_test(
                [f[m] for f in result.per_fold], [f[m] for f in base.per_fold], test_to_train)[1] for m in ranking}


def test_to_train_ratio(splits: Sequence[Split]) -> float:
    """n₂/n₁ of the corrected resampled t-test over ``splits`` (:func:`test_to_train_of_sizes`)."""
    return test_to_train_of_sizes([len(s.test) for s in splits], [len(s.train) for s in splits])


def test_to_train_of_sizes(test_sizes: Sequence[float], train_sizes: Sequence[float]) -> float:
    """n₂/n₁ of the corrected resampled t-test (Nadeau & Bengio 2003), from each split's number of
    test and train records: the mean test size over the mean train size (a train size below 1
    counts as 1)."""
    return float(np.mean(test_sizes) / max(np.mean(train_sizes), 1.0))


def group_p_values(results: Mapping[str, SystemResult], reference: str, test_to_train: float) -> None:
    """Add to each model's RMSE by activity group (``by_activity``) its p-values against the
    reference model: ``p_vs_reference``, the paired t-test of the squared errors on the group's
    test records pooled over the splits (:func:`whyrec.metrics.rating.paired_t_test`; None for a
    group of fewer than two records), and, over two or more splits, ``p_over_splits``, the
    corrected resampled t-test on the group's MSE in each split that has records of it
    (:func:`whyrec.metrics.rating.corrected_resampled_t_test` with ``test_to_train``; None when
    fewer than two splits do). The pooled test treats records of different splits as
    independent, which they are not (the splits' train parts overlap): with several splits it is
    the optimistic one. The groups of the records are the reference's ``activity_groups``."""
    errors_ref, groups = results[reference].squared_errors, results[reference].activity_groups
    for name, result in results.items():
        if name == reference:
            continue
        pooled = paired_p_by_group(np.concatenate(result.squared_errors), np.concatenate(errors_ref),
                                   np.concatenate(groups))
        for group, entry in result.by_activity.items():
            entry["p_vs_reference"] = pooled[group]
            if len(groups) > 1:
                chosen = [split_groups == group for split_groups in groups]
                present = [k for k, c in enumerate(chosen) if c.any()]
                entry["p_over_splits"] = corrected_resampled_t_test(
                    [float(result.squared_errors[k][chosen[k]].mean()) for k in present],
                    [float(errors_ref[k][chosen[k]].mean()) for k in present],
                    test_to_train)[1] if len(present) >= 2 else None


def activity_groups_of(split: Split) -> np.ndarray:
    """Each test record's group by its user's number of ratings in the split's train part."""
    counts = split.train.reviews["user"].value_counts()
    return activity_groups(counts.reindex(split.test.users, fill_value=0).to_numpy())


def ordered_activity(by_group: dict[str, dict]) -> dict[str, dict]:
    """:func:`rmse_by_group`'s answer in the groups' own order (new users first)."""
    return {g: by_group[g] for g in activity_labels() if g in by_group}


def rmse_by_activity(split: Split, predictions) -> dict[str, dict]:
    """RMSE of ``predictions`` of ``split.test`` by the user's number of training ratings
    (:func:`activity_groups_of`), in the groups' order: ``{group: {"count", "rmse"}}``."""
    return ordered_activity(rmse_by_group(predictions, split.test.ratings, activity_groups_of(split)))


DEFAULT_LADDER = ("global-average", "bias-baseline", "biased-mf", "pmf", "context-als")


def _check_spec_separators(spec: str, name: str, given: str, known) -> None:
    """Refuse a spec whose settings are joined with the wrong mark, with how to write it: a model's
    name then a comma (``pmf,factors=3``), or a colon between settings (``pmf:factors=3:lambda_u=2``)."""
    first, comma, rest = name.partition(",")
    if comma and first.strip() in known and "=" in rest:
        raise ConfigError(f"model '{spec}': a colon comes after the model's name: {first.strip()}:{rest.strip()}")
    if any(re.search(r":\s*[A-Za-z_]\w*\s*=", part.partition("=")[2]) for part in given.split(",")):  # not cuda:0
        raise ConfigError(f"model '{spec}': settings are separated by commas: {name.strip()}:{given.replace(':', ',')}")


def models_from_specs(specs: Sequence[str], tune_on: str = "rmse", relevant_at: float | None = None,
                      tuned: bool = False) -> dict[str, object]:
    """Unfitted rating models by the names the results table shows, from specs such as ``pmf`` or
    ``context-als:factors=8,lambda_bias=3`` (a registered model's name, then its parameters as
    ``key=value`` pairs, values read as JSON where they parse). A value naming several,
    ``context-als:factors=4|8|16``, makes a :class:`~whyrec.rating.tuning.TunedModel` that picks
    on each split's validation part by ``tune_on`` (``rmse``, ``mae``, ``ndcg@10``, ...; with
    ``relevant_at`` for a ranking metric); with ``tuned``, every model is tuned over its default grid
    (:data:`~whyrec.rating.tuning.DEFAULT_GRIDS`; the settings a spec gives keep their values). Every
    registered model with its defaults when ``specs`` is empty. An unknown model or parameter, a
    malformed pair or a repeated spec is a :class:`~whyrec.errors.ConfigError`."""
    from whyrec.rating import RATING_MODELS
    from whyrec.rating.tuning import model_or_tuned
    from whyrec.settings import parse_assignments

    if not specs:  # from the simplest up, as the demo lists them; the first is the t-tests' reference
        ladder = [n for n in DEFAULT_LADDER if n in RATING_MODELS]
        specs = ladder + sorted(set(RATING_MODELS) - set(ladder))
    models: dict[str, object] = {}
    for spec in specs:
        name, _, given = spec.partition(":")
        _check_spec_separators(spec, name, given, RATING_MODELS)
        params = parse_assignments(filter(None, (p.strip() for p in given.split(","))), f"model '{spec}':")
        spec = spec.strip().removesuffix(":").strip()  # the table's name: "pmf" for " pmf" and "pmf:"
        if spec in models:
            raise ConfigError(f"model '{spec}' is given twice")
        models[spec] = model_or_tuned(name.strip(), params, tune_on, relevant_at, tuned)
    return models
