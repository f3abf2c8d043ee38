"""Rating-prediction metrics: pure functions of predictions and references.

All follow the usual definitions over the *records* of the test set (not averaged per user),
as in the PETER/PEPLER benchmark code and the MT paper (§4.1):

* MSE  = (1/N) Σ (r_n − r̂_n)²
* RMSE = √MSE
* MAE  = (1/N) Σ |r_n − r̂_n|

``clamp=(low, high)`` first clips r̂ into the rating scale, as the benchmark code does with
the dataset's min/max rating.
"""

from __future__ import annotations

import math

import numpy as np


def _errors(predictions, references, clamp: tuple[float, float] | None) -> np.ndarray:
    pred = np.asarray(predictions, dtype=np.float64)
    ref = np.asarray(references, dtype=np.float64)
    if pred.shape != ref.shape:
        raise ValueError(f"predictions {pred.shape} and references {ref.shape} differ in shape")
    if pred.size == 0:
        raise ValueError("no predictions to score")
    if np.isnan(pred).any() or np.isnan(ref).any():  # a NaN would make the score NaN without a word
        raise ValueError(f"{int(np.isnan(pred).sum())} predictions and {int(np.isnan(ref).sum())} references are NaN")
    if clamp is not None:
        pred = np.clip(pred, clamp[0], clamp[1])
    return pred - ref


def mse(predictions, references, clamp: tuple[float, float] | None = None) -> float:
    """Mean squared error, ``(1/N) Σ (r − r̂)²``."""
    return float(np.mean(_errors(predictions, references, clamp) ** 2))


def rmse(predictions, references, clamp: tuple[float, float] | None = None) -> float:
    """Root mean squared error, ``√((1/N) Σ (r − r̂)²)``."""
    return math.sqrt(mse(predictions, references, clamp))


def mae(predictions, references, clamp: tuple[float, float] | None = None) -> float:
    """Mean absolute error, ``(1/N) Σ |r − r̂|``."""
    return float(np.mean(np.abs(_errors(predictions, references, clamp))))


def paired_t_test(losses_a, losses_b) -> tuple[float, float]:
    """Two-sided paired t-test on per-record losses of two systems (e.g. squared errors).

    With d_n = a_n − b_n: ``t = mean(d) / (sd(d) / √N)`` (sd with N − 1 degrees of freedom),
    ``p = 2·(1 − F_{t, N−1}(|t|))`` — Student's test as used for significance in the MT paper
    (§4.1, "paired t-test [8]"). Returns (t, p); identical losses give (0.0, 1.0).
    """
    d = _differences(losses_a, losses_b, "paired t-test", "pairs")
    return _two_sided_t(d, 1.0 / len(d))


def paired_p_by_group(losses_a, losses_b, groups) -> dict[str, float | None]:
    """The p of :func:`paired_t_test` of ``losses_a`` against ``losses_b`` on each group's records
    (``groups``: one label per record), in the groups' order of first appearance; None for a
    group of fewer than two records."""
    a, b = np.asarray(losses_a, dtype=np.float64), np.asarray(losses_b, dtype=np.float64)
    groups = np.asarray(groups, dtype=object)
    out = {}
    for group in dict.fromkeys(groups.tolist()):
        chosen = groups == group
        out[group] = paired_t_test(a[chosen], b[chosen])[1] if chosen.sum() >= 2 else None
    return out


def corrected_resampled_t_test(scores_a, scores_b, test_to_train: float) -> tuple[float, float]:
    """Two-sided corrected resampled t-test on one score per split of two systems (e.g. test MSE).

    With d_j = a_j − b_j over J splits, their mean d̄ and sample variance σ̂² (J − 1 degrees of
    freedom): ``t = d̄ / √((1/J + n₂/n₁)·σ̂²)``, ``p = 2·(1 − F_{t, J−1}(|t|))``, where
    ``test_to_train`` = n₂/n₁ is the test part's size over the train part's. Nadeau & Bengio,
    "Inference for the Generalization Error", Machine Learning 52 (2003): the plain test over
    splits (the 1/J term alone) ignores that the splits' train parts overlap, which correlates
    their scores, and rejects far too often; the n₂/n₁ term corrects for it. It applies to random
    splits and to the folds of cross-validation (n₂/n₁ = 1/(k − 1); Bouckaert & Frank, PAKDD 2004).
    Returns (t, p); identical scores give (0.0, 1.0).
    """
    d = _differences(scores_a, scores_b, "corrected resampled t-test", "splits")
    if not test_to_train > 0 or not math.isfinite(test_to_train):
        raise ValueError(f"test_to_train (test size over train size) must be a positive number, got {test_to_train}")
    return _two_sided_t(d, 1.0 / len(d) + test_to_train)


