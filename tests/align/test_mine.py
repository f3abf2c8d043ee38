"""MINE on pairs with known mutual information; the bounds and the reward on hand cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from whyrec.align.mine import (MINE, MINEConfig, bias_corrected_loss, donsker_varadhan, one_hot_ratings,
                               rating_entropy)
from whyrec.errors import ConfigError


def correlated_gaussians(n: int, dims: int, rho: float, seed: int = 0):
    """x, y ∈ R^dims with corr(x_j, y_j) = ρ, independent across j: I(X;Y) = −(dims/2)·log(1 − ρ²)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dims))
    y = rho * x + math.sqrt(1 - rho ** 2) * rng.standard_normal((n, dims))
    return x.astype(np.float32), y.astype(np.float32), -dims / 2 * math.log(1 - rho ** 2)


def test_donsker_varadhan_and_bias_corrected_loss_by_hand():
    joint, marginal = torch.tensor([1.0, 2.0]), torch.tensor([0.0, math.log(3.0)])
    # mean T = 1.5; log mean exp = log((1 + 3) / 2) = log 2
    assert float(donsker_varadhan(joint, marginal)) == pytest.approx(1.5 - math.log(2.0))
    # −(1.5 − 2 / 4)
    assert float(bias_corrected_loss(joint, marginal, moving_average=4.0)) == pytest.approx(-1.0)


def test_a_step_updates_the_moving_average_from_1_and_returns_the_batch_estimate_before_it():
    """m ← (1 − α) m + α · mean exp T(marginal), from m = 1 (Belghazi et al. 2018, §3.2; the MMI
    code's α); the step returns the batch's I_θ of the network it was given, before the update."""
    x, y, _ = correlated_gaussians(64, dims=2, rho=0.5)
    mine = MINE(2, 2, MINEConfig(hidden=8, lr=1e-2, batch_size=64, ma_rate=0.25))
    torch.nn.init.constant_(mine.network.net[-1].bias, 1.0)  # T ≈ 1, so that mean exp T ≈ e, not ≈ 1
    xt, yt = torch.tensor(x), torch.tensor(y)
    expected_average = 1.0
    assert mine.moving_average == expected_average
    for _ in range(2):
        same_shuffle = torch.Generator()
        same_shuffle.set_state(mine.generator.get_state())
        with torch.no_grad():
            joint, marginal = mine.network(xt, yt), mine.network(xt, yt[torch.randperm(64, generator=same_shuffle)])
        estimate = mine.step(xt, yt)
        assert estimate == pytest.approx(float(donsker_varadhan(joint, marginal)), rel=1e-5)
        expected_average = 0.75 * expected_average + 0.25 * float(marginal.exp().mean())
        assert mine.moving_average == pytest.approx(expected_average, rel=1e-6)
        with torch.no_grad():  # and the network moved
            assert not torch.allclose(mine.network(xt, yt), joint)


def test_mine_fits_two_pairs_the_fewest_with_a_shuffle_and_takes_ma_rate_in_0_1():
    mine = MINE(1, 1, MINEConfig(hidden=4, batch_size=2, epochs=3)).fit([[0.0], [1.0]], [[1.0], [0.0]])
    assert len(mine.history) == 3 and all(math.isfinite(v) for v in mine.history)
    assert MINEConfig(ma_rate=1.0).ma_rate == 1.0  # the batch's mean alone
    for wrong in (0.0, 1.5, -0.1):
        with pytest.raises(ConfigError, match=r"ma_rate must be in \(0, 1\]"):
            MINEConfig(ma_rate=wrong)


def test_mine_recovers_the_mutual_information_of_correlated_gaussians():
    x, y, truth = correlated_gaussians(20000, dims=2, rho=0.8)
    mine = MINE(2, 2, MINEConfig(hidden=64, lr=2e-3, batch_size=500, epochs=25, seed=1)).fit(x, y)
    xt, yt, _ = correlated_gaussians(5000, dims=2, rho=0.8, seed=9)
    estimate = mine.estimate(xt, yt)
    assert mine.estimate(xt, yt) == estimate  # deterministic: validation scores are comparable across calls
    assert truth == pytest.approx(1.0217, abs=1e-3)
    assert estimate == pytest.approx(truth, abs=0.15)  # a lower bound: close, typically a little below
    # independent pairs: an estimator trained on them finds (almost) no information
    xi, yi, _ = correlated_gaussians(20000, dims=2, rho=0.0, seed=3)
    blind = MINE(2, 2, MINEConfig(hidden=64, lr=2e-3, batch_size=500, epochs=5, seed=1)).fit(xi, yi)
    assert abs(blind.estimate(*correlated_gaussians(5000, dims=2, rho=0.0, seed=4)[:2])) < 0.05


def test_reward_prefers_the_true_pairing_and_state_round_trip():
    x, y, _ = correlated_gaussians(8000, dims=1, rho=0.95)
    mine = MINE(1, 1, MINEConfig(hidden=32, lr=3e-3, batch_size=256, epochs=10)).fit(x, y)
    xt, yt = torch.tensor(x[:200]), torch.tensor(y[:200])
    perm = torch.roll(torch.arange(200), 1)
    assert float(mine.reward(xt, yt, perm).mean()) > 0.5
    copy = MINE.from_state(*mine.state())
    torch.testing.assert_close(copy.reward(xt, yt, perm), mine.reward(xt, yt, perm))
    meta, tensors = mine.state()
    with pytest.raises(ConfigError, match=r"MINE: unknown setting\(s\) \['hiden'\]"):  # a hand-edited state
        MINE.from_state({**meta, "config": {**meta["config"], "hiden": 8}}, tensors)


def test_one_hot_ratings_entropy_and_shape_errors():
    assert one_hot_ratings([1, 4.6, 7]).argmax(1).tolist() == [0, 4, 4]
    assert one_hot_ratings([1, 4.6, 7]).tolist() == [[1, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1]]
    assert rating_entropy([1, 2, 1, 2]) == pytest.approx(math.log(2))
    assert rating_entropy([1, 2, 3]) == pytest.approx(math.log(3))  # classes seen once count too
    assert rating_entropy([5, 5, 5]) == 0.0
    with pytest.raises(ValueError, match="no ratings"):
        rating_entropy([])  # was: 0.0, a constant for no data
    with pytest.raises(ConfigError, match="expected x"):
        MINE(3, 5).fit(np.zeros((4, 3)), np.zeros((4, 4)))
    with pytest.raises(ConfigError, match="ma_rate"):
        MINEConfig(ma_rate=0)


def test_an_estimator_that_diverges_says_to_lower_its_learning_rate():
    """At lr 1e4 the statistics network's outputs overflow exp(); the NaN estimates used to flow
    into MMI's rewards and end in torch.multinomial's 'probability tensor contains nan'."""
    from whyrec.errors import DivergedError

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(256, 4)), one_hot_ratings(rng.integers(1, 6, 256).astype(float))
    with pytest.raises(DivergedError, match=r"MINE: training diverged in epoch \d+ \(the MI estimate became NaN or "
                                            r"infinite\); lower its lr \(now 10000; MMI's mine_lr\)"):
        MINE(4, 5, MINEConfig(hidden=16, lr=1e4, batch_size=32, epochs=30)).fit(x, y)
    MINE(4, 5, MINEConfig(hidden=16, lr=1e-3, batch_size=32, epochs=30)).fit(x, y)  # the default scale trains
    with pytest.raises(ConfigError, match="MINE: at least 2 pairs are needed"):
        MINE(4, 5).fit(x[:1], y[:1])
