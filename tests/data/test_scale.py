"""Rating scales (``whyrec.data.scale``)."""

from __future__ import annotations

import numpy as np
import pytest

from whyrec.data.scale import five_point, rating_bounds
from whyrec.errors import WhyrecError


def test_five_point_maps_a_scale_linearly_onto_the_rating_classes():
    assert np.allclose(five_point([0.0, 5.0, 10.0], (0.0, 10.0)), [1.0, 3.0, 5.0])
    assert np.allclose(five_point([0.5, 5.0], (0.5, 5.0)), [1.0, 5.0])
    ratings = np.array([1.0, 4.5])
    assert np.array_equal(five_point(ratings, (1, 5)), ratings)  # the identity on a 1–5 scale
    for outside in ([7.0], [0.9], [np.nan], [5.5], [5 + 1e-6], [1 - 1e-6]):  # it passed 7 through
        with pytest.raises(ValueError, match="outside the scale 1..5"):
            five_point(outside, (1, 5))
    assert np.array_equal(five_point([1 - 1e-12, 5 + 1e-12], (1, 5)), [1 - 1e-12, 5 + 1e-12])  # rounding, taken


def test_rating_bounds_takes_two_finite_numbers_lowest_first_and_names_what_it_refuses():
    assert rating_bounds([1, 5]) == (1.0, 5.0) and rating_bounds((np.float32(0.5), np.int64(5))) == (0.5, 5.0)
    assert rating_bounds([3, 3], allow_equal=True) == (3.0, 3.0)  # train ratings that are all alike
    with pytest.raises(WhyrecError, match="the lowest first"):
        rating_bounds([5, 3], allow_equal=True)  # equal bounds allowed, not reversed ones
    for bad in ([5, 1], [3, 3], [1, float("nan")], [1, float("inf")], [True, 5], [1, "5"], [1, 2, 3], "1-5", None):
        with pytest.raises(WhyrecError, match="saved scale must be two finite numbers, the lowest first; got"):
            rating_bounds(bad, "saved scale")

