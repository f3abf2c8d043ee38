"""Baselines every table needs: the global average and regularised user/item biases."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from whyrec.rating.base import RatingModel, register, validation_rmse
from whyrec.settings import at_least, check_values

if TYPE_CHECKING:  # the corpus needs pandas, which loading a saved model does not import
    from whyrec.data.corpus import Corpus


@register
class GlobalAverage(RatingModel):
    """Predicts the mean training rating for every pair."""

    name = "global-average"

    def __init__(self) -> None:
        super().__init__()

    def _fit(self, users, items, ratings, valid: Corpus | None) -> None:
        self.global_mean = float(ratings.mean())


@register
class BiasBaseline(RatingModel):
    """``r̂ = μ + b_u + b_i`` with ridge-regularised biases (Koren, TKDD 2010, §2.1).

    Minimises ``Σ (r − μ − b_u − b_i)² + λ_u Σ b_u² + λ_i Σ b_i²`` by alternating the closed
    forms ``b_i = Σ_u (r − μ − b_u) / (λ_i + n_i)`` and ``b_u = Σ_i (r − μ − b_i) / (λ_u + n_u)``.

    Parameters
    ----------
    reg_user, reg_item : float
        λ_u and λ_i (Koren's Netflix values were 10 and 25; small data wants a few units).
    iterations : int
        Alternations; the objective is convex, so a handful converge.
    """

    name = "bias-baseline"

    def __init__(self, reg_user: float = 5.0, reg_item: float = 5.0, iterations: int = 10) -> None:
        super().__init__()
        check_values({"reg_user": (reg_user, at_least(0)), "reg_item": (reg_item, at_least(0)),
                      "iterations": (iterations, at_least(1))})  # NaN fails too
        self.reg_user, self.reg_item, self.iterations = float(reg_user), float(reg_item), int(iterations)

    def _fit(self, users, items, ratings, valid: Corpus | None) -> None:
        n_users, n_items = len(self.user_map), len(self.item_map)
        self.global_mean = float(ratings.mean())
        residual = ratings - self.global_mean
        n_u = np.bincount(users, minlength=n_users)
        n_i = np.bincount(items, minlength=n_items)
        bu, bi = np.zeros(n_users), np.zeros(n_items)
        for step in range(self.iterations):
            bi = np.bincount(items, residual - bu[users], minlength=n_items) / (self.reg_item + n_i)
            bu = np.bincount(users, residual - bi[items], minlength=n_users) / (self.reg_user + n_u)
            self.user_bias, self.item_bias = bu, bi
            self.history.append({"iteration": step + 1, "valid_rmse": validation_rmse(self, valid)})
