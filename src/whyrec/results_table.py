"""A results table: one row per system, a column per metric (mean ± std over folds or splits),
with p-values against a reference, RMSE by user activity, ranking p-values and tuning notes;
written as markdown, CSV and JSON, and drawn as charts (:meth:`ResultsTable.save`). What
:class:`whyrec.experiment.Experiment` and the explainer comparisons return."""

from __future__ import annotations

import csv
import dataclasses
import io
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from whyrec.errors import ConfigError
from whyrec.metrics.rating import ERROR_METRICS, activity_labels
from whyrec.strict_json import strict_dumps
from whyrec.temporary_names import text_writer, write_together_in


# chart titles of the metrics whose column name is terse
METRIC_TITLES = {"rmse": "RMSE", "mae": "MAE", "bleu1": "BLEU-1", "bleu4": "BLEU-4", "rouge1": "ROUGE-1",
                 "rouge2": "ROUGE-2", "rougeL": "ROUGE-L", "usr": "USR (unique sentence ratio)",
                 "fmr": "FMR (feature matching)", "fcr": "FCR (feature coverage)", "div": "DIV (lower: more diverse)",
                 "ppl": "perplexity", "empty": "empty explanations (%)", "acc5": "sentiment = rating (%, 5 classes)",
                 "acc3": "sentiment = rating (%, 3 classes)", "base5": "one sentence for all (%, 5 classes)",
                 "base3": "one sentence for all (%, 3 classes)", "mi_rating": "I(R;E)/H(R)",
                 "mi_feature": "I(F;E) (nats)"}


CHART_FILES = ("rmse.png", "metrics.png")  # every chart a table's save may draw (ResultsTable._charts)

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


HOLM_LEVEL = 0.05  # the family-wise error rate the note under a table of tested p-values holds


def holm_note(rows: Sequence[tuple[str, Mapping[str, float]]], title: Callable[[str], str] = str,
              floor: float = 0.0, remedy: str = "", family: str = "the table's {count} p-values",
              by_label: bool = False) -> str:
    """The line under a table of p-values that reads them together: Holm's adjustment over every
    test in it (:func:`whyrec.metrics.significance.holm_by_test`; ``rows``: each row's label and
    its p-values by metric, NaN for an untested one, left out; ``title``: a metric's name in the
    table), and the tests whose adjusted p stays at or below :data:`HOLM_LEVEL`, by row (named by
    the row's label alone with ``by_label``, for rows of one test each; by its tests alone for an
    empty label, as in a table of one row). ``floor``: the smallest p
    the tests can give; when it times the number of tests is above that level, none can stay below
    it, and the line says so, and how to lower it (``remedy``). ``family``: what was adjusted,
    ``{count}`` its number of tests. Empty with fewer than two tests."""
    from whyrec.metrics.significance import holm_by_test

    adjusted = holm_by_test([tests for _, tests in rows])
    count = sum(p is not None for tests in adjusted for p in tests.values())
    if count < 2:
        return ""
    head = f"Read together (Holm's adjustment of {family.format(count=count)}), "
    if floor * count > HOLM_LEVEL:
        return head + (f"no difference can keep an adjusted p ≤ {HOLM_LEVEL}: the smallest p these tests give "
                       f"is {floor:.3g}, and {count} × {floor:.3g} is above {HOLM_LEVEL}"
                       + (f" ({remedy})" if remedy else ""))
    held = [(label, [title(m) for m, p in tests.items() if p is not None and p <= HOLM_LEVEL])
            for (label, _), tests in zip(rows, adjusted)]
    held = [(label, metrics) for label, metrics in held if metrics]
    if not held:
        return head + f"no difference keeps an adjusted p ≤ {HOLM_LEVEL}"
    kept = sum(len(metrics) for _, metrics in held)
    keeps = "keeps" if kept == 1 else "keep"
    return head + f"{kept} of {count} differences {keeps} an adjusted p ≤ {HOLM_LEVEL}: " + "; ".join(
        label if by_label else f"{label}: {', '.join(metrics)}" if label else ", ".join(metrics)
        for label, metrics in held)


