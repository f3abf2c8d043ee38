"""Formats with fixed fields: MovieLens ratings.dat and the PETER pickle (Yelp .ss: test_json_reviews)."""

from __future__ import annotations

import pickle

import pytest

from tests.conftest import REVIEWS, hostile_pickle
from whyrec.data import DataWarning, detect_format, load_corpus
from whyrec.errors import DataError, UnsafePickleError


def test_movielens_ratings_dat(tmp_path):
    """MovieLens 1M/10M ``ratings.dat`` (``UserID::MovieID::Rating::Timestamp``, no header, no text):
    found in its folder beside movies.dat and users.dat, detected, read as ratings only."""
    folder = tmp_path / "ml-1m"
    folder.mkdir()
    (folder / "ratings.dat").write_text("1::1193::5::978300760\n1::661::3::978302109\n\n2::3105\n"
                                        "2::1193::6::978300760\n2::1357::4::978298709\n", encoding="utf-8")
    (folder / "movies.dat").write_bytes("1::Toy Story (1995)::Animation|Children's|Comedy\n"
                                        "661::James and the Giant Peach (1996)::Animation|Children's|Musical\n"
                                        "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
                                        "1357::Shine (1996)::Drama|Romance\n".encode("latin-1"))
    (folder / "users.dat").write_text("1::F::1::10::48067\n", encoding="utf-8")
    assert detect_format(folder / "ratings.dat") == "movielens-dat"
    with pytest.warns(DataWarning, match=r"5 records read, 3 kept, 1 skipped \(malformed line; the first, line 4: "
                      r"expected 4 fields separated by '::' \(UserID::MovieID::Rating::Timestamp\), found 2\), 1 skipped "
                      r"\(rating out of scale: 6, outside 1 to 5; --min-rating and --max-rating set the scale\), "
                      r"ratings only"):
        corpus = load_corpus(folder)
    assert corpus.ratings_only and corpus.report.source.endswith("ratings.dat")
    assert list(zip(corpus.users, corpus.items, corpus.ratings)) == [("1", "1193", 5.0), ("1", "661", 3.0),
                                                                     ("2", "1357", 4.0)]
    assert list(corpus.reviews["time"]) == [978300760.0, 978302109.0, 978298709.0]
    assert list(corpus.positions) == [0, 1, 5]  # line numbers from 0, as split index files of such files count
    # movies.dat beside it is the item metadata: titles and genres of the rated movies only
    assert corpus.item_title("661") == "James and the Giant Peach (1996)" and "1" not in corpus.item_meta
    assert corpus.item_meta["1357"]["category"] == ["Drama", "Romance"]
    (folder / "movies.dat").unlink()
    (folder / "movies.csv").write_text('movieId,title,genres\n661,"Giant Peach, James and the (1996)",Animation\n'
                                       "1193,Cuckoo (1975),(no genres listed)\n", encoding="utf-8")
    (folder / "ratings.dat").rename(folder / "ratings.csv.dat")  # ratings.csv's movies.csv, read as a CSV
    (folder / "ratings.csv").write_text("userId,movieId,rating\n1,661,4\n2,1193,5\n", encoding="utf-8")
    with pytest.warns(DataWarning, match="ratings only"):
        latest = load_corpus(folder)
    assert latest.item_title("661") == "Giant Peach, James and the (1996)" and latest.item_meta["1193"]["category"] == []
    (folder / "ratings.csv").unlink()
    (folder / "ratings.csv.dat").rename(folder / "ratings.dat")
    with pytest.raises(DataError, match=r"ratings.dat:4: expected 4 fields separated by '::'"):
        load_corpus(folder, strict=True)
    with pytest.raises(DataError, match="has fixed fields"):
        load_corpus(folder, columns={"user": "who"})


def _peter_records():
    return [{"user": u, "item": i, "rating": r, "template": ("sound", "great", t.lower(), 1), "text": t}
            for u, i, r, t in REVIEWS]


def test_peter_pickle_reads_quadruples(tmp_path):
    path = tmp_path / "reviews.pickle"
    path.write_bytes(pickle.dumps(_peter_records(), protocol=2))
    assert detect_format(path) == "peter-pickle"
    corpus = load_corpus(path)
    assert len(corpus) == len(REVIEWS)
    assert corpus.features is not None and list(corpus.features["feature"]) == ["sound"] * len(REVIEWS)
    assert corpus.texts[0] == REVIEWS[0][3].lower()


