"""Each split's part of ``whyrec experiment explain --splits``, kept as it ends so that a stopped
run resumes at the split it was on (``--resume``).

A split's file (``<out>/splits/<name>.json``) holds what :func:`whyrec.explainer_experiment.combine_splits`
needs of its table — every row's metrics, the squared rating error of each test record and, with
``--by-activity``, each record's activity group — with the test records' explanations side by
side, the split's name and sizes, and the settings of the run. It is read back only by a run with
the same settings on the same split; otherwise that split is trained again. Files are written
whole or not at all (a temporary file, then renamed), so a kill while writing leaves no torn file.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from whyrec.data.split import Split, split_label
from whyrec.experiment import ResultsTable, SystemResult
from whyrec.strict_json import strict_dumps

SPLITS_FOLDER = "splits"


def split_result_path(out: Path, split: Split) -> Path:
    """Where the part of ``split`` is kept under the run's ``out`` folder."""
    return Path(out) / SPLITS_FOLDER / f"{split_label(split.name)}.json"


def save_split_result(path: Path, table: ResultsTable, records: list[dict], split: Split, settings: dict) -> None:
    """Keep ``split``'s ``table`` (one split's, from ``compare_explainers``) and its test ``records``
    in ``path``, with the run's ``settings`` (JSON-like: what must match for it to be read back)."""
    data = {"split": split.name, "sizes": split.sizes(), "settings": settings, "metrics": table.metrics,
            "reference": table.reference, "panels": table.panels, "note": table.note,
            "rows": [{"system": r.system, "params": r.params, "per_fold": r.per_fold,
                      "squared_errors": [e.tolist() for e in r.squared_errors], "by_activity": r.by_activity,
                      "activity_groups": [np.asarray(g).tolist() for g in r.activity_groups]}
                     for r in table.results],
            "records": records}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(strict_dumps(data), encoding="utf-8")
    os.replace(partial, path)


def read_split_result(path: Path, split: Split, settings: dict) -> tuple[ResultsTable, list[dict]] | None:
    """The table and records kept in ``path`` when they are of ``split`` (its name and sizes) and
    were made with ``settings``; None otherwise (no file, another split or settings, a file that
    does not parse), and that split is then trained again."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        same = (data["split"] == split.name and data["sizes"] == split.sizes()
                and data["settings"] == json.loads(json.dumps(settings)))
        if not same:
            return None
        rows = [SystemResult(row["system"], row["params"], [_floats(fold) for fold in row["per_fold"]],
                             [np.asarray(e, dtype=np.float64) for e in row["squared_errors"]],
                             by_activity=row["by_activity"],
                             activity_groups=[np.asarray(g) for g in row["activity_groups"]])
                for row in data["rows"]]
        table = ResultsTable(rows, data["metrics"], data["reference"], [split.name], data["panels"], data["note"])
        return table, data["records"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def _floats(fold: dict) -> dict:
    """A fold's metrics as written (a metric with nothing to measure, NaN, is written null) → NaN again."""
    return {k: math.nan if v is None else v for k, v in fold.items()}
