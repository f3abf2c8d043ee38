import math

import numpy as np
import pytest
import torch

from whyrec.data.text import Vocabulary
from whyrec.explain.ngram import InterpolatedNgramLM
from whyrec.explain.recurrent_lm import RecurrentLanguageModel

TEXTS = [["great", "sound"], ["great", "price"], ["bad", "sound"], ["great", "sound"]]


def test_ngram_probabilities_are_normalised_and_hand_computed():
    vocab = Vocabulary.build(TEXTS)
    lm = InterpolatedNgramLM(vocab).fit(TEXTS)
    lm.weights = (0.5, 0.3, 0.19, 0.01)
    total = sum(lm.prob("<bos>", "great", w) for w in vocab.words)
    assert total == pytest.approx(1.0)
    # P(sound | <bos>, great) = .5·(2/3) + .3·(2/3) + .19·(3/12) + .01/|V|
    expected = 0.5 * 2 / 3 + 0.3 * 2 / 3 + 0.19 * 3 / 12 + 0.01 / len(vocab)
    assert lm.prob("<bos>", "great", "sound") == pytest.approx(expected)
    logps = lm.token_log_probs(["great", "sound"])
    assert len(logps) == 3 and all(lp < 0 for lp in logps)  # two words and <eos>
    tuned = InterpolatedNgramLM(vocab).fit(TEXTS, valid=[["great", "sound"]])
    assert sum(tuned.token_log_probs(["great", "sound"])) >= sum(lm.token_log_probs(["great", "sound"])) - 1e-9


def test_recurrent_lm_and_gcn_learn():
    texts = [["good", "x", str(i % 3)] for i in range(60)] + [["bad", "y", str(i % 3)] for i in range(60)]
    owners = np.array([[0]] * 60 + [[1]] * 60)
    vocab = Vocabulary.build(texts)
    lstm = RecurrentLanguageModel(vocab, word_dim=8, hidden=16)
    before = lstm.mean_nll(texts)
    lstm.fit(texts, epochs=15, lr=1e-2)
    assert lstm.mean_nll(texts) < before - 0.5
    gcn = RecurrentLanguageModel(vocab, word_dim=8, hidden=16, owner_sizes=[2]).fit(texts, owners, epochs=25, lr=1e-2)
    # the owner tells good from bad: the conditioned model is sure of the first word, the LM cannot be
    first_gcn = gcn.token_log_probs([texts[0], texts[-1]], owners[[0, -1]])
    first_lm = lstm.token_log_probs([texts[0], texts[-1]])
    assert all(g[0] > math.log(0.8) for g in first_gcn)
    assert all(l[0] < math.log(0.7) for l in first_lm)


def test_recurrent_lm_initial_weights_come_from_its_seed_alone():
    vocab = Vocabulary.build([["good", "sound"], ["bad", "sound"]])
    first = RecurrentLanguageModel(vocab, word_dim=8, hidden=16, owner_sizes=[3], seed=4)
    torch.rand(100)  # whatever the process draws in between
    state = torch.get_rng_state()
    again = RecurrentLanguageModel(vocab, word_dim=8, hidden=16, owner_sizes=[3], seed=4)
    assert torch.equal(torch.get_rng_state(), state)  # the caller's random state is untouched
    other = RecurrentLanguageModel(vocab, word_dim=8, hidden=16, owner_sizes=[3], seed=5)
    for (name, a), b, c in zip(first.named_parameters(), again.parameters(), other.parameters()):
        assert torch.equal(a, b), name
        if name != "out_bias":  # zeros whatever the seed
            assert not torch.equal(a, c), name


