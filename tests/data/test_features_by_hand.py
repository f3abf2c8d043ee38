"""FeatureExtractor's rules, one at a time, on reviews written for each rule.

The other tests of ``data/features.py`` check the extraction as a whole (planted features found,
coverage on real reviews). These pin each rule of the module docstring: which words are features,
which opinion goes with a feature, which sentence a review keeps and its sentiment. VADER is
replaced by a scripted lexicon, so that every valence and compound score is known by hand.
"""

from __future__ import annotations

import pandas as pd
import pytest

from whyrec.data import corpus_from_frame
from whyrec.data.features import FeatureExtractor, coverage, feature_set, split_features
from whyrec.errors import ConfigError

# valences of the scripted VADER; "good" and "bad" cancel, as do "fine" and "meh", so a sentence
# holding both of a pair has compound 0
LEXICON = {"great": 3.1, "awful": -2.5, "good": 1.9, "bad": -1.9, "fine": 0.8, "meh": -0.8, "poor": -2.1}


class ScriptedVader:
    """Stands in for vaderSentiment's SentimentIntensityAnalyzer: its compound score is the sum of
    the words' valences (only its sign is read)."""

    lexicon = LEXICON

    def polarity_scores(self, text: str) -> dict:
        return {"compound": sum(LEXICON.get(word, 0.0) for word in text.split())}


@pytest.fixture(autouse=True)
def scripted_vader(monkeypatch):
    monkeypatch.setattr("vaderSentiment.vaderSentiment.SentimentIntensityAnalyzer", ScriptedVader)


def reviews(*rows: tuple[str, str, float, str]):
    """A corpus of (user, item, rating, text) rows."""
    frame = pd.DataFrame(rows, columns=["user", "item", "rating", "text"])
    return corpus_from_frame(frame, name="by-hand")


def test_features_are_frequent_noun_like_words_ranked_by_document_frequency():
    docs = [
        ["sound", "sound", "price", "price", "amp", "the", "great", "quickly", "tuned", "pa", "mp3"],
        ["sound", "price", "price", "amp", "the", "great", "quickly", "tuned", "pa", "mp3", "cable"],
        ["sound", "the", "great", "quickly", "tuned", "pa", "mp3"],
    ]
    extractor = FeatureExtractor(min_df=2)
    # sound in 3 documents; amp and price in 2 each (price said 4 times: documents are counted, not
    # words), ties by name; cable in 1 is below min_df. Left out: a stop word (the), a sentiment word
    # (great), an -ly and an -ed word, a word of two letters (pa) and one with a digit (mp3)
    assert extractor.candidate_features(docs, LEXICON) == ["sound", "amp", "price"]
    assert FeatureExtractor(min_df=2, max_features=2).candidate_features(docs, LEXICON) == ["sound", "amp"]
    assert FeatureExtractor(min_df=3).candidate_features(docs, LEXICON) == ["sound"]
    assert "cable" in FeatureExtractor(min_df=1).candidate_features(docs, LEXICON)


@pytest.mark.parametrize("text, window, pair", [
    ("sound is the great", 3, ("sound", "great")),  # opinion after the feature, exactly window away
    ("sound is the great", 2, None),  # one further than the window
    ("great is the sound", 3, ("sound", "great")),  # opinion before the feature
    ("great is the sound", 2, None),
    ("awful is sound great", 4, ("sound", "great")),  # the nearest opinion wins
    ("great sound awful", 4, ("sound", "great")),  # equally near: the first
])
def test_an_opinion_is_the_nearest_sentiment_word_within_the_window(text, window, pair):
    corpus = reviews(("u", "i", 3.0, text))
    table = FeatureExtractor(min_df=1, window=window, min_words=1).extract(corpus)
    found = None if table.empty else (table["feature"][0], table["opinion"][0])
    assert found == pair


def test_of_two_features_equally_near_an_opinion_the_more_frequent_is_taken():
    corpus = reviews(("u", "i", 3.0, "price great sound"), ("v", "j", 3.0, "the sound"), ("w", "k", 3.0, "no price"),
                     ("x", "l", 3.0, "the sound"))
    table = FeatureExtractor(min_df=1, min_words=1).extract(corpus)
    assert (table["feature"][0], table["opinion"][0]) == ("sound", "great")  # sound in 3 reviews, price in 2


@pytest.mark.parametrize("words, kept", [(3, False), (4, True), (6, True), (7, False)])
def test_a_sentence_is_kept_only_with_min_words_to_max_words_tokens(words, kept):
    text = " ".join(["sound", "great"] + ["the"] * (words - 2))
    table = FeatureExtractor(min_df=1, min_words=4, max_words=6).extract(reviews(("u", "i", 3.0, text)))
    assert (len(table) == 1) is kept


