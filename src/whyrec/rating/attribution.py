"""Why an ALS model predicts what it does: a predicted rating split into the contributions of the
user's own past ratings — a faithful explanation to show beside the generated text.

ALS solves the user side as a ridge regression on the item side (Eq. 11 of "Why I like it", with
whyrec's bias coordinate). With ``z_j = [q_j; 1]`` (``q_j`` without biases), ``Λ`` the diagonal of
λ_U (factors) and λ_b (bias), and ``A_u = Σ_{j ∈ I_u} z_j z_jᵀ + Λ``, the part of the user vector
that the ratings determine is ``A_u⁻¹ Σ_j z_j (r_uj − μ − b_j)``, so

    r̂_ui = μ + b_i + Σ_{j ∈ I_u} w_ij (r_uj − μ − b_j) + rest,    w_ij = z_iᵀ A_u⁻¹ z_j.

Each past rating contributes its residual (how much more the user liked j than j's average
rating predicts) times the similarity of i and j under the user's own metric ``A_u⁻¹``: the
decomposition implicit's ``AlternatingLeastSquares.explain`` gives for implicit feedback, here
for explicit ratings with biases. ``rest`` is what the ratings do not account for: the pull of
the text prior (``Λ Ũ_u`` in the same solve) and the difference between the stored user vector and
one re-solved against the final item side (ALS's last sweep solves users before items).
The parts always add up to the model's prediction before clipping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from whyrec.errors import UnknownIdError, WhyrecError
from whyrec.ids import as_id


@dataclass
class RatingAttribution:
    """``predicted = baseline + Σ contributions + rest`` (before clipping to the rating scale)."""

    user: str
    item: str
    predicted: float  # the model's score, unclipped
    baseline: float  # μ + b_i: what the item gets from anyone (μ without biases, 0 without centring)
    contributions: list[tuple[str, float, float]]  # (past item, its rating, contribution), largest |contribution| first
    rest: float  # text prior and solver lag: what the past ratings do not account for

    baseline_of: str = "item"  # what the baseline is: "item" (μ + b_i), "mean" (μ: PMF) or "none" (0)

    def top(self, k: int = 3) -> list[tuple[str, float, float]]:
        return self.contributions[:k]


# how a rating split names its baseline, by RatingAttribution.baseline_of (the CLI's line and the
# web page's both say it so)
BASELINE_LABELS = {"item": "item baseline", "mean": "mean rating", "none": "baseline"}


def baseline_kind(model) -> str:
    """What an ALS model's baseline is: ``"item"`` (μ + b_i, with biases), ``"mean"`` (μ alone: PMF
    centres its ratings but has no bias) or ``"none"`` (neither: the baseline is 0)."""
    return "item" if model.use_biases else ("mean" if model.center else "none")


def attribute_rating(model, user: str, item: str, rated_items: Sequence[str], ratings: Sequence[float]) -> RatingAttribution:
    """Split ``model``'s predicted rating of (``user``, ``item``) over the user's training ratings
    (``rated_items``, ``ratings``: the records the model was fitted on). ``model`` is a fitted
    :class:`~whyrec.rating.als.ContextAwareALS` (MT's rating model is one)."""
    return attribute_ratings(model, user, [item], rated_items, ratings)[0]


def attribute_ratings(model, user: str, items: Sequence[str], rated_items: Sequence[str],
                      ratings: Sequence[float]) -> list[RatingAttribution]:
    """:func:`attribute_rating` for several items of one user, with one solve of ``A_u``."""
    u = model.user_map.lookup([user])[0]
    targets = model.item_map.lookup(list(items))
    if (targets < 0).any():
        raise UnknownIdError(f"unknown item '{list(items)[int(np.flatnonzero(targets < 0)[0])]}'")
    if u < 0:
        raise UnknownIdError(f"unknown user '{user}': a rating of a new user has no past ratings to split over")
    if len(rated_items) != len(ratings) or not len(rated_items):
        raise WhyrecError(f"'{user}' needs at least one past rating, as many items as ratings")
    js = model.item_map.lookup(list(rated_items))
    if (js < 0).any():
        raise WhyrecError(f"past ratings of '{user}' name items the model does not know")
    Q = np.asarray(model.item_factors, dtype=np.float64)
    b_item = np.asarray(model.item_bias, dtype=np.float64) if len(model.item_bias) else np.zeros(len(Q))
    mu = float(model.global_mean)
    z = np.concatenate([Q, np.ones((len(Q), 1))], axis=1) if model.use_biases else Q
    reg = [model.lambda_u] * model.factors + ([model.lambda_bias] if model.use_biases else [])
    scale = len(js) if model.weighted_reg else 1.0
    A = z[js].T @ z[js] + np.diag(np.asarray(reg) * scale)
    weights = z[js] @ np.linalg.solve(A, z[targets].T)  # w_ji = z_jᵀ A⁻¹ z_i (A is symmetric): (past, items)
    parts = weights * (np.asarray(ratings, dtype=np.float64) - mu - b_item[js])[:, None]
    scores = model._score(np.full(len(targets), u), targets)
    out, kind = [], baseline_kind(model)
    for n, (item, i) in enumerate(zip(items, targets.tolist())):
        col = parts[:, n]
        order = np.argsort(-np.abs(col), kind="stable")
        contributions = [(as_id(rated_items[k]), float(ratings[k]), float(col[k])) for k in order]
        baseline = mu + float(b_item[i])  # ids named as they were looked up: 7.0 is item "7"
        out.append(RatingAttribution(as_id(user), as_id(item), float(scores[n]), baseline, contributions,
                                     float(scores[n]) - baseline - float(col.sum()), kind))
    return out
