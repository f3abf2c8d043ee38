"""Every reader on small files the tests write, plus validation and detection."""

from __future__ import annotations

import gzip
import json
import os
import pickle
import warnings

import pandas as pd
import pytest

from tests.conftest import REVIEWS, amazon_lines
from whyrec.data import DataWarning, detect_format, load_corpus, read_item_metadata
from whyrec.errors import ConfigError, DataError, UnsafePickleError


def _quiet_load(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_corpus(path, **kw)


@pytest.mark.parametrize("style", ["2014", "2018"])
@pytest.mark.parametrize("gz", [True, False])
def test_amazon_json_plain_and_gzip(tmp_path, style, gz):
    path = tmp_path / ("r.json.gz" if gz else "r.json")
    text = "\n".join(amazon_lines(style=style)) + "\n"
    if gz:
        with gzip.open(path, "wt") as h:
            h.write(text)
    else:
        path.write_text(text)
    assert detect_format(path) == "amazon-json"
    corpus = load_corpus(path)
    assert len(corpus) == len(REVIEWS)
    assert corpus.reviews.loc[0, "user"] == "alice" and corpus.reviews.loc[0, "rating"] == 5.0
    assert corpus.reviews.loc[2, "summary"] == "summary 2"
    assert list(corpus.positions) == list(range(len(REVIEWS)))


def test_truncated_gzip_keeps_complete_records_and_warns(tmp_path):
    rows = REVIEWS * 200
    full = tmp_path / "full.json.gz"
    with gzip.open(full, "wt") as h:
        h.write("\n".join(amazon_lines(rows)) + "\n")
    cut = tmp_path / "cut.json.gz"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.warns(DataWarning, match="truncated"):
        corpus = load_corpus(cut, duplicates="keep-all")
    assert 0 < len(corpus) < len(rows)
    assert corpus.report.truncated
    # what was read is exactly the head of the file
    assert corpus.reviews["text"].tolist() == [r[3] for r in rows[: len(corpus)]]


def test_csv_and_tsv_with_column_mapping(tmp_path):
    frame = pd.DataFrame(REVIEWS, columns=["who", "what", "stars_given", "body"])
    csv_path, tsv_path = tmp_path / "r.csv", tmp_path / "r.tsv"
    frame.to_csv(csv_path, index=False)
    frame.to_csv(tsv_path, index=False, sep="\t")
    mapping = {"user": "who", "item": "what", "rating": "stars_given", "text": "body"}
    for path, fmt in ((csv_path, "csv"), (tsv_path, "tsv")):
        assert detect_format(path) == fmt
        corpus = load_corpus(path, columns=mapping)
        assert len(corpus) == len(REVIEWS)
        assert corpus.reviews.loc[1, "item"] == "cable"


def test_csv_missing_column_is_a_clear_error(tmp_path):
    path = tmp_path / "r.csv"
    pd.DataFrame(REVIEWS, columns=["reviewerID", "asin", "score_x", "reviewText"]).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"r\.csv: no column for 'rating'"):
        load_corpus(path)


def _csv(tmp_path, *rows, name="r.csv"):
    path = tmp_path / name
    path.write_text("\n".join(("user,item,rating,text",) + rows) + "\n")
    return path


def test_csv_text_with_line_breaks_is_one_review_and_lines_stay_physical(tmp_path):
    path = _csv(tmp_path, 'u1,i1,5,"great guitar,\nloud and ""bright"""', "u2,i2,4,fine", "u3,i3,9,too high")
    corpus = _quiet_load(path)
    assert corpus.reviews["text"].tolist() == ['great guitar,\nloud and "bright"', "fine"]
    with pytest.raises(DataError, match=r"r\.csv:5\b.*rating"):  # the header is line 1, the text spans 2-3
        load_corpus(path, strict=True)


def test_csv_row_with_a_wrong_field_count_is_skipped_not_shifted(tmp_path):
    # pandas used such a row's first field as an index and shifted the others one column left
    path = _csv(tmp_path, "u1,i1,5,good", "u2,i2,4,fine,extra", "u3,i3", "u4,i4,3,ok")
    corpus = _quiet_load(path)
    assert corpus.reviews[["user", "item"]].values.tolist() == [["u1", "i1"], ["u4", "i4"]]
    assert corpus.report.skipped["malformed row"] == 2
    assert list(corpus.positions) == [0, 3]  # data rows after the header, as split index files count them
    with pytest.raises(DataError, match=r"r\.csv:3: malformed row: 5 fields where the header has 4"):
        load_corpus(path, strict=True)


def test_csv_unbalanced_quote_that_swallows_reviews_is_an_error(tmp_path):
    path = _csv(tmp_path, 'u1,i1,5,"great product', "u2,i2,4,fine thing", 'u3,i3,3,"ok, really" ok"', "u4,i4,2,bad")
    with pytest.raises(DataError, match=r"r\.csv:2: a quote opened on this line closes only on line 4, "
                                        r"and line 3 between them reads as a review"):
        load_corpus(path)
    long = _csv(tmp_path, 'u0,i0,5,"starts here', *(f"u{k},i{k},4,fine {'x' * 60}" for k in range(1, 3000)),
                'u9,i9,3,"closed" late', name="long.csv")
    with pytest.raises(DataError, match=r"long\.csv:2: a quote opened on this line is still open on line \d+, where "
                                        r"the text outgrew the csv module's field limit, and line 3"):
        load_corpus(long)
    never_closed = _csv(tmp_path, "u1,i1,5,good", 'u2,i2,4,"fine thing', "u3,i3,3,ok", name="open.csv")
    with pytest.raises(DataError, match=r"open\.csv:3: a quote opened on this line is never closed"):
        load_corpus(never_closed)


