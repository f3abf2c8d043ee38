"""ALS against direct least squares, and the text priors of context-aware ALS."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.conftest import small_rated_corpus
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


def _hand_user_solves(model, corpus, lam, weighted):
    """Eq. 11 for every user from the model's current V: (VᵀV + λ·s_i I)⁻¹ Vᵀ r_i, s_i the user's
    count of ratings under ALS-WR and 1 otherwise."""
    solved = {}
    for user in sorted(set(corpus.users)):
        frame = corpus.reviews[corpus.reviews["user"] == user]
        V = model.item_factors[model.item_map.lookup(frame["item"])]
        scale = len(frame) if weighted else 1
        solved[user] = np.linalg.solve(V.T @ V + lam * scale * np.eye(V.shape[1]), V.T @ frame["rating"].to_numpy())
    return solved


@pytest.mark.parametrize("weighted", [True, False])
def test_als_wr_scales_each_rows_lambda_by_its_count_of_ratings(weighted):
    """ALS-WR (Zhou et al. 2008): λ·n_i in row i's solve, so a user with one rating has λ, one
    with three 3λ; without it every row has λ."""
    corpus = small_rated_corpus()
    model = ContextAwareALS(factors=2, lambda_u=0.7, lambda_v=0.7, use_biases=False, center=False,
                            weighted_reg=weighted, iterations=1).fit(corpus)
    expected = _hand_user_solves(model, corpus, 0.7, weighted)
    other = _hand_user_solves(model, corpus, 0.7, not weighted)
    model.sweep()
    for user, vector in expected.items():
        got = model.user_factors[model.user_map.index(user)]
        np.testing.assert_allclose(got, vector, atol=1e-10)
        if user == "alice":  # three ratings: the two rules differ here
            assert np.abs(got - other[user]).max() > 1e-3


def test_the_first_user_solve_starts_from_v_drawn_with_init_std_and_the_seed():
    """U is solved first, from V₀ = init_std · N(0, 1) drawn with ``seed``; with init_std 0 every
    factor stays 0 and every prediction is the global mean."""
    corpus = small_rated_corpus()
    model = ContextAwareALS(factors=2, lambda_u=0.7, use_biases=False, center=False, init_std=0.3, seed=4,
                            iterations=1).fit(corpus)
    V0 = torch.randn(len(model.item_map), 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64) * 0.3
    for user in ("alice", "dave"):
        frame = corpus.reviews[corpus.reviews["user"] == user]
        V = V0.numpy()[model.item_map.lookup(frame["item"])]
        np.testing.assert_allclose(model.user_factors[model.user_map.index(user)],
                                   np.linalg.solve(V.T @ V + 0.7 * np.eye(2), V.T @ frame["rating"].to_numpy()),
                                   atol=1e-10)
    flat = ContextAwareALS(factors=2, use_biases=False, init_std=0.0, iterations=3).fit(corpus)
    assert not flat.user_factors.any() and not flat.item_factors.any()
    np.testing.assert_allclose(flat.predict_corpus(corpus), np.full(len(corpus), corpus.ratings.mean()))


def test_train_rmse_history_and_eq_10_by_hand():
    """train_rmse = √(mean (r − r̂)²) over the training ratings, recorded after each sweep
    (iterations 1, 2, …); objective() = ½ Σ (r − r̂)² + λ_U/2 ‖U − Ũ‖² + λ_V/2 ‖V − Ṽ‖²
    + λ_b/2 (‖b_u − b̃_u‖² + ‖b_i − b̃_i‖²), with three different λ so that none stands for another."""
    corpus = small_rated_corpus()
    rng = np.random.default_rng(1)
    users, items = sorted(set(corpus.users)), sorted(set(corpus.items))
    uprior = TextPriors.from_mapping({u: rng.normal(size=3) for u in users})  # K + 1: the last is b̃
    iprior = TextPriors.from_mapping({i: rng.normal(size=3) for i in items})
    model = ContextAwareALS(factors=2, lambda_u=0.5, lambda_v=2.0, lambda_bias=7.0, iterations=3)
    model.fit(corpus, user_priors=uprior, item_priors=iprior)
    u, i = model.user_map.lookup(corpus.reviews["user"]), model.item_map.lookup(corpus.reviews["item"])
    U, V, bu, bi = model.user_factors, model.item_factors, model.user_bias, model.item_bias
    predicted = model.global_mean + bu[u] + bi[i] + (U[u] * V[i]).sum(1)
    np.testing.assert_allclose(predicted, model.predict_corpus(corpus), atol=1e-9)
    errors = corpus.ratings - predicted
    assert model.train_rmse() == pytest.approx(np.sqrt(np.mean(errors ** 2)), abs=1e-12)
    assert [h["iteration"] for h in model.history] == [1, 2, 3]
    assert model.history[-1]["train_rmse"] == pytest.approx(model.train_rmse(), abs=1e-12)
    Pu, Pv = uprior.aligned(model.user_map, 3), iprior.aligned(model.item_map, 3)
    eq_10 = (0.5 * np.sum(errors ** 2) + 0.5 / 2 * np.sum((U - Pu[:, :2]) ** 2) + 2.0 / 2 * np.sum((V - Pv[:, :2]) ** 2)
             + 7.0 / 2 * (np.sum((bu - Pu[:, 2]) ** 2) + np.sum((bi - Pv[:, 2]) ** 2)))
    assert model.objective() == pytest.approx(eq_10, rel=1e-12)


def test_a_bias_prior_needs_biases_and_priors_must_match_the_factors():
    corpus = small_rated_corpus()
    prior = TextPriors.from_mapping({"alice": np.zeros(3)})
    with pytest.raises(ValueError, match=r"text features have dimension 3, the model has 2 factors$"):
        ContextAwareALS(factors=2, use_biases=False).fit(corpus, user_priors=prior)
    model = ContextAwareALS(factors=2, iterations=1).fit(corpus)
    with pytest.raises(ValueError, match=r"text features have dimension 3, the model has 4 factors$"):
        prior.aligned(model.user_map, 4)


def test_any_positive_lambda_is_taken_and_zero_is_refused():
    model = ContextAwareALS(lambda_u=0.25, lambda_v=0.5, lambda_bias=0.75)
    assert (model.lambda_u, model.lambda_v, model.lambda_bias) == (0.25, 0.5, 0.75)
    for name in ("lambda_u", "lambda_v", "lambda_bias"):
        with pytest.raises(ValueError, match=f"^{name} must be greater than 0, got 0"):
            ContextAwareALS(**{name: 0})
