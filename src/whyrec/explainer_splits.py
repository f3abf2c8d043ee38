"""Each split's part of ``whyrec experiment explain --splits``, kept as it ends so that a stopped
run resumes at the split it was on (``--resume``); :func:`compare_over_splits` runs the comparison
split by split that way.

A split's file (``<out>/splits/<name>.json``) holds what :func:`whyrec.explainer_experiment.combine_splits`
needs of its table — every row's metrics, the squared rating error of each test record and, with
``--by-activity``, each record's activity group — with the test records' explanations side by
side, the split's name and sizes, and the settings of the run. It is read back only by a run with
the same settings on the same split, and only as it was written: it records the SHA-256 of the rest
of its content, so that a file changed since (by hand, or damaged) is not read into the combined
table, where its values would stop the run with a traceback. Otherwise that split is trained
again. Files are written whole or not at all (a temporary file, then renamed), so a kill while
writing leaves no torn file.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from whyrec.data.split import Split, split_label
from whyrec.errors import one_line
from whyrec.explain.decoding import Decoding
from whyrec.metrics.significance import PairedDifference
from whyrec.provenance import kept_for_split, split_fingerprint
from whyrec.results_table import ResultsTable, SystemResult
from whyrec.strict_json import sealed, strict_dumps, unsealed
from whyrec.temporary_names import text_writer, write_whole
from whyrec.wording import differences, shortened

SPLITS_FOLDER = "splits"


def split_result_path(out: Path, split: Split) -> Path:
    """Where the part of ``split`` is kept under the run's ``out`` folder."""
    return Path(out) / SPLITS_FOLDER / f"{split_label(split.name)}.json"


def save_split_result(path: Path, table: ResultsTable, records: list[dict], split: Split, settings: dict) -> None:
    """Keep ``split``'s ``table`` (one split's, from ``compare_explainers``) and its test ``records``
    in ``path``, with the run's ``settings`` (JSON-like: what must match for it to be read back)."""
    data = {"split": split.name, "sizes": split.sizes(), "fingerprint": split_fingerprint(split),
            "settings": settings, "metrics": table.metrics,
            "reference": table.reference, "panels": table.panels, "note": table.note,
            "rows": [{"system": r.system, "params": r.params, "per_fold": r.per_fold,
                      "squared_errors": [e.tolist() for e in r.squared_errors], "by_activity": r.by_activity,
                      "activity_groups": [np.asarray(g).tolist() for g in r.activity_groups],
                      "text_tests": {m: dataclasses.asdict(t) for m, t in r.text_tests.items()},
                      "text_tested_records": r.text_tested_records, "text_as_reference": r.text_as_reference,
                      "text_repeats": r.text_repeats,
                      "explained": _texts_json(r.explained)}
                     for r in table.results],
            "records": records}
    path.parent.mkdir(parents=True, exist_ok=True)
    text = strict_dumps(sealed(data))  # the SHA-256 of its content: an edited copy is trained again
    write_whole(path, text_writer(text))  # a killed run leaves no half file


