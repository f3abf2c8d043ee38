"""Biased matrix factorisation trained by stochastic gradient descent.

Model (Koren, Bell & Volinsky, IEEE Computer 2009, Eq. 5): ``r̂ = μ + b_u + b_i + p_uᵀq_i``;
loss per observed rating ``(r − r̂)² + λ(b_u² + b_i² + ‖p_u‖² + ‖q_i‖²)``. Updates are
mini-batched in torch (each batch applies the per-rating SGD steps of its ratings at once),
with early stopping on validation RMSE when validation data is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from whyrec.errors import DivergedError
from whyrec.kept_epochs import kept_part
from whyrec.rating.base import RatingModel, register, validation_rmse
from whyrec.settings import above, at_least, check_values

if TYPE_CHECKING:  # the corpus needs pandas, which loading a saved model does not import
    from whyrec.data.corpus import Corpus

MIN_GAIN = 1e-6  # a validation RMSE lower than the best so far by no more than this is no improvement


@register
class BiasedMF(RatingModel):
    """Funk-style biased MF by mini-batch SGD.

    Parameters
    ----------
    factors : int
        Latent dimension K.
    lr : float
        SGD step size.
    reg : float
        λ, the L2 weight on biases and factors of the ratings in a batch.
    epochs : int
        Maximum passes over the training ratings.
    batch_size : int
        Ratings per update.
    patience : int
        Stop after this many epochs without validation improvement (keeps the best epoch).
    init_std : float
        Standard deviation of the initial factors.
    seed : int
        Seed of initialisation and shuffling.
    """

    name = "biased-mf"

    def __init__(self, factors: int = 16, lr: float = 0.01, reg: float = 0.05, epochs: int = 60,
                 batch_size: int = 32, patience: int = 5, init_std: float = 0.1, seed: int = 0) -> None:
        super().__init__()
        check_values({"factors": (factors, at_least(1)), "epochs": (epochs, at_least(1)),
                      "batch_size": (batch_size, at_least(1)), "lr": (lr, above(0)), "reg": (reg, at_least(0)),
                      "init_std": (init_std, at_least(0)), "patience": (patience, at_least(0))})  # NaN fails too
        self.factors, self.lr, self.reg, self.epochs = int(factors), float(lr), float(reg), int(epochs)
        self.batch_size, self.patience, self.init_std, self.seed = int(batch_size), int(patience), float(init_std), int(seed)

    def kept_epochs(self) -> list[dict]:
        """Which epoch's factors and biases this model holds (:func:`whyrec.kept_epochs.kept_part`),
        as :meth:`fit` chose them: the first whose validation RMSE was below the best before by more
        than :data:`MIN_GAIN`; [] untrained."""
        if not self.history:
            return []
        return [kept_part("factors and biases", self.history, lambda r: r.get("valid_rmse"),
                          "lowest validation RMSE", MIN_GAIN)]

    def _fit(self, users, items, ratings, valid: Corpus | None) -> None:
        import torch  # here, so that `whyrec models` and settings checks start without torch

        gen = torch.Generator().manual_seed(self.seed)
        n_users, n_items = len(self.user_map), len(self.item_map)
        mu = float(ratings.mean())
        P = torch.randn(n_users, self.factors, generator=gen, dtype=torch.float64) * self.init_std
        Q = torch.randn(n_items, self.factors, generator=gen, dtype=torch.float64) * self.init_std
        bu, bi = torch.zeros(n_users, dtype=torch.float64), torch.zeros(n_items, dtype=torch.float64)
        u_all, i_all = torch.from_numpy(users), torch.from_numpy(items)
        r_all = torch.from_numpy(ratings)
        best, best_rmse, waited = None, float("inf"), 0
        self.global_mean = mu
        for epoch in range(self.epochs):
            order = torch.randperm(len(r_all), generator=gen)
            total = 0.0
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                u, i, r = u_all[idx], i_all[idx], r_all[idx]
                pu, qi = P[u], Q[i]
                err = r - (mu + bu[u] + bi[i] + (pu * qi).sum(1))
                total += float((err ** 2).sum())
                # per-rating SGD steps, summed where a user/item repeats within the batch
                bu.index_add_(0, u, self.lr * (err - self.reg * bu[u]))
                bi.index_add_(0, i, self.lr * (err - self.reg * bi[i]))
                P.index_add_(0, u, self.lr * (err[:, None] * qi - self.reg * pu))
                Q.index_add_(0, i, self.lr * (err[:, None] * pu - self.reg * qi))
            if not np.isfinite(total):
                raise DivergedError(self.name, epoch + 1, "the training error", f"lr (now {self.lr:g})")
            self.user_bias, self.item_bias = bu.numpy(), bi.numpy()
            self.user_factors, self.item_factors = P.numpy(), Q.numpy()
            rmse = validation_rmse(self, valid)
            self.history.append({"epoch": epoch + 1, "train_rmse": (total / len(r_all)) ** 0.5, "valid_rmse": rmse})
            if rmse is None:
                continue
            if rmse < best_rmse - MIN_GAIN:
                best_rmse, waited = rmse, 0
                best = (bu.clone(), bi.clone(), P.clone(), Q.clone())
            else:
                waited += 1
                if waited >= self.patience:
                    break
        if best is not None:
            self.user_bias, self.item_bias, self.user_factors, self.item_factors = (t.numpy() for t in best)
        self.user_bias, self.item_bias = np.array(self.user_bias), np.array(self.item_bias)
