"""Encoder, decoder and decoding: shapes, the document mean, incremental = full re-run."""

import torch
import torch.nn as nn

from whyrec.explain.pair_draws import PairDraws
from whyrec.explain.seq2seq import (ContextGRUDecoder, ReviewDocumentEncoder, beam_decode, beam_search, draw,
                                    first_max, sample, sequence_nll, token_log_probs)

BOS, EOS, PAD = 0, 1, 2


def _decoder(vocab=12, ctx=3, seed=0):
    torch.manual_seed(seed)
    emb = nn.Embedding(vocab, 5, padding_idx=PAD)
    return ContextGRUDecoder(emb, ctx, hidden=7, dropout=0.0, never_emit=(BOS, PAD)).eval()


def test_document_vector_is_mean_of_review_vectors():
    torch.manual_seed(0)
    enc = ReviewDocumentEncoder(nn.Embedding(20, 4), hidden=3, out_dim=2, dropout=0.0).eval()
    tokens = torch.randint(3, 20, (5, 6))
    lengths = torch.tensor([6, 3, 4, 6, 1])
    owner = torch.tensor([0, 0, 1, 1, 1])
    out = enc(tokens, lengths, owner, n_owners=3)
    reviews = enc.encode_reviews(tokens, lengths)
    assert reviews.shape == (5, 6)
    # packed sequences: a review's vector ignores its padding
    again = enc.encode_reviews(tokens[1:2, :3], lengths[1:2])
    torch.testing.assert_close(reviews[1:2], again)
    torch.testing.assert_close(out[0], enc.project(reviews[:2].mean(0)))
    torch.testing.assert_close(out[1], enc.project(reviews[2:].mean(0)))
    torch.testing.assert_close(out[2], enc.project(torch.zeros(6)))  # empty document
    alone = enc(tokens[4:5], lengths[4:5], torch.tensor([0]), n_owners=1)  # a document of one review is that review
    torch.testing.assert_close(alone[0], enc.project(reviews[4]))
    # a review's vector: the forward GRU's state after its last word, the backward one's after its first
    for k in range(5):
        states, _ = enc.gru(enc.embedding(tokens[k, :lengths[k]])[None])  # (1, L, 2H), no padding to skip
        torch.testing.assert_close(reviews[k], torch.cat([states[0, -1, :3], states[0, 0, 3:]]))
    # shared reviews encoded once give the same vectors
    dedup = enc(tokens[[0, 1]], lengths[[0, 1]], torch.tensor([0, 1, 1]), 2, review_of=torch.tensor([0, 1, 0]))
    torch.testing.assert_close(dedup[1], enc.project(reviews[[1, 0]].mean(0)))


def test_teacher_forcing_matches_incremental_steps():
    dec = _decoder()
    ctx = torch.randn(4, 3)
    inputs = torch.randint(3, 12, (4, 5))
    inputs[:, 0] = BOS
    full = torch.log_softmax(dec(ctx, inputs), -1)
    hidden = None
    for t in range(5):
        logits, hidden = dec.step(ctx, inputs[:, t], hidden)
        torch.testing.assert_close(torch.log_softmax(logits, -1), full[:, t], atol=1e-5, rtol=1e-5)
    targets = torch.randint(3, 12, (4, 5))
    targets[0, 3:] = PAD
    assert torch.isinf(full[:, :, [BOS, PAD]]).all()  # never emitted
    torch.testing.assert_close(dec.target_log_probs(ctx, inputs, targets, PAD),
                               token_log_probs(dec(ctx, inputs), targets, PAD), atol=1e-5, rtol=1e-5)
    nll = sequence_nll(dec(ctx, inputs), targets, PAD)
    lp = token_log_probs(dec(ctx, inputs), targets, PAD)
    torch.testing.assert_close(nll, -lp.sum() / (targets != PAD).sum())


