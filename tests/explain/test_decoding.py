"""Decoding settings and the truncated sampling distribution: hand-computed cases, the
equivalences that pin them (top-1 sampling is greedy), and beam search without repeats."""

import math

import numpy as np
import pytest
import torch
import torch.nn as nn

from whyrec.errors import ConfigError
from whyrec.explain.decoding import WIDEST_BEAM, Decoding, check_min_words, pairs_per_batch, truncated_logits
from whyrec.explain.seq2seq import ContextGRUDecoder, beam_search, sample

BOS, EOS, PAD = 0, 1, 2
NEG = float("-inf")


def _decoder(vocab=12, ctx=3, seed=0):
    torch.manual_seed(seed)
    emb = nn.Embedding(vocab, 5, padding_idx=PAD)
    return ContextGRUDecoder(emb, ctx, hidden=7, dropout=0.0, never_emit=(BOS, PAD)).eval()


def _kept(logits: torch.Tensor) -> list[int]:
    return sorted(torch.isfinite(logits[0]).nonzero()[:, 0].tolist())


def test_the_nucleus_is_the_smallest_set_of_likeliest_words_holding_p():
    # probabilities 0.05, 0.5, 0.15, 0.3 (words 0..3): by likelihood 1, 3, 2, 0; cumulative 0.5, 0.8, 0.95, 1
    logits = torch.log(torch.tensor([[0.05, 0.5, 0.15, 0.3]]))
    assert _kept(truncated_logits(logits, top_p=0.4)) == [1]  # 0.5 ≥ 0.4 already
    assert _kept(truncated_logits(logits, top_p=0.51)) == [1, 3]  # 0.5 falls short of 0.51
    assert _kept(truncated_logits(logits, top_p=0.7)) == [1, 3]
    assert _kept(truncated_logits(logits, top_p=0.81)) == [1, 2, 3]
    assert _kept(truncated_logits(logits, top_p=1.0)) == [0, 1, 2, 3]
    assert _kept(truncated_logits(logits, top_p=1e-9)) == [1]  # the likeliest word is always kept
    # the kept words keep their logits, so sampling renormalises them: 0.5 / 0.8 and 0.3 / 0.8
    probs = torch.softmax(truncated_logits(logits, top_p=0.7), dim=-1)[0]
    torch.testing.assert_close(probs, torch.tensor([0.0, 0.625, 0.0, 0.375]))


def test_a_word_after_words_already_holding_p_is_outside_the_nucleus():
    """V⁽ᵖ⁾ is the smallest set holding p (Holtzman et al. 2020, Eq. 2): with p = 0.75 and
    probabilities 0.5, 0.25, 0.25 the first two hold it, so the third is out."""
    from whyrec.explain.decoding import _inside

    ordered = torch.tensor([[0.5, 0.25, 0.25]])
    assert _inside(ordered, 0.75).tolist() == [[True, True, False]]
    assert _inside(ordered, 0.76).tolist() == [[True, True, True]]


def test_top_k_keeps_the_k_likeliest_words_and_their_ties():
    logits = torch.tensor([[0.1, 2.0, -1.0, 1.5, 2.0]])
    assert _kept(truncated_logits(logits, top_k=1)) == [1, 4]  # a tie with the k-th is kept
    assert _kept(truncated_logits(logits, top_k=3)) == [1, 3, 4]
    assert _kept(truncated_logits(logits, top_k=0)) == [0, 1, 2, 3, 4]
    assert _kept(truncated_logits(logits, top_k=50)) == [0, 1, 2, 3, 4]  # more than the vocabulary: no cut


def test_temperature_divides_the_logits_and_the_nucleus_is_taken_after_it():
    logits = torch.log(torch.tensor([[0.05, 0.5, 0.15, 0.3]]))
    torch.testing.assert_close(truncated_logits(logits, temperature=0.5), logits / 0.5)
    # at T = 0.5 the probabilities are ∝ p²: 0.0025, 0.25, 0.0225, 0.09 → 0.00687, 0.6868, 0.0618, 0.2473
    assert _kept(truncated_logits(logits, temperature=0.5, top_p=0.9)) == [1, 3]
    assert _kept(truncated_logits(logits, temperature=1.0, top_p=0.9)) == [1, 2, 3]
    # top-k first, then the nucleus of what is left (renormalised): of words 1 and 3, 0.625 ≥ 0.6
    assert _kept(truncated_logits(logits, top_k=2, top_p=0.6)) == [1]


def test_the_defaults_cut_nothing_and_words_already_banned_stay_banned():
    logits = torch.tensor([[0.3, NEG, 1.2, -0.4], [NEG, 0.0, 0.0, 5.0]])
    assert truncated_logits(logits) is logits  # what training samples from, untouched
    plain = Decoding(method="sample")  # and what `--decode sample` draws from when given no setting
    assert truncated_logits(logits, plain.temperature, plain.top_k, plain.top_p) is logits
    cut = truncated_logits(logits, temperature=2.0, top_k=2, top_p=0.99)
    assert torch.isneginf(cut[0, 1]) and torch.isneginf(cut[1, 0])
    assert all(torch.isfinite(row).sum() >= 1 for row in cut)


