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


def _splitmix64(state: int) -> int:
    """SplitMix64's output for ``state`` (Steele, Lea & Flood 2014), in Python's integers."""
    z = (state + 0x9E3779B97F4A7C15) % 2**64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
    return z ^ (z >> 31)


def test_the_streams_are_splitmix64_as_published_so_a_seed_means_the_same_in_every_version():
    """The first three outputs of SplitMix64 seeded with 0 are the reference implementation's
    (0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f); a row's step-th number is
    mix(base + step·φ mod 2^64) with its top 53 bits made a float, base = mix(key ⊕ mix(seed))."""
    golden = 0x9E3779B97F4A7C15
    assert [_splitmix64(k * golden % 2**64) for k in range(3)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4,
                                                                   0x06C45D188009454F]
    draws = PairDraws.of(42, ["alice", "bob"], ["guitar", "guitar"])
    for row, user in enumerate(("alice", "bob")):
        base = _splitmix64(pair_key(user, "guitar") ^ _splitmix64(42))
        for step in (0, 1, 7, 2**40 + 3):  # a step far enough out for step·φ to wrap
            expected = (_splitmix64((base + step * golden) % 2**64) >> 11) * 2.0 ** -53
            assert draws.uniforms(np.array([row]), step)[0] == expected, (user, step)


def test_a_draw_is_the_first_token_whose_cumulative_probability_exceeds_u_times_the_total():
    """By hand from the row's own number u, for distributions whose last token has mass too;
    without ``rows`` the B rows of ``probs`` are the first B streams, in order."""
    draws = PairDraws.of(5, [f"u{k}" for k in range(40)], ["i"] * 40)
    probs = torch.rand(40, 3, generator=torch.Generator().manual_seed(2)) + 0.05
    for step in (0, 3):
        u = draws.uniforms(np.arange(40), step)
        cumulative = probs.double().cumsum(1).numpy()
        expected = [int(np.argmax(c > x * c[-1])) for c, x in zip(cumulative, u)]
        assert draws.draw(probs, None, step).tolist() == expected
        assert draws.draw(probs, torch.arange(40), step).tolist() == expected
        rows = torch.tensor([39, 0])
        assert draws.draw(probs[[39, 0]], rows, step).tolist() == [expected[39], expected[0]]
    assert set(expected) == {0, 1, 2}
