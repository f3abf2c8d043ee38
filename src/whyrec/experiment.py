"""Compare systems side by side: one split or k folds → a results table.

Like Cornac's ``Experiment``, one row per system with the metrics, train and test seconds;
over several folds each cell is mean ± std. When the table has a reference system (the first
by default) each row also gets the p-value of a paired t-test of its per-record squared
errors against the reference's (pooled over folds).

    table = Experiment(split, {"bias": BiasBaseline(), "als": ContextAwareALS()}).run()
    print(table.to_markdown()); table.save("runs/x")
"""

from __future__ import annotations

import csv
import io
import json
import re
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from whyrec.data.split import Split
from whyrec.errors import ConfigError, DataError
from whyrec.metrics.ranking import RANKING_METRICS
from whyrec.metrics.rating import (RATING_METRICS, activity_groups, activity_labels, corrected_resampled_t_test,
                                   paired_p_by_group, paired_t_test, rmse_by_group)
from whyrec.strict_json import strict_dumps


# chart titles of the metrics whose column name is terse
METRIC_TITLES = {"rmse": "RMSE", "mae": "MAE", "bleu1": "BLEU-1", "bleu4": "BLEU-4", "rouge1": "ROUGE-1",
                 "rouge2": "ROUGE-2", "rougeL": "ROUGE-L", "usr": "USR (unique sentence ratio)",
                 "fmr": "FMR (feature matching)", "fcr": "FCR (feature coverage)", "div": "DIV (lower: more diverse)",
                 "ppl": "perplexity", "empty": "empty explanations (%)", "acc5": "sentiment = rating (%, 5 classes)",
                 "acc3": "sentiment = rating (%, 3 classes)", "base5": "one sentence for all (%, 5 classes)",
                 "base3": "one sentence for all (%, 3 classes)", "mi_rating": "I(R;E)/H(R)", "mi_feature": "I(F;E) (nats)"}


RANKING_TITLES = {"precision": "precision", "recall": "recall", "hr": "hit rate", "mrr": "MRR", "ndcg": "nDCG"}


def metric_title(metric: str) -> str:
    """A chart's title for a table column: "nDCG@10" for ``ndcg@10``, "BLEU-1" for ``bleu1``."""
    name, at, k = metric.partition("@")
    return f"{RANKING_TITLES.get(name, name)}@{k}" if at else METRIC_TITLES.get(metric, metric)


def markdown_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A markdown table; a ``|`` in a cell (a tuned model's grid, ``factors=4|8``) is escaped."""
    def line(cells) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(head), "|" + "---|" * len(head)] + [line(row) for row in rows])


@dataclass
class SystemResult:
    """Measurements of one system over the folds it ran on."""

    system: str
    params: dict
    per_fold: list[dict] = field(default_factory=list)  # metric -> value, plus train_s/test_s
    squared_errors: list[np.ndarray] = field(default_factory=list, repr=False)
    p_value: float | None = None  # paired t-test on the squared errors of every split's test records pooled
    p_value_over_splits: float | None = None  # corrected resampled t-test on the splits' MSEs (two or more splits)
    # the same test on each ranking metric's per-split values (with top_k, over two or more splits)
    ranking_p_over_splits: dict[str, float] = field(default_factory=dict)
    # with Experiment(by_activity=True): RMSE over the folds' test records of each activity group
    by_activity: dict[str, dict] = field(default_factory=dict)
    # and per fold its test records' activity groups, in the order of squared_errors
    activity_groups: list[np.ndarray] = field(default_factory=list, repr=False)

    def mean(self, key: str) -> float:
        return float(np.mean([f[key] for f in self.per_fold]))

    def std(self, key: str) -> float:
        return float(np.std([f[key] for f in self.per_fold], ddof=1)) if len(self.per_fold) > 1 else 0.0