def test_csv_text_after_a_closing_quote_is_a_malformed_row(tmp_path):
    path = _csv(tmp_path, 'u1,i1,5,"best" guitar', "u2,i2,4,fine")
    corpus = _quiet_load(path)
    assert corpus.reviews["user"].tolist() == ["u2"] and corpus.report.skipped["malformed row"] == 1
    with pytest.raises(DataError, match=r"r\.csv:2: malformed row: broken quoting"):
        load_corpus(path, strict=True)


def test_csv_header_with_byte_order_mark_repeated_column_and_gzip(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text("\ufeffuser,item,rating,text\nu1,i1,5,good\n", encoding="utf-8")
    assert _quiet_load(path).reviews.loc[0, "user"] == "u1"
    marked = tmp_path / "bom.jsonl"  # JSON Lines saved by a Windows tool: still JSON, first record kept
    marked.write_text("\n".join(amazon_lines(REVIEWS)), encoding="utf-8-sig")
    assert detect_format(marked) == "amazon-json" and len(load_corpus(marked)) == len(REVIEWS)
    for name, opener in (("excel.txt", open), ("excel.csv.gz", gzip.open)):  # Excel's "Unicode text": UTF-16
        wide = tmp_path / name
        with opener(wide, "wt", encoding="utf-16") as handle:
            handle.write("user\titem\trating\ttext\nu1\ti1\t5\tcafé crème\n")
        assert _quiet_load(wide, format="tsv").texts == ["café crème"]
    assert detect_format(tmp_path / "excel.txt") == "tsv"
    repeated = tmp_path / "twice.csv"
    repeated.write_text("user,item,rating,text,text\nu1,i1,5,good,bad\n")
    with pytest.raises(DataError, match=r"twice\.csv:1: column\(s\) \['text'\] appear more than once"):
        load_corpus(repeated)
    packed = tmp_path / "r.csv.gz"
    with gzip.open(packed, "wt") as handle:
        handle.write("user,item,rating,text\nu1,i1,5,\"good,\nreally\"\n")
    assert _quiet_load(packed, format="csv").reviews.loc[0, "text"] == "good,\nreally"


def test_text_that_is_not_utf8_is_read_as_windows_1252_and_counted(tmp_path):
    latin = tmp_path / "latin.csv"  # a whole file saved as Latin-1 by a spreadsheet
    latin.write_bytes("user,item,rating,text\nu1,i1,5,café crème\nu2,i1,4,naïve\n".encode("latin-1"))
    with pytest.warns(DataWarning, match="3 byte sequences not UTF-8, read as Windows-1252"):
        corpus = load_corpus(latin)
    assert corpus.texts == ["café crème", "naïve"] and corpus.report.not_utf8 == 3
    mixed = tmp_path / "mixed.json.gz"  # one Windows-1252 line among UTF-8 ones
    with gzip.open(mixed, "wb") as handle:
        handle.write((json.dumps({"reviewerID": "u1", "asin": "i1", "overall": 5, "reviewText": "it’s fine"},
                                 ensure_ascii=False) + "\n").encode("utf-8"))
        handle.write(b'{"reviewerID": "u2", "asin": "i1", "overall": 4, "reviewText": "it\x92s loud"}\n')
    with pytest.warns(DataWarning, match="1 byte sequence not UTF-8"):
        corpus = load_corpus(mixed)
    assert corpus.texts == ["it’s fine", "it’s loud"]
    assert "1 byte sequence not UTF-8" in corpus.report.summary()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # UTF-8 throughout: nothing to say
        assert load_corpus(_csv(tmp_path, "u1,i1,5,café")).report.not_utf8 == 0


def test_parquet(tmp_path):
    path = tmp_path / "r.parquet"
    pd.DataFrame(REVIEWS, columns=["user_id", "item_id", "rating", "text"]).to_parquet(path)
    assert detect_format(path) == "parquet"
    assert len(load_corpus(path)) == len(REVIEWS)


def test_a_table_without_a_text_column_is_read_as_ratings_only(tmp_path):
    """MovieLens' ratings.csv (userId, movieId, half stars, a timestamp) has no text: it is read,
    with a warning, as ratings only, which the rating models fit; what reads text refuses it."""
    from whyrec.explain.targets import explanation_targets

    lines = ["userId,movieId,rating,timestamp", "1,31,2.5,1260759144", "1,1029,3.0,1260759179",
             "2,31,0.5,1260759185", ",10,4.0,1260759185", "3,10,6.0,1260759185"]
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.warns(DataWarning, match="1 skipped"), pytest.warns(
            DataWarning, match=r"no column for 'text' \(looked for text, reviewText, review, review_text; "
            r"columns are \['userId', 'movieId', 'rating', 'timestamp'\]\): read as ratings only"):
        corpus = load_corpus(path, rating_scale=(0.5, 5.0))
    assert corpus.ratings_only and corpus.report.to_dict()["ratings_only"]
    assert list(corpus.users) == ["1", "1", "2"] and list(corpus.items) == ["31", "1029", "31"]
    assert list(corpus.ratings) == [2.5, 3.0, 0.5] and corpus.reviews["time"].notna().all()
    summary = corpus.report.summary()
    assert "1 skipped (missing user)" in summary and "1 skipped (rating out of scale: 6; --min-rating" in summary
    assert corpus.report.to_dict()["outside_scale"] == [6.0, 6.0]
    assert "ratings only (no text column)" in summary
    with pytest.raises(DataError, match=r"ratings.csv: holds ratings only \(no text column\), and an explainer needs "
                       r"review text; map the text column with --column text=NAME"):
        explanation_targets(corpus)
    frame = pd.read_csv(path).dropna()
    frame.to_parquet(tmp_path / "ratings.parquet")
    with pytest.warns(DataWarning, match="1 skipped"), pytest.warns(DataWarning, match="read as ratings only"):
        assert load_corpus(tmp_path / "ratings.parquet", rating_scale=(0.5, 5.0)).ratings_only
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a table with text is as it was
        assert not load_corpus(_csv(tmp_path, "u1,i1,5,fine")).ratings_only


def test_a_csv_without_a_header_line_is_told_so(tmp_path):
    """Amazon's ratings-only CSVs have no header: the first record was reported as a header
    without the user column, and mapping a column named by it would have lost that record."""
    path = tmp_path / "Gift_Cards.csv"
    path.write_text("B001GXRQW0,APV13CM0919JD,1.0,1229644800\nB001GXRQW0,A3G8U1G1V082SN,5.0,1229472000\n")
    with pytest.raises(DataError, match=r"Gift_Cards.csv:1: the first line, 'B001GXRQW0,APV13CM0919JD,1.0,1229644800', "
                       r"reads as a record, not as a header naming the columns \(no column for 'user'\): add a header "
                       r"line first, such as 'item,user,rating,time'"):
        load_corpus(path)
    path.write_text("item,user,rating,time\n" + path.read_text())
    with pytest.warns(DataWarning, match="read as ratings only"):
        assert len(load_corpus(path)) == 2
    named = tmp_path / "named.csv"  # names and no numbers: a header, whose missing column is said as before
    named.write_text("who,item,rating,text\nu1,i1,5,fine\n")
    with pytest.raises(DataError, match=r"named.csv: no column for 'user' \(looked for user, user_id"):
        load_corpus(named)


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
    with pytest.warns(DataWarning, match=r"5 records read, 3 kept, 1 skipped \(malformed line\), 1 skipped "
                      r"\(rating out of scale: 6; --min-rating and --max-rating set the scale\), ratings only"):
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


def test_yelp_json_and_ss(tmp_path):
    yelp = tmp_path / "yelp.json"
    yelp.write_text("\n".join(json.dumps({"review_id": str(n), "user_id": u, "business_id": i, "stars": r,
                                          "text": t, "date": "2019-01-0%d 10:00:00" % (n + 1)})
                              for n, (u, i, r, t) in enumerate(REVIEWS)))
    assert detect_format(yelp) == "yelp-json"
    corpus = load_corpus(yelp)
    assert len(corpus) == len(REVIEWS) and corpus.reviews["time"].notna().all()

    ss = tmp_path / "yelp13.ss"
    ss.write_text("\n".join(f"{u}\t\t{i}\t\t{int(r)}\t\t{t.replace('. ', ' <sssss> ')}" for u, i, r, t in REVIEWS))
    assert detect_format(ss) == "yelp-ss"
    corpus = load_corpus(ss)
    assert len(corpus) == len(REVIEWS)
    assert "<sssss>" not in " ".join(corpus.texts)


def test_item_metadata_strips_html(tmp_path):
    path = tmp_path / "meta.json"
    path.write_text(json.dumps({"asin": "guitar", "title": "Big &amp; <b>Loud</b> Guitar", "brand": "X",
                                "category": ["Music", "Guitars"], "description": ["<p>Six strings</p>"]}) + "\n"
                    + str({"asin": "cable", "title": "Cable", "categories": [["Music", "Cables"]]}) + "\n")
    meta = read_item_metadata(path)
    assert meta["guitar"]["title"] == "Big & Loud Guitar"
    assert meta["guitar"]["description"] == "Six strings"
    assert meta["cable"]["category"] == ["Music", "Cables"]  # 2014 style Python literal


def test_item_metadata_for_some_items_reads_the_same_entries_as_reading_all(tmp_path):
    entries = [
        json.dumps({"asin": "guitar", "title": "Guitar", "also_buy": ["cable", "strap"]}),
        repr({"asin": "cable", "title": "Cable", "categories": [["Music", "Cables"]]}),  # 2014 literal
        json.dumps({"parent_asin": "strap", "title": "Strap", "main_category": "Music"}),  # 2023
        json.dumps({"asin": "drum", "title": "A drum", "description": 'Fits "asin": "guitar" stands'}),
        "{'asin': u'piano', 'title': u'Piano'}",  # the pattern does not see a u'' value: parsed
        json.dumps({"title": "no item key"}),
        "not a record at all",
    ]
    path = tmp_path / "meta.json"
    path.write_text("\n".join(entries) + "\n")
    everything = read_item_metadata(path)
    assert set(everything) == {"guitar", "cable", "strap", "drum", "piano"}
    for wanted in [{"guitar"}, {"cable", "strap"}, {"drum", "piano"}, set()]:
        assert read_item_metadata(path, wanted) == {k: v for k, v in everything.items() if k in wanted}


def test_metadata_beside_reviews_is_attached(tmp_path, amazon_file):
    (tmp_path / "meta.json").write_text(json.dumps({"asin": "guitar", "title": "A guitar"}) + "\n")
    corpus = load_corpus(amazon_file)
    assert corpus.item_title("guitar") == "A guitar" and corpus.item_title("strap") is None


@pytest.mark.parametrize("reviews, meta", [
    ("Musical_Instruments_5.json.gz", "meta_Musical_Instruments.json.gz"),  # 2018, the 5-core
    ("Musical_Instruments.json.gz", "meta_Musical_Instruments.json.gz"),  # 2018, every review
    ("reviews_Musical_Instruments_5.json.gz", "meta_Musical_Instruments.json.gz"),  # 2014
    ("Musical_Instruments.jsonl", "meta_Musical_Instruments.jsonl.gz"),  # 2023
])
def test_the_amazon_dumps_metadata_is_found_by_its_name(tmp_path, amazon_file, reviews, meta):
    amazon_file.rename(tmp_path / reviews)
    with gzip.open(tmp_path / meta, "wt") as handle:  # 2014's are Python literals
        handle.write(repr({"asin": "guitar", "title": "A guitar"}) + "\n")
        handle.write(json.dumps({"asin": "never-reviewed", "title": "Not in the reviews"}) + "\n")
    corpus = load_corpus(tmp_path / reviews)
    assert corpus.item_title("guitar") == "A guitar"
    assert set(corpus.item_meta) == {"guitar"}  # entries of items nobody reviewed are not kept
    (tmp_path / meta).rename(tmp_path / "meta_Other.json.gz")  # another category's: not this one's
    assert load_corpus(tmp_path / reviews).item_meta == {}


def test_metadata_given_by_path(tmp_path, amazon_file):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "items.jsonl").write_text(json.dumps({"asin": "strap", "title": "A strap"}) + "\n")
    assert load_corpus(amazon_file, meta_path=elsewhere / "items.jsonl").item_title("strap") == "A strap"
    with pytest.raises(DataError, match="no such metadata file"):
        load_corpus(amazon_file, meta_path=elsewhere / "missing.jsonl")


