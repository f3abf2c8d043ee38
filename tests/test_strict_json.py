"""Strict JSON: non-finite numbers as null."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from whyrec.strict_json import strict_dumps


def _strict_loads(text: str):
    return json.loads(text, parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))


def test_non_finite_numbers_become_null_at_any_depth():
    text = strict_dumps({"rmse": 0.5, "fmr": math.nan, "scores": [1.0, math.inf, {"div": -math.inf}],
                         "pair": (np.float64("nan"), 2), "file": Path("a/b")})
    assert _strict_loads(text) == {"rmse": 0.5, "fmr": None, "scores": [1.0, None, {"div": None}],
                                   "pair": [None, 2], "file": "a/b"}
    assert _strict_loads(strict_dumps([0.25], indent=1)) == [0.25]