def _differences(a, b, test: str, unit: str) -> np.ndarray:
    """a − b for two 1-d arrays of the same length, at least two."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"{test} needs two 1-d arrays of the same length")
    if len(a) < 2:
        raise ValueError(f"{test} needs at least two {unit}")
    return a - b


def _two_sided_t(d: np.ndarray, scale: float) -> tuple[float, float]:
    """(t, p) of ``t = mean(d) / √(scale·var(d))`` on len(d) − 1 degrees of freedom; a constant d
    gives (0, 1) when it is zero and (±inf, 0) otherwise."""
    variance = d.var(ddof=1)
    if variance == 0:
        return (0.0, 1.0) if d.mean() == 0 else (math.copysign(math.inf, d.mean()), 0.0)
    from scipy import stats  # here: scipy.stats takes half a second to load, and most commands never test

    t = d.mean() / math.sqrt(scale * variance)
    return float(t), float(2.0 * stats.t.sf(abs(t), df=len(d) - 1))


RATING_METRICS = {"mse": mse, "rmse": rmse, "mae": mae}
ERROR_METRICS = ("rmse", "mae")  # lower is better; the ranking metrics at k, higher

# a user's number of training ratings, cut at these counts: 0 (a new user), 1–2, 3–5, 6–10, 11–20, 21+
ACTIVITY_EDGES = (1, 3, 6, 11, 21)


def activity_labels(edges: tuple[int, ...] = ACTIVITY_EDGES) -> list[str]:
    """The names of the groups :func:`activity_groups` cuts at ``edges`` (increasing counts ≥ 1):
    ``["0", "1–2", "3–5", "6–10", "11–20", "21+"]`` for the default ones."""
    if not edges or any(b <= a for a, b in zip(edges, edges[1:])) or edges[0] < 1:
        raise ValueError(f"activity edges must be increasing counts from 1, got {edges}")
    bounds = [0, *edges]
    labels = [f"{low}" if high - low == 1 else f"{low}–{high - 1}" for low, high in zip(bounds, bounds[1:])]
    return labels + [f"{edges[-1]}+"]


def activity_groups(train_counts, edges: tuple[int, ...] = ACTIVITY_EDGES) -> np.ndarray:
    """Each record's group by its user's number of training ratings (:func:`activity_labels`)."""
    labels = np.array(activity_labels(edges), dtype=object)
    return labels[np.searchsorted(np.asarray(edges), np.asarray(train_counts), side="right")]


def rmse_by_group(predictions, references, groups, clamp: tuple[float, float] | None = None) -> dict[str, dict]:
    """RMSE over the records of each group, ``√((1/N_g) Σ_{n∈g} (r_n − r̂_n)²)`` — the RMSE above
    (the MT paper's §4.1) restricted to group g — with N_g: ``{group: {"count": N_g, "rmse": ...}}``
    in the groups' order of first appearance. Grouping test records by their user's number of
    training ratings (:func:`activity_groups`; the cut points are whyrec's choice) is the usual
    sparsity breakdown of review-aware rating models: side information such as review text is
    expected to help most where a user has rated little."""
    errors = _errors(predictions, references, clamp)
    groups = np.asarray(groups, dtype=object)
    if groups.shape != errors.shape:
        raise ValueError(f"groups {groups.shape} and predictions {errors.shape} differ in shape")
    out = {}
    for group in dict.fromkeys(groups.tolist()):
        chosen = errors[groups == group]
        out[group] = {"count": int(chosen.size), "rmse": float(np.sqrt(np.mean(chosen ** 2)))}
    return out
