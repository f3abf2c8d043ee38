"""Rating scales (``whyrec.data.scale``)."""

from __future__ import annotations

import numpy as np
import pytest

from whyrec.data.scale import five_point


def test_five_point_maps_a_scale_linearly_onto_the_rating_classes():
    assert np.allclose(five_point([0.0, 5.0, 10.0], (0.0, 10.0)), [1.0, 3.0, 5.0])
    assert np.allclose(five_point([0.5, 5.0], (0.5, 5.0)), [1.0, 5.0])
    ratings = np.array([1.0, 4.5])
    assert np.array_equal(five_point(ratings, (1, 5)), ratings)  # the identity on a 1–5 scale
    for outside in ([7.0], [0.9], [np.nan]):  # it passed 7 through, outside the classes
        with pytest.raises(ValueError, match="outside the scale 1..5"):
            five_point(outside, (1, 5))
