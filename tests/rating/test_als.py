"""ALS against direct least squares, and the text priors of context-aware ALS."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from whyrec.data import ratio_split
from whyrec.metrics.rating import rmse
from whyrec.rating import ContextAwareALS, TextPriors
from whyrec.rating.als import solve_rows


def test_solve_rows_equals_lstsq_per_row():
    rng = np.random.default_rng(0)
    n_rows, n_cols, k = 7, 9, 3
    obs = [(r, c) for r in range(n_rows) for c in range(n_cols) if rng.random() < 0.5]
    rows = np.array([o[0] for o in obs]); cols = np.array([o[1] for o in obs])
    targets = rng.normal(size=len(obs))
    other = rng.normal(size=(n_cols, k)); prior = rng.normal(size=(n_rows, k)); lam = 0.7
    got = solve_rows(torch.tensor(rows), torch.tensor(cols), torch.tensor(targets), n_rows, torch.tensor(other),
                     torch.full((n_rows, k), lam, dtype=torch.float64), torch.tensor(prior), chunk=4).numpy()
    for r in range(n_rows):
        mask = rows == r
        # min ||Y x − t||² + λ||x − prior||²  ==  lstsq on the stacked system
        A = np.vstack([other[cols[mask]], np.sqrt(lam) * np.eye(k)])
        b = np.concatenate([targets[mask], np.sqrt(lam) * prior[r]])
        np.testing.assert_allclose(got[r], np.linalg.lstsq(A, b, rcond=None)[0], atol=1e-10)


def test_plain_als_is_eq_11_12_and_decreases_the_objective(planted):
    split = ratio_split(planted.corpus, seed=0)
    model = ContextAwareALS(factors=4, lambda_u=2.0, lambda_v=2.0, use_biases=False, center=False, iterations=1)
    model.fit(split.train)
    objectives = [model.objective()]
    for _ in range(5):
        model.sweep()
        objectives.append(model.objective())
    assert all(b <= a + 1e-8 for a, b in zip(objectives, objectives[1:]))
    # one more user solve by hand with Eq. 11: U_i = (V I_i Vᵀ + λ I)⁻¹ (V R_i)
    user = split.train.users[0]
    u = model.user_map.index(user)
    frame = split.train.reviews[split.train.reviews["user"] == user]
    V = model.item_factors[model.item_map.lookup(frame["item"])]
    expected = np.linalg.solve(V.T @ V + 2.0 * np.eye(4), V.T @ frame["rating"].to_numpy())
    model.sweep()  # U is solved from the V of the previous sweep
    np.testing.assert_allclose(model.user_factors[u], expected, atol=1e-8)


def test_priors_pull_factors_towards_text_features(planted):
    split = ratio_split(planted.corpus, seed=0)
    k = planted.user_factors.shape[1]
    users = sorted(set(split.train.users)); items = sorted(set(split.train.items))
    uprior = TextPriors(users, np.stack([planted.user_factors[int(u[1:])] for u in users]))
    iprior = TextPriors(items, np.stack([planted.item_factors[int(i[1:])] for i in items]))
    strong = ContextAwareALS(factors=k, lambda_u=1e4, lambda_v=1e4, iterations=5)
    strong.fit(split.train, user_priors=uprior, item_priors=iprior)
    np.testing.assert_allclose(strong.user_factors, uprior.aligned(strong.user_map, k), atol=0.05)
    # true factors as priors help the fit on held-out data
    free = ContextAwareALS(factors=k, lambda_u=5, lambda_v=5).fit(split.train)
    guided = ContextAwareALS(factors=k, lambda_u=5, lambda_v=5).fit(split.train, user_priors=uprior, item_priors=iprior)
    test = split.test
    assert rmse(guided.predict_corpus(test), test.ratings) < rmse(free.predict_corpus(test), test.ratings)


def test_prior_dimension_mismatch_is_an_error(planted):
    split = ratio_split(planted.corpus, seed=0)
    with pytest.raises(ValueError, match="dimension"):
        ContextAwareALS(factors=4).fit(split.train, user_priors=TextPriors(["u0"], np.zeros((1, 3))))


def test_with_biases_and_bias_priors_each_sweep_still_lowers_eq_10(planted):
    """Eq. 10 with the bias terms, λ_b/2 Σ (b − b̃)², and priors of dimension K + 1 (the last
    coordinate the bias prior): every ALS sweep solves each side exactly, so it never rises."""
    split = ratio_split(planted.corpus, seed=0)
    rng = np.random.default_rng(0)
    users, items = sorted(set(split.train.users)), sorted(set(split.train.items))
    uprior = TextPriors.from_mapping({u: rng.normal(size=5) for u in users})
    iprior = TextPriors.from_mapping({i: rng.normal(size=5) for i in items})
    assert uprior.ids == users and uprior.vectors.shape == (len(users), 5)
    model = ContextAwareALS(factors=4, lambda_u=2.0, lambda_v=2.0, lambda_bias=3.0, iterations=1)
    model.fit(split.train, user_priors=uprior, item_priors=iprior)
    objectives = [model.objective()]
    for _ in range(5):
        model.sweep()
        objectives.append(model.objective())
    assert all(b <= a + 1e-6 * abs(a) for a, b in zip(objectives, objectives[1:])) and objectives[-1] < objectives[0]
    # the bias prior pulls: with a huge λ_b the user biases sit on the priors' last coordinate
    pinned = ContextAwareALS(factors=4, lambda_bias=1e6, iterations=3).fit(split.train, user_priors=uprior,
                                                                          item_priors=iprior)
    np.testing.assert_allclose(pinned.user_bias, uprior.aligned(pinned.user_map, 5)[:, 4], atol=1e-3)
    assert TextPriors.from_mapping({}).vectors.shape == (0, 0)
