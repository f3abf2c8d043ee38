"""MINE: a neural estimator of the mutual information between explanations and a target.

Belghazi et al., "Mutual Information Neural Estimation" (ICML 2018), as MMI uses it (Zhao et
al., CIKM 2024; METHODS.md §A.3–A.4). A statistics network T_θ scores pairs (x, y) — x the
sentence embedding of an explanation, y the target (a one-hot rating, or a feature word's
embedding) — and the Donsker–Varadhan bound

    I(X; Y) ≥ I_θ = E_{P_XY}[T_θ(x, y)] − log E_{P_X ⊗ P_Y}[exp T_θ(x, ỹ)]

is maximised over θ, the product of marginals being sampled by shuffling y within the batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn

from whyrec.errors import ConfigError, DivergedError
from whyrec.settings import config_from_dict


class StatisticsNetwork(nn.Module):
    """T_θ(x, y) = W₃ ReLU(W₂ ReLU(W₁ [x; y] + b₁) + b₂) + b₃ with N(0, 0.02) weights, zero biases
    (the network of the MMI code, METHODS.md §A.3)."""

    def __init__(self, x_dim: int, y_dim: int, hidden: int = 100) -> None:
        super().__init__()
        self.x_dim, self.y_dim = x_dim, y_dim
        self.net = nn.Sequential(nn.Linear(x_dim + y_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 1))
        for layer in self.net:
            if isinstance(layer, nn.Linear):
                nn.init.normal_(layer.weight, std=0.02)
                nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, y], dim=-1))[..., 0]


def donsker_varadhan(joint: torch.Tensor, marginal: torch.Tensor) -> torch.Tensor:
    """I_θ = mean T(joint) − log mean exp T(marginal), computed stably with logsumexp
    (Donsker–Varadhan representation of the KL divergence; Belghazi et al. 2018, Eq. 10)."""
    return joint.mean() - (torch.logsumexp(marginal, dim=0) - math.log(marginal.numel()))


def bias_corrected_loss(joint: torch.Tensor, marginal: torch.Tensor, moving_average: float) -> torch.Tensor:
    """−( mean T(joint) − mean exp T(marginal) / m ), m the moving average of mean exp T(marginal).

    Its gradient is MINE's bias-corrected gradient of I_θ (Belghazi et al. 2018, §3.2): the
    denominator of ∇ log E[e^T] is replaced by a running mean instead of the mini-batch one."""
    return -(joint.mean() - marginal.exp().mean() / moving_average)


def shuffled(y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """y with its rows permuted: samples of the product of marginals when paired with x."""
    return y[torch.randperm(y.shape[0], generator=generator, device="cpu").to(y.device)]


@dataclass
class MINEConfig:
    hidden: int = 100
    lr: float = 1e-4
    batch_size: int = 1024
    epochs: int = 50
    ma_rate: float = 0.01  # α of the moving average (MMI code)
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        if not 0 < self.ma_rate <= 1:
            raise ConfigError(f"MINE: ma_rate must be in (0, 1], got {self.ma_rate}")
        if self.batch_size < 2:
            raise ConfigError("MINE: batch_size must be at least 2 (the marginal is a shuffle of the batch)")


@dataclass
class MINE:
    """A statistics network with its optimiser and moving average; train, estimate, reward."""

    x_dim: int
    y_dim: int
    config: MINEConfig = field(default_factory=MINEConfig)

    def __post_init__(self) -> None:
        torch.manual_seed(self.config.seed)
        self.network = StatisticsNetwork(self.x_dim, self.y_dim, self.config.hidden).to(self.config.device)
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=self.config.lr)
        self.moving_average = 1.0
        self.generator = torch.Generator().manual_seed(self.config.seed)
        self.history: list[float] = []

    def _tensors(self, x, y) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.as_tensor(np.asarray(x, dtype=np.float32) if not torch.is_tensor(x) else x, dtype=torch.float32)
        y = torch.as_tensor(np.asarray(y, dtype=np.float32) if not torch.is_tensor(y) else y, dtype=torch.float32)
        if x.shape[0] != y.shape[0] or x.shape[1] != self.x_dim or y.shape[1] != self.y_dim:
            raise ConfigError(f"MINE: expected x (N, {self.x_dim}) and y (N, {self.y_dim}), "
                              f"got {tuple(x.shape)} and {tuple(y.shape)}")
        return x.to(self.config.device), y.to(self.config.device)

    def step(self, x: torch.Tensor, y: torch.Tensor) -> float:
        """One bias-corrected gradient step on a batch; returns the batch's DV estimate."""
        self.network.train()
        joint, marginal = self.network(x, y), self.network(x, shuffled(y, self.generator))
        mean_exp = float(marginal.detach().exp().mean())
        self.moving_average = (1 - self.config.ma_rate) * self.moving_average + self.config.ma_rate * mean_exp
        loss = bias_corrected_loss(joint, marginal, self.moving_average)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return float(donsker_varadhan(joint.detach(), marginal.detach()))

    def fit(self, x, y, epochs: int | None = None) -> "MINE":
        """Train on pairs (x_n, y_n), shuffled every epoch; the per-epoch mean estimate goes to ``history``."""
        x, y = self._tensors(x, y)
        n, size = x.shape[0], min(self.config.batch_size, x.shape[0])
        if n < 2:
            raise ConfigError(f"MINE: at least 2 pairs are needed (the marginal is a shuffle of them), got {n}")
        for epoch in range(1, (epochs if epochs is not None else self.config.epochs) + 1):
            order = torch.randperm(n, generator=self.generator).to(x.device)
            values = [self.step(x[idx], y[idx]) for idx in order.split(size) if len(idx) >= 2]
            self.history.append(float(np.mean(values)))
            if not np.isfinite(self.history[-1]):
                raise DivergedError("MINE", epoch, "the MI estimate", f"its lr (now {self.config.lr:g}; MMI's mine_lr)")
        return self

    @torch.no_grad()
    def estimate(self, x, y, repeats: int = 10) -> float:
        """I_θ on all pairs, averaged over ``repeats`` shuffles for the marginal term (nats).

        The shuffles come from a generator seeded afresh on every call, so the estimate is a
        function of the network and the data alone: scores of successive validation passes
        (early stopping, keeping the best state) differ only where the model did."""
        x, y = self._tensors(x, y)
        self.network.eval()
        joint = self.network(x, y)
        fixed = torch.Generator().manual_seed(self.config.seed)
        values = [float(donsker_varadhan(joint, self.network(x, shuffled(y, fixed)))) for _ in range(repeats)]
        return float(np.mean(values))

    @torch.no_grad()
    def reward(self, x: torch.Tensor, y: torch.Tensor, permutation: torch.Tensor) -> torch.Tensor:
        """Per-sample MMI reward r_MI(e_i) = T(x_i, y_i) − T(x_i, y_π(i)) (METHODS.md §A.4)."""
        self.network.eval()
        return self.network(x, y) - self.network(x, y[permutation])

    # --- saving (no pickle) -------------------------------------------------------------------------
    def state(self) -> tuple[dict, dict[str, torch.Tensor]]:
        meta = {"x_dim": self.x_dim, "y_dim": self.y_dim, "config": self.config.__dict__,
                "moving_average": self.moving_average, "history": self.history}
        return meta, {f"mine.{k}": v.detach().cpu() for k, v in self.network.state_dict().items()}

    @classmethod
    def from_state(cls, meta: dict, tensors: dict[str, torch.Tensor]) -> "MINE":
        model = cls(meta["x_dim"], meta["y_dim"], config_from_dict(MINEConfig, "MINE", meta["config"]))
        model.network.load_state_dict({k[len("mine."):]: v for k, v in tensors.items() if k.startswith("mine.")})
        model.moving_average, model.history = meta["moving_average"], list(meta["history"])
        return model


def one_hot_ratings(ratings, low: int = 1, high: int = 5) -> np.ndarray:
    """Ratings rounded to the nearest class in [low, high] as one-hot rows (MMI's rating target y)."""
    classes = np.clip(np.rint(np.asarray(ratings, dtype=np.float64)), low, high).astype(int) - low
    out = np.zeros((len(classes), high - low + 1), dtype=np.float32)
    out[np.arange(len(classes)), classes] = 1.0
    return out


def rating_entropy(ratings, low: int = 1, high: int = 5) -> float:
    """H(R) = −Σ_r p(r) log p(r) in nats over the rounded rating classes (the normaliser of I(R;E)/H(R))."""
    counts = one_hot_ratings(ratings, low, high).sum(0)
    if counts.sum() == 0:
        raise ValueError("no ratings: H(R) is undefined")
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())
