"""The Corpus itself: taking rows, validation and its summary, stats, ids and texts as files give them."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from tests.conftest import REVIEWS
from whyrec.data import load_corpus


def test_taking_rows_keeps_the_quadruples_of_those_rows_only(tmp_path):
    path = tmp_path / "reviews.pickle"
    records = [{"user": u, "item": i, "rating": r, "text": t, "template": (f"feature{n}", "great", t.lower(), 1)}
               for n, (u, i, r, t) in enumerate(REVIEWS)]
    path.write_bytes(pickle.dumps(records, protocol=2))
    corpus = load_corpus(path)
    part = corpus.take([4, 1])
    assert list(part.users) == [REVIEWS[4][0], REVIEWS[1][0]]
    assert sorted(part.features["feature"]) == ["feature1", "feature4"]
    assert set(part.features["position"]) == set(part.positions.tolist())
    assert corpus.take([]).features.empty and len(corpus.features) == len(REVIEWS)  # the source is untouched


def test_the_summary_shows_the_first_record_skipped_for_a_value_it_could_not_read():
    """A count alone ("2 skipped (bad rating)") left the user to find which value was wrong."""
    from whyrec.data.corpus import RawRecord, build_corpus

    values = [("u1", "4", "good"), ("u2", "four", "fine"), ("", "5", "ok"), ("u3", "n/a", "meh"), ("u4", "5", "")]
    records = [RawRecord(user=u, item="i", rating=r, text=t, position=n, line=n + 2)
               for n, (u, r, t) in enumerate(values)]
    report = build_corpus(records, source="r.csv").report
    assert "2 skipped (bad rating; the first, line 3: rating 'four' is not a number)" in report.summary()
    assert report.summary().endswith("1 skipped (empty text), 1 skipped (missing user)")  # no example needed
    assert report.to_dict()["first_skipped"] == {"bad rating": "line 3: rating 'four' is not a number"}


def test_stats_say_how_many_reviews_users_and_items_have_and_when_they_were_written():
    from whyrec.data.corpus import RawRecord, build_corpus

    rows = [("a", "x", 1_500_000_000), ("a", "y", None), ("a", "z", 1_600_000_000), ("b", "x", 1_400_000_000),
            ("c", "x", "2019-12-31T23:30:00-01:00")]  # 2020-01-01 in UTC
    corpus = build_corpus([RawRecord(user=u, item=i, rating=4, text="fine", time=t, position=n, line=n + 1)
                           for n, (u, i, t) in enumerate(rows)], source="r.csv")
    stats = corpus.stats()
    assert stats["reviews_per_user"] == {"min": 1, "median": 1.0, "mean": 5 / 3, "max": 3, "with_one": 2}
    assert stats["reviews_per_item"] == {"min": 1, "median": 1.0, "mean": 5 / 3, "max": 3, "with_one": 2}
    assert (stats["first_review"], stats["last_review"], stats["reviews_without_time"]) == \
        ("2014-05-13", "2020-09-13", 1)
    far = build_corpus([RawRecord(user="u", item="i", rating=4, text="fine", time=1.6e15, position=0, line=1)],
                       source="r.csv").stats()  # microseconds: past the calendar even read as milliseconds
    assert far["first_review"] == "1600000000000 s (no calendar date)"
    empty = corpus.take([]).stats()
    assert empty["first_review"] is None and empty["reviews_per_user"]["max"] == 0


def test_ratings_outside_the_scale_are_counted_with_their_range():
    """Half stars read on the default 1–5 scale are skipped: the count says which ratings were, and
    which options set the scale (MovieLens' 0.5 would otherwise go unnoticed among the counts)."""
    from whyrec.data.corpus import RawRecord, build_corpus

    records = [RawRecord(user="u", item=f"i{n}", rating=r, text="fine", position=n, line=n + 1)
               for n, r in enumerate([0.5, 4, 7, 3, 0.5])]
    corpus = build_corpus(records, source="half.csv")
    assert len(corpus) == 2 and corpus.report.outside_scale == (0.5, 7.0)
    assert "3 skipped (rating out of scale: 0.5 to 7, outside 1 to 5; --min-rating and --max-rating set the scale)" \
        in corpus.report.summary()
    assert build_corpus(records, source="half.csv", rating_scale=(0.5, 10)).report.outside_scale is None
    assert "1 skipped (rating out of scale: 7, outside 0.5 to 5; --min" in \
        build_corpus(records, source="half.csv", rating_scale=(0.5, 5)).report.summary()
    shelved = [RawRecord(user="u", item=f"i{n}", rating=r, text="fine", position=n, line=n + 1)
               for n, r in enumerate([0, 4, 0])]  # Goodreads: 0 for a book shelved, not rated
    assert "2 skipped (rating out of scale: 0, outside 1 to 5; --min-rating and --max-rating set the scale, where 0 " \
        "usually means not rated (Goodreads' shelved books))" in build_corpus(shelved, source="g.json").report.summary()


def test_html_tags_in_a_review_are_not_read_as_words(tmp_path):
    """Amazon's 2018 texts link products with anchors, whose attributes the tokenizer read as words
    ("a data hook product link linked …"); a line-breaking tag cuts the sentence; a text's own "<3"
    or "<grin>", not an HTML tag, is kept."""
    from whyrec.data.text import split_sentences, tokenize

    texts = ['Try&nbsp;<a data-hook="product-link-linked" class="a-link-normal" href="/Seed/dp/B000B7VBOG/ref=cm_cr_arp'
             '_d_rvw_txt?ie=UTF8">Seed</a>&nbsp;too',
             "<p>Great <B>paper</B> quality.</p><p>Fast delivery</p>",
             "love it <3 <grin> so x < y > z, <a lot of fun> <i love it>",
             "Lists:<ul><li>thick</li><li class='x' id=y>glossy</li></ul><hr/>done <br >"]
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"user": ["u1", "u2", "u3", "u4"], "item": ["i1"] * 4, "rating": [5, 4, 3, 2],
                  "text": texts}).to_csv(path, index=False)
    read = load_corpus(path).reviews["text"].tolist()
    assert tokenize(read[0]) == ["try", "seed", "too"]
    assert split_sentences(read[1]) == ["Great paper quality.", "Fast delivery"]
    assert read[2] == "love it <3 <grin> so x < y > z, <a lot of fun> <i love it>"
    assert split_sentences(read[3]) == ["Lists:", "thick", "glossy", "done"]