def untested_clause(names: Sequence[str], verb: str, whom: str) -> str:
    """What a :func:`holm_note`'s ``family`` adds for the rows left out of it as doing what the
    row they are tested against does ("; MT-I, MT-P predict as MT-U does: no test"); "" for none."""
    if not names:
        return ""
    return f"; {', '.join(names)} {verb}{'s' if len(names) == 1 else ''} as {whom} does: no test"


def repeated_clause(repeats: Sequence[tuple[str, str]], verb: str, what: str) -> str:
    """What a :func:`holm_note`'s ``family`` adds for rows left out of it as repeating an earlier
    row's tests (``repeats``: each such row and the row it repeats): "; MT-I, MT-P predict as MT-U
    does: MT-U's test, counted once"; "" for none."""
    by_first: dict[str, list[str]] = {}
    for name, first in repeats:
        by_first.setdefault(first, []).append(name)
    return "".join(f"; {', '.join(names)} {verb}{'s' if len(names) == 1 else ''} as {first} does: {first}'s {what}, "
                   "counted once" for first, names in by_first.items())


def randomization_holm_note(rows: Sequence[tuple[str, Mapping]], title: Callable[[str], str] = str,
                            family: str = "the table's {count} p-values") -> str:
    """:func:`holm_note` of a table of approximate randomization tests (``rows``: each row's label
    and its :class:`~whyrec.metrics.significance.PairedDifference` by metric), whose floor is the
    smallest p its trials can give (:func:`~whyrec.metrics.significance.smallest_p`)."""
    from whyrec.metrics.significance import smallest_p

    tests = [t for _, by_metric in rows for t in by_metric.values()]
    if not tests:
        return ""
    floor, exact = smallest_p(tests)
    remedy = "an exact test of so few records gives none lower" if exact else "more --trials lower it"
    return holm_note([(label, {m: t.p for m, t in by_metric.items()}) for label, by_metric in rows], title,
                     floor, remedy, family)


ACTIVITY_TITLE = "RMSE by the user's number of training ratings (n: test records), over every split"


