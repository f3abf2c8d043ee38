"""Alignment metrics: the sentiment judge, sentiment accuracy by hand, normalised MI."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from whyrec.align.mine import MINEConfig
from whyrec.data.synthetic import make_planted_corpus
from whyrec.metrics.alignment import (SentimentJudge, feature_mi, normalised_rating_mi, sentiment_accuracy,
                                      sentiment_agreement, sentiment_base_rate)


def test_sentiment_accuracy_by_hand():
    # ratings 5, 4, 2, 3 ; judged 5, 5, 1, 4 → exact: 1/4; 3-class: pos=pos, pos=pos, neg=neg, neu≠pos → 3/4
    assert sentiment_accuracy([5, 5, 1, 4], [5.0, 4.2, 1.6, 3.0]) == {"acc5": 25.0, "acc3": 75.0}
    agreement = sentiment_agreement([5, 5, 1, 4], [5.0, 4.2, 1.6, 3.0])  # the same, record by record
    assert agreement["acc5"].tolist() == [True, False, False, False]
    assert agreement["acc3"].tolist() == [True, True, True, False]
    with pytest.raises(ValueError, match="no explanations"):
        sentiment_accuracy([], [])


def test_sentiment_base_rate_is_the_commonest_class_share():
    # classes 5, 4, 2, 3, 5: the commonest 5-class is 5 (2 of 5); 3-class: positive 3 of 5
    assert sentiment_base_rate([5.0, 4.2, 1.6, 3.0, 4.6]) == {"acc5": 40.0, "acc3": 60.0}
    # it is what judging every text as that class scores
    ratings = [5.0, 4.2, 1.6, 3.0, 4.6]
    assert sentiment_accuracy([5] * 5, ratings)["acc5"] == 40.0 and sentiment_accuracy([4] * 5, ratings)["acc3"] == 60.0
    assert sentiment_base_rate([1.0, 1.2, 2.0]) == pytest.approx({"acc5": 200 / 3, "acc3": 100.0})
    with pytest.raises(ValueError, match="no ratings"):
        sentiment_base_rate([])


def test_judge_learns_planted_sentiment_and_round_trips(tmp_path):
    corpus = make_planted_corpus(n_users=80, n_items=20, reviews_per_user=10, seed=5).corpus
    texts, ratings = list(corpus.texts), corpus.ratings
    judge = SentimentJudge(epochs=150).fit(texts[:600], ratings[:600])
    held = sentiment_accuracy(judge.predict(texts[600:]), ratings[600:])
    majority = 100.0 * np.mean(np.rint(ratings[600:]) == np.bincount(np.rint(ratings[:600]).astype(int)).argmax())
    assert held["acc5"] > majority + 10 and held["acc3"] > held["acc5"]
    assert list(judge.predict(["really amazing strap , excellent", "horrible design , awful"])) [0] > 3
    # the features of the fit (grams tokenized once) are those of prediction (tokenized from text)
    from whyrec.data.text import tokenize
    from whyrec.metrics.alignment import _grams

    by_text, by_grams = judge._features(texts[:50]), judge._features(texts[:50], [_grams(tokenize(t)) for t in texts[:50]])
    assert torch.equal(by_text.indices(), by_grams.indices()) and torch.equal(by_text.values(), by_grams.values())
    row = by_text.to_dense()[0]  # (1 + log tf)·idf of each gram, L2-normalised, by hand
    counts = {g: _grams(tokenize(texts[0])).count(g) for g in _grams(tokenize(texts[0])) if g in judge.index}
    expected = torch.zeros(len(judge.index))
    for gram, tf in counts.items():
        expected[judge.index[gram]] = (1 + math.log(tf)) * float(judge.idf[judge.index[gram]])
    torch.testing.assert_close(row, expected / expected.norm())
    judge.save(tmp_path / "judge")
    again = SentimentJudge.load(tmp_path / "judge")
    assert np.array_equal(again.predict(texts[600:]), judge.predict(texts[600:]))



def test_judge_keeps_the_grams_of_two_texts_or_more_weighs_them_by_tf_idf_and_adds_its_bias():
    texts, ratings = ["good sound", "good sound quality", "good strap", "bad sound"], [5.0, 4.0, 4.0, 2.0]
    judge = SentimentJudge(epochs=30).fit(texts, ratings)
    # df: good 3, sound 3, the bigram "good sound" 2, every other gram 1 → those three are kept, by df
    # then name, with idf log(N/df): log(4/3), log(4/3), log(2)
    assert judge.index == {"good": 0, "sound": 1, "good sound": 2}
    torch.testing.assert_close(judge.idf, torch.tensor([math.log(4 / 3), math.log(4 / 3), math.log(2.0)]))
    # a text's features: (1 + log tf)·idf of each kept gram, L2-normalised ("good" twice)
    row = torch.tensor([(1 + math.log(2.0)) * math.log(4 / 3), math.log(4 / 3), math.log(2.0)])
    torch.testing.assert_close(judge._features(["good good sound"]).to_dense()[0], row / row.norm())
    # logits = x Wᵀ + b: a text with no kept gram is judged by the bias alone
    weight, bias = judge.linear.weight.detach(), judge.linear.bias.detach().clone()
    with torch.no_grad():
        judge.linear.bias.copy_(torch.tensor([0.0, 0.0, 0.0, 0.0, 5.0]))
    assert judge.predict(["awful", "nothing kept here"]).tolist() == [5, 5]
    with torch.no_grad():
        judge.linear.bias.copy_(bias)
    x = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # "good" alone, "sound" alone: one unit feature
    assert judge.predict(["good", "sound"]).tolist() == ((x @ weight.t() + bias).argmax(1) + 1).tolist()


def test_a_saved_judge_with_damaged_or_mismatched_files_is_refused_not_scored_with(tmp_path):
    import json

    from whyrec.errors import BundleError

    with pytest.raises(BundleError, match="not trained"):
        SentimentJudge().save(tmp_path / "untrained")
    texts = ["great strap , love it", "awful , broke at once", "fine , it works", "love the colour"] * 10
    judge = SentimentJudge(epochs=20).fit(texts, [5.0, 1.0, 3.0, 5.0] * 10)
    judge.save(tmp_path / "judge")
    tensors = tmp_path / "judge" / "judge.safetensors"
    data = bytearray(tensors.read_bytes())
    data[-3] ^= 0x10
    tensors.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="judge.safetensors: damaged or replaced"):
        SentimentJudge.load(tmp_path / "judge")
    judge.save(tmp_path / "judge")
    settings = tmp_path / "judge" / "judge.json"
    record = json.loads(settings.read_text())
    settings.write_text(json.dumps({**record, "grams": record["grams"][:-1]}))  # one n-gram fewer than the weights
    with pytest.raises(BundleError, match="broken sentiment judge"):
        SentimentJudge.load(tmp_path / "judge")
    settings.write_text(json.dumps({k: v for k, v in record.items() if k != "seed"}))
    with pytest.raises(BundleError, match="broken sentiment judge .KeyError: 'seed'"):
        SentimentJudge.load(tmp_path / "judge")

def test_normalised_mi_is_high_for_informative_and_low_for_random_embeddings():
    rng = np.random.default_rng(0)
    ratings = rng.integers(1, 6, size=3000).astype(float)
    informative = torch.tensor(np.eye(5)[ratings.astype(int) - 1] + 0.1 * rng.standard_normal((3000, 5)),
                               dtype=torch.float32)
    noise = torch.randn(3000, 5)
    cfg = MINEConfig(hidden=32, lr=3e-3, batch_size=300, epochs=40)
    high = normalised_rating_mi(informative, ratings, cfg)
    low = normalised_rating_mi(noise, ratings, cfg)
    assert high > 0.8 and high < 1.1  # I(R;E) ≤ H(R) when E determines R: close to 1
    assert low < 0.1
    assert math.isnan(normalised_rating_mi(noise, np.full(3000, 4.0), cfg))  # H(R) = 0: 0/0, undefined
    f = torch.tensor(np.eye(4)[rng.integers(0, 4, 3000)], dtype=torch.float32)
    assert feature_mi(f + 0.05 * torch.randn_like(f), f, cfg) == pytest.approx(math.log(4), abs=0.25)


def test_the_mine_settings_given_are_the_ones_trained_with(monkeypatch):
    """Each MI metric trains a fresh MINE with the MINEConfig it is given (its own defaults only
    without one)."""
    import whyrec.metrics.alignment as alignment

    used = []

    class Recording(alignment.MINE):
        def __post_init__(self) -> None:
            used.append(self.config)
            super().__post_init__()

    monkeypatch.setattr(alignment, "MINE", Recording)
    cfg = MINEConfig(hidden=4, lr=1e-3, batch_size=16, epochs=1, seed=3)
    embeddings = torch.randn(32, 3)
    normalised_rating_mi(embeddings, [1.0, 5.0] * 16, cfg)
    feature_mi(embeddings, torch.randn(32, 2), cfg)
    assert used == [cfg, cfg]
