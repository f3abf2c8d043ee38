"""Alternating least squares, plain (PMF) and context-aware (the MT paper's rating model).

Context-aware PMF (Lu, Dong & Smyth, RecSys 2018, "Why I like it", Eq. 10) minimises

    L(U, V) = ½ Σ_ij I_ij (R_ij − U_iᵀV_j)² + λ_U/2 ‖U − Ũ‖_F² + λ_V/2 ‖V − Ṽ‖_F²

where Ũ, Ṽ are textual features of users and items (the MT issue supplies them from its
review-document encoders). Fixing V (or U) makes L quadratic, with the closed forms
(Eq. 11–12)

    U_i = (V I_i Vᵀ + λ_U I_K)⁻¹ (V R_i + λ_U Ũ_i)
    V_j = (U I_j Uᵀ + λ_V I_K)⁻¹ (U R_j + λ_V Ṽ_j).

Without text features Ũ = Ṽ = 0 and this is regularised ALS (PMF's MAP estimate).

whyrec solves all users (then all items) at once: the K×K Gram matrices of every row are
accumulated with one scatter-add over the observed ratings (in chunks, to bound memory) and
solved by one batched ``torch.linalg.solve`` — no Python loop over users.

Options beyond the paper, each off when it would change Eq. 11–12 (priors may then also give
the bias coordinate a prior mean, see :meth:`ContextAwareALS.set_priors`):
``use_biases`` appends a bias to each side (the user solve unknowns become ``[U_i; b_i]``
with item features ``[V_j; 1]``), ``center`` subtracts the global mean first, and
``weighted_reg`` scales λ by the row's rating count (ALS-WR, Zhou et al. 2008).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

import numpy as np

if TYPE_CHECKING:  # torch is imported where it is used: `whyrec models` and settings checks start without it
    import torch

    from whyrec.data.corpus import Corpus  # it needs pandas, which loading a saved model does not import

from whyrec.devices import resolve_device
from whyrec.errors import ConfigError
from whyrec.ids import IdMap
from whyrec.rating.base import RatingModel, register, validation_rmse
from whyrec.settings import above, at_least, check_values


@dataclass
class TextPriors:
    """Prior means for latent vectors: ``vectors[k]`` belongs to ``ids[k]`` (shape n × K)."""

    ids: list[str]
    vectors: np.ndarray

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, np.ndarray]) -> "TextPriors":
        ids = list(mapping)
        return cls(ids, np.stack([np.asarray(mapping[k], dtype=np.float64) for k in ids]) if ids else np.zeros((0, 0)))

    def aligned(self, id_map: IdMap, dim: int) -> np.ndarray:
        """An (len(id_map) × dim) matrix in the model's order; ids without a prior get 0."""
        out = np.zeros((len(id_map), dim))
        if len(self.ids) and self.vectors.shape[1] != dim:
            raise ValueError(f"text features have dimension {self.vectors.shape[1]}, the model has {dim} factors")
        idx = id_map.lookup(self.ids)
        known = idx >= 0
        out[idx[known]] = self.vectors[known]
        return out


def solve_rows(rows: torch.Tensor, cols: torch.Tensor, targets: torch.Tensor, n_rows: int,
               other: torch.Tensor, reg: torch.Tensor, prior: torch.Tensor, chunk: int = 65536) -> torch.Tensor:
    """Solve every row's ridge problem at once.

    For row r with observations {(c, t)}: ``x_r = (Σ y_c y_cᵀ + diag(reg_r))⁻¹ (Σ y_c t + diag(reg_r) prior_r)``
    with ``y_c = other[c]``. ``reg`` is (n_rows × D) so that λ may differ per row and per
    coordinate (a bias coordinate has its own λ). Rows without observations get ``prior_r``.
    """
    import torch

    dim = other.shape[1]
    gram = torch.diag_embed(reg).clone()
    rhs = reg * prior
    for start in range(0, len(rows), chunk):
        r, c, t = rows[start:start + chunk], cols[start:start + chunk], targets[start:start + chunk]
        y = other[c]
        gram.index_add_(0, r, y[:, :, None] * y[:, None, :])
        rhs.index_add_(0, r, y * t[:, None])
    assert gram.shape == (n_rows, dim, dim)
    return torch.linalg.solve(gram, rhs)