def same_errors(a: "SystemResult", b: "SystemResult") -> bool:
    """Whether two rows' squared errors are equal record for record over the same folds: the
    same rating model's predictions. False when either kept none (nothing to tell by)."""
    if not a.squared_errors or len(a.squared_errors) != len(b.squared_errors):
        return False
    return all(np.array_equal(x, y) for x, y in zip(a.squared_errors, b.squared_errors))


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
    # an explainer's test explanations as scored (whyrec.explainer_experiment.ScoredTexts), one split's
    explained: object = field(default=None, repr=False)
    # its explanation metrics against the reference row's, on the records both explain (over the splits:
    # the mean difference): metric -> whyrec.metrics.significance.PairedDifference, and the records paired
    text_tests: dict = field(default_factory=dict)
    text_tested_records: int = 0
    # its explanations are the reference row's, record for record: its text tests test nothing (p 1)
    text_as_reference: bool = False
    # its explanations are those of this earlier row (its name), record for record, and not the
    # reference's: its text tests repeat that row's, and Holm's family counts them once
    text_repeats: str | None = None

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
        if len(result.per_fold) > 1:  # z: a mean that rounds to 0 (a MINE estimate just below it) as 0.0000
            return f"{mean:z.{digits}f} ± {result.std(key):.{digits}f}"
        return f"{mean:z.{digits}f}"

    def rows(self) -> list[list[str]]:
        out = []
        for r in self.results:
            row = [r.system, *(self._cell(r, m, 4) for m in self.metrics),
                   self._cell(r, "train_s", 2), self._cell(r, "test_s", 3)]
            if self.reference:
                same = self._predicts_as_reference(r)  # its p of 1 tests nothing, as the Holm line says
                row.append(self._p_cell(r.p_value, same))
                if self._several:
                    row.append(self._p_cell(r.p_value_over_splits, same))
            out.append(row)
        return out

    @staticmethod
    def _p_cell(p: float | None, predicts_as_reference: bool) -> str:
        """A p against the reference: "—" for none (the reference's row), "no test" for a row
        that predicts as the reference does (its p of 1 compares a model with itself)."""
        if p is None:
            return "—"
        return "no test" if predicts_as_reference else f"{p:.3g}"

    def to_markdown(self) -> str:
        return markdown_table(self.columns, self.rows())

    def __str__(self) -> str:
        """What ``print(table)`` shows: the report results.md holds, without its title."""
        return self._report_markdown(None).rstrip("\n")

    def _repr_markdown_(self) -> str:
        """What a Jupyter notebook shows for a table: the same report, rendered."""
        return self._report_markdown(None)

    def _rating_tests(self) -> dict[str, list[dict[str, float]]]:
        """The rating p-values against the reference by column (:attr:`columns`): each row's, as
        one test named after the column, for the rows :meth:`_counted_once` (none for the
        reference's own row, a row that predicts as it does, or a repeat of an earlier row's)."""
        if not self.reference:
            return {}
        column = f"p vs {self.reference}"
        tests = {column: [r.p_value for r in self.results]}
        if self._several:
            tests[f"{column} over splits"] = [r.p_value_over_splits for r in self.results]
        counted = self._counted_once()
        return {name: [{name: p} if p is not None and counted[k] else {} for k, p in enumerate(ps)]
                for name, ps in tests.items()}

    def _predicts_as_reference(self, result: SystemResult) -> bool:
        """Whether ``result``'s squared errors are the reference row's, record for record: the same
        rating model (an experiment's MT-I and MT-P share MT-U's; an aligned bundle keeps its
        ratings). Its tests against the reference (p = 1) test nothing, and are left out of
        Holm's families, where they would only raise the other rows' adjusted p."""
        base = next((r for r in self.results if r.system == self.reference), None)
        return base is not None and result is not base and same_errors(result, base)

    def _repeats(self) -> list[int | None]:
        """Per row, the earlier row whose rating tests against the reference it repeats: the first
        with its squared errors, record for record (MT-I and MT-P of one MT tested against PETER;
        a bundle and its aligned copy). The same errors against the same reference give the same
        tests, so Holm's families count them once, and the row takes that row's adjusted p. None
        for a row tested in its own right, the reference's and those predicting as it does."""
        out: list[int | None] = []
        for k, r in enumerate(self.results):
            firsts = [j for j in range(k) if out[j] is None]
            tested = r.system != self.reference and not self._predicts_as_reference(r)
            out.append(next((j for j in firsts if same_errors(r, self.results[j])), None) if tested else None)
        return out

    def _counted_once(self) -> list[bool]:
        """Per row, whether its rating tests belong to Holm's families: not the reference's row,
        nor one predicting as it does (:meth:`_predicts_as_reference`), nor a repeat (:meth:`_repeats`)."""
        repeats = self._repeats()
        return [r.system != self.reference and not self._predicts_as_reference(r) and repeats[k] is None
                for k, r in enumerate(self.results)]

    def rating_holm_notes(self) -> list[str]:
        """A line under the table per column of rating p-values against the reference
        (:func:`holm_note`): Holm's adjustment over that column's tests, one per system. The two
        columns (pooled records, splits' MSEs) test the same differences two ways, so each is a
        family of its own; none with fewer than two systems tested."""
        notes = [holm_note(list(zip((r.system for r in self.results), tests)),
                           family=f"the {{count}} p-values in “{name}”{self._untested_rows()}", by_label=True)
                 for name, tests in self._rating_tests().items()]
        return [note for note in notes if note]

    def _untested_rows(self) -> str:
        """What a Holm line says of the rows left out of its family: those predicting as the
        reference does, and those repeating an earlier row's test ("" when none is)."""
        repeats = [(r.system, self.results[j].system) for r, j in zip(self.results, self._repeats()) if j is not None]
        return (untested_clause([r.system for r in self.results if self._predicts_as_reference(r)], "predict",
                                self.reference)
                + repeated_clause(repeats, "predict", "test"))

    def _holm_of_rating_tests(self) -> list[dict[str, float | None]]:
        """Each row's rating p-values adjusted by Holm's method over their column (``p_holm``,
        ``p_holm_over_splits``); None for the reference's row and those that predict as it does."""
        from whyrec.metrics.significance import holm_by_test

        out: list[dict[str, float | None]] = [{} for _ in self.results]
        for name, tests in self._rating_tests().items():
            key = "p_holm_over_splits" if name.endswith(" over splits") else "p_holm"
            for row, adjusted in zip(out, holm_by_test(tests)):
                row[key] = adjusted.get(name)
        for row, first in zip(out, self._repeats()):
            if first is not None:
                row.update(out[first])
        return out

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

        table = markdown_table(head, [[r.system, *(cell(r.by_activity[g]) for g in groups)] for r in with_groups])
        return "\n\n".join([table, *self._activity_holm_notes()])

    # the p-values of an activity group's cell (RMSE by activity): each kind a family of Holm's method,
    # with the words naming it
    ACTIVITY_TESTS = {"p_vs_reference": "the first p of each cell, {count} paired t-tests",
                      "p_over_splits": "the second p of each cell, {count} tests over the splits"}

    def _activity_tests(self) -> dict[str, list[tuple[str, dict[str, float]]]]:
        """Each kind of :attr:`ACTIVITY_TESTS`: each row's label and its p by activity group, for
        the rows with groups (a group without a test left out, and every group of a row that
        predicts as the reference does)."""
        counted = self._counted_once()
        rows = [(r, counted[k] or r.system == self.reference) for k, r in enumerate(self.results) if r.by_activity]
        return {key: [(r.system, {g: e[key] for g, e in r.by_activity.items() if e.get(key) is not None}
                       if tested else {}) for r, tested in rows] for key in self.ACTIVITY_TESTS}

    def _activity_holm_notes(self) -> list[str]:
        """A line per kind of p-value in the RMSE-by-activity table (:func:`holm_note`): Holm's
        adjustment over every system's every group of that kind. The two kinds test the same
        differences two ways, so each is a family of its own."""
        untested = self._untested_rows()
        notes = [holm_note(rows, lambda group: f"{group} ratings", family=self.ACTIVITY_TESTS[key] + untested)
                 for key, rows in self._activity_tests().items()]
        return [note for note in notes if note]

    def _activity_json(self) -> list[dict]:
        """``rmse_by_activity`` of results.json, a dict per row (empty without groups): each group's
        entry with its p-values adjusted by Holm's method over their kind (``p_holm`` for
        ``p_vs_reference``, ``p_holm_over_splits`` for ``p_over_splits``; None where that p is)."""
        from whyrec.metrics.significance import holm_by_test

        out = [{g: dict(e) for g, e in r.by_activity.items()} for r in self.results]
        with_groups = [row for row in out if row]
        for key, rows in self._activity_tests().items():
            name = "p_holm" if key == "p_vs_reference" else "p_holm_over_splits"
            for row, adjusted in zip(with_groups, holm_by_test([by_group for _, by_group in rows])):
                for group, entry in row.items():
                    if key in entry:
                        entry[name] = adjusted.get(group)
        for row, first in zip(out, self._repeats()):  # a repeat's groups take the first's adjusted p
            if first is None:
                continue
            for group, entry in row.items():
                entry.update({name: p for name, p in out[first].get(group, {}).items()
                              if name in ("p_holm", "p_holm_over_splits")})
        return out

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

        table = markdown_table(["system", *names], [[r.system, *(cell(r.ranking_p_over_splits[m]) for m in names)]
                                                   for r in tested])
        together = holm_note([(r.system, r.ranking_p_over_splits) for r in tested])
        return f"{table}\n\n{together}" if together else table

    def ranking_significance_title(self) -> str:
        return (f"Ranking metrics against {self.reference}: p of the corrected resampled t-test over the "
                f"{len(self.splits)} splits")

    def text_significance_markdown(self) -> str:
        """Each row's explanation metrics against the reference row's (``text_tests``): the
        difference and its approximate randomization p, as a markdown table; empty without them."""
        tested = [r for r in self.results if r.text_tests]
        if not tested:
            return ""
        names = list(tested[0].text_tests)

        def cell(metric: str, paired) -> str:  # BLEU and ROUGE are ×100, accuracies in %, the others ratios
            digits = 2 if metric.startswith(("bleu", "rouge")) else 1 if metric.startswith("acc") else 3
            return "n/a" if paired is None else f"{paired.difference:+z.{digits}f} (p {paired.p:.3f})"

        table = markdown_table(["system", "records", *names],
                               [[r.system, f"{r.text_tested_records:,}", *(cell(m, r.text_tests.get(m)) for m in names)]
                                for r in tested])
        untested = untested_clause([r.system for r in tested if r.text_as_reference], "write", self.reference)
        untested += repeated_clause([(r.system, r.text_repeats) for r in tested if r.text_repeats], "write", "tests")
        together = randomization_holm_note([(r.system, tests) for r, tests in zip(tested, self._text_family(tested))],
                                           family="the table's {count} p-values" + untested)
        return f"{table}\n\n{together}" if together else table

    @staticmethod
    def _text_family(rows: Sequence[SystemResult]) -> list[dict]:
        """Each row's text tests as Holm's family holds them (metric → PairedDifference): none for
        a row that writes as the reference does (:attr:`SystemResult.text_as_reference`), whose
        tests test nothing, nor for one repeating an earlier row's (:attr:`SystemResult.text_repeats`),
        counted once under that row. The line under the table and results.json's ``p_holm`` both
        read it."""
        return [{} if r.text_as_reference or r.text_repeats else r.text_tests for r in rows]

    def text_significance_title(self) -> str:
        sampled = [t.assignments for r in self.results for t in r.text_tests.values() if not t.exact]
        how = f"{sampled[0]:,} random swaps" if sampled else "every swap counted"
        if self._several:
            return (f"Explanations against {self.reference}, on the test records both explain: each metric's "
                    f"mean difference over the {len(self.splits)} splits and its p (approximate randomization, {how} "
                    "of two rows' explanations of a record within its split)")
        return (f"Explanations against {self.reference}, on the test records both explain: each metric's "
                f"difference and its p (approximate randomization, {how} of two rows' explanations of a record)")

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
                 "p_value_over_splits": r.p_value_over_splits, **rating_holm,
                 **({"ranking_p_over_splits": r.ranking_p_over_splits,
                     "ranking_p_holm": ranking_holm} if r.ranking_p_over_splits else {}),
                 "mean": {k: r.mean(k) for k in [*self.metrics, "train_s", "test_s"]},
                 "std": {k: r.std(k) for k in [*self.metrics, "train_s", "test_s"]},
                 **({"rmse_by_activity": by_activity} if by_activity else {}),
                 **({"text_tests": {"records": r.text_tested_records,
                                    **({"as_reference": True} if r.text_as_reference else {}),
                                    **({"repeats": r.text_repeats} if r.text_repeats else {}),
                                    "tests": {m: {**dataclasses.asdict(t), "p_holm": text_holm[m]}
                                              for m, t in r.text_tests.items()}}}
                    if r.text_tests else {})}
                for r, rating_holm, by_activity, text_holm, ranking_holm in zip(
                    self.results, self._holm_of_rating_tests(), self._activity_json(), self._holm_of_text_tests(),
                    self._holm_of_ranking_tests())
            ],
        }

    def _holm_of_text_tests(self) -> list[dict[str, float | None]]:
        """Each row's text tests' p adjusted by Holm's method over the table's (``p_holm``); None
        for a row that writes as the reference does (:attr:`SystemResult.text_as_reference`), and
        the adjusted p of the row it repeats for a repeat (:attr:`SystemResult.text_repeats`)."""
        from whyrec.metrics.significance import holm_by_test

        adjusted = holm_by_test([{m: t.p for m, t in tests.items()} for tests in self._text_family(self.results)])
        by_name = {r.system: by_metric for r, by_metric in zip(self.results, adjusted)}
        return [{m: by_name.get(r.text_repeats, by_metric).get(m) for m in r.text_tests}  # a repeat: its first's
                for r, by_metric in zip(self.results, adjusted)]

    def _holm_of_ranking_tests(self) -> list[dict[str, float | None]]:
        """Each row's ranking p over the splits adjusted by Holm's method over the table's
        (``ranking_p_holm``); None where the test gave none (a split without a user to rank)."""
        from whyrec.metrics.significance import holm_by_test

        return holm_by_test([r.ranking_p_over_splits for r in self.results])

    def best(self, metric: str = "rmse") -> SystemResult:
        return min(self.results, key=lambda r: r.mean(metric))

    def plot(self, path: str | Path, metric: str = "rmse", format: str | None = None) -> Path:
        """A chart of ``metric`` per system (:meth:`_figure`: dots for RMSE and MAE, else bars; sd
        over folds, when there are several); ``format`` (``png``, ``svg``, ``pdf``…) is read from
        the file name unless given."""
        return self._draw(path, [metric], f"{metric.upper()} by system, {self._splits_text()}", format)

    def plot_panels(self, path: str | Path, metrics: Sequence[str] | None = None, format: str | None = None) -> Path:
        """One chart per metric of ``metrics`` (default: :attr:`panels`), side by side, with each
        value written beside its dot or on its bar; a system without a value (NaN) gets "n/a"."""
        return self._draw(path, list(metrics or self.panels), f"systems compared, {self._splits_text()}", format)

    def _splits_text(self) -> str:
        return f"split {self.splits[0]}" if len(self.splits) == 1 else f"mean ± sd over {len(self.splits)} splits"

    def _draw(self, path: str | Path, metrics: list[str], title: str, format: str | None) -> Path:
        import matplotlib.pyplot as plt

        fig = self._figure(metrics, title)
        fig.savefig(path, dpi=110, format=format)
        plt.close(fig)
        return Path(path)

    def _figure(self, metrics: list[str], title: str):
        """The chart of ``metrics``, a panel each. An error (RMSE, MAE) is a dot per system with its
        sd over folds: its axis spans the values, as differences of a hundredth matter, and a bar
        on such an axis would draw one system several times another. Every other metric is a bar
        from zero. Each value is written beside its dot or on its bar."""
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
            errors = np.array([r.std(metric) for r in self.results]) if several else np.zeros(len(means))
            digits = 4 if metric in ERROR_METRICS else 3
            labels = ["n/a" if np.isnan(v) else f"{v:.{digits}g}" for v in means]
            if metric in ERROR_METRICS:
                _error_dots(ax, names, means, errors, labels)
            else:
                _bars_from_zero(ax, names, means, errors if several else None, labels)
            ax.set_title(metric_title(metric) if len(metrics) > 1 else wrapped, fontsize=9)
            ax.tick_params(axis="x", rotation=35, labelsize=8)
        if len(metrics) > 1:
            fig.suptitle(wrapped, fontsize=10)
        fig.tight_layout()
        return fig

    def _charts(self) -> dict[str, Callable[[Path], Path]]:
        """The charts :meth:`save` draws, by file name: rmse.png when the table has RMSE,
        metrics.png when it has :attr:`panels`; each drawn as a PNG whatever the name it is given
        (:meth:`save` draws it under a temporary one)."""
        charts = {"rmse.png": lambda path: self.plot(path, format="png")} if "rmse" in self.metrics else {}
        return {**charts, **({"metrics.png": lambda path: self.plot_panels(path, format="png")} if self.panels else {})}

    @property
    def files(self) -> list[str]:
        """The names :meth:`save` writes: the tables, the config and the charts."""
        return ["results.md", "results.csv", "results.json", "config.json", *self._charts()]

    def file_writers(self, config: dict | None = None, title: str | None = None) -> dict[str, Callable[[Path], None]]:
        """What :meth:`save` writes, by file name (:attr:`files`), each a function that writes its file
        at the path given (:meth:`save` gives a temporary name, and renames the files together)."""
        config = config or {r.system: r.params for r in self.results}
        texts = {"results.md": self._report_markdown(title), "results.csv": self.to_csv(),
                 "results.json": strict_dumps(self.to_dict(), indent=1),  # NaN (no features) → null
                 "config.json": strict_dumps(config, indent=1)}
        writers: dict[str, Callable[[Path], None]] = {name: text_writer(text) for name, text in texts.items()}
        return {**writers, **self._charts()}

    def save(self, folder: str | Path, config: dict | None = None, title: str | None = None) -> Path:
        """Write :attr:`files` into ``folder`` (created if needed) and return it; ``title`` (what was
        compared on which data and splits, as the command prints it) heads results.md. The files are
        written under temporary names and renamed together once all are whole: a refusal of any (a
        full disk) leaves what ``folder`` held as it was, not some new files among the old
        (:func:`whyrec.temporary_names.write_together_in`)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_together_in(folder, self.file_writers(config, title))
        return folder

    def _report_markdown(self, title: str | None) -> str:
        """results.md: ``title``, the table and its notes, then the tests and tuning notes it has."""
        notes = self.tuning_notes()
        picked = "\n\nSettings picked on validation:\n\n" + "\n".join(f"- {n}" for n in notes) if notes else ""
        activity = self.activity_markdown()
        if activity:
            activity = f"\n\n{self.activity_title()}:\n\n{activity}"
        ranking = self.ranking_significance_markdown()
        if ranking:
            ranking = f"\n\n{self.ranking_significance_title()}:\n\n{ranking}"
        text = self.text_significance_markdown()
        if text:
            text = f"\n\n{self.text_significance_title()}:\n\n{text}"
        note = "".join(f"\n\n{line}" for line in [*self.rating_holm_notes(), self.note] if line)
        heading = f"# {title}\n\n" if title else ""
        return heading + self.to_markdown() + note + text + ranking + activity + picked + "\n"


def _error_dots(ax, names: list[str], means: np.ndarray, errors: np.ndarray, labels: list[str]) -> None:
    """RMSE or MAE per system as a dot with its sd, on an axis spanning every dot and whisker (a
    system without a value: "n/a" at the axis' foot)."""
    x = np.arange(len(names))
    ax.errorbar(x, means, yerr=errors, fmt="o", color="#4c72b0", ecolor="#333333", capsize=3, markersize=5)
    known = ~np.isnan(means)
    low, high = (float(np.min((means - errors)[known])), float(np.max((means + errors)[known]))) if known.any() \
        else (0.0, 1.0)
    margin = 0.08 * (high - low) or 0.05 * abs(high) or 0.05
    ax.set_ylim(low - margin, high + margin)
    for n, (mean, label) in enumerate(zip(means, labels)):
        at = low - margin / 2 if np.isnan(mean) else mean
        ax.annotate(label, (n, at), xytext=(5, 0), textcoords="offset points", va="center", fontsize=7)
    ax.set_xticks(x, names)
    ax.set_xlim(-0.5, len(names) - 0.3)  # room for the last label
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)


def _bars_from_zero(ax, names: list[str], means: np.ndarray, errors: np.ndarray | None, labels: list[str]) -> None:
    """A metric per system as a bar from zero (a lower bound of MI may go below it), with its sd
    when there are folds, and its value on the bar ("n/a" for none)."""
    bars = ax.bar(names, np.nan_to_num(means), yerr=errors, color="#4c72b0", capsize=3 if errors is not None else 0)
    ax.bar_label(bars, labels=labels, fontsize=7, padding=2,
                 **({"label_type": "center", "zorder": 5,  # drawn over the error bar
                     "bbox": {"facecolor": "white", "edgecolor": "none", "pad": 1}} if errors is not None else {}))
    reach = means + (errors if errors is not None else 0.0)  # the top of each error bar
    known = means[~np.isnan(means)]
    low, high = (float(known.min()), float(np.nanmax(reach))) if known.size else (0.0, 1.0)
    span = max(high, 0.0) - min(low, 0.0) or 1.0
    ax.set_ylim(bottom=min(low, 0.0) - (0.1 * span if low < 0 else 0.0), top=max(high, 0.0) + 0.15 * span)
    ax.axhline(0.0, color="#999999", linewidth=0.6)