def _greedy_by_rerunning(dec, ctx, max_len):
    """Reference decoder that re-runs the whole prefix at every step (what caching avoids)."""
    seq = torch.full((ctx.shape[0], 1), BOS)
    done = torch.zeros(ctx.shape[0], dtype=torch.bool)
    out = []
    for _ in range(max_len):
        logits = dec(ctx, seq)[:, -1]
        logits[:, [BOS, PAD]] = float("-inf")
        nxt = logits.argmax(-1)
        nxt = torch.where(done, torch.full_like(nxt, PAD), nxt)
        out.append(nxt)
        done |= nxt == EOS
        seq = torch.cat([seq, nxt[:, None]], 1)
        if done.all():
            break
    return torch.stack(out, 1)


def test_incremental_greedy_equals_rerunning_prefix_and_beam_one():
    dec = _decoder(seed=3)
    ctx = torch.randn(6, 3)
    got = sample(dec, ctx, BOS, EOS, PAD, max_len=8, greedy=True)
    ref = _greedy_by_rerunning(dec, ctx, 8)
    assert torch.equal(got.tokens, ref)
    inputs = torch.cat([torch.full((6, 1), BOS), got.tokens[:, :-1]], 1)  # greedy log-probs are exact too
    torch.testing.assert_close(token_log_probs(dec(ctx, inputs), got.tokens, PAD), got.log_probs, atol=1e-5, rtol=1e-5)
    assert torch.equal(beam_search(dec, ctx, BOS, EOS, PAD, max_len=8, beam=1), ref)
    wide = beam_search(dec, ctx, BOS, EOS, PAD, max_len=8, beam=4)
    assert wide.shape[0] == 6 and (wide != BOS).all()


def test_beam_finds_sequences_at_least_as_likely_as_greedy():
    dec = _decoder(seed=5)
    ctx = torch.randn(8, 3)

    def score(tokens):
        inputs = torch.cat([torch.full((tokens.shape[0], 1), BOS), tokens[:, :-1]], 1)
        return token_log_probs(dec(ctx, inputs), tokens, PAD).sum(1)

    greedy = sample(dec, ctx, BOS, EOS, PAD, max_len=6, greedy=True).tokens
    beam = beam_search(dec, ctx, BOS, EOS, PAD, max_len=6, beam=5)
    assert (score(beam) >= score(greedy) - 1e-5).all()


def test_sampling_lengths_eos_and_log_probs():
    dec = _decoder(seed=1)
    ctx = torch.randn(16, 3)
    gen = torch.Generator().manual_seed(0)
    s = sample(dec, ctx, BOS, EOS, PAD, max_len=10, generator=gen, keep_hidden=True)
    assert s.tokens.shape == s.log_probs.shape and s.hidden.shape[:2] == s.tokens.shape
    assert not ((s.tokens == BOS) | ((s.tokens == PAD) & (torch.arange(s.tokens.shape[1]) < s.lengths[:, None]))).any()
    for row, n in zip(s.tokens, s.lengths):
        if (row == EOS).any():
            assert int((row == EOS).nonzero()[0]) == n - 1
        assert (row[n:] == PAD).all()
    # the recorded log-probs are those of teacher forcing on the sampled tokens
    inputs = torch.cat([torch.full((16, 1), BOS), s.tokens[:, :-1]], 1)
    torch.testing.assert_close(token_log_probs(dec(ctx, inputs), s.tokens, PAD), s.log_probs, atol=1e-5, rtol=1e-5)
    # rollouts continue a prefix from its state and keep it
    cont = sample(dec, ctx, BOS, EOS, PAD, max_len=10, prefix=s.tokens[:, :2], prefix_hidden=s.hidden[:, 1][None],
                  generator=gen)
    assert torch.equal(cont.tokens[:, :2], s.tokens[:, :2])