@dataclass
class ResultsTable:
    """The product of an experiment: rows of :class:`SystemResult` and the metric names."""

    results: list[SystemResult]
    metrics: list[str]
    reference: str | None
    splits: list[str]
    panels: list[str] = field(default_factory=list)  # metrics drawn side by side in metrics.png
    note: str = ""  # a sentence on how the rows were measured, under the table in results.md and in results.json

    @property
    def columns(self) -> list[str]:
        cols = ["system", *self.metrics, "train (s)", "test (s)"]
        if not self.reference:
            return cols
        return cols + [f"p vs {self.reference}"] + ([f"p vs {self.reference} over splits"] if self._several else [])

    @property
    def _several(self) -> bool:
        return len(self.splits) > 1

    def _cell(self, result: SystemResult, key: str, digits: int) -> str:
        mean = result.mean(key)
        if np.isnan(mean):  # undefined for this system (no feature words, one predicted class, ...)
            return "n/a"
        if len(result.per_fold) > 1:
            return f"{mean:.{digits}f} ± {result.std(key):.{digits}f}"
        return f"{mean:.{digits}f}"

    def rows(self) -> list[list[str]]:
        out = []
        for r in self.results:
            row = [r.system, *(self._cell(r, m, 4) for m in self.metrics),
                   self._cell(r, "train_s", 2), self._cell(r, "test_s", 3)]
            if self.reference:
                row.append("—" if r.p_value is None else f"{r.p_value:.3g}")
                if self._several:
                    row.append("—" if r.p_value_over_splits is None else f"{r.p_value_over_splits:.3g}")
            out.append(row)
        return out

    def to_markdown(self) -> str:
        return markdown_table(self.columns, self.rows())

    def activity_markdown(self) -> str:
        """RMSE by the user's number of training ratings (``Experiment(by_activity=True)``) as a
        markdown table: a column per group, with its number of test records; empty without it."""
        with_groups = [r for r in self.results if r.by_activity]
        if not with_groups:
            return ""
        groups = [g for g in activity_labels() if g in with_groups[0].by_activity]
        counts = with_groups[0].by_activity
        head = ["system", *(f"{g} (n={counts[g]['count']:,})" for g in groups)]

        def cell(entry: dict) -> str:  # with the group's p-values against the reference, when there are
            p = [entry[k] for k in ("p_vs_reference", "p_over_splits") if k in entry]
            if all(v is None for v in p):
                return f"{entry['rmse']:.4f}"
            return f"{entry['rmse']:.4f} (p {' / '.join('—' if v is None else f'{v:.2g}' for v in p)})"

        return markdown_table(head, [[r.system, *(cell(r.by_activity[g]) for g in groups)] for r in with_groups])

    def activity_title(self) -> str:
        """The title of :meth:`activity_markdown`, saying what its p-values are when it has them."""
        entries = [e for r in self.results for e in r.by_activity.values()]
        if not any(e.get("p_vs_reference") is not None for e in entries):
            return ACTIVITY_TITLE
        pooled = f"; p: paired t-test against {self.reference} on the group's records"
        if not any("p_over_splits" in e for e in entries):
            return ACTIVITY_TITLE + pooled
        return (ACTIVITY_TITLE + pooled + " of all splits / corrected resampled t-test over the splits' group MSEs "
                "(the second allows for the splits' overlapping train parts; the first does not)")

    def ranking_significance_markdown(self) -> str:
        """The corrected resampled t-test over the splits of each ranking metric against the
        reference, as a markdown table of p-values; empty without ranking metrics, a reference or
        several splits."""
        tested = [r for r in self.results if r.ranking_p_over_splits]
        if not tested:
            return ""
        names = list(tested[0].ranking_p_over_splits)

        def cell(p: float) -> str:  # undefined when a split has no user to rank
            return "n/a" if np.isnan(p) else f"{p:.3g}"

        return markdown_table(["system", *names], [[r.system, *(cell(r.ranking_p_over_splits[m]) for m in names)]
                                                  for r in tested])

    def ranking_significance_title(self) -> str:
        return (f"Ranking metrics against {self.reference}: p of the corrected resampled t-test over the "
                f"{len(self.splits)} splits")

    def tuning_notes(self) -> list[str]:
        """A line per tuned system and split: the settings it picked on validation (see
        :class:`~whyrec.rating.tuning.TunedModel`)."""
        from whyrec.rating.tuning import describe_tuning

        return [f"{r.system}, split {split}: {describe_tuning(fold['tuning'])}"
                for r in self.results for split, fold in zip(self.splits, r.per_fold) if "tuning" in fold]

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(self.columns)
        writer.writerows(self.rows())
        return buffer.getvalue()

    def to_dict(self) -> dict:
        return {
            "splits": self.splits,
            "metrics": self.metrics,
            "reference": self.reference,
            **({"note": self.note} if self.note else {}),
            "systems": [
                {"system": r.system, "params": r.params, "folds": r.per_fold, "p_value": r.p_value,
                 "p_value_over_splits": r.p_value_over_splits,
                 **({"ranking_p_over_splits": r.ranking_p_over_splits} if r.ranking_p_over_splits else {}),
                 "mean": {k: r.mean(k) for k in [*self.metrics, "train_s", "test_s"]},
                 "std": {k: r.std(k) for k in [*self.metrics, "train_s", "test_s"]},
                 **({"rmse_by_activity": r.by_activity} if r.by_activity else {})}
                for r in self.results
            ],
        }

    def best(self, metric: str = "rmse") -> SystemResult:
        return min(self.results, key=lambda r: r.mean(metric))

    def plot(self, path: str | Path, metric: str = "rmse") -> Path:
        """A bar chart of ``metric`` per system (error bars: sd over folds, when there are several)."""
        return self._draw(path, [metric], f"{metric.upper()} by system, {self._splits_text()}")

    def plot_panels(self, path: str | Path, metrics: Sequence[str] | None = None) -> Path:
        """One bar chart per metric of ``metrics`` (default: :attr:`panels`), side by side, with
        each bar's value written on it; a system without a value for a metric (NaN) gets "n/a"."""
        return self._draw(path, list(metrics or self.panels), f"systems compared, {self._splits_text()}")

    def _splits_text(self) -> str:
        return f"split {self.splits[0]}" if len(self.splits) == 1 else f"mean ± sd over {len(self.splits)} splits"

    def _draw(self, path: str | Path, metrics: list[str], title: str) -> Path:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        unknown = [m for m in metrics if m not in self.metrics]
        if not metrics or unknown:
            raise ConfigError(f"cannot plot {unknown or 'no metrics'}: the table has {', '.join(self.metrics)}")
        names = [r.system for r in self.results]
        columns = min(4, len(metrics))
        rows = -(-len(metrics) // columns)
        width = max(3.2, 0.5 * len(names) + 0.9)
        wrapped = "\n".join(textwrap.wrap(title, int(9 * width * columns)))  # about 9 characters an inch
        fig, axes = plt.subplots(rows, columns, figsize=(width * columns, 3.0 * rows + 0.4), squeeze=False)
        for ax in axes.flat[len(metrics):]:
            ax.set_visible(False)
        several = any(len(r.per_fold) > 1 for r in self.results)  # folds, so error bars
        for ax, metric in zip(axes.flat, metrics):
            means = np.array([r.mean(metric) for r in self.results])
            errors = [r.std(metric) for r in self.results] if several else None
            bars = ax.bar(names, np.nan_to_num(means), yerr=errors, color="#4c72b0", capsize=3 if several else 0)
            digits = 4 if metric in ("rmse", "mae") else 3
            ax.bar_label(bars, labels=["n/a" if np.isnan(v) else f"{v:.{digits}g}" for v in means], fontsize=7,
                         padding=2, **({"label_type": "center", "zorder": 5,  # drawn over the error bar
                                        "bbox": {"facecolor": "white", "edgecolor": "none", "pad": 1}}
                                       if several else {}))
            reach = means + (np.array(errors) if several else 0.0)  # the top of each error bar
            known = means[~np.isnan(means)]
            low, high = (float(known.min()), float(np.nanmax(reach))) if known.size else (0.0, 1.0)
            if metric in ("rmse", "mae"):  # differences of a few hundredths matter: start near the lowest
                ax.set_ylim(bottom=max(0.0, low * 0.9), top=high * 1.06)
            else:  # a lower bound of MI can be negative
                span = max(high, 0.0) - min(low, 0.0) or 1.0
                ax.set_ylim(bottom=min(low, 0.0) - (0.1 * span if low < 0 else 0.0), top=max(high, 0.0) + 0.15 * span)
            ax.axhline(0.0, color="#999999", linewidth=0.6)
            ax.set_title(metric_title(metric) if len(metrics) > 1 else wrapped, fontsize=9)
            ax.tick_params(axis="x", rotation=35, labelsize=8)
        if len(metrics) > 1:
            fig.suptitle(wrapped, fontsize=10)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return Path(path)

    def _charts(self) -> dict[str, Callable[[Path], Path]]:
        """The charts :meth:`save` draws, by file name: rmse.png when the table has RMSE,
        metrics.png when it has :attr:`panels`."""
        charts = {"rmse.png": self.plot} if "rmse" in self.metrics else {}
        return {**charts, **({"metrics.png": self.plot_panels} if self.panels else {})}

    @property
    def files(self) -> list[str]:
        """The names :meth:`save` writes: the tables, the config and the charts."""
        return ["results.md", "results.csv", "results.json", "config.json", *self._charts()]

    def save(self, folder: str | Path, config: dict | None = None, title: str | None = None) -> Path:
        """Write :attr:`files` into ``folder`` (created if needed) and return it; ``title`` (what was
        compared on which data and splits, as the command prints it) heads results.md."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        notes = self.tuning_notes()
        picked = "\n\nSettings picked on validation:\n\n" + "\n".join(f"- {n}" for n in notes) if notes else ""
        activity = self.activity_markdown()
        if activity:
            activity = f"\n\n{self.activity_title()}:\n\n{activity}"
        ranking = self.ranking_significance_markdown()
        if ranking:
            ranking = f"\n\n{self.ranking_significance_title()}:\n\n{ranking}"
        note = f"\n\n{self.note}" if self.note else ""
        heading = f"# {title}\n\n" if title else ""
        (folder / "results.md").write_text(heading + self.to_markdown() + note + ranking + activity + picked + "\n",
                                           encoding="utf-8")
        (folder / "results.csv").write_text(self.to_csv(), encoding="utf-8")
        # NaN (no features) → null
        (folder / "results.json").write_text(strict_dumps(self.to_dict(), indent=1), encoding="utf-8")
        config = config or {r.system: r.params for r in self.results}
        (folder / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
        for name, draw in self._charts().items():
            draw(folder / name)
        return folder


ACTIVITY_TITLE = "RMSE by the user's number of training ratings (n: test records), over every split"


class Experiment:
    """Run rating systems on one or more splits.

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
            _check_top_k(top_k)  # before any fitting
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


def top_k_lists(model, split: Split, k: int, relevant_at: float | None = None,
                pairs_per_call: int = 2_000_000, seed: int = 0) -> tuple[list[str], list[list[str]], list[set]]:
    """(users, ranked, relevant) for the ranking metrics: for every test user with a test item rated at
    least ``relevant_at``, the k items with the highest predicted rating among those the model
    knows and the user did not rate in train, and the set of those test items. Items are ranked
    by the model's ``predict_unclipped`` (its rating before clipping, so that items predicted past
    the top of the scale do not tie; ``predict`` for a model without one). Ties are broken in a
    random order drawn per user from ``seed`` — the same order for every model scored on the
    split — not in the catalogue's item order, which can carry signal (order of first appearance
    follows popularity and time): a model that predicts one rating for all (the global average)
    then ranks as chance does, rather than as that order does. Users without such an item are
    left out; none at all is a :class:`DataError`. About ``pairs_per_call`` (user, item) pairs
    are scored at a time.
    ``relevant_at`` defaults to :func:`relevance_threshold` of the test part's scale (4 on 1–5)."""
    _check_top_k(k)
    test, train = split.test, split.train
    if relevant_at is None:
        relevant_at = relevance_threshold(test.rating_scale)
    relevant: dict[str, set] = {}
    for user, item, rating in zip(test.users, test.items, test.ratings):
        if rating >= relevant_at:
            relevant.setdefault(user, set()).add(item)
    if not relevant:
        raise DataError(f"split {split.name}: no test rating reaches {relevant_at:g}, so nothing is relevant")
    seen: dict[str, set] = {}
    for user, item in zip(train.users, train.items):
        seen.setdefault(user, set()).add(item)
    items = list(model.item_map.ids)
    column = {item: n for n, item in enumerate(items)}
    score = getattr(model, "predict_unclipped", model.predict)
    users, ranked = list(relevant), []
    per_call = max(1, pairs_per_call // max(len(items), 1))  # users scored per predict call
    tie_break = np.random.default_rng(seed)  # one draw per user, in order: the same however users are chunked
    for start in range(0, len(users), per_call):
        chunk = users[start:start + per_call]
        scores = np.asarray(score(np.repeat(chunk, len(items)).tolist(), items * len(chunk)),
                            dtype=np.float64).reshape(len(chunk), len(items))
        for row, user in zip(scores, chunk):
            row[[column[i] for i in seen.get(user, ()) if i in column]] = -np.inf
            order = np.lexsort((tie_break.random(len(items)), -row))[:k]  # by score, then the random keys
            ranked.append([items[n] for n in order if np.isfinite(row[n])])
    return users, ranked, list(relevant.values())


def relevance_threshold(scale: tuple[float, float]) -> float:
    """The rating from which a test item counts as relevant by default: three quarters of the way
    up the scale, ``low + 0.75·(high − low)`` — 4 on 1–5 (the usual "rated 4 or 5"), 7.5 on 0–10."""
    low, high = scale
    return low + 0.75 * (high - low)


def ranking_scores(model, split: Split, k: int, relevant_at: float | None = None) -> tuple[int, dict[str, float]]:
    """Every ranking metric of :mod:`whyrec.metrics.ranking` at ``k`` over the lists of
    :func:`top_k_lists`: (the number of test users ranked, {metric name: value})."""
    users, ranked, relevant = top_k_lists(model, split, k, relevant_at)
    return len(users), {name: metric(ranked, relevant, k) for name, metric in RANKING_METRICS.items()}


def whole_list_note(k: int, items: int) -> str | None:
    """What a top-``k`` list means when the model knows no more than ``k`` items (None when it knows
    more): each list then holds all of a user's unrated items, so precision divides by more places
    than a list can fill and only the order-aware metrics (MRR, nDCG) tell models apart."""
    from whyrec.wording import counted

    if k < items:
        return None
    return (f"top {k}: no fewer than the {counted(items, 'item')} the model knows, so each list holds all of a "
            "user's unrated ones; only mrr and ndcg then depend on the order")


def _check_top_k(k: int) -> None:
    if k < 1:
        raise ConfigError(f"top_k must be at least 1, not {k}")


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
