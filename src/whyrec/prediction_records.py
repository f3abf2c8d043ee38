"""One row per test record: what a trained system predicted and wrote for it (what ``whyrec
evaluate --records FILE`` saves), for reading explanations beside their references, human
evaluation, or metrics of one's own.

Each row holds ``user``, ``item``, the observed ``rating``, the ``predicted`` rating and
``known`` (whether the system knows both the user and the item). For a system that writes
explanations it also holds the record's ``reference`` (the extracted explanation sentence the
text metrics compare with, as space-separated tokens) and ``feature`` (its extracted feature
word, "" when it has none), and for each explainer (``pair``, ``user``, ``item``; ``peter`` or
``peter+``) the greedy ``explanation_<name>`` that the metrics scored and ``judged_<name>``, the
rating class 1–5 the sentiment judge reads in it (the alignment measure compares it with
``predicted`` rounded to a class). Records the system does not know get no explanation: those
fields are empty (null in JSON lines), as the metrics leave them out.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Callable

import numpy as np

from whyrec.errors import ConfigError
from whyrec.output_files import check_replaceable
from whyrec.temporary_names import write_whole

FORMATS = (".jsonl", ".csv")


def check_records_path(path: Path) -> None:
    """``evaluate --records``, refused before any work: a file whose format its name does not tell, a
    folder, and an existing file that is not one of these records (an earlier run's is replaced; any
    other would be lost: :func:`whyrec.output_files.check_replaceable`)."""
    _check_suffix(path)
    check_replaceable(path, ["user", "item", "rating", "predicted"], "--records", "prediction records",
                      csv=path.suffix.lower() == ".csv")


def _check_suffix(path: Path) -> None:
    if path.suffix.lower() not in FORMATS:
        raise ConfigError(f"--records {path}: name the file .jsonl (JSON lines) or .csv")


def prediction_records(model, test, predicted, written=None, judge=None) -> list[dict]:
    """The rows of the ``test`` records (a Corpus) in its order: ``predicted`` their predicted
    ratings; ``written`` the :class:`~whyrec.explanation_scores.WrittenExplanations` of the records the
    system knows (None for a rating model); ``judge`` the sentiment judge whose reading of each
    explanation is given (None: no ``judged_*`` fields)."""
    from whyrec.align.pipeline import known_records

    rows = [{"user": str(u), "item": str(i), "rating": float(r), "predicted": float(p)}
            for u, i, r, p in zip(test.users, test.items, test.ratings, np.asarray(predicted))]
    known = written.known if written is not None else known_records(model, test)
    where = {position: n for n, position in enumerate(known.positions.tolist())}  # record → its row in known
    for row, position in zip(rows, test.positions.tolist()):
        row["known"] = position in where
    if written is None:
        return rows
    judged = {name: judge.predict(texts) if judge is not None and texts else [] for name, texts in written.texts.items()}
    for row, position in zip(rows, test.positions.tolist()):
        n = where.get(position)
        row["reference"] = " ".join(written.references[n]) if n is not None else None
        row["feature"] = written.feature_words[n] if n is not None else None
        for name, texts in written.texts.items():
            row[f"explanation_{name}"] = texts[n] if n is not None else None
            if judge is not None:
                row[f"judged_{name}"] = int(judged[name][n]) if n is not None else None
    return rows


def relabel(rows: list[dict], system: str, labels: dict[str, str]) -> list[dict]:
    """``rows`` of one system, its own fields named for a table of several: ``predicted`` and
    ``known`` get the ``system``'s name (``predicted_MT``), each explainer's fields its label
    (``labels``: explainer → label, ``explanation_pair`` → ``explanation_MT-P``); the record's
    own fields (user, item, rating, reference, feature) stay as they are."""
    renamed = {"predicted": f"predicted_{system}", "known": f"known_{system}"}
    for name, label in labels.items():
        renamed.update({f"explanation_{name}": f"explanation_{label}", f"judged_{name}": f"judged_{label}"})
    return [{renamed.get(key, key): value for key, value in row.items()} for row in rows]


def side_by_side(per_system: list[list[dict]]) -> list[dict]:
    """One row per test record from the :func:`relabel` rows of several systems on the same test
    records (in the same order): each system's fields side by side, and the record's reference
    and feature word from the first system that knows the record (they can differ only in how
    many words each system's ``max_words`` keeps)."""
    merged = []
    for rows in zip(*per_system, strict=True):
        row = {}
        for part in rows:
            for key, value in part.items():
                if key not in row or row[key] is None:
                    row[key] = value
        merged.append(row)
    return merged


def save_records(rows: list[dict], path: Path) -> None:
    """Write ``rows`` as JSON lines (``.jsonl``: one object per line, null for a missing field)
    or CSV (``.csv``: a header of every field, an empty cell for a missing one), by the name. What
    ``path`` held is replaced: the commands check it first (:func:`check_records_path`; the
    explanations a comparison writes in its own ``--out``). The rows are written under a temporary
    name and renamed when whole: a write the system refuses (a full disk; the ``OSError`` names
    ``path``) leaves what ``path`` held as it was."""
    if path.is_dir():
        raise ConfigError(f"--records {path} is a folder; give a file name")
    write = records_writer(rows, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, write)  # a full disk leaves what path held


def records_writer(rows: list[dict], path: Path) -> Callable[[Path], None]:
    """What writes ``rows`` as :func:`save_records` writes them at ``path`` (its suffix picks the
    format), into whatever file it is given: for a file written with others and renamed with them
    (:func:`whyrec.temporary_names.write_together`)."""
    _check_suffix(path)
    jsonl = path.suffix.lower() == ".jsonl"
    return lambda staged: _write_rows(rows, staged, jsonl)


def _write_rows(rows: list[dict], path: Path, jsonl: bool) -> None:
    """``rows`` written into ``path`` as JSON lines (``jsonl``) or CSV."""
    fields = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", encoding="utf-8", newline="") as out:
        if jsonl:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")
            return
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        writer.writerows({key: "" if value is None else value for key, value in row.items()} for row in rows)
