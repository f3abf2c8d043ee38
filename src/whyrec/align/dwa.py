"""Dynamic Weight Average over several training objectives.

Liu, Johns & Davison, "End-to-End Multi-Task Learning with Attention" (CVPR 2019), Eq. 7, as
METHODS.md §A.6 proposes for MMI's MI / KL / entropy objectives:

    w_k(t−1) = L_k(t−1) / L_k(t−2)
    λ_k(t)   = K · exp(w_k(t−1) / T) / Σ_j exp(w_j(t−1) / T)        (λ_k = 1 for t = 1, 2)

An objective whose loss falls more slowly gets more weight. Policy-gradient losses can be
negative or near zero, so the ratio is taken of their magnitudes (|L| + ε), as §A.6 advises.
"""

from __future__ import annotations

import numpy as np

from whyrec.errors import ConfigError


class DynamicWeightAverage:
    """Per-epoch weights λ_k for ``names``; ``fixed=True`` keeps every λ_k = 1 (fixed-weight mode)."""

    def __init__(self, names: list[str], temperature: float = 2.0, fixed: bool = False, eps: float = 1e-8) -> None:
        if temperature <= 0:
            raise ConfigError(f"DWA: the temperature must be positive, got {temperature}")
        if not names:
            raise ConfigError("DWA: no objectives")
        self.names, self.temperature, self.fixed, self.eps = list(names), temperature, fixed, eps
        self.epoch_losses: list[dict[str, float]] = []

    def weights(self) -> dict[str, float]:
        """λ for the coming epoch, from the average losses of the last two recorded epochs."""
        if self.fixed or len(self.epoch_losses) < 2:
            return {name: 1.0 for name in self.names}
        before, last = self.epoch_losses[-2], self.epoch_losses[-1]
        ratio = np.array([(abs(last[n]) + self.eps) / (abs(before[n]) + self.eps) for n in self.names])
        scaled = ratio / self.temperature
        e = np.exp(scaled - scaled.max())
        return {n: float(v) for n, v in zip(self.names, len(self.names) * e / e.sum())}

    def record_epoch(self, losses: dict[str, float]) -> None:
        """Add one epoch's average loss per objective."""
        missing = set(self.names) - set(losses)
        if missing:
            raise ConfigError(f"DWA: no loss given for {sorted(missing)}")
        self.epoch_losses.append({n: float(losses[n]) for n in self.names})
