"""Which epoch's state a trained PETER, MT or biased MF holds, read back from its training history.

Each keeps the state of its best validation epoch, chosen while training by strict improvement (a
later epoch that only ties the best is not taken; biased MF asks for a gain of more than 10⁻⁶), so
the state held is the one of the first epoch with the lowest validation score. :func:`kept_part`
finds that epoch from the history a bundle saves, scoring each epoch as the training loop did
(PETER's :func:`~whyrec.systems.peter.validation_score`, MT's validation RMSE and
:func:`~whyrec.systems.mt.mean_valid_nll`), for `whyrec train`'s report, `whyrec show` and
:func:`whyrec.bundle.describe_bundle`. Without validation scores (no validation part) the last
epoch's state is the one held. The tests check, system by system, that the weights held are
those of the epoch named.
"""

from __future__ import annotations

from typing import Callable

NO_VALIDATION = "the last epoch: no validation scores"


def first_lowest_epoch(history: list[dict], score: Callable[[dict], float | None],
                       min_gain: float = 0.0) -> int | None:
    """The ``epoch`` of the first record of ``history`` with the lowest ``score(record)``, records
    scored None or NaN skipped (no training loop takes a NaN as an improvement); None when no
    record is scored. A record without an ``epoch`` key counts by its place (1 = first). With
    ``min_gain`` an epoch counts as lower only when its score is below the best so far by more
    than that (biased MF's rule)."""
    best, epoch = None, None
    for place, record in enumerate(history, 1):
        value = score(record)
        if value is not None and value == value and (best is None or value < best - min_gain):
            best, epoch = value, record.get("epoch", place)
    return epoch


def kept_part(part: str, history: list[dict], score: Callable[[dict], float | None], by: str,
              min_gain: float = 0.0) -> dict:
    """``{"part", "epoch", "by"}``: the epoch whose ``part`` (the transformer, the rating model,
    the generators) a system trained with ``history`` holds, and the rule that chose it (``by``,
    or :data:`NO_VALIDATION` when no epoch has a score). ``epoch`` is None for an empty history."""
    epoch = first_lowest_epoch(history, score, min_gain)
    if epoch is None and history:
        return {"part": part, "epoch": history[-1].get("epoch", len(history)), "by": NO_VALIDATION}
    return {"part": part, "epoch": epoch, "by": by}


def kept_text(parts: list[dict]) -> str:
    """The parts of :func:`kept_part` in words: "the transformer of epoch 4 (lowest validation
    text NLL + rating MSE)"; parts kept from one epoch by one rule are named together."""
    groups: list[tuple[list[str], object, str]] = []
    for p in parts:
        if groups and groups[-1][1:] == (p["epoch"], p["by"]):
            groups[-1][0].append(p["part"])
        else:
            groups.append(([p["part"]], p["epoch"], p["by"]))
    return ", ".join(f"the {' and the '.join(names)} of epoch {epoch} ({by})" for names, epoch, by in groups)
