"""Rating scales: a scale read back from a saved file as two checked bounds (:func:`rating_bounds`),
and ratings on any scale read on the 1–5 one that sentiment classes, MMI's rating classes and the
feature extractor's expected sentiment are defined on (:func:`five_point`)."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from whyrec.errors import WhyrecError
from whyrec.wording import shortened


def five_point(ratings: Sequence[float], scale: tuple[float, float]) -> np.ndarray:
    """Ratings on ``scale`` = (low, high) mapped linearly onto 1..5, ``1 + 4·(r − low)/(high − low)``:
    the sentiment classes and MMI's rating classes are those of a 1–5 scale (MMI and PETER's
    datasets), so data on another scale (half stars from 0.5, ten points) is compared on it.
    The identity on (1, 5)."""
    low, high = float(scale[0]), float(scale[1])
    ratings = np.asarray(ratings, dtype=np.float64)
    outside = (ratings < low - 1e-9) | (ratings > high + 1e-9) | np.isnan(ratings)
    if outside.any():  # it would land outside the classes 1..5
        raise ValueError(f"rating {ratings[outside][0]:g} is outside the scale {low:g}..{high:g}")
    return ratings if (low, high) == (1.0, 5.0) else 1.0 + 4.0 * (ratings - low) / (high - low)


def rating_bounds(value: object, what: str = "rating scale", allow_equal: bool = False) -> tuple[float, float]:
    """``value`` as a (lowest, highest) pair of finite numbers, the lowest below the highest (or
    equal, with ``allow_equal``: the range of train ratings that are all alike); anything else,
    such as a saved bundle's edited scale, is a :class:`WhyrecError` naming ``what``."""
    ok = isinstance(value, (list, tuple)) and len(value) == 2 and all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v)
        for v in value)
    if ok and (value[0] < value[1] or (allow_equal and value[0] == value[1])):
        return float(value[0]), float(value[1])
    raise WhyrecError(f"{what} must be two finite numbers, the lowest first; got {shortened(repr(value))}")
