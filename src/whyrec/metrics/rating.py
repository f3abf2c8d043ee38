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
from scipy import stats


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
    a = np.asarray(losses_a, dtype=np.float64)
    b = np.asarray(losses_b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("paired t-test needs two 1-d arrays of the same length")
    if len(a) < 2:
        raise ValueError("paired t-test needs at least two pairs")
    d = a - b
    sd = d.std(ddof=1)
    if sd == 0:
        return (0.0, 1.0) if d.mean() == 0 else (math.copysign(math.inf, d.mean()), 0.0)
    t = d.mean() / (sd / math.sqrt(len(d)))
    p = 2.0 * stats.t.sf(abs(t), df=len(d) - 1)
    return float(t), float(p)


RATING_METRICS = {"mse": mse, "rmse": rmse, "mae": mae}
