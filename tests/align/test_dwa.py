"""Dynamic Weight Average on a hand-computed example."""

from __future__ import annotations

import math

import pytest

from whyrec.align.dwa import DynamicWeightAverage
from whyrec.errors import ConfigError


def test_weights_match_the_formula_by_hand():
    dwa = DynamicWeightAverage(["mi", "kl"], temperature=2.0)
    assert dwa.weights() == {"mi": 1.0, "kl": 1.0}  # epochs 1 and 2
    dwa.record_epoch({"mi": 4.0, "kl": 1.0})
    assert dwa.weights() == {"mi": 1.0, "kl": 1.0}
    dwa.record_epoch({"mi": 2.0, "kl": 1.0})  # w = (0.5, 1.0)
    expected_mi = 2 * math.exp(0.25) / (math.exp(0.25) + math.exp(0.5))
    w = dwa.weights()
    assert w["mi"] == pytest.approx(expected_mi, rel=1e-6)
    assert w["kl"] == pytest.approx(2 - expected_mi, rel=1e-6)
    assert w["kl"] > w["mi"]  # the objective that stopped improving gets more weight
    # a third epoch: the weights come from the last two (2 → 2 and 1 → 0.5: w = (1.0, 0.5)), not the first
    dwa.record_epoch({"mi": 2.0, "kl": 0.5})
    assert dwa.weights()["mi"] == pytest.approx(2 * math.exp(0.5) / (math.exp(0.5) + math.exp(0.25)), rel=1e-6)


def test_the_default_temperature_is_the_papers_2():
    """T = 2, the DWA paper's (Liu, Johns & Davison 2019), as METHODS.md §A.6 names it."""
    dwa = DynamicWeightAverage(["mi", "kl"])
    for losses in ({"mi": 1.0, "kl": 1.0}, {"mi": 3.0, "kl": 1.0}):  # w = (3, 1)
        dwa.record_epoch(losses)
    assert dwa.weights()["mi"] == pytest.approx(2 * math.exp(1.5) / (math.exp(1.5) + math.exp(0.5)), rel=1e-6)


def test_negative_losses_use_magnitudes_fixed_mode_and_errors():
    dwa = DynamicWeightAverage(["a", "b"], temperature=1.0)
    dwa.record_epoch({"a": -2.0, "b": 1.0})
    dwa.record_epoch({"a": -2.0, "b": 1.0})
    assert dwa.weights()["a"] == pytest.approx(1.0)
    fixed = DynamicWeightAverage(["a", "b"], fixed=True)
    fixed.record_epoch({"a": 9.0, "b": 1.0})
    fixed.record_epoch({"a": 1.0, "b": 1.0})
    assert fixed.weights() == {"a": 1.0, "b": 1.0}
    with pytest.raises(ConfigError, match="temperature"):
        DynamicWeightAverage(["a"], temperature=0)
    with pytest.raises(ConfigError, match="no loss"):
        dwa.record_epoch({"a": 1.0})
