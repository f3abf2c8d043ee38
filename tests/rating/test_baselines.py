"""The baselines by hand: the global average, and the bias baseline's alternating closed forms
(Koren, TKDD 2010, §2.1) on the eight ratings of tests.conftest.small_rated_corpus."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import small_rated_corpus
from whyrec.errors import ConfigError
from whyrec.rating import BiasBaseline, GlobalAverage, make_model

_CORPUS = small_rated_corpus()
RATINGS = {(u, i): float(r) for u, i, r in zip(_CORPUS.users, _CORPUS.items, _CORPUS.ratings)}
MEAN = sum(RATINGS.values()) / len(RATINGS)  # 24 / 8


def bias_steps(iterations: int, reg_user: float, reg_item: float) -> tuple[dict, dict]:
    """b_i = Σ_u (r − μ − b_u) / (λ_i + n_i), then b_u = Σ_i (r − μ − b_i) / (λ_u + n_u), repeated."""
    users = {u for u, _ in RATINGS}
    items = {i for _, i in RATINGS}
    bu, bi = dict.fromkeys(users, 0.0), dict.fromkeys(items, 0.0)
    for _ in range(iterations):
        bi = {i: sum(r - MEAN - bu[u] for (u, j), r in RATINGS.items() if j == i)
              / (reg_item + sum(1 for _, j in RATINGS if j == i)) for i in items}
        bu = {u: sum(r - MEAN - bi[j] for (v, j), r in RATINGS.items() if v == u)
              / (reg_user + sum(1 for v, _ in RATINGS if v == u)) for u in users}
    return bu, bi


def test_the_global_average_predicts_the_mean_rating_for_every_pair():
    model = GlobalAverage().fit(small_rated_corpus())
    assert model.global_mean == MEAN
    assert model.predict(["alice", "dave"], ["strap", "cable"]).tolist() == [MEAN, MEAN]


@pytest.mark.parametrize("iterations, reg_user, reg_item", [(1, 2.0, 3.0), (2, 2.0, 3.0), (3, 0.0, 1.5)])
def test_bias_baseline_alternates_the_closed_forms(iterations, reg_user, reg_item):
    corpus = small_rated_corpus()
    model = BiasBaseline(reg_user=reg_user, reg_item=reg_item, iterations=iterations).fit(corpus)
    bu, bi = bias_steps(iterations, reg_user, reg_item)
    assert model.global_mean == MEAN
    np.testing.assert_allclose(model.user_bias, [bu[u] for u in model.user_map.ids])
    np.testing.assert_allclose(model.item_bias, [bi[i] for i in model.item_map.ids])
    assert model.predict_unclipped(["bob"], ["cable"])[0] == pytest.approx(MEAN + bu["bob"] + bi["cable"])
    assert [h["iteration"] for h in model.history] == list(range(1, iterations + 1))


def test_bias_baseline_settings_and_defaults():
    BiasBaseline(reg_user=0, reg_item=0, iterations=1)  # no shrinkage, one alternation: taken
    for bad, says in (({"iterations": 0}, "iterations must be at least 1"), ({"reg_user": -0.5}, "reg_user must be at"),
                      ({"reg_item": float("nan")}, "reg_item must be")):
        with pytest.raises(ValueError, match=says):  # the constructor's; make_model's names the model
            BiasBaseline(**bad)
        with pytest.raises(ConfigError, match=f"bias-baseline: {says}"):
            make_model("bias-baseline", **bad)
    default = BiasBaseline()
    assert (default.reg_user, default.reg_item, default.iterations) == (5.0, 5.0, 10)