def test_peter_pickle_quadruples_are_folded_with_the_texts(tmp_path):
    """With fold_unicode the explanation sentences and feature words PETER trains on are written
    in ASCII as the reviews are, so the two still match."""
    path = tmp_path / "reviews.pickle"
    records = [{"user": "u1", "item": "i1", "rating": 5, "text": "The café’s tone isn’t thin",
                "template": ("café", "great", "the café’s tone isn’t thin", 1)}]
    path.write_bytes(pickle.dumps(records, protocol=2))
    folded = load_corpus(path, fold_unicode=True)
    assert folded.texts[0].lower() == "the cafe's tone isn't thin"
    assert list(folded.features.loc[0, ["feature", "sentence"]]) == ["cafe", "the cafe's tone isn't thin"]
    assert load_corpus(path).features.loc[0, "feature"] == "café"  # as shipped without it


def test_peter_pickle_refuses_code(tmp_path):
    path = hostile_pickle(tmp_path / "reviews.pickle")
    with pytest.raises(UnsafePickleError, match=r"refers to (os|posix)\.system"):
        load_corpus(path)


def test_yelp_ss_fields_in_order_and_lines_named(tmp_path):
    """``user\\t\\tproduct\\t\\trating\\t\\ttext``; the text's ``<sssss>`` sentence marks read as spaces,
    and double tabs inside a text kept; a record is named by its physical line."""
    path = tmp_path / "yelp13.ss"
    path.write_text("alice\t\tguitar\t\t5\t\tgreat sound <sssss> loud\n\nbob\t\tstrap\t\t4\t\tfine\t\tstrap\n"
                    "carol\t\tcable\t\t9\t\ttoo high\n", encoding="utf-8")
    with pytest.warns(DataWarning, match="rating out of scale"):
        corpus = load_corpus(path)
    assert list(zip(corpus.users, corpus.items, corpus.ratings)) == [("alice", "guitar", 5.0), ("bob", "strap", 4.0)]
    assert corpus.texts == ["great sound   loud", "fine\t\tstrap"] and list(corpus.positions) == [0, 2]
    with pytest.raises(DataError, match=r"yelp13\.ss:4: field 'rating'"):
        load_corpus(path, strict=True)


def test_a_movielens_record_is_named_by_its_line(tmp_path):
    path = tmp_path / "ratings.dat"
    path.write_text("1::1193::5::978300760\n\n1::661::7::978302109\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"ratings\.dat:3: field 'rating'"):
        load_corpus(path, strict=True)


def test_a_peter_template_gives_its_sentence_and_a_record_is_named_by_its_place(tmp_path):
    """The sentence is the template's third element, whether it holds three (feature, adjective,
    sentence), four (and the sentiment, as PETER's do) or more; without a template, the record's
    text. A record is named by its place in the list, from 1."""
    records = [{"user": "u1", "item": "i1", "rating": 5, "text": "the whole review", "template": ("tone", "warm",
                                                                                                   "warm tone")},
               {"user": "u2", "item": "i1", "rating": 4, "text": "the whole review",
                "template": ("strap", "soft", "soft strap", -1, "extra")},
               {"user": "u3", "item": "i1", "rating": 3, "text": "no template here"},
               {"user": "u4", "item": "i1", "rating": 8, "text": "too high", "template": ("a", "b", "too high", 1)}]
    path = tmp_path / "reviews.pickle"
    path.write_bytes(pickle.dumps(records, protocol=2))
    with pytest.warns(DataWarning, match="rating out of scale"):
        corpus = load_corpus(path)
    assert corpus.texts == ["warm tone", "soft strap", "no template here"]
    assert corpus.features[["position", "feature", "opinion", "sentence", "sentiment"]].values.tolist() == [
        [1, "strap", "soft", "soft strap", -1]]  # a quadruple needs all four; the one of a skipped record is left out
    with pytest.raises(DataError, match=r"reviews\.pickle:4: field 'rating'"):
        load_corpus(path, strict=True)
