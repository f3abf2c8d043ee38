"""Each pair's own seeded stream of draws (whyrec.explain.pair_draws)."""

import numpy as np
import torch

from whyrec.explain.pair_draws import PairDraws, for_rows, pair_key


def test_pair_draws_are_uniform_and_draw_each_token_at_its_probability():
    """Inverse-CDF sampling: the numbers are uniform in [0, 1) and the tokens drawn follow the
    distribution (a χ² test on 20,000 pairs; tokens of probability 0 never come)."""
    from scipy import stats

    n = 20_000
    draws = PairDraws.of(3, [f"u{k}" for k in range(n)], ["i"] * n)
    u = draws.uniforms(np.arange(n), 0)
    assert u.min() >= 0 and u.max() < 1 and stats.kstest(u, "uniform").pvalue > 0.001
    p = torch.tensor([0.5, 0.0, 0.3, 0.15, 0.05, 0.0])
    tokens = draws.draw(p.repeat(n, 1) * 7.0, torch.arange(n), 1)  # unnormalised is fine
    counts = np.bincount(tokens.numpy(), minlength=6)
    assert counts[1] == counts[5] == 0
    kept = p.numpy() > 0
    assert stats.chisquare(counts[kept], p.numpy()[kept] * n).pvalue > 0.001


def test_a_pair_key_is_a_fixed_digest_of_both_ids():
    assert pair_key("u", "i") == pair_key("u", "i") != pair_key("i", "u")
    assert pair_key("ab", "c") != pair_key("a", "bc")  # the ids are kept apart
    assert 0 <= pair_key("u", "i") < 2**64


def test_chunks_keep_their_rows_streams_and_other_generators_pass_through():
    draws = PairDraws.of(9, ["a", "b", "c", "d"], ["x"] * 4)
    chunk = for_rows(draws, slice(2, 4))
    assert len(chunk) == 2 and np.array_equal(chunk.uniforms(np.arange(2), 0), draws.uniforms(np.array([2, 3]), 0))
    generator = torch.Generator()
    assert for_rows(generator, slice(0, 2)) is generator and for_rows(None, slice(0, 2)) is None
