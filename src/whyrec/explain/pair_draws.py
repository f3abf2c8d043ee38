"""Seeded sampling that gives each (user, item) pair the same explanation in any batch.

A ``torch.Generator`` hands out its numbers in order, so with one seeded stream for a whole
batch a pair's draws depend on which pairs came before it: the same pair, asked alone or among
others, got another explanation. :class:`PairDraws` gives each pair a stream of its own instead.
Its k-th number is a function of the seed, the pair and k only (the SplitMix64 finaliser, Steele,
Lea & Flood 2014, over a 64-bit digest of the ids), and the k-th token is drawn from it by
inverse-CDF sampling: the first token whose cumulative probability exceeds u·Σp. A pair's
explanation then depends on the seed, the pair and the model only: not on the other pairs of
the request, their order, or the batch size.
"""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np
import torch

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, elementwise over uint64 (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = x + _GOLDEN
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def pair_key(user: str, item: str) -> int:
    """A 64-bit digest of the pair's ids (BLAKE2b, so the same on every machine and run)."""
    digest = hashlib.blake2b(f"{user}\x00{item}".encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class PairDraws:
    """Each row's own seeded stream of uniform numbers in [0, 1): the ``step``-th of row r is
    ``mix(base_r + step·φ)``, with ``base_r = mix(key_r ⊕ mix(seed))``."""

    def __init__(self, bases: np.ndarray) -> None:
        self.bases = np.asarray(bases, dtype=np.uint64)

    @classmethod
    def of(cls, seed: int, users: Sequence[str], items: Sequence[str]) -> "PairDraws":
        """The streams of the pairs (``users[r]``, ``items[r]``) under ``seed``."""
        keys = np.array([pair_key(u, i) for u, i in zip(users, items)], dtype=np.uint64)
        return cls(_mix(keys ^ _mix(np.array([seed], dtype=np.uint64))))

    def __len__(self) -> int:
        return len(self.bases)

    def take(self, rows: slice) -> "PairDraws":
        """The streams of a chunk of the rows (a batch of a longer list of pairs)."""
        return PairDraws(self.bases[rows])

    def uniforms(self, rows: np.ndarray, step: int) -> np.ndarray:
        """The ``step``-th number of each row in ``rows`` (float64, in [0, 1))."""
        offset = np.uint64(step * int(_GOLDEN) % 2**64)  # step·φ, wrapped, in Python's integers
        x = _mix(self.bases[rows] + offset)
        return (x >> np.uint64(11)).astype(np.float64) * 2.0 ** -53

    def draw(self, probs: torch.Tensor, rows: torch.Tensor | None, step: int) -> torch.Tensor:
        """One token per row of ``probs`` (B, V; unnormalised is fine), for the rows ``rows`` of
        these streams (None: the first B, in order) at ``step``: the first token whose cumulative
        probability exceeds u·Σp. A token of probability 0 is never drawn (its cumulative sum
        equals its predecessor's).
        The sums are taken on the CPU in float64, as the seeded ``torch.Generator`` draws are
        (:func:`whyrec.explain.seq2seq.draw`): the same on any device, and MPS has no float64."""
        rows = np.arange(probs.shape[0]) if rows is None else rows.cpu().numpy()
        u = torch.from_numpy(self.uniforms(rows, step))
        cumulative = probs.detach().to("cpu", torch.float64).cumsum(dim=1)
        target = (u * cumulative[:, -1])[:, None]
        chosen = torch.searchsorted(cumulative, target, right=True)[:, 0]
        return chosen.clamp_(max=probs.shape[1] - 1).to(probs.device)


def for_rows(generator, rows: slice):
    """``generator`` for a chunk ``rows`` of the pairs: a :class:`PairDraws`' own chunk, or any
    other stream (a ``torch.Generator``, None) as it is, shared by the chunks in turn."""
    return generator.take(rows) if isinstance(generator, PairDraws) else generator