def test_amazon_reviews_2023_with_its_metadata(tmp_path):
    """Amazon Reviews 2023: items are parent_asin (a product's variants are one item, and the
    metadata is keyed by it), timestamps are milliseconds, the review's title is its summary, and
    the metadata file is meta_<name>.jsonl with store and main_category."""
    def review(user, variant, parent, rating, text, ms):
        return {"rating": rating, "title": f"{text.split()[0]}!", "text": text, "images": [], "asin": variant,
                "parent_asin": parent, "user_id": user, "timestamp": ms, "helpful_vote": 0,
                "verified_purchase": True}

    rows = [review("u1", "B01-red", "B01", 5.0, "Lovely strap, strong leather.", 1588687728923),
            review("u2", "B01-blue", "B01", 3.0, "Strap is fine, price high.", 1588687829000),
            review("u1", "B02", "B02", 4.0, "Good strings, warm tone.", 1600000000000)]
    path = tmp_path / "Musical_Instruments.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    meta = [{"main_category": "Musical Instruments", "title": "Leather strap", "parent_asin": "B01", "store": "Ace",
             "categories": [], "description": ["Soft <b>leather</b>"], "details": {}},
            {"main_category": "Musical Instruments", "title": "", "parent_asin": "B02", "store": "StringCo",
             "categories": ["Musical Instruments", "Strings"], "description": []}]
    (tmp_path / "meta_Musical_Instruments.jsonl").write_text("".join(json.dumps(m) + "\n" for m in meta))
    assert detect_format(path) == "amazon-json"
    corpus = load_corpus(path)
    assert list(corpus.items) == ["B01", "B01", "B02"]  # the variants are one item
    assert list(corpus.reviews["time"]) == [1588687728.923, 1588687829.0, 1600000000.0]
    assert list(corpus.reviews["summary"]) == ["Lovely!", "Strap!", "Good!"]
    assert corpus.item_title("B01") == "Leather strap"
    assert corpus.item_meta["B01"]["brand"] == "Ace" and corpus.item_meta["B01"]["category"] == ["Musical Instruments"]
    assert corpus.item_title("B02") == "StringCo (Strings)"  # no title: brand (leaf category)
    old_style = tmp_path / "old.json"  # 2014/2018: unixReviewTime is seconds, never divided
    old_style.write_text(json.dumps({"reviewerID": "u", "asin": "a", "overall": 4.0, "reviewText": "ok",
                                     "unixReviewTime": 1400000000}) + "\n")
    assert list(load_corpus(old_style).reviews["time"]) == [1400000000.0]
    download = tmp_path / "download"  # the 2023 layout: a folder holding X.jsonl and meta_X.jsonl
    download.mkdir()
    for name in (path.name, "meta_Musical_Instruments.jsonl"):
        (download / name).write_bytes((tmp_path / name).read_bytes())
    assert load_corpus(download).item_title("B01") == "Leather strap"
    (download / "Other.jsonl").write_bytes(path.read_bytes())
    with pytest.raises(DataError, match=r"several review files \(Musical_Instruments.jsonl, Other.jsonl\)"):
        load_corpus(download)