def test_the_epoch_the_mt_report_names_as_kept_is_the_one_whose_weights_the_lm_holds(monkeypatch):
    """Scripted validation NLLs 5, 4, 3.99995, 4.5: the third is lower by less than the LM's
    MIN_GAIN, so the second epoch's weights are kept, and the report's ``training_end`` says so
    (it said 3, the plain minimum)."""
    import copy

    from whyrec.explain.recurrent_lm import MIN_GAIN
    from whyrec.systems.mt_experiment import training_end

    scripted, states = iter([5.0, 4.0, 3.99995, 4.5]), []

    def mean_nll(self, texts, owners=None):
        states.append(copy.deepcopy(self.state_dict()))
        return next(scripted)

    monkeypatch.setattr(RecurrentLanguageModel, "mean_nll", mean_nll)
    vocab = Vocabulary.build(TEXTS)
    lm = RecurrentLanguageModel(vocab, word_dim=8, hidden=16).fit(TEXTS, valid_texts=TEXTS, epochs=4, patience=5)
    ended = training_end([h["valid_nll"] for h in lm.history], 4, MIN_GAIN)
    assert ended == {"epochs": 4, "best_epoch": 2, "cap": 4}
    held = lm.state_dict()
    assert [all(torch.equal(held[k], s[k]) for k in held) for s in states] == [False, True, False, False]
    assert training_end([], 4) == {"epochs": 0, "best_epoch": 0, "cap": 4}


def test_ngram_contexts_never_seen_take_the_order_below_and_still_sum_to_one():
    """(sound, great) never occurs, so P_ML(w | sound, great) is P_ML(w | great); after <eos>
    nothing follows, so P_ML(w | <eos>) is P_ML(w). They had counted as 0: the distribution
    after (sound, great) summed to 1 − λ₃ = 0.5, after (price, <eos>) to λ₁ + λ₀ = 0.2."""
    vocab = Vocabulary.build(TEXTS)
    lm = InterpolatedNgramLM(vocab).fit(TEXTS)
    lm.weights = (0.5, 0.3, 0.19, 0.01)
    for u, v in (("sound", "great"), ("price", "<eos>"), ("<unk>", "<unk>")):
        assert sum(lm.prob(u, v, w) for w in vocab.words) == pytest.approx(1.0), (u, v)
    # P(sound | sound, great) = .5·(2/3) + .3·(2/3) + .19·(3/12) + .01/|V|: the bigram twice
    assert lm.prob("sound", "great", "sound") == pytest.approx(0.8 * 2 / 3 + 0.19 * 3 / 12 + 0.01 / len(vocab))
    assert lm.prob("price", "<eos>", "sound") == pytest.approx(0.99 * 3 / 12 + 0.01 / len(vocab))
    untrained = InterpolatedNgramLM(vocab).fit([])
    assert sum(untrained.prob("<bos>", "<bos>", w) for w in vocab.words) == pytest.approx(1.0)


@pytest.mark.parametrize("scores, patience, epochs_run, kept", [
    ([5.0, 4.0, 4.5, 4.6, 3.0], 2, 4, 2),  # two epochs without a gain: stop
    ([5.0, 4.0, 4.5, 3.5, 3.6, 3.7, 1.0], 2, 6, 4),  # a gain starts the count again
    ([5.0, 5.5, 1.0], 1, 2, 1),
])
def test_lm_early_stopping_waits_patience_epochs_and_keeps_the_best(monkeypatch, scores, patience, epochs_run, kept):
    import copy

    scripted, states = iter(scores), []

    def mean_nll(self, texts, owners=None):
        states.append(copy.deepcopy(self.state_dict()))
        return next(scripted)

    monkeypatch.setattr(RecurrentLanguageModel, "mean_nll", mean_nll)
    lm = RecurrentLanguageModel(Vocabulary.build(TEXTS), word_dim=8, hidden=16).fit(
        TEXTS, valid_texts=TEXTS, epochs=len(scores), patience=patience)
    assert lm.history == [{"epoch": n + 1, "valid_nll": scores[n]} for n in range(epochs_run)]
    held = lm.state_dict()
    assert all(torch.equal(held[k], states[kept - 1][k]) for k in held)