def kept_or_why_not(path: Path, split: Split,
                    settings: dict) -> tuple[tuple[ResultsTable, list[dict]] | None, str | None]:
    """The table and records kept in ``path``, and None, when they are of ``split`` (its name,
    sizes and records: :func:`whyrec.provenance.kept_for_split`), were made with ``settings`` and
    did not change since they were written (the SHA-256 the file records of its content). Otherwise
    None and why not, for the log of a ``--resume`` that trains the split again ("was made with other
    settings (mt.epochs: 30 there, 20 now)"); (None, None) when nothing is kept there."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"cannot be read ({one_line(exc)})"
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, "is not readable JSON"
    if not isinstance(data, dict):
        return None, "holds no kept split"
    try:
        data = unsealed(data)
        if data is None:
            return None, "changed since it was written"  # (one kept before its digest was recorded is read as it is)
        if data["split"] != split.name:
            return None, f"holds split {shortened(str(data['split']), 60)}, not {split.name}"
        if data["sizes"] != split.sizes() or not kept_for_split(data.get("fingerprint"), split):
            return None, f"holds other records under the name {split.name}"
        wanted = json.loads(json.dumps(settings))
        if data["settings"] != wanted:
            kept = data["settings"] if isinstance(data["settings"], dict) else {"settings": data["settings"]}
            return None, f"was made with other settings ({differences(flattened(kept), flattened(wanted), 'there')})"
        rows = [SystemResult(row["system"], row["params"], [_floats(fold) for fold in row["per_fold"]],
                             [np.asarray(e, dtype=np.float64) for e in row["squared_errors"]],
                             by_activity=row["by_activity"],
                             activity_groups=[np.asarray(g) for g in row["activity_groups"]],
                             text_tests={m: PairedDifference(**t) for m, t in row.get("text_tests", {}).items()},
                             text_tested_records=row.get("text_tested_records", 0),
                             text_as_reference=row.get("text_as_reference", False),  # kept before it was
                             text_repeats=row.get("text_repeats"),
                             explained=_texts_read(row.get("explained")))
                for row in data["rows"]]
        table = ResultsTable(rows, data["metrics"], data["reference"], [split.name], data["panels"], data["note"])
        return (table, data["records"]), None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:  # kept before its digest, edited
        return None, f"holds no kept split ({type(exc).__name__}: {shortened(str(exc), 80)})"


def flattened(settings: dict, prefix: str = "") -> dict:
    """``settings`` with each nested object's keys written ``outer.inner``: {"mt": {"epochs": 3}}
    → {"mt.epochs": 3}, so that a difference names the one setting that differs."""
    flat = {}
    for key, value in settings.items():
        if isinstance(value, dict) and value:
            flat.update(flattened(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def compare_over_splits(splits: Sequence[Split], unfitted: Callable[[], Mapping[str, object]], *,
                        keep_in: Path | None = None, settings: dict | None = None, resume: bool = False,
                        encoder_for: Callable[[Split], object] | None = None, by_activity: bool = False,
                        decoding: Decoding | None = None, log: Callable[[str], None] | None = None,
                        on_progress: Callable[[str], None] | None = None,
                        on_step: Callable[[str], None] | None = None,
                        trials: int = 1000) -> tuple[ResultsTable, list[dict]]:
    """:func:`whyrec.explainer_experiment.compare_explainers` on each of ``splits`` in turn, with
    new systems from ``unfitted()`` for each, and its table (over several splits,
    :func:`~whyrec.explainer_experiment.combine_splits`'s) with the test records' explanations
    side by side (each row with its ``split`` when there are several).

    With a ``keep_in`` folder, each split's part is kept there as it ends
    (:func:`split_result_path`), with the run's ``settings``; with ``resume`` too, a part kept by a
    run with the same ``settings`` on the same split is read back instead of trained again. A split
    trained again where ``keep_in`` holds its file has ``log`` say why (without ``resume``, that it
    could have been read back).
    ``encoder_for(split)``: the sentence encoder of MMI's scores on that split (None: no MI
    columns). ``log`` gets each split's sizes and each read-back; ``on_progress`` and ``on_step``
    are ``compare_explainers``'s, the split's place ("(split 2/5)") added over several splits.
    ``trials``: its test of each explainer against the first, on one split, or over several
    (:func:`~whyrec.explainer_experiment.combine_splits`)."""
    from whyrec.data.features import split_features
    from whyrec.explainer_experiment import combine_splits, compare_explainers
    from whyrec.prediction_records import side_by_side

    tell = log or (lambda message: None)
    tables, records = [], []
    for n, split in enumerate(splits, start=1):
        where = f" (split {n}/{len(splits)})" if len(splits) > 1 else ""
        tell(f"split {split.name}: " + ", ".join(f"{k} {v:,}" for k, v in split.sizes().items()))
        kept_at = split_result_path(keep_in, split) if keep_in is not None else None
        kept, why_not = kept_or_why_not(kept_at, split, settings) if kept_at is not None else (None, None)
        if kept is not None and resume:
            tell(f"split {split.name}: read back from {kept_at}")
            table, split_records = kept
        else:
            if kept is not None:  # what a forgotten --resume would not have trained again
                why_not = "holds this split's part with these settings (--resume reads it back)"
            if why_not:
                tell(f"split {split.name}: {kept_at} {why_not}; trained again")
            if on_progress:
                on_progress(f"extracting features{where}")
            rows = []  # each system's rows of the test records, merged below
            table = compare_explainers(
                split, unfitted(), split_features(split), encoder_for(split) if encoder_for else None,
                on_progress=(lambda m: on_progress(m + where)) if on_progress else None,
                on_step=(lambda m: on_step(m + where)) if on_step else None,
                on_records=lambda name, system_rows: rows.append(system_rows), by_activity=by_activity,
                decoding=decoding, trials=trials if len(splits) == 1 else 0)  # several: tested over them below
            split_records = side_by_side(rows)
            if kept_at is not None:
                save_split_result(kept_at, table, split_records, split, settings)
        tables.append(table)
        records += [{"split": split.name, **row} if len(splits) > 1 else row for row in split_records]
    return (tables[0] if len(splits) == 1 else combine_splits(tables, splits, trials)), records


def _texts_json(texts) -> dict | None:
    """A row's scored explanations (:class:`whyrec.explainer_experiment.ScoredTexts`) as JSON, so
    that a table combined from kept splits can test them over the splits."""
    if texts is None:
        return None
    return {"positions": texts.positions, "references": texts.references, "hypotheses": texts.hypotheses,
            "feature_words": texts.feature_words, "feature_set": sorted(texts.feature_set),
            "agreement": {name: np.asarray(values).tolist() for name, values in texts.agreement.items()}}


def _texts_read(kept: dict | None):
    """:func:`_texts_json`'s record read back (None for a row without explanations, or a file kept
    before whyrec kept them: that split's rows are then not tested over the splits)."""
    from whyrec.explainer_experiment import ScoredTexts

    if kept is None:
        return None
    return ScoredTexts(kept["positions"], kept["references"], kept["hypotheses"], kept["feature_words"],
                       {name: np.asarray(values, dtype=np.float64) for name, values in kept["agreement"].items()},
                       set(kept["feature_set"]))


def _floats(fold: dict) -> dict:
    """A fold's metrics as written (a metric with nothing to measure, NaN, is written null) → NaN again."""
    return {k: math.nan if v is None else v for k, v in fold.items()}
