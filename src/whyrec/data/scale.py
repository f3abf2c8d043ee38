"""Rating scales: ratings on any scale read on the 1–5 one that sentiment classes, MMI's rating
classes and the feature extractor's expected sentiment are defined on."""

from __future__ import annotations

from typing import Sequence

import numpy as np


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
