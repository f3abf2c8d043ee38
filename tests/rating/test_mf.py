"""Biased MF by SGD (whyrec.rating.mf): two epochs' updates by hand, and early stopping's rules."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.conftest import small_rated_corpus
from whyrec.rating import mf
from whyrec.rating.mf import MIN_GAIN, BiasedMF


def test_epochs_of_one_batch_are_every_ratings_sgd_step_from_the_same_start():
    """Koren et al. 2009: e = r − (μ + b_u + b_i + p_uᵀq_i); b_u ← b_u + γ(e − λ b_u), b_i alike,
    p_u ← p_u + γ(e q_i − λ p_u), q_i ← q_i + γ(e p_u − λ q_i), a batch's steps all taken from the
    values before it and summed per user and item. P and Q start at init_std · N(0, 1), drawn with
    the seed (P first), the biases at 0; each epoch's train RMSE is that of the errors it stepped on.
    Two epochs, so that the biases' own λ b term is not 0."""
    corpus = small_rated_corpus()
    model = BiasedMF(factors=2, lr=0.05, reg=0.3, epochs=2, batch_size=100, init_std=0.2, seed=6).fit(corpus)
    gen = torch.Generator().manual_seed(6)
    P = (torch.randn(4, 2, generator=gen, dtype=torch.float64) * 0.2).numpy()
    Q = (torch.randn(3, 2, generator=gen, dtype=torch.float64) * 0.2).numpy()
    bu, bi = np.zeros(4), np.zeros(3)
    u, i = model.user_map.lookup(corpus.users), model.item_map.lookup(corpus.items)
    r, mu = corpus.ratings, corpus.ratings.mean()
    train_rmse = []
    for _ in range(2):
        errors = r - (mu + bu[u] + bi[i] + (P[u] * Q[i]).sum(1))
        train_rmse.append(np.sqrt(np.mean(errors ** 2)))
        bu1, bi1, P1, Q1 = bu.copy(), bi.copy(), P.copy(), Q.copy()
        for n in range(len(r)):
            bu1[u[n]] += 0.05 * (errors[n] - 0.3 * bu[u[n]])
            bi1[i[n]] += 0.05 * (errors[n] - 0.3 * bi[i[n]])
            P1[u[n]] += 0.05 * (errors[n] * Q[i[n]] - 0.3 * P[u[n]])
            Q1[i[n]] += 0.05 * (errors[n] * P[u[n]] - 0.3 * Q[i[n]])
        bu, bi, P, Q = bu1, bi1, P1, Q1
    for got, expected in ((model.user_bias, bu), (model.item_bias, bi), (model.user_factors, P),
                          (model.item_factors, Q)):
        np.testing.assert_allclose(got, expected, atol=1e-12)
    assert model.global_mean == pytest.approx(mu)
    assert model.history == [{"epoch": n + 1, "train_rmse": pytest.approx(train_rmse[n], abs=1e-12),
                              "valid_rmse": None} for n in range(2)]


def test_the_smallest_settings_are_taken():
    model = BiasedMF(factors=1, lr=1e-9, reg=0.0, epochs=1, batch_size=1, patience=0, init_std=0.0)
    assert (model.factors, model.epochs, model.batch_size, model.patience) == (1, 1, 1, 0)
    assert len(model.fit(small_rated_corpus()).history) == 1


def _scripted(monkeypatch, scores):
    """Validation RMSEs ``scores`` in turn, one per epoch; returns the user factors each epoch held."""
    held = []

    def score(model, valid):
        held.append(model.user_factors.copy())
        return scores[len(held) - 1]

    monkeypatch.setattr(mf, "validation_rmse", score)
    return held


@pytest.mark.parametrize("scores, patience, epochs_run, kept", [
    ([1.0, 0.9, 0.95, 0.85, 0.96, 0.97, 0.5], 2, 6, 4),  # an improvement starts the count again
    ([1.0, 0.9, 0.9 - MIN_GAIN, 0.9 - MIN_GAIN / 2, 0.5], 2, 4, 2),  # a gain of MIN_GAIN or less is none
    ([1.0, 1.1, 0.8, 0.7], 1, 2, 1),  # patience 1: the first epoch without a gain is the last
    ([1.0, 0.9, 0.8, 0.7], 2, 4, 4),  # improving to the end: all epochs, the last kept
])
def test_early_stopping_waits_patience_epochs_without_a_gain_and_keeps_the_best(monkeypatch, scores, patience,
                                                                               epochs_run, kept):
    held = _scripted(monkeypatch, scores)
    model = BiasedMF(factors=2, lr=0.05, epochs=len(scores), batch_size=2,
                     patience=patience).fit(small_rated_corpus(), small_rated_corpus())
    assert [h["epoch"] for h in model.history] == list(range(1, epochs_run + 1))
    assert [h["valid_rmse"] for h in model.history] == scores[:epochs_run]
    np.testing.assert_array_equal(model.user_factors, held[kept - 1])
    assert model.kept_epochs()[0]["epoch"] == kept