def test_sampled_rows_are_as_wide_as_the_longest_and_a_prefix_counts_toward_max_len():
    dec = _decoder(seed=2)
    ctx = torch.randn(8, 3)
    gen = torch.Generator().manual_seed(5)
    s = sample(dec, ctx, BOS, EOS, PAD, max_len=6, generator=gen, keep_hidden=True)
    assert s.tokens.shape[1] == int(s.lengths.max())  # no column of padding alone
    cont = sample(dec, ctx, BOS, EOS, PAD, max_len=6, prefix=s.tokens[:, :3], prefix_hidden=s.hidden[:, 2][None],
                  generator=gen)
    assert cont.tokens.shape[1] <= 6 and int(cont.lengths.max()) <= 6
    # a prefix that is already finished (it ends in <eos>, or is max_len long) comes back as it is
    done = torch.tensor([[5, EOS, PAD], [6, 7, EOS]])
    again = sample(dec, ctx[:2], BOS, EOS, PAD, max_len=5, prefix=done, prefix_hidden=torch.zeros(1, 2, 7),
                   generator=gen)
    assert torch.equal(again.tokens, done) and again.lengths.tolist() == [2, 3]
    # greedy decoding continued from its own prefix and state writes what it wrote
    greedy = sample(dec, ctx, BOS, EOS, PAD, max_len=6, greedy=True, keep_hidden=True)
    for t in (1, 2, 3):
        on = sample(dec, ctx, BOS, EOS, PAD, max_len=6, greedy=True, prefix=greedy.tokens[:, :t],
                    prefix_hidden=greedy.hidden[:, t - 1][None])
        assert torch.equal(on.tokens, greedy.tokens), t
    full = torch.tensor([[5, 6, 7]])
    assert torch.equal(sample(dec, ctx[:1], BOS, EOS, PAD, max_len=3, prefix=full, prefix_hidden=torch.zeros(1, 1, 7),
                              generator=gen).tokens, full)


def test_rows_that_all_end_early_leave_no_column_of_padding():
    dec = _decoder(seed=4)
    with torch.no_grad():
        dec.out_bias[EOS] = 3.0  # <eos> likely at every step: every row ends well before max_len
    s = sample(dec, torch.randn(8, 3), BOS, EOS, PAD, max_len=40, generator=torch.Generator().manual_seed(1))
    assert (s.tokens == EOS).any(dim=1).all() and int(s.lengths.max()) < 40
    assert s.tokens.shape[1] == int(s.lengths.max()) and s.log_probs.shape == s.tokens.shape


def test_pair_draws_continued_from_a_prefix_take_the_draws_after_it():
    """A pair's k-th word takes its stream's k-th number whether or not the words before it were
    a prefix: sampling continued from its own prefix and state writes what it wrote."""
    dec = _decoder(seed=3)
    ctx = torch.randn(6, 3)
    users, items = [f"u{n}" for n in range(6)], ["i"] * 6
    whole = sample(dec, ctx, BOS, EOS, PAD, max_len=8, generator=PairDraws.of(9, users, items), keep_hidden=True)
    assert int(whole.lengths.max()) >= 4  # words to continue past the prefix
    for t in (1, 2):
        on = sample(dec, ctx, BOS, EOS, PAD, max_len=8, generator=PairDraws.of(9, users, items),
                    prefix=whole.tokens[:, :t], prefix_hidden=whole.hidden[:, t - 1][None])
        assert torch.equal(on.tokens, whole.tokens), t


def test_a_finished_beam_hypothesis_keeps_its_score():
    """A hypothesis that has emitted <eos> extends with padding at log-probability 0: its score
    stays what it was, and a longer one that scores higher wins."""
    first = torch.log(torch.tensor([1e-9, 0.3, 1e-9, 0.7, 1e-9]))  # <eos> 0.3, "a" 0.7
    later = torch.log(torch.tensor([1e-9, 0.9, 1e-9, 0.1, 1e-9]))  # then <eos> 0.9

    def step(last, t):
        return (first if t == 0 else later).expand(last.shape[0], -1)

    # "<eos>": log 0.3 = −1.20; "a <eos>": log 0.7 + log 0.9 = −0.46, the best
    best = beam_decode(step, lambda origin: None, batch=1, bos=BOS, eos=EOS, pad=PAD, max_len=4, beam=2)
    assert best.tolist() == [[3, EOS]]


