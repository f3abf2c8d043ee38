"""Holm's adjustment of the p-values against MT in the MT comparison's rating tables.

One split's rating table (:func:`whyrec.systems.mt_experiment.rating_table`), its RMSE by
activity group, and the summary over splits (:func:`whyrec.systems.mt_splits.combine_mt_runs`)
each test models against MT; Holm's step-down method (Holm 1979;
:func:`whyrec.metrics.significance.holm_by_test`) reads each table's p-values together. A fresh
run and a rewrite of a report from its JSON both set ``p_holm`` and write the line under the
table with these functions, so the two agree. Free of torch, as ``mt_splits`` is at import.
"""

from __future__ import annotations

from whyrec.metrics.significance import holm_by_test
from whyrec.results_table import holm_note


def tested_against_mt(row: dict) -> dict[str, float]:
    """A rating row's p against MT (``p_vs_mt``) as one test of Holm's family (none for a row
    without one: MT's own)."""
    return {} if row.get("p_vs_mt") is None else {"p_vs_mt": row["p_vs_mt"]}


def holm_against_mt(rating: list[dict]) -> list[dict]:
    """Set ``p_holm`` in each rating row that has a ``p_vs_mt`` key (one split's table: every row,
    None for MT's; a summary over splits: the rows tested, by the test over splits): that p
    adjusted by Holm's method over the column's. Returns ``rating``."""
    for row, adjusted in zip(rating, holm_by_test([tested_against_mt(row) for row in rating])):
        if "p_vs_mt" in row:
            row["p_holm"] = adjusted.get("p_vs_mt")
    return rating


def holm_line_against_mt(rating: list[dict]) -> list[str]:
    """The line under a rating table's ``p vs MT`` column reading its p-values together
    (:func:`whyrec.results_table.holm_note`), after an empty line; none with fewer than two tests."""
    note = holm_note([(r["system"], tested_against_mt(r)) for r in rating], by_label=True,
                     family="the {count} p-values in “p vs MT”")
    return ["", note] if note else []


def groups_against_mt(groups: dict[str, dict]) -> dict[str, float]:
    """A model's p against MT by activity group, as a family's tests (a group without one left out)."""
    return {group: entry["p_vs_mt"] for group, entry in groups.items() if entry.get("p_vs_mt") is not None}


def holm_by_activity(by_activity: dict[str, dict]) -> dict[str, dict]:
    """Set ``p_holm`` in every group entry of each model tested against MT (those with a
    ``p_vs_mt``): its p adjusted by Holm's method over every such model's every group (None where
    there is no p). Returns ``by_activity``."""
    tested = [name for name, groups in by_activity.items() if any("p_vs_mt" in e for e in groups.values())]
    family = [groups_against_mt(by_activity[name]) for name in tested]
    for name, adjusted in zip(tested, holm_by_test(family)):
        for group, entry in by_activity[name].items():
            entry["p_holm"] = adjusted.get(group)
    return by_activity


def holm_line_by_activity(by_activity: dict[str, dict]) -> list[str]:
    """The line under the RMSE-by-activity table reading every model's every group's p together,
    after an empty line; none with fewer than two tests."""
    note = holm_note([(name, groups_against_mt(groups)) for name, groups in by_activity.items()],
                     lambda group: f"{group} ratings", family="the {count} p-values by group")
    return ["", note] if note else []