def test_texts_can_be_read_folded_to_ascii_and_the_corpus_says_so(tmp_path):
    from whyrec.data import ratio_split

    path = tmp_path / "reviews.csv"
    rows = ["user,item,rating,text,summary"] + [f"u{n},i{n % 3},4,\"It isn’t bad, café {n}\",Naïve" for n in range(12)]
    rows.append("u99,i1,5,plain text,ok")
    path.write_text("\n".join(rows) + "\n")
    plain, folded = load_corpus(path), load_corpus(path, fold_unicode=True)
    assert plain.texts[0] == "It isn’t bad, café 0" and not plain.unicode_folded
    assert folded.texts[0] == "It isn't bad, cafe 0" and folded.reviews["summary"][0] == "Naive"
    assert folded.unicode_folded and folded.report.texts_folded == 12 and "12 texts folded to ASCII" in \
        folded.report.summary()
    parts = ratio_split(folded, seed=0)
    assert parts.train.unicode_folded and parts.test.unicode_folded  # the parts keep it


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


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_peter_pickle_refuses_code(tmp_path):
    path = tmp_path / "reviews.pickle"
    path.write_bytes(pickle.dumps([{"user": "a", "item": "b", "rating": 5, "template": _Evil()}]))
    with pytest.raises(UnsafePickleError, match=r"refers to (os|posix)\.system"):
        load_corpus(path)