def test_sampling_from_the_top_word_alone_is_greedy_decoding():
    dec = _decoder(seed=4)
    ctx = torch.randn(8, 3)
    greedy = sample(dec, ctx, BOS, EOS, PAD, max_len=9, greedy=True).tokens
    gen = torch.Generator().manual_seed(1)
    for cut in ({"top_k": 1}, {"top_p": 1e-6}):
        drawn = sample(dec, ctx, BOS, EOS, PAD, max_len=9, generator=gen, **cut)
        assert torch.equal(drawn.tokens, greedy), cut
        # the one word allowed is certain under the distribution drawn from
        assert torch.allclose(drawn.log_probs, torch.zeros_like(drawn.log_probs))


def _nucleus_by_sorting_everything(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """The nucleus of each row by the definition, the whole vocabulary sorted: the reference."""
    keep = torch.zeros_like(logits, dtype=torch.bool)
    for row in range(logits.shape[0]):
        probs = logits[row].softmax(-1)
        total = 0.0
        for word in probs.argsort(descending=True).tolist():
            if total >= top_p:
                break
            keep[row, word] = True
            total += probs[word].item()
    return keep


@pytest.mark.parametrize("candidates", [256, 5])  # 5: most rows' nucleus is wider, and they are sorted whole
def test_the_nucleus_ranked_among_a_few_candidates_equals_it_ranked_over_the_whole_vocabulary(monkeypatch,
                                                                                              candidates):
    import whyrec.explain.decoding as decoding

    monkeypatch.setattr(decoding, "NUCLEUS_CANDIDATES", candidates)
    torch.manual_seed(0)
    # peaked rows (a nucleus of a few words) and flat ones (hundreds) in one batch, a banned word in each
    logits = torch.randn(12, 1000) * torch.tensor([8.0, 0.5, 3.0] * 4)[:, None]
    logits[:, 7] = NEG
    for top_p in (0.3, 0.9, 0.999):
        kept = torch.isfinite(truncated_logits(logits, top_p=top_p))
        assert torch.equal(kept, _nucleus_by_sorting_everything(logits, top_p)), top_p
        assert not kept[:, 7].any()
    sizes = torch.isfinite(truncated_logits(logits, top_p=0.9)).sum(-1)
    assert sizes.min() < 5 < 256 < sizes.max()  # both kinds of row are there


def test_sampled_words_come_from_the_nucleus_only():
    dec = _decoder(seed=6, vocab=30)
    ctx = torch.randn(400, 3)
    gen = torch.Generator().manual_seed(0)
    first = sample(dec, ctx, BOS, EOS, PAD, max_len=1, generator=gen, top_p=0.5).tokens[:, 0]
    logits, _ = dec.step(ctx, torch.full((400,), BOS), None)
    allowed = torch.isfinite(truncated_logits(logits.index_fill(1, torch.tensor([BOS, PAD]), NEG), top_p=0.5))
    assert allowed[torch.arange(400), first].all()
    everything = sample(dec, ctx, BOS, EOS, PAD, max_len=1, generator=torch.Generator().manual_seed(0)).tokens[:, 0]
    assert not allowed[torch.arange(400), everything].all()  # without the cut, words outside it are drawn


def test_beam_search_without_repeats_avoids_the_loop_a_decoder_favours():
    dec = _decoder(seed=7)
    with torch.no_grad():  # every context loves word 5, so the likeliest sequences repeat it
        dec.out_bias.zero_()
        dec.out_bias[5] = 50.0
    ctx = torch.randn(4, 3)
    plain = beam_search(dec, ctx, BOS, EOS, PAD, max_len=8, beam=3)
    assert (plain == 5).all()
    blocked = beam_search(dec, ctx, BOS, EOS, PAD, max_len=8, beam=3, no_repeat=True)
    for row in blocked.tolist():
        words = [w for w in row if w != PAD]
        assert all(a != b for a, b in zip(words, words[1:]))
        bigrams = list(zip(words, words[1:]))
        assert len(bigrams) == len(set(bigrams)) and 5 in words


def test_a_setting_of_another_method_is_refused_not_ignored():
    assert Decoding() == Decoding.of("greedy", {})
    assert Decoding.of("sample", {"temperature": 0.7, "top_p": 0.9, "seed": 3}).top_p == 0.9
    with pytest.raises(ConfigError, match="temperature is a setting of sample decoding, not of greedy"):
        Decoding.of("greedy", {"temperature": 0.5})
    with pytest.raises(ConfigError, match="beam is a setting of beam decoding, not of sample"):
        Decoding.of("sample", {"beam": 8})
    with pytest.raises(ConfigError, match="unknown setting"):
        Decoding.of("sample", {"nucleus": 0.9})
    with pytest.raises(ConfigError, match="with --method"):
        Decoding.of("sample", {"method": "beam"})
    for bad in ({"top_p": 0}, {"top_p": 1.5}, {"temperature": 0}, {"top_k": -1}, {"top_k": 2.5}, {"seed": -1}, {"seed": 2**64},
                {"temperature": 0.001}, {"temperature": 1e308}, {"temperature": 100.5},
                {"temperature": math.nan}):
        with pytest.raises(ConfigError, match=f"decoding: {next(iter(bad))}"):
            Decoding.of("sample", bad)
    with pytest.raises(ConfigError, match="method must be one of"):
        Decoding.of("top-k")
    hottest = Decoding.of("sample", {"temperature": 100})  # 1e308 overflowed float32: NaN probabilities, a 500
    logits = torch.tensor([[3.0, -2.0, float("-inf")]])
    assert torch.isfinite(truncated_logits(logits, hottest.temperature)[:, :2]).all()
    for width in (0, WIDEST_BEAM + 1, 10**5):  # 10⁵ took 12 GB and minutes for one pair
        with pytest.raises(ConfigError, match=f"beam must be from 1 to {WIDEST_BEAM}, got {width}"):
            Decoding.of("beam", {"beam": width})
    assert Decoding.of("beam", {"beam": WIDEST_BEAM}).beam == WIDEST_BEAM == 64
    # min_words belongs to every method
    for method in ("greedy", "sample", "beam"):
        assert Decoding.of(method, {"min_words": 3}).min_words == 3
    assert Decoding.of("beam", {"min_words": 3}).describe() == "beam search (beam 4, min_words 3)"
    assert Decoding.of("greedy", {"min_words": 2}).describe() == "greedy search (min_words 2)"
    with pytest.raises(ConfigError, match="min_words must be at least 0"):
        Decoding.of("greedy", {"min_words": -1})
    check_min_words(15, 15, "PETER")
    with pytest.raises(ConfigError, match=r"min_words \(16\) is more than the 15 words PETER writes at most"):
        check_min_words(16, 15, "PETER")


def test_a_wide_beam_decodes_fewer_pairs_at_once():
    """Pairs decoded at once: batch_size, but a beam wider than the default (4) takes as many
    pairs as keep the decoder rows (pairs × beam) at batch_size × 4, and at least one."""
    for method in ("greedy", "sample"):
        assert pairs_per_batch(method, 4, 256) == 256
    assert pairs_per_batch("beam", 1, 256) == pairs_per_batch("beam", 4, 256) == 256
    assert pairs_per_batch("beam", 5, 256) == 204
    assert pairs_per_batch("beam", 64, 256) == 16
    assert pairs_per_batch("beam", 64, 8) == 1


def test_a_seed_gives_each_pair_a_stream_of_its_own():
    assert Decoding.of("sample").draws(["u"], ["i"]) is None
    a = Decoding.of("sample", {"seed": 5}).draws(["u", "v", "u"], ["i", "i", "j"])
    b = Decoding.of("sample", {"seed": 5}).draws(["w", "u"], ["i", "i"])
    rows = np.arange(3)
    assert a.uniforms(rows, 4)[0] == b.uniforms(np.array([1]), 4)[0]  # the pair (u, i) wherever it is
    assert len(set(a.uniforms(rows, 4))) == 3  # other pairs, other numbers
    assert a.uniforms(rows, 4)[0] != a.uniforms(rows, 5)[0]  # and another at each step
    other = Decoding.of("sample", {"seed": 6}).draws(["u"], ["i"])
    assert other.uniforms(np.array([0]), 4)[0] != a.uniforms(rows, 4)[0]
    assert a.take(slice(1, 3)).uniforms(np.array([0]), 2)[0] == a.uniforms(rows, 2)[1]


def test_seeded_sampling_gives_a_pair_the_same_text_in_any_batch():
    from whyrec.explain.pair_draws import PairDraws

    dec = _decoder(seed=5, vocab=30)
    ctx = torch.randn(6, 3)
    users, items = [f"u{k}" for k in range(6)], ["i"] * 6
    whole = sample(dec, ctx, BOS, EOS, PAD, max_len=9, generator=PairDraws.of(1, users, items)).tokens
    for k in range(6):
        alone = sample(dec, ctx[k:k + 1], BOS, EOS, PAD, max_len=9, generator=PairDraws.of(1, users[k:k + 1], items[:1]))
        assert torch.equal(alone.tokens[0, :whole.shape[1]], whole[k][:alone.tokens.shape[1]])
        assert (whole[k, alone.tokens.shape[1]:] == PAD).all()
    other = sample(dec, ctx, BOS, EOS, PAD, max_len=9, generator=PairDraws.of(2, users, items)).tokens
    assert not torch.equal(other, whole)