def test_the_length_penalty_divides_each_finished_score_by_its_length():
    """score / length ** α: "a <eos>" (log 0.7 + log 0.52 = −1.011, 2 words) against "a a <eos>"
    (log 0.7 + log 0.48 + log 0.72 = −1.419, 3 words). The shorter wins without a penalty and at
    α = ½ (−0.715 against −0.819), the longer at α = 1 (−0.505 against −0.473): a penalty that
    scaled score / length by α would rank every α > 0 as α = 1."""
    probs = {0: [1e-9, 0.3, 1e-9, 0.7, 1e-9], 1: [1e-9, 0.52, 1e-9, 0.48, 1e-9],
             2: [1e-9, 0.72, 1e-9, 0.28, 1e-9]}

    def step(last, t):
        return torch.log(torch.tensor(probs[min(t, 2)])).expand(last.shape[0], -1)

    def best(penalty):
        return beam_decode(step, lambda origin: None, batch=1, bos=BOS, eos=EOS, pad=PAD, max_len=5, beam=2,
                           length_penalty=penalty).tolist()[0]

    assert best(0.0) == [3, EOS, PAD] and best(0.5) == [3, EOS, PAD] and best(1.0) == [3, 3, EOS]


def test_first_max_is_argmax_with_its_value_ties_going_to_the_first():
    logits = torch.tensor([[0.5, 2.0, 2.0, -1.0],  # a tie: the first of the two
                           [float("-inf"), -3.0, float("-inf"), -3.5],
                           [7.0, 7.0, 7.0, 7.0],
                           [-1.0, -2.0, -3.0, 4.0]])
    values, indices = first_max(logits)
    assert indices.tolist() == [1, 1, 0, 3] == logits.argmax(dim=-1).tolist()
    assert values.tolist() == [2.0, -3.0, 7.0, 4.0]
    wide = torch.randn(64, 3750).round(decimals=1)  # many ties among a row's values
    wide[:, 100] = wide.amax(dim=1)  # and each row's maximum at least twice
    assert torch.equal(first_max(wide)[1], wide.argmax(dim=-1))


def test_unscored_decoding_writes_the_same_tokens_without_log_probs():
    """``scored=False`` is for the explanations shown: greedy skips the normalisation, which
    moves no row's best word, and the tokens are the scored decoding's, with the held-back words
    and the repeat block on too."""
    dec = _decoder(seed=4)
    ctx = torch.randn(10, 3)
    for settings in ({"greedy": True}, {"greedy": True, "no_repeat": True, "banned": (3,), "min_words": 2},
                     {"top_k": 4}):  # sampling: the same draws from the same stream
        made = {}
        for scored in (True, False):
            made[scored] = sample(dec, ctx, BOS, EOS, PAD, max_len=8, scored=scored,
                                  generator=torch.Generator().manual_seed(5), **settings)
        assert torch.equal(made[True].tokens, made[False].tokens), settings
        assert torch.equal(made[True].lengths, made[False].lengths)
        assert made[False].log_probs is None and made[True].log_probs.shape == made[True].tokens.shape


def test_no_repeat_blocks_immediate_repeats_and_repeated_bigrams():
    dec = _decoder(seed=7)
    with torch.no_grad():  # make every context love word 5 so plain greedy loops on it
        dec.out_bias.zero_()
        dec.out_bias[5] = 50.0
    ctx = torch.randn(4, 3)
    plain = sample(dec, ctx, BOS, EOS, PAD, max_len=8, greedy=True).tokens
    assert (plain == 5).all()
    blocked = sample(dec, ctx, BOS, EOS, PAD, max_len=8, greedy=True, no_repeat=True)
    for row, n in zip(blocked.tokens.tolist(), blocked.lengths.tolist()):
        words = row[:n]
        assert all(a != b for a, b in zip(words, words[1:]))
        bigrams = list(zip(words, words[1:]))
        assert len(bigrams) == len(set(bigrams))