def test_validation_lenient_counts_and_strict_names_line(tmp_path):
    rows = list(REVIEWS) + [("dave", "guitar", 7.0, "Out of scale"), ("erin", "", 3.0, "No item"),
                            ("fred", "cable", 4.0, "   ")]
    path = tmp_path / "bad.json"
    path.write_text("\n".join(amazon_lines(rows)) + "\n{not json\n")
    with pytest.warns(DataWarning, match="skipped"):
        corpus = load_corpus(path)
    assert len(corpus) == len(REVIEWS)
    skipped = corpus.report.skipped
    assert skipped["rating out of scale"] == 1 and skipped["missing item"] == 1
    assert skipped["empty text"] == 1 and skipped["malformed line"] == 1
    with pytest.raises(DataError, match=r"bad\.json:7: field 'rating': rating 7 is outside the scale 1\.\.5"):
        load_corpus(path, strict=True)


def test_duplicate_policies(tmp_path):
    rows = [("a", "x", 1.0, "first"), ("a", "x", 5.0, "second"), ("b", "x", 3.0, "other")]
    path = tmp_path / "d.json"
    path.write_text("\n".join(amazon_lines(rows)))
    assert _quiet_load(path).reviews.set_index("user").loc["a", "text"] == "second"
    assert _quiet_load(path, duplicates="keep-first").reviews.set_index("user").loc["a", "text"] == "first"
    assert len(_quiet_load(path, duplicates="keep-all")) == 3
    with pytest.raises(DataError, match="duplicate"):
        _quiet_load(path, duplicates="error")