@pytest.mark.parametrize("text, sentiment", [
    ("the sound is great", 1),
    ("the sound is poor", -1),
    ("the sound is fine", 1),  # a compound between 0 and 1
    ("sound good and bad", 1),  # compound 0: the opinion's (good's) valence
    ("sound fine meh", 1),  # compound 0, and a valence between 0 and 1
    ("sound bad and good", -1),  # compound 0: bad's
    ("the great sound is bad and poor", -1),  # the compound's sign, not the opinion's (great)
    ("sound poor but great", 1),  # compound 1.0, positive, though the opinion (poor) is not
])
def test_sentiment_is_the_compound_scores_sign_else_the_opinions(text, sentiment):
    table = FeatureExtractor(min_df=1, min_words=1).extract(reviews(("u", "i", 3.0, text)))
    assert table["sentiment"].tolist() == [sentiment]


# two sentences: one with the more frequent feature (sound) and one praising the price
PRAISED_PRICE = "The sound is poor. The price is great."
PANNED_PRICE = "The sound is great. The price is poor."
OTHER_REVIEWS = [("v", "j", 3.0, "the sound"), ("w", "k", 3.0, "the sound")]


@pytest.mark.parametrize("text, rating, sentence", [
    (PRAISED_PRICE, 5.0, "the price is great"),
    (PRAISED_PRICE, 4.0, "the price is great"),  # 4 and up: the positive sentence, whatever its feature
    (PRAISED_PRICE, 3.0, "the sound is poor"),  # 3 expects nothing: the more frequent feature
    (PANNED_PRICE, 2.0, "the price is poor"),  # 2 and down: the negative sentence
    (PANNED_PRICE, 3.0, "the sound is great"),
    (PRAISED_PRICE, 2.0, "the sound is poor"),
])
def test_a_review_keeps_the_sentence_agreeing_with_its_rating_then_the_most_frequent_feature(text, rating, sentence):
    corpus = reviews(("u", "i", rating, text), *OTHER_REVIEWS)
    table = FeatureExtractor(min_df=1, min_words=1).extract(corpus)
    assert table["sentence"][0] == sentence


def test_of_equal_sentences_the_first_is_kept():
    corpus = reviews(("u", "i", 5.0, "The sound is great. The sound is fine."))
    table = FeatureExtractor(min_df=1, min_words=1).extract(corpus)
    assert table["sentence"].tolist() == ["the sound is great"]
    assert table[["position", "user", "item", "rating"]].values.tolist() == [[0, "u", "i", 5.0]]


def test_split_features_needs_a_feature_in_three_reviews():
    from whyrec.data.split import Split

    cable = [(f"u{n}", f"i{n}", 5.0, "the cable is great") for n in range(2)]
    strap = [(f"v{n}", f"j{n}", 5.0, "the strap is great") for n in range(2)]
    corpus = reviews(*cable, *strap, ("w", "k", 4.0, "the cable is fine"))
    split = Split(corpus.take(range(3)), corpus.take([3]), corpus.take([4]), "by-hand")
    table = split_features(split)  # all three parts' reviews counted: cable in 3, strap in 2
    assert set(table["feature"]) == {"cable"} and sorted(table["position"]) == [0, 1, 4]


def test_coverage_and_feature_set():
    corpus = reviews(*[(f"u{n}", "i", 5.0, "the sound is great") for n in range(3)],
                     ("x", "i", 5.0, "nothing to say"))
    table = FeatureExtractor(min_df=1, min_words=1).extract(corpus)
    assert coverage(table, corpus) == 0.75
    assert coverage(table, corpus.take([0, 3])) == 0.5  # only the corpus's own reviews count
    assert coverage(table, corpus.take([0])) == 1.0
    assert coverage(table, corpus.take([])) == 0.0
    assert feature_set(table) == {"sound"}
    assert feature_set(None) == set() and feature_set(table.head(0)) == set()


def test_the_smallest_settings_are_taken_and_the_defaults():
    FeatureExtractor(max_features=1, min_df=1, window=1, min_words=1, max_words=1)  # all at their least
    with pytest.raises(ConfigError, match="max_words"):
        FeatureExtractor(min_words=2, max_words=1)
    default = FeatureExtractor()
    assert (default.max_features, default.min_df, default.window, default.min_words, default.max_words) == (
        200, 5, 4, 4, 30)
