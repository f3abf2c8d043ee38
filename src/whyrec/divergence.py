"""Training that diverges is named as such. A learning rate far too large makes weights NaN or
infinite; torch then fails wherever those weights are next used (``torch.multinomial``'s
"probability tensor contains either inf, nan or element < 0" when an explanation is sampled, a
"singular" linear solve in ALS), which tells the user nothing about the cause. Within
:func:`divergence_named`, such a failure while some weight is not finite becomes a
:class:`~whyrec.errors.DivergedError` naming the epoch and the setting to lower."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterable

import torch

from whyrec.errors import DivergedError


def all_finite(tensors: Iterable[torch.Tensor]) -> bool:
    """Whether every element of every tensor is a finite number."""
    return all(bool(torch.isfinite(t).all()) for t in tensors)


# torch.multinomial's complaint: a sampled distribution's probabilities hold NaN or inf, which in
# training means logits that overflowed (weights huge, if still finite) or were NaN
_NOT_A_DISTRIBUTION = "probability tensor contains either"


@contextmanager
def divergence_named(system: str, epoch: int, lower: str, weights: Callable[[], Iterable[torch.Tensor]]):
    """Re-raise a RuntimeError from the block as :class:`DivergedError` (``system``, ``epoch``,
    ``lower``: the settings to lower) when ``weights()`` then holds a NaN or infinite value, or
    when it is torch's refusal to sample from NaN or infinite probabilities; any other
    RuntimeError passes unchanged."""
    try:
        yield
    except RuntimeError as exc:
        if not all_finite(weights()):
            raise DivergedError(system, epoch, "the weights", lower) from None
        if _NOT_A_DISTRIBUTION in str(exc):
            raise DivergedError(system, epoch, "the word probabilities", lower) from None
        raise