@register
class ContextAwareALS(RatingModel):
    """Context-aware PMF solved by batched ALS (see the module docstring for the math).

    Parameters
    ----------
    factors : int
        K, the latent dimension (text features must have this dimension).
    lambda_u, lambda_v : float
        λ_U = σ²/σ_U² and λ_V = σ²/σ_V², the weights pulling U towards Ũ and V towards Ṽ.
    lambda_bias : float
        λ of the bias coordinates when ``use_biases``.
    iterations : int
        ALS sweeps (one user solve and one item solve each).
    use_biases, center, weighted_reg : bool
        See the module docstring; ``use_biases=False, center=False, weighted_reg=False`` is
        exactly Eq. 11–12.
    init_std : float
        Standard deviation of the random initial V (U is solved first).
    seed : int
        Seed of the initialisation.
    device : str
        torch device for the solves ("cpu", "cuda", "cuda:N", or "auto": a CUDA GPU when there is one; not
        "mps", which has no float64).
    """

    name = "context-als"

    def __init__(self, factors: int = 16, lambda_u: float = 5.0, lambda_v: float = 5.0, lambda_bias: float = 5.0,
                 iterations: int = 15, use_biases: bool = True, center: bool = True, weighted_reg: bool = False,
                 init_std: float = 0.1, seed: int = 0, device: str = "cpu") -> None:
        super().__init__()
        # the regularisation weights must be positive for the solves; the rules fail on NaN too
        check_values({"factors": (factors, at_least(1)), "iterations": (iterations, at_least(1)),
                      "lambda_u": (lambda_u, above(0)), "lambda_v": (lambda_v, above(0)),
                      "lambda_bias": (lambda_bias, above(0)), "init_std": (init_std, at_least(0))})
        self.factors, self.lambda_u, self.lambda_v, self.lambda_bias = int(factors), float(lambda_u), float(lambda_v), float(lambda_bias)
        self.iterations, self.use_biases, self.center = int(iterations), bool(use_biases), bool(center)
        self.weighted_reg, self.init_std, self.seed, self.device = bool(weighted_reg), float(init_std), int(seed), str(device)
        self.user_priors: TextPriors | None = None
        self.item_priors: TextPriors | None = None

    def fit(self, train: Corpus, valid: Corpus | None = None, *, user_priors: TextPriors | None = None,
            item_priors: TextPriors | None = None) -> "ContextAwareALS":
        """Fit on ``train``; ``user_priors``/``item_priors`` are Ũ and Ṽ (default: none, i.e. 0)."""
        # the torch device of the solves: "auto" made concrete, and a GPU this machine lacks one clear
        # error before any work
        self._on = resolve_device(self.device)
        if self._on == "mps":
            raise ConfigError(f"{self.name}: ALS solves in float64, which MPS lacks; use device cpu or cuda")
        self.user_priors, self.item_priors = user_priors, item_priors
        return super().fit(train, valid)  # type: ignore[return-value]

    # --- the solves -------------------------------------------------------------------------
    def _tensor(self, array) -> torch.Tensor:
        import torch

        return torch.as_tensor(array, dtype=torch.float64, device=self._on)

    def _reg(self, counts: torch.Tensor, lam: float) -> torch.Tensor:
        """(n × D) regularisation: λ on factor coordinates, λ_bias on the bias coordinate."""
        import torch

        n = len(counts)
        scale = counts.clamp(min=1).to(torch.float64)[:, None] if self.weighted_reg else torch.ones(n, 1, dtype=torch.float64, device=counts.device)
        coords = [lam] * self.factors + ([self.lambda_bias] if self.use_biases else [])
        return scale * self._tensor(coords)[None, :]

    def _solve_side(self, rows, cols, resid, n_rows, other_factors, other_bias, own_prior, own_prior_bias, counts, lam) -> tuple[torch.Tensor, torch.Tensor]:
        """Update one side; returns (factors, biases) of that side."""
        import torch

        if self.use_biases:
            other = torch.cat([other_factors, torch.ones(len(other_factors), 1, dtype=torch.float64, device=other_factors.device)], 1)
            prior = torch.cat([own_prior, own_prior_bias[:, None]], 1)
            targets = resid - other_bias[cols]
        else:
            other, prior, targets = other_factors, own_prior, resid
        x = solve_rows(rows, cols, targets, n_rows, other, self._reg(counts, lam), prior)
        if self.use_biases:
            return x[:, :-1].contiguous(), x[:, -1].contiguous()
        return x, torch.zeros(n_rows, dtype=torch.float64, device=x.device)

    def _fit(self, users, items, ratings, valid: Corpus | None) -> None:
        import torch

        n_users, n_items, k = len(self.user_map), len(self.item_map), self.factors
        self.global_mean = float(ratings.mean()) if self.center else 0.0
        self._u, self._i = torch.as_tensor(users, device=self._on), torch.as_tensor(items, device=self._on)
        self._resid = self._tensor(ratings - self.global_mean)
        self._n_u = torch.bincount(self._u, minlength=n_users)
        self._n_i = torch.bincount(self._i, minlength=n_items)
        gen = torch.Generator().manual_seed(self.seed)
        self._U = torch.zeros(n_users, k, dtype=torch.float64, device=self._on)
        self._V = (torch.randn(n_items, k, generator=gen, dtype=torch.float64) * self.init_std).to(self._on)
        self._bu = torch.zeros(n_users, dtype=torch.float64, device=self._on)
        self._bi = torch.zeros(n_items, dtype=torch.float64, device=self._on)
        self.set_priors(self.user_priors, self.item_priors)
        for step in range(self.iterations):
            self.sweep()
            self.history.append({"iteration": step + 1, "train_rmse": self.train_rmse(),
                                 "valid_rmse": validation_rmse(self, valid)})

    def set_priors(self, user_priors: TextPriors | None, item_priors: TextPriors | None) -> None:
        """Replace Ũ and Ṽ (the MT loop calls this after each encoder update).

        Priors have K columns (factors only) or, with ``use_biases``, K + 1: the last column
        is then the prior mean of the bias coordinate (0 otherwise).
        """
        self.user_priors, self.item_priors = user_priors, item_priors
        self._prior_u, self._prior_bu = self._split_prior(user_priors, self.user_map)
        self._prior_v, self._prior_bi = self._split_prior(item_priors, self.item_map)

    def _split_prior(self, priors: TextPriors | None, id_map: IdMap) -> tuple[torch.Tensor, torch.Tensor]:
        k, n = self.factors, len(id_map)
        if priors is None or not len(priors.ids):
            return self._tensor(np.zeros((n, k))), self._tensor(np.zeros(n))
        dim = priors.vectors.shape[1]
        if dim == k:
            return self._tensor(priors.aligned(id_map, k)), self._tensor(np.zeros(n))
        if dim == k + 1 and self.use_biases:
            full = priors.aligned(id_map, k + 1)
            return self._tensor(full[:, :k]), self._tensor(full[:, k])
        raise ValueError(f"text features have dimension {dim}, the model has {k} factors"
                         + (" (or K + 1 with a bias prior)" if self.use_biases else ""))

    def sweep(self) -> None:
        """One ALS iteration: Eq. 11 for every user, then Eq. 12 for every item."""
        n_users, n_items = len(self.user_map), len(self.item_map)
        self._U, self._bu = self._solve_side(self._u, self._i, self._resid, n_users, self._V, self._bi,
                                             self._prior_u, self._prior_bu, self._n_u, self.lambda_u)
        self._V, self._bi = self._solve_side(self._i, self._u, self._resid, n_items, self._U, self._bu,
                                             self._prior_v, self._prior_bi, self._n_i, self.lambda_v)
        self.user_factors, self.item_factors = self._U.cpu().numpy(), self._V.cpu().numpy()
        self.user_bias = self._bu.cpu().numpy() if self.use_biases else np.zeros(0)
        self.item_bias = self._bi.cpu().numpy() if self.use_biases else np.zeros(0)

    def train_rmse(self) -> float:
        import torch

        pred = (self._bu[self._u] + self._bi[self._i] + (self._U[self._u] * self._V[self._i]).sum(1))
        return float(torch.sqrt(torch.mean((self._resid - pred) ** 2)))

    def objective(self) -> float:
        """Eq. 10 (with the bias terms when used) at the current parameters."""
        import torch

        pred = self._bu[self._u] + self._bi[self._i] + (self._U[self._u] * self._V[self._i]).sum(1)
        loss = 0.5 * torch.sum((self._resid - pred) ** 2)
        loss = loss + self.lambda_u / 2 * torch.sum((self._U - self._prior_u) ** 2)
        loss = loss + self.lambda_v / 2 * torch.sum((self._V - self._prior_v) ** 2)
        if self.use_biases:
            loss = loss + self.lambda_bias / 2 * (torch.sum((self._bu - self._prior_bu) ** 2)
                                                  + torch.sum((self._bi - self._prior_bi) ** 2))
        return float(loss)


@register
class PMF(ContextAwareALS):
    """Probabilistic matrix factorisation (Salakhutdinov & Mnih, NIPS 2007) by ALS.

    The MAP estimate of PMF with Gaussian priors is regularised ALS: ``ContextAwareALS``
    without text features or biases. Ratings are centred on the global mean (the zero-mean
    priors otherwise pull every prediction towards 0).
    """

    name = "pmf"

    def __init__(self, factors: int = 16, lambda_u: float = 5.0, lambda_v: float = 5.0, iterations: int = 15,
                 init_std: float = 0.1, seed: int = 0, device: str = "cpu") -> None:
        super().__init__(factors=factors, lambda_u=lambda_u, lambda_v=lambda_v, iterations=iterations,
                         use_biases=False, center=True, weighted_reg=False, init_std=init_std, seed=seed, device=device)
