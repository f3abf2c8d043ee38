"""A torch failure on weights a diverged run made NaN is named as the divergence (``whyrec.divergence``)."""

from __future__ import annotations

import pytest
import torch

from whyrec.divergence import all_finite, divergence_named
from whyrec.errors import DivergedError


def test_a_failure_on_weights_that_are_not_finite_is_a_divergence():
    weights = [torch.ones(3), torch.tensor([1.0, float("nan")])]
    assert not all_finite(weights) and all_finite(weights[:1]) and not all_finite([torch.tensor(float("inf"))])
    with pytest.raises(DivergedError, match=r"^MT: training diverged in epoch 4 \(the weights became NaN or "
                                            r"infinite\); lower lr \(now 10\) and train again$"):
        with divergence_named("MT", 4, "lr (now 10)", lambda: weights):
            torch.multinomial(torch.tensor([float("nan"), 1.0]), 1)


def test_sampling_from_probabilities_that_overflowed_is_a_divergence():
    """Weights of 1e20 are finite, but the logits they make overflow to inf, and softmax to NaN."""
    huge = [torch.full((2,), 1e20)]
    with pytest.raises(DivergedError, match=r"epoch 2 \(the word probabilities became NaN or infinite\); lower lr"):
        with divergence_named("MMI", 2, "lr", lambda: huge):
            torch.multinomial(torch.softmax(torch.tensor([1e20, -1e20]) * 1e20, 0), 1)


def test_other_failures_and_finished_blocks_pass_unchanged():
    weights = [torch.ones(3)]
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):  # a bug, not a divergence: its own message
        with divergence_named("MT", 1, "lr", lambda: weights):
            torch.ones(2) @ torch.ones(3)
    with pytest.raises(ValueError):  # only RuntimeErrors are looked at
        with divergence_named("MT", 1, "lr", lambda: [torch.tensor(float("nan"))]):
            raise ValueError("not torch's")
    with divergence_named("MT", 1, "lr", lambda: [torch.tensor(float("nan"))]):
        pass  # nothing failed: nothing to name