def test_lm_a_gain_of_min_gain_exactly_is_none(monkeypatch):
    from whyrec.explain.recurrent_lm import MIN_GAIN

    scripted = iter([5.0, 5.0 - MIN_GAIN, 9.0])
    monkeypatch.setattr(RecurrentLanguageModel, "mean_nll", lambda self, texts, owners=None: next(scripted))
    lm = RecurrentLanguageModel(Vocabulary.build(TEXTS), word_dim=8, hidden=16).fit(
        TEXTS, valid_texts=TEXTS, epochs=3, patience=1)
    assert [h["epoch"] for h in lm.history] == [1, 2]


def test_lm_token_log_probs_give_every_text_its_words_and_eos_in_order():
    texts = [["great"], ["bad", "sound"], ["great", "price", "sound"]] * 3
    lm = RecurrentLanguageModel(Vocabulary.build(TEXTS), word_dim=8, hidden=16)
    for batch_size in (2, 256):
        logps = lm.token_log_probs(texts, batch_size=batch_size)
        assert [len(lp) for lp in logps] == [len(t) + 1 for t in texts]
        assert all((lp < 0).all() for lp in logps)
    np.testing.assert_allclose(np.concatenate(lm.token_log_probs(texts[:3])), np.concatenate(logps[:3]), rtol=1e-6)


def test_ngram_counts_and_each_tokens_context_by_hand():
    from collections import Counter

    lm = InterpolatedNgramLM(Vocabulary.build(TEXTS)).fit(TEXTS)
    b, e = "<bos>", "<eos>"
    assert lm.tri == Counter({(b, b, "great"): 3, (b, b, "bad"): 1, (b, "great", "sound"): 2, (b, "great", "price"): 1,
                              (b, "bad", "sound"): 1, ("great", "sound", e): 2, ("great", "price", e): 1,
                              ("bad", "sound", e): 1})
    assert lm.uni == Counter({"great": 3, "sound": 3, "price": 1, "bad": 1, e: 4}) and lm.total == 12
    # each token is scored in the context of the two before it: after (a, b) c is certain, after b alone not
    three = [["a", "b", "c"], ["x", "b", "d"]]
    lm = InterpolatedNgramLM(Vocabulary.build(three)).fit(three)
    lm.weights = (0.5, 0.3, 0.19, 0.01)
    assert lm.token_log_probs(["a", "b", "c"]) == pytest.approx(
        [math.log(lm.prob(b, b, "a")), math.log(lm.prob(b, "a", "b")), math.log(lm.prob("a", "b", "c")),
         math.log(lm.prob("b", "c", e))])
    assert lm.prob("a", "b", "c") == pytest.approx(0.5 * 1 + 0.3 * 0.5 + 0.19 * 1 / 8 + 0.01 / len(lm.vocab))


def test_ngram_weights_are_the_grid_point_of_highest_validation_likelihood():
    """λ₃, λ₂ on the 0.1 grid, λ₀ = 0.01, λ₁ the rest: a point of the simplex, and no other grid
    point gives the validation texts a higher log-likelihood."""
    vocab = Vocabulary.build(TEXTS)
    valid = [["great", "price"], ["bad", "sound"], ["bad", "price"], ["great", "great"]]
    tuned = InterpolatedNgramLM(vocab).fit(TEXTS, valid)
    l3, l2, l1, l0 = tuned.weights
    assert l0 == 0.01 and min(l3, l2, l1) >= 0 and l3 + l2 + l1 + l0 == pytest.approx(1.0)
    assert (round(l3 * 10, 9), round(l2 * 10, 9)) == (round(l3 * 10), round(l2 * 10))
    best = sum(sum(tuned.token_log_probs(t)) for t in valid)
    probe = InterpolatedNgramLM(vocab).fit(TEXTS)
    for a in range(11):
        for c in range(11 - a):
            probe.weights = (a / 10, c / 10, 1 - a / 10 - c / 10 - 0.01, 0.01)
            if probe.weights[2] >= 0:
                assert sum(sum(probe.token_log_probs(t)) for t in valid) <= best + 1e-9, probe.weights