def test_unknown_content_asks_for_format(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("just some words\n")
    with pytest.raises(DataError, match="--format"):
        load_corpus(path)


def test_shared_digital_music_counts(shared_data):
    corpus = _quiet_load(shared_data / "amazon-digital-music", duplicates="keep-all")
    assert corpus.report.read == 6908
    assert len(corpus.report.users_seen) == 2490 and len(corpus.report.items_seen) == 382


def test_an_item_without_a_readable_title_is_named_by_brand_and_category(tmp_path, amazon_file):
    from whyrec.data.corpus import display_title

    assert display_title({"title": "Wired", "brand": "Conde Nast", "category": ["Magazines", "Tech"]}) == "Wired"
    assert display_title({"title": "", "brand": "Conde Nast", "category": ["Magazines", "Tech"]}) == \
        "Conde Nast (Tech)"
    assert display_title({"title": "", "brand": "Conde Nast", "category": []}) == "Conde Nast"
    assert display_title({"title": "", "brand": "", "category": ["Magazines"]}) == "Magazines"
    assert display_title({"title": "", "brand": "", "category": []}) == ""
    (tmp_path / "meta.json").write_text(json.dumps({"asin": "guitar", "title": '<span class="a-size-medium"',
                                                    "brand": "Acme", "category": ["Music", "Guitars"]}) + "\n")
    assert load_corpus(amazon_file).item_title("guitar") == "Acme (Guitars)"


def test_shared_magazines_items_are_named(shared_data):
    """148 of the 151 reviewed magazines' meta titles are a cut-off tag; brand and category name those items."""
    corpus = _quiet_load(shared_data / "amazon-magazine-subscriptions")
    items = set(corpus.items)
    raw = [item for item in items if corpus.item_meta.get(item, {}).get("title")]
    named = [item for item in items if corpus.item_title(item)]
    assert len(raw) < 0.1 * len(items) and len(named) > 0.9 * len(items)


def test_tiny_truncated_gzip_is_still_detected(tmp_path):
    full = tmp_path / "small.json.gz"
    with gzip.open(full, "wt") as h:
        h.write("\n".join(amazon_lines(REVIEWS)) + "\n")
    data = full.read_bytes()
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(data[: len(data) - 30])
    assert detect_format(cut) == "amazon-json"
    with pytest.warns(DataWarning, match="truncated"):
        corpus = load_corpus(cut, duplicates="keep-all")
    assert len(corpus) >= 1


def test_clean_html_drops_whole_and_cut_off_tags_but_keeps_comparisons():
    from whyrec.data.readers import clean_html

    assert clean_html('<span class="a-size-medium a-color-secondary"') == ""  # a real title in the 2018 metadata
    assert clean_html("<b>Wired</b> &amp; Co") == "Wired & Co"
    assert clean_html("Ages < 5 and <i>up") == "Ages < 5 and up"
    assert clean_html(["Books", None]) == "Books None"
    assert clean_html(None) == ""


def test_an_empty_file_says_so(tmp_path):
    for name, content in (("empty.csv", ""), ("blank.json", "\n\n  \n")):
        (tmp_path / name).write_text(content)
        with pytest.raises(DataError, match=rf"{name}: file is empty"):
            load_corpus(tmp_path / name)


def test_ids_that_are_lists_objects_or_booleans_are_bad_ids(tmp_path):
    """JSON lets an id be anything; a string or number is an id (12 → "12"), a list is not one
    (str(["x"]) would become the item "['x']")."""
    path = tmp_path / "odd.json"
    records = [{"reviewerID": "u1", "asin": "i1", "overall": 5, "reviewText": "good"},
               {"reviewerID": 12, "asin": "i2", "overall": 4, "reviewText": "fine"},
               {"reviewerID": "u3", "asin": ["x"], "overall": 3, "reviewText": "hm"},
               {"reviewerID": True, "asin": "i1", "overall": 3, "reviewText": "so so"}]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    corpus = _quiet_load(path)
    assert list(corpus.reviews["user"]) == ["u1", "12"] and list(corpus.reviews["item"]) == ["i1", "i2"]
    assert corpus.report.skipped["bad item id"] == 1 and corpus.report.skipped["bad user id"] == 1
    with pytest.raises(DataError, match=r"odd\.json:3: field 'item': item id \['x'\] is not a string or number"):
        load_corpus(path, strict=True)


@pytest.mark.parametrize("indent", [None, 2])  # on one line, and pretty-printed
def test_a_json_array_of_reviews_is_read(tmp_path, indent):
    reviews = [{"user": "u1", "item": "i1", "rating": 5, "text": "good"}, "not a review",
               {"user_id": "u2", "business_id": "i1", "stars": 4, "text": "fine", "date": "2020-01-31"}]
    path = tmp_path / "reviews.json"
    path.write_text(json.dumps(reviews, indent=indent))
    assert detect_format(path) == "amazon-json"
    corpus = _quiet_load(path)
    assert corpus.texts == ["good", "fine"] and list(corpus.positions) == [0, 2]  # positions count elements
    assert corpus.report.skipped["malformed line"] == 1 and corpus.reviews["time"].notna().tolist() == [False, True]
    with pytest.raises(DataError, match=r"reviews\.json:\d+: array element is not a JSON object"):
        load_corpus(path, strict=True)


def test_a_broken_json_array_names_its_line(tmp_path):
    path = tmp_path / "reviews.json"
    path.write_text('[\n  {"user": "u1", "item": "i1", "rating": 5, "text": "good"},\n  {"user": "u2", oops}\n]')
    with pytest.raises(DataError, match=r"reviews\.json:3: not JSON inside the array"):
        load_corpus(path)
    path.write_text('[{"user": "u1", "item": "i1", "rating": 5, "text": "good"},')
    with pytest.raises(DataError, match="the JSON array is never closed"):
        load_corpus(path)
    packed = gzip.compress(json.dumps([{"user": "u1", "item": "i1", "rating": 5, "text": "good " * 500}]).encode())
    cut = tmp_path / "cut.json.gz"  # a one-line array whose gzip ends inside that line (found by fuzzing)
    cut.write_bytes(packed[:len(packed) // 2])
    with pytest.warns(DataWarning, match="truncated"), pytest.raises(DataError, match="never closed"):
        load_corpus(cut)


@pytest.mark.parametrize("read_ahead", [1, 40, 1 << 16])  # a line at a time, a few, the whole file
def test_a_json_array_is_read_as_it_is_parsed_with_the_same_lines_and_elements(tmp_path, monkeypatch, read_ahead):
    import whyrec.data.readers as readers

    monkeypatch.setattr(readers, "_ARRAY_READ", read_ahead)
    reviews = [{"user": f"u{k}", "item": "i1", "rating": 1 + k % 5, "text": "word " * (1 + k * 7 % 50)} for k in range(60)]
    path = tmp_path / "reviews.json"
    path.write_text(json.dumps(reviews, indent=2))
    corpus = _quiet_load(path)
    assert list(corpus.reviews["user"]) == [r["user"] for r in reviews] and list(corpus.positions) == list(range(60))
    # an error deep in the file still names its line, counted over every read
    text = path.read_text().splitlines()
    broken = next(n for n, line in enumerate(text) if '"u41"' in line)
    text[broken] = text[broken].replace('"u41"', "u41")
    path.write_text("\n".join(text))
    with pytest.raises(DataError, match=rf"reviews\.json:{broken + 1}: not JSON inside the array"):
        load_corpus(path)
    path.write_text(json.dumps(reviews[:3], indent=2)[:-2])  # cut short inside its last element
    with pytest.raises(DataError, match="the JSON array is never closed"):
        load_corpus(path)
    # lazily: the first element comes before the file's end is read
    path.write_text(json.dumps(reviews, indent=2))
    read = []

    def counted_lines(*args):
        for number, line in real_lines(*args):
            read.append(number)
            yield number, line

    real_lines = readers.iter_lines
    monkeypatch.setattr(readers, "iter_lines", counted_lines)
    elements = readers._json_array(path, readers.ValidationReport(str(path)), False)
    assert next(elements)[2]["user"] == "u0"
    if read_ahead < 1 << 16:
        assert len(read) < len(path.read_text().splitlines()) / 2
    assert len(list(elements)) == 59


def test_json_keys_are_mapped_with_columns_and_a_key_no_record_has_is_named(tmp_path):
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join(json.dumps({"reviewer": u, "asin": i, "overall": r, "body": t})
                              for u, i, r, t in REVIEWS))
    with pytest.raises(DataError, match=r"no record has a key for 'user' \(looked for user, user_id.*\), nor a key "
                                        r"for 'text' \(looked for text, .*the first "
                                        r"record's keys are \['reviewer', 'asin', 'overall', 'body'\]; map "
                                        r"them with --column user=NAME"):
        load_corpus(path)
    corpus = load_corpus(path, columns={"user": "reviewer", "text": "body"})
    assert len(corpus) == len(REVIEWS) and corpus.reviews["user"].tolist()[0] == REVIEWS[0][0]
    with pytest.raises(DataError, match="no record has the key 'review' given for 'text'; the first"):
        load_corpus(path, columns={"user": "reviewer", "text": "review"})
    with pytest.raises(DataError, match=r"unknown field\(s\) in column mapping: \['body'\]"):
        load_corpus(path, columns={"body": "text"})


def test_a_column_mapping_for_a_format_with_fixed_fields_is_refused(tmp_path):
    ss = tmp_path / "yelp13.ss"
    ss.write_text("\n".join(f"{u}\t\t{i}\t\t{int(r)}\t\t{t}" for u, i, r, t in REVIEWS))
    with pytest.raises(DataError, match="a yelp-ss file has fixed fields"):
        load_corpus(ss, columns={"text": "review"})


def test_an_inverted_rating_scale_or_unknown_duplicate_policy_is_refused(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("\n".join(amazon_lines(REVIEWS)))
    with pytest.raises(ConfigError, match="rating scale 5..1: the lowest rating must be below the highest"):
        load_corpus(path, rating_scale=(5.0, 1.0))  # was: every review skipped as out of scale
    with pytest.raises(ConfigError, match="duplicates must be one of keep-last, keep-first, keep-all, error"):
        load_corpus(path, duplicates="newest")  # was: silently keep-first


def test_binary_content_is_named_as_such_and_text_in_any_encoding_is_not(tmp_path):
    noise = bytes((n * 97 + 13) % 256 for n in range(4000))  # every byte value, control bytes included
    path = tmp_path / "reviews.json.gz"
    path.write_bytes(gzip.compress(noise))
    with pytest.raises(DataError, match="binary content: not a review file whyrec reads"):
        load_corpus(path)  # was: read as a CSV whose header is noise
    latin = tmp_path / "latin.csv"  # not UTF-8, yet text
    latin.write_bytes("user,item,rating,text\nu1,i1,5,très élégant café\n".encode("latin-1"))
    assert len(_quiet_load(latin)) == 1
    folder = tmp_path / "data"
    (folder / "reviews.csv").mkdir(parents=True)  # a folder by the name of a review file is not one
    with pytest.raises(DataError, match="folder holds no review file"):
        load_corpus(folder)


def test_a_csv_text_past_the_field_limit_is_counted_as_such(tmp_path):
    import csv

    path = tmp_path / "long.csv"
    huge = "word " * (csv.field_size_limit() // 5 + 10)
    path.write_text(f'user,item,rating,text\nu1,i1,5,"{huge}"\nu2,i2,4,fine\n')
    corpus = _quiet_load(path)
    assert list(corpus.reviews["user"]) == ["u2"]
    assert corpus.report.skipped == {f"field over {csv.field_size_limit():,} characters": 1}  # not "malformed"


def test_a_dataframe_is_validated_like_a_file():
    """corpus_from_frame: CSV column names, bad rows skipped and counted (strict: the first names its
    1-based row), the scale and duplicate policy applied, a missing column named with how to map it."""
    from whyrec.data import corpus_from_frame

    frame = pd.DataFrame({"user_id": ["a", "b", "c", None, "a"], "asin": ["x", "y", "x", "y", "x"],
                          "stars": [5, 3, 7, 4, 2], "review": ["good", "ok", "bad", "fine", "worse"]})
    with pytest.warns(DataWarning, match="5 records read, 2 kept.*missing user.*out of scale"):
        corpus = corpus_from_frame(frame, name="mine")
    assert corpus.name == "mine" and len(corpus) == 2
    assert dict(zip(corpus.users, corpus.ratings)) == {"a": 2.0, "b": 3.0}  # keep-last: a's later review
    with pytest.warns(DataWarning, match="4 kept"):
        assert len(corpus_from_frame(frame, rating_scale=(1, 10), duplicates="keep-all")) == 4
    with pytest.raises(DataError, match="<frame>:3: field 'rating': rating 7 is outside the scale 1..5"):
        corpus_from_frame(frame, strict=True)
    with pytest.warns(DataWarning, match="2 kept"), pytest.warns(
            DataWarning, match=r"no column for 'text'.*read as ratings only.*columns=\{'text': NAME\}"):
        ratings = corpus_from_frame(frame.drop(columns=["review"]))
    assert ratings.ratings_only and ratings.texts == ["", ""]
    with pytest.warns(DataWarning, match="1 duplicate"):
        assert len(corpus_from_frame(frame.rename(columns={"review": "words"}), columns={"text": "words"},
                                     rating_scale=(1, 10))) == 3
    with pytest.raises(DataError, match="expected a pandas DataFrame, got list"):
        corpus_from_frame([{"user": "a"}])


def test_a_text_that_is_not_a_string_is_a_bad_text_not_an_empty_one(tmp_path):
    path = tmp_path / "reviews.json"
    rows = [{"reviewerID": "a", "asin": "x", "overall": 5, "reviewText": 123},
            {"reviewerID": "b", "asin": "x", "overall": 4, "reviewText": ["a", "list"]},
            {"reviewerID": "c", "asin": "x", "overall": 4, "reviewText": "  "},
            {"reviewerID": "d", "asin": "x", "overall": 4},
            {"reviewerID": "e", "asin": "x", "overall": 4, "reviewText": "fine"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with pytest.warns(DataWarning, match=r"1 kept, 2 skipped \(bad text\), 2 skipped \(empty text\)"):
        assert len(load_corpus(path)) == 1
    with pytest.raises(DataError, match=r"reviews.json:1: field 'text': review text 123 is not a string"):
        load_corpus(path, strict=True)


def test_times_are_read_as_numbers_or_iso_dates_and_unreadable_ones_counted(tmp_path):
    """A CSV's ``date`` column of ISO dates was read as no time at all, silently, so leave-last-out
    ordered those reviews by file position."""
    path = tmp_path / "reviews.csv"
    path.write_text("user,item,rating,text,date\na,x,5,good,2020-01-01\na,y,4,ok,yesterday\n"
                    "b,x,3,fine,1600000000\nb,y,2,bad,\nc,x,4,nice,2020-01-01T12:00:00+02:00\n")
    with pytest.warns(DataWarning, match=r"1 unreadable time \(records kept without one\)"):
        corpus = load_corpus(path)
    times = dict(zip(zip(corpus.users, corpus.items), corpus.reviews["time"]))
    assert times[("a", "x")] == 1577836800.0  # midnight UTC
    assert times[("b", "x")] == 1600000000.0 and times[("c", "x")] == 1577872800.0
    assert pd.isna(times[("a", "y")]) and pd.isna(times[("b", "y")])  # unreadable, and none given
    assert corpus.report.to_dict()["unreadable_times"] == 1


@pytest.mark.parametrize("sep", [";", "|"])
def test_a_semicolon_or_pipe_separated_export_is_read(tmp_path, sep):
    """Spreadsheets in decimal-comma locales export ';'-separated "CSV": it was "cannot tell the
    format", and with --format csv one column named 'user;item;rating;text'."""
    path = tmp_path / "reviews.csv"
    rows = ["user,item,rating,text".replace(",", sep), sep.join(["a", "x", "5", '"good; really, good"']),
            sep.join(["b", "x", "3", "ok"])]
    path.write_text("\n".join(rows) + "\n")
    assert detect_format(path) == "csv"
    corpus = load_corpus(path)
    assert list(corpus.users) == ["a", "b"] and corpus.texts[0] == "good; really, good"
    # ... with its ratings' decimal commas: "3,5" was a bad rating; "1,000" stays one (thousands)
    halves = tmp_path / "halves.csv"
    halves.write_text("user;item;rating;text\na;x;3,5;fine\nb;x;4,0;good\nc;x;1,000;odd\n")
    read = _quiet_load(halves)
    assert read.ratings.tolist() == [3.5, 4.0] and read.report.skipped["bad rating"] == 1
    # a comma header keeps the comma, whatever the texts hold
    comma = tmp_path / "comma.csv"
    comma.write_text('user,item,rating,text\na,x,5,"semi; colons; here; too"\n')
    assert _quiet_load(comma).texts[0] == "semi; colons; here; too"


def _file(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


_SS_LINE = "alice\t\tguitar\t\t5\t\tgreat sound <sssss> loud"
_JSON_LINE = json.dumps({"reviewerID": "alice", "asin": "guitar", "overall": 5, "reviewText": "great"})


@pytest.mark.parametrize("name, content, options, message", [
    ("r.ss", f"{_SS_LINE}\nbob\t\tstrap 3 okay\n", {"strict": True}, r"r\.ss:2: expected 4 fields separated by "
     "double tabs, found 2"),
    ("r.jsonl", f"{_JSON_LINE}\n[1, 2]\n", {"strict": True}, r"r\.jsonl:2: line is not a JSON object"),
    ("r.csv", "user,item,rating,text\nalice,guitar,5,great\n", {"columns": {"user": "customer"}},
     r"r\.csv: column 'customer' for field 'user' not found; columns are \['user', 'item', 'rating', 'text'\]"),
    ("r.csv", '"user,item,rating,text\n', {"format": "csv"}, r"r\.csv:1: cannot parse the CSV header"),
    ("reviews.pickle", pickle.dumps({"user": "alice"}, protocol=2), {}, "expected a list of records, found dict"),
    ("reviews.pickle", pickle.dumps(["alice"], protocol=2), {"strict": True}, r"reviews\.pickle:1: record is not "
     "a dict"),
    ("reviews.pickle", b"\x80\x02not a pickle at all", {"format": "peter-pickle"}, "not a readable pickle"),
    ("r.csv", "user,item,rating,text\nalice,guitar,5,great\n", {"format": "xml"},
     r"unknown format 'xml'; known formats are amazon-json, "),
])
def test_each_reader_names_what_is_wrong_with_a_file(tmp_path, name, content, options, message):
    """The readers' own refusals, each naming the file (and line) and what is wrong."""
    path = _file(tmp_path, name, content)
    with pytest.raises(DataError, match=message):
        _quiet_load(path, **options)


@pytest.mark.parametrize("name, content, kept, skipped", [
    ("r.ss", f"{_SS_LINE}\nbob\t\tstrap 3 okay\n", 1, "malformed line"),
    ("reviews.pickle", pickle.dumps(["alice", {"user": "bob", "item": "strap", "rating": 3, "text": "okay strap"}],
                                    protocol=2), 1, "malformed record"),
])
def test_without_strict_a_malformed_entry_is_skipped_and_counted(tmp_path, name, content, kept, skipped):
    corpus = _quiet_load(_file(tmp_path, name, content))
    assert len(corpus) == kept and corpus.report.skipped[skipped] == 1 and corpus.report.read == 2


def test_item_metadata_that_is_not_there_is_named(tmp_path):
    with pytest.raises(DataError, match=r"meta\.json\.gz: no such metadata file"):
        read_item_metadata(tmp_path / "meta.json.gz")