def test_whole_number_ids_stored_as_floats_read_as_the_whole_numbers(tmp_path):
    """A column of integer ids with a missing value is a float column: user 3 was read as "3.0"."""
    import warnings

    frame = pd.DataFrame({"user": [1.0, 2.0, np.nan, 3.0], "item": [10, 11, 12, 13], "rating": [5, 4, 3, 2],
                          "text": ["good sound"] * 4})
    frame.to_parquet(tmp_path / "ids.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the row without a user is skipped and counted
        corpus = load_corpus(tmp_path / "ids.parquet")
    assert sorted(corpus.reviews["user"]) == ["1", "2", "3"] and sorted(corpus.reviews["item"]) == ["10", "11", "13"]
    from whyrec.data.field_values import clean_id

    assert [clean_id(v) for v in (12.0, np.float64(7.0), 1.5, -3.0, " 0012 ", 2.0 ** 60)] == \
        ["12", "7", "1.5", "-3", "0012", str(2.0 ** 60)]
    from whyrec.ids import IdMap

    ids = IdMap(["1", "2", "3"])  # and a float key is looked up as the whole number (np.float64 from a column)
    assert 3.0 in ids and ids.index(np.float64(2.0), "user") == 1 and 3.5 not in ids


def test_invisible_characters_around_an_id_do_not_make_another_id(tmp_path):
    """A zero-width space pasted after an id made a second user that looked like the first, and an
    id of nothing but one was read as a user: both are stripped, and the second row is skipped as
    missing its user."""
    import warnings

    path = tmp_path / "reviews.csv"
    path.write_text("user,item,rating,text\nu1,i1,5,good sound\nu1\u200b,i2,4,fine strings\n"
                    "\u200b,i3,3,ok\n\ufeffu2,\u200ei1,2,bad\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        corpus = load_corpus(path)
    assert corpus.reviews["user"].tolist() == ["u1", "u1", "u2"]
    assert corpus.reviews["item"].tolist() == ["i1", "i2", "i1"]
    assert corpus.report.skipped == {"missing user": 1} and any("missing user" in str(w.message) for w in said)


def test_the_gaps_of_nullable_columns_are_missing_values_not_ids():
    """pandas' nullable columns (Int64, string, Arrow) hold pd.NA in their gaps, which read as the
    user "<NA>"; a float32 column's NaN read as the user "nan"."""
    import warnings

    from whyrec.data import corpus_from_frame

    frame = pd.DataFrame({"user": pd.array([1, None, 2, 3], dtype="Int64"),
                          "item": pd.array(["a", "b", None, "c"], dtype="string"),
                          "rating": pd.array([5, 4, 3, None], dtype="Int64"),
                          "text": pd.array(["good", "fine", "ok", "bad"], dtype="string"),
                          "time": pd.array([1_600_000_000, 1_600_000_001, None, None], dtype="Int64")})
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        corpus = corpus_from_frame(frame)
    assert corpus.reviews["user"].tolist() == ["1"] and corpus.reviews["item"].tolist() == ["a"]
    assert "1 skipped (missing item), 1 skipped (missing rating), 1 skipped (missing user)" in str(said[-1].message)
    with_gaps = frame.assign(rating=[5, 4, 3, 2], user=np.array([1, np.nan, 2, 3], dtype=np.float32),
                             item=["a", "b", "c", "d"], text=pd.array(["good", None, "ok", "bad"], dtype="string"))
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        corpus = corpus_from_frame(with_gaps)
    assert corpus.reviews["user"].tolist() == ["1", "2", "3"]
    assert corpus.reviews["time"].isna().tolist() == [False, True, True]  # no time, not an unreadable one
    assert "1 skipped (missing user)" in str(said[-1].message)


def test_a_corpus_and_a_split_show_their_sizes_and_scale(tmp_path, planted):
    from whyrec.data import DataWarning, corpus_from_frame, fixed_index_split, ratio_split, write_index_split

    frame = pd.DataFrame(REVIEWS, columns=["user", "item", "rating", "text"])
    corpus = corpus_from_frame(frame, name="shop")
    assert repr(corpus) == "<Corpus 'shop': 6 reviews, 3 users, 3 items, ratings 1 to 5>"
    with pytest.warns(DataWarning, match="read as ratings only"):
        ten = corpus_from_frame(frame.drop(columns="text").assign(rating=frame["rating"] * 2), name="ten",
                                rating_scale=(0.5, 10))
    assert repr(ten.take([0])) == "<Corpus 'ten': 1 review, 1 user, 1 item, ratings 0.5 to 10, no text>"
    split = ratio_split(planted.corpus, seed=0)
    sizes = f"train {len(split.train):,}, valid {len(split.valid):,}, test {len(split.test):,} reviews"
    assert repr(split) == f"<Split {split.name!r}: {sizes}>" and repr(split.test).startswith("<Corpus 'planted/test': ")
    write_index_split(split, tmp_path / "1")
    fixed = fixed_index_split(planted.corpus, tmp_path / "1")
    assert repr(fixed).endswith(f" (index files in '{tmp_path / '1'}'): {sizes}>")


def test_stats_counts_and_density_by_hand_and_of_nothing():
    from whyrec.data.corpus import RawRecord, build_corpus

    rows = [("a", "x"), ("a", "y"), ("b", "x"), ("c", "z"), ("a", "z")]  # 3 users, 3 items, 5 of 9 pairs
    meta = {"x": {"title": "Strings"}, "y": {"brand": "Acme"}, "elsewhere": {"title": "Not reviewed"}}
    corpus = build_corpus([RawRecord(user=u, item=i, rating=4, text="fine words", position=n, line=n + 1)
                           for n, (u, i) in enumerate(rows)], source="r.csv", item_meta=meta)
    stats = corpus.stats()
    assert (stats["reviews"], stats["users"], stats["items"], stats["density"]) == (5, 3, 3, 5 / 9)
    assert (stats["items_with_metadata"], stats["items_with_title"], stats["mean_words_per_review"]) == (2, 1, 2.0)
    empty = corpus.take([]).stats()
    assert (empty["reviews"], empty["density"], empty["mean_words_per_review"]) == (0, 0.0, 0.0)
    nothing = {"min": 0, "median": 0.0, "mean": 0.0, "max": 0, "with_one": 0}
    assert empty["reviews_per_user"] == nothing and empty["reviews_per_item"] == nothing


def test_the_range_outside_the_scale_spans_every_rating_skipped():
    from whyrec.data.corpus import RawRecord, build_corpus

    records = [RawRecord(user="u", item=f"i{n}", rating=r, text="fine", position=n, line=n + 1)
               for n, r in enumerate([0.5, 7, 9, 4])]
    assert build_corpus(records, source="r.csv").report.outside_scale == (0.5, 9.0)


def test_a_scale_of_one_rating_is_refused():
    from whyrec.data.corpus import RawRecord, build_corpus
    from whyrec.errors import ConfigError

    with pytest.raises(ConfigError, match="rating scale 3..3: the lowest rating must be below the highest"):
        build_corpus([RawRecord(user="u", item="i", rating=3, text="fine", position=0, line=1)], source="r.csv",
                     rating_scale=(3, 3))


def test_the_first_duplicate_pair_is_the_one_refused():
    from whyrec.data.corpus import RawRecord, build_corpus
    from whyrec.errors import DataError

    pairs = [("u", "i"), ("v", "j"), ("u", "i"), ("v", "j")]
    records = [RawRecord(user=u, item=i, rating=4, text="fine", position=n, line=n + 2)
               for n, (u, i) in enumerate(pairs)]
    with pytest.raises(DataError, match=r"r\.csv:2.*duplicate \(user, item\) pair \(u, i\)"):
        build_corpus(records, source="r.csv", duplicates="error")


def test_parts_joined_keep_the_first_parts_scale_and_name():
    import warnings

    from whyrec.data import Corpus, corpus_from_frame

    frame = pd.DataFrame({"user": ["a", "b"], "item": ["x", "y"], "rating": [2.0, 8.0], "text": ["ok", "fine"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ten = corpus_from_frame(frame, rating_scale=(1, 10), name="ten")
    joined = Corpus.concat([ten.take([0]), ten.take([1], name="second")])
    assert joined.rating_scale == (1.0, 10.0) and joined.name == "ten" and len(joined) == 2
    assert Corpus.concat([ten], name="both").name == "both"
    assert Corpus(ten.reviews).rating_scale == (1.0, 5.0)  # a corpus made without a scale is on 1–5