def test_block_repeats_bans_exactly_the_last_word_and_its_earlier_followers():
    """Against the rule written out densely: −inf on ``last`` and on every word that followed
    ``last`` earlier in the row, and a row left with nothing allowed keeps its own logits."""
    from whyrec.explain.seq2seq import block_repeats

    def dense(logits, seq, last):
        banned = torch.zeros_like(logits, dtype=torch.bool)
        for b in range(logits.shape[0]):
            banned[b, last[b]] = True
            for t in range(seq.shape[1] - 1):
                if seq[b, t] == last[b]:
                    banned[b, seq[b, t + 1]] = True
        blocked = logits.masked_fill(banned, float("-inf"))
        return torch.where(torch.isinf(blocked).all(dim=1, keepdim=True), logits, blocked)

    g = torch.Generator().manual_seed(0)
    for trial in range(400):
        rows, vocab, length = (int(torch.randint(1, n, (1,), generator=g)) for n in (8, 7, 9))
        vocab += 1
        logits = torch.randn(rows, vocab, generator=g)
        if trial % 5 == 0:  # a row with one word left, which a ban may take
            logits[0, 1:] = float("-inf")
        seq, last = torch.randint(0, vocab, (rows, length), generator=g), torch.randint(0, vocab, (rows,), generator=g)
        assert torch.equal(block_repeats(logits, seq, last), dense(logits, seq, last)), trial
    one = block_repeats(torch.zeros(1, 4), torch.tensor([[1, 2, 1, 3]]), torch.tensor([1]))
    assert torch.isinf(one[0]).tolist() == [False, True, True, True]


def test_draw_is_torch_multinomial_on_the_cpu():
    probs = torch.softmax(torch.randn(6, 9), dim=1)
    ours = draw(probs, torch.Generator().manual_seed(4))
    theirs = torch.multinomial(probs, 1, generator=torch.Generator().manual_seed(4))[:, 0]
    assert torch.equal(ours, theirs) and ours.shape == (6,)


def test_banned_tokens_are_never_decoded_and_the_rest_renormalised():
    dec = _decoder()
    with torch.no_grad():
        dec.out_bias[5] = 50.0  # token 5 (say <unk>) would win every step
    ctx = torch.randn(3, 3)
    plain = sample(dec, ctx, BOS, EOS, PAD, max_len=6, greedy=True).tokens
    assert (plain == 5).any()
    for greedy in (True, False):
        out = sample(dec, ctx, BOS, EOS, PAD, max_len=6, greedy=greedy, banned=(5,),
                     generator=torch.Generator().manual_seed(0))
        assert not (out.tokens == 5).any()
        assert torch.all(out.log_probs <= 0) and torch.isfinite(out.log_probs).all()
    assert not (beam_search(dec, ctx, BOS, EOS, PAD, max_len=6, beam=3, banned=(5,)) == 5).any()
    assert (beam_search(dec, ctx, BOS, EOS, PAD, max_len=6, beam=3) == 5).any()


def test_min_words_holds_eos_back_until_a_row_has_that_many_words():
    """A decoder whose likeliest first word is <eos> writes empty explanations, by every method."""
    dec = _decoder()
    with torch.no_grad():
        dec.out_bias[EOS] = 50.0
    ctx = torch.randn(3, 3)

    def words(tokens):  # words of each row before its <eos>
        return [int(((row != EOS) & (row != PAD)).cumprod(0).sum()) for row in tokens]

    assert words(sample(dec, ctx, BOS, EOS, PAD, max_len=6, greedy=True).tokens) == [0, 0, 0]
    assert words(beam_search(dec, ctx, BOS, EOS, PAD, max_len=6, beam=3)) == [0, 0, 0]
    for min_words in (1, 4):
        for greedy in (True, False):
            out = sample(dec, ctx, BOS, EOS, PAD, max_len=6, greedy=greedy, min_words=min_words,
                         generator=torch.Generator().manual_seed(0))
            assert words(out.tokens) == [min_words] * 3  # and <eos> as soon as it may come
            assert torch.isfinite(out.log_probs[out.tokens != PAD]).all()
        assert words(beam_search(dec, ctx, BOS, EOS, PAD, max_len=6, beam=3, min_words=min_words)) == [min_words] * 3
    # a rollout's prefix counts: two words given, two more held
    prefix = torch.full((3, 2), 5)
    rolled = sample(dec, ctx, BOS, EOS, PAD, max_len=6, greedy=True, prefix=prefix, min_words=4,
                    prefix_hidden=torch.zeros(1, 3, 7))
    assert words(rolled.tokens) == [4, 4, 4]
