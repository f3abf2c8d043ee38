"""JSON review objects: Amazon 2014/2018/2023 and Yelp JSON lines, JSON arrays, key mappings."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from tests.conftest import REVIEWS, amazon_lines
from tests.data.readers import quiet_load
from whyrec.data import DataWarning, detect_format, load_corpus
from whyrec.errors import DataError


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


def test_ids_that_are_lists_objects_or_booleans_are_bad_ids(tmp_path):
    """JSON lets an id be anything; a string or number is an id (12 → "12"), a list is not one
    (str(["x"]) would become the item "['x']")."""
    path = tmp_path / "odd.json"
    records = [{"reviewerID": "u1", "asin": "i1", "overall": 5, "reviewText": "good"},
               {"reviewerID": 12, "asin": "i2", "overall": 4, "reviewText": "fine"},
               {"reviewerID": "u3", "asin": ["x"], "overall": 3, "reviewText": "hm"},
               {"reviewerID": True, "asin": "i1", "overall": 3, "reviewText": "so so"}]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    corpus = quiet_load(path)
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
    corpus = quiet_load(path)
    assert corpus.texts == ["good", "fine"] and list(corpus.positions) == [0, 2]  # positions count elements
    assert corpus.report.skipped["malformed line"] == 1 and corpus.reviews["time"].notna().tolist() == [False, True]
    with pytest.raises(DataError, match=r"reviews\.json:\d+: array element is a JSON string, not an object"):
        load_corpus(path, strict=True)


@pytest.mark.parametrize("user_column", ["reviewerID", "User ID"])  # a usual name, or one but for case and spaces
@pytest.mark.parametrize("orient", ["columns", "index", "split", "table"])
def test_a_table_pandas_wrote_as_one_json_object_is_read_row_by_row(tmp_path, orient, user_column):
    """``DataFrame.to_json(path)`` writes {column: {index: value}} by default: it was read as one
    record whose ids were objects, and every review was lost."""
    import pandas as pd

    frame = pd.DataFrame({user_column: ["u1", "u2", "u1"], "asin": ["i1", "i1", "i2"], "overall": [5, 4, 2],
                          "reviewText": ["good", "fine", "poor"]}, index=[10, 11, 12])
    path = tmp_path / "frame.json"
    frame.to_json(path, orient=orient)
    corpus = quiet_load(path)
    assert corpus.reviews[["user", "item", "rating", "text"]].values.tolist() == [
        ["u1", "i1", 5.0, "good"], ["u2", "i1", 4.0, "fine"], ["u1", "i2", 2.0, "poor"]]
    assert corpus.report.columns["user"] == user_column
    frame.iloc[1, 2] = 9  # a rating past the scale, on the second row: named as its line
    frame.to_json(path, orient=orient)
    with pytest.raises(DataError, match=r"frame\.json:2: field 'rating'"):
        load_corpus(path, strict=True)


@pytest.mark.parametrize("wrapper", [lambda rows: {"data": rows}, lambda rows: {"count": len(rows), "reviews": rows},
                                     lambda rows: {"tags": ["new"], "pages": [{"page": 1}], "reviews": rows}])
def test_an_object_wrapping_a_list_of_reviews_is_read_as_those_reviews(tmp_path, wrapper):
    """Such a file was read as one record, refused as having no user key; lists beside the reviews'
    (tags, pages) do not stand in the way."""
    rows = [{"reviewerID": "u1", "asin": "i1", "overall": 5, "reviewText": "good"}, "not a review",
            {"reviewerID": "u2", "asin": "i1", "overall": 4, "reviewText": "fine"}]
    path = tmp_path / "wrapped.json"
    path.write_text(json.dumps(wrapper(rows)))
    corpus = quiet_load(path)
    assert corpus.reviews[["user", "text"]].values.tolist() == [["u1", "good"], ["u2", "fine"]]
    assert list(corpus.positions) == [0, 2] and corpus.report.skipped["malformed line"] == 1
    with pytest.raises(DataError, match=r"wrapped\.json:2: table row 2 is a JSON string, not a record"):
        load_corpus(path, strict=True)


def test_a_wrapper_whose_list_starts_with_no_record_is_still_found_by_its_first_record(tmp_path):
    """Was refused as one record, its keys named: the list was looked at by its first element only."""
    rows = [None, {"reviewerID": "u1", "asin": "i1", "overall": 5, "reviewText": "good"},
            {"reviewerID": "u2", "asin": "i1", "overall": 4, "reviewText": "fine"}]
    path = tmp_path / "wrapped.json"
    path.write_text(json.dumps({"count": 3, "tags": ["a", "b"], "reviews": rows}))
    corpus = quiet_load(path)
    assert corpus.reviews["user"].tolist() == ["u1", "u2"] and corpus.report.skipped["malformed line"] == 1
    with pytest.raises(DataError, match=r"wrapped\.json:1: table row 1 is JSON null, not a record"):
        load_corpus(path, strict=True)


@pytest.mark.parametrize("orient", ["split", "table"])
def test_a_pandas_table_row_that_is_no_row_is_counted_not_dropped_unseen(tmp_path, orient):
    columns = ["reviewerID", "asin", "overall", "reviewText"]
    good = [["u1", "i1", 5, "good"], ["u2", "i1", 4, "fine"]]
    rows = [good[0], 7, good[1]] if orient == "split" else [dict(zip(columns, good[0])), 7, dict(zip(columns, good[1]))]
    path = tmp_path / "frame.json"
    table = {"columns": columns, "data": rows} if orient == "split" else {"schema": {}, "data": rows}
    path.write_text(json.dumps(table))
    corpus = quiet_load(path)
    assert corpus.reviews["user"].tolist() == ["u1", "u2"] and corpus.report.skipped["malformed line"] == 1
    with pytest.raises(DataError, match=r"frame\.json:2: table row 2 is a JSON number, not a record"):
        load_corpus(path, strict=True)


@pytest.mark.parametrize("not_a_wrapper", [
    {"reviewerID": "u1", "asin": "i1", "overall": 5, "reviewText": "good", "votes": [{"reviewerID": "u2"}]},
    {"first": [{"reviewerID": "u1"}], "second": [{"reviewerID": "u2"}]},  # two lists of reviews: which is meant?
    {"data": [{"id": 1, "body": "no user here"}]},
])
def test_an_object_holding_lists_that_are_no_wrapper_is_read_as_one_record(tmp_path, not_a_wrapper):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(not_a_wrapper))
    if "reviewerID" in not_a_wrapper:  # a review with a list of objects in it
        assert quiet_load(path).reviews["user"].tolist() == ["u1"]
    else:
        with pytest.raises(DataError, match=r"no record has a key for 'user'.*the first record's keys are "
                                            + re.escape(str(list(not_a_wrapper)))):
            quiet_load(path)


def test_a_lone_review_whose_fields_are_objects_is_still_one_record(tmp_path):
    path = tmp_path / "one.json"  # no table: no key names a user, nor do the inner objects' keys
    path.write_text(json.dumps({"a": {"x": 1}, "b": {"y": 2}}) + "\n")
    with pytest.raises(DataError, match=r"no record has a key for 'user'"):
        quiet_load(path)
    path.write_text(json.dumps({"reviewerID": {"0": "u1"}, "asin": {"0": "i1"}, "overall": {"0": 5},
                                "reviewText": {"0": "ok"}}) + "\n" +
                    json.dumps({"reviewerID": "u2", "asin": "i1", "overall": 4, "reviewText": "fine"}) + "\n")
    corpus = quiet_load(path)  # two objects: JSON lines, whose first record's ids are objects
    assert corpus.reviews["user"].tolist() == ["u2"] and corpus.report.skipped["bad user id"] == 1


def test_a_broken_json_array_names_its_line(tmp_path):
    path = tmp_path / "reviews.json"
    path.write_text('[\n  {"user": "u1", "item": "i1", "rating": 5, "text": "good"},\n  {"user": "u2", oops}\n]')
    with pytest.raises(DataError, match=r"reviews\.json:3: not JSON inside the array"):
        load_corpus(path)
    path.write_text('\n\n[\n  {"user": "u1", "item": "i1", "rating": 5, "text": "good"},\n  7\n]')  # blank lines first
    with pytest.raises(DataError, match=r"reviews\.json:5: array element is a JSON number, not an object"):
        load_corpus(path, strict=True)
    path.write_text('[{"user": "u1", "item": "i1", "rating": 5, "text": "good"},')
    with pytest.raises(DataError, match="the JSON array is never closed"):
        load_corpus(path)
    packed = gzip.compress(json.dumps([{"user": "u1", "item": "i1", "rating": 5, "text": "good " * 500}]).encode())
    cut = tmp_path / "cut.json.gz"  # a one-line array whose gzip ends inside that line (found by fuzzing)
    cut.write_bytes(packed[:len(packed) // 2])
    with pytest.warns(DataWarning, match="truncated"), pytest.raises(DataError, match=r"cut\.json\.gz:1: the JSON "
                                                                                       "array is never closed"):
        load_corpus(cut)


@pytest.mark.parametrize("read_ahead", [1, 40, 1 << 16])  # a line at a time, a few, the whole file
def test_a_json_array_is_read_as_it_is_parsed_with_the_same_lines_and_elements(tmp_path, monkeypatch, read_ahead):
    from whyrec.data.corpus import ValidationReport
    from whyrec.data.readers import json_reviews

    monkeypatch.setattr(json_reviews, "_ARRAY_READ", read_ahead)
    reviews = [{"user": f"u{k}", "item": "i1", "rating": 1 + k % 5, "text": "word " * (1 + k * 7 % 50)} for k in range(60)]
    path = tmp_path / "reviews.json"
    path.write_text(json.dumps(reviews, indent=2))
    corpus = quiet_load(path)
    assert list(corpus.reviews["user"]) == [r["user"] for r in reviews] and list(corpus.positions) == list(range(60))
    # an error deep in the file still names its line, counted over every read
    text = path.read_text().replace("\n  },\n", "\n  },\n\n").splitlines()  # a blank line after each element
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

    real_lines = json_reviews.iter_lines
    monkeypatch.setattr(json_reviews, "iter_lines", counted_lines)
    elements = json_reviews._json_array(path, ValidationReport(str(path)), False)
    assert next(elements)[2]["user"] == "u0"
    if read_ahead < 1 << 16:
        assert len(read) < len(path.read_text().splitlines()) / 2
    assert len(list(elements)) == 59


def test_json_keys_are_mapped_with_columns_and_a_key_no_record_has_is_named(tmp_path):
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join(json.dumps({"reviewer": u, "asin": i, "overall": r, "words": t})
                              for u, i, r, t in REVIEWS))
    with pytest.raises(DataError, match=r"no record has a key for 'user' \(looked for user, user_id.*\); the first "
                                        r"record's keys are \['reviewer', 'asin', 'overall', 'words'\]; map "
                                        r"one with --column user=NAME"), \
            pytest.warns(DataWarning, match="ratings only"):
        load_corpus(path)
    with pytest.warns(DataWarning, match=r"no record has a key for 'text' .*'words'\]\): read as ratings only"):
        assert load_corpus(path, columns={"user": "reviewer"}).ratings_only
    corpus = load_corpus(path, columns={"user": "reviewer", "text": "words"})
    assert len(corpus) == len(REVIEWS) and corpus.reviews["user"].tolist()[0] == REVIEWS[0][0]
    with pytest.raises(DataError, match="no record has the key 'review' given for 'text'; the first"):
        load_corpus(path, columns={"user": "reviewer", "text": "review"})
    with pytest.raises(DataError, match=r"unknown field\(s\) in column mapping: \['words'\]"):
        load_corpus(path, columns={"words": "text"})


def test_the_report_names_the_key_each_field_was_read_from(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("\n".join(amazon_lines()) + "\n")
    report = load_corpus(path).report
    assert report.columns == {"user": "reviewerID", "item": "asin", "rating": "overall", "text": "reviewText",
                              "time": "unixReviewTime", "summary": "summary"}
    assert report.columns_not_read == ["helpful"]
    path.write_text("\n".join(json.dumps({"user_id": u, "book_id": i, "rating": r, "n_votes": 1})
                              for u, i, r, _ in REVIEWS) + "\n")
    with pytest.warns(DataWarning, match="ratings only"):
        textless = load_corpus(path).report
    assert textless.columns == {"user": "user_id", "item": "book_id", "rating": "rating"}
    assert textless.columns_not_read == ["n_votes"]
    assert "ratings only (no text key)" in textless.summary()  # a JSON file's fields are keys


def test_a_json_file_without_text_keys_is_read_as_ratings_only(tmp_path, monkeypatch):
    """Goodreads-style interactions (user_id, book_id, rating, no text key): ratings only, with a
    warning; a file whose leading records merely lack text is read as reviews, as before."""
    from whyrec.data.readers import json_reviews

    records = [{"user_id": f"u{k % 7}", "book_id": f"b{k % 5}", "rating": 1 + k % 5,
                "date_added": f"Fri Aug 25 13:55:{k:02d} -0700 2017"} for k in range(30)]
    path = tmp_path / "interactions.json"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    with pytest.warns(DataWarning, match=r"interactions\.json: no record has a key for 'text' \(looked for text, "
                      r"reviewText, review, review_text, review_body, body, comment, content; the first record's "
                      r"keys are \['user_id', 'book_id', "
                      r"'rating', 'date_added'\]\): read as ratings only"):
        corpus = load_corpus(path, strict=True)
    assert corpus.ratings_only and len(corpus) == len({(r["user_id"], r["book_id"]) for r in records})
    assert set(corpus.items) == {f"b{k}" for k in range(5)}
    assert corpus.reviews["time"].between(1503694500, 1503694531).all()
    assert "ratings only" in corpus.report.summary()
    # as a JSON array too
    array = tmp_path / "interactions_array.json"
    array.write_text(json.dumps(records, indent=1))
    with pytest.warns(DataWarning, match="read as ratings only"):
        assert load_corpus(array).ratings_only
    # past the look-ahead, a record with a text key is refused by its line: its text would be lost
    monkeypatch.setattr(json_reviews, "RATINGS_ONLY_AFTER", 10)
    late = records[:12] + [{**records[12], "reviewText": "late words"}] + records[13:]
    path.write_text("\n".join(json.dumps(r) for r in late) + "\n")
    with pytest.warns(DataWarning, match=r"none of the first 10 records has a key for 'text'"), pytest.raises(
            DataError, match=r"interactions\.json:13: this record has a text key \('reviewText'\), but the first 10 "
            r"records had none.*--column text=reviewText"):
        load_corpus(path)
    with pytest.warns(DataWarning, match=r"29 skipped \(empty text\)"):  # mapped: read as reviews
        mapped = load_corpus(path, columns={"text": "reviewText"})
    assert not mapped.ratings_only and list(mapped.texts) == ["late words"]
    # within the look-ahead, a text key makes it a review file: textless records are skipped as before
    early = records[:5] + [{**records[5], "reviewText": "early words"}] + records[6:]
    path.write_text("\n".join(json.dumps(r) for r in early) + "\n")
    with pytest.warns(DataWarning, match=r"29 skipped \(empty text\)"):
        reviews = load_corpus(path)
    assert not reviews.ratings_only and list(reviews.texts) == ["early words"]


def test_keys_are_matched_without_case_spaces_or_underscores_as_columns_are(tmp_path):
    path = tmp_path / "loose.jsonl"
    path.write_text("\n".join(json.dumps({"UserId": u, "ProductId": i, "Score": r, "Review Text": t})
                              for u, i, r, t in REVIEWS) + "\n")
    corpus = load_corpus(path)
    assert len(corpus) == len(REVIEWS) and not corpus.ratings_only  # its text key is found, not taken as missing
    assert corpus.report.columns == {"user": "UserId", "item": "ProductId", "rating": "Score", "text": "Review Text"}
    exact = tmp_path / "exact.jsonl"  # an exact key wins over a loose one
    exact.write_text(json.dumps({"user": "a", "User": "b", "item": "x", "rating": 5, "text": "fine"}) + "\n")
    assert load_corpus(exact).users.tolist() == ["a"]


def test_keys_only_later_records_have_are_learned(tmp_path, monkeypatch):
    """A file's records may differ in their keys: one that only later records have is listed among
    the keys not read, and a loosely named one is read, up to KEY_LAYOUTS_LEARNED key layouts."""
    from whyrec.data.readers import json_reviews

    rows = [{"user_id": u, "item_id": i, "rating": r, "text": t} for u, i, r, t in REVIEWS]
    rows[2]["helpful_votes"] = 3
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert load_corpus(path).report.columns_not_read == ["helpful_votes"]
    # the text key, loosely named, first comes at the third record: read as reviews, the first two skipped
    textless = [{"user_id": u, "item_id": i, "rating": r} for u, i, r, _ in REVIEWS[:2]]
    later = [{"User Id": u, "Item Id": i, "Rating": r, "Review Text": t} for u, i, r, t in REVIEWS[2:]]
    path.write_text("\n".join(json.dumps(r) for r in textless + later) + "\n")
    with pytest.warns(DataWarning, match=r"2 skipped \(empty text\)"):
        corpus = load_corpus(path)
    assert not corpus.ratings_only and list(corpus.texts) == [t for *_, t in REVIEWS[2:]]
    assert corpus.users.tolist()[-1] == REVIEWS[-1][0]
    # past the ratings-only look-ahead, a loosely named text key is refused by its line, not lost
    monkeypatch.setattr(json_reviews, "RATINGS_ONLY_AFTER", 2)
    with pytest.warns(DataWarning, match="ratings only"), pytest.raises(
            DataError, match=r"r\.jsonl:3: this record has a text key \('Review Text'\).*--column 'text=Review Text' "
            r"\(load_corpus: columns=\{'text': 'Review Text'\}\)"):
        load_corpus(path)
    # learning stops after KEY_LAYOUTS_LEARNED layouts
    monkeypatch.setattr(json_reviews, "KEY_LAYOUTS_LEARNED", 2)
    path.write_text("\n".join(json.dumps({**r, f"extra{k}": 1} if k else r) for k, r in enumerate(rows)) + "\n")
    assert load_corpus(path).report.columns_not_read == ["extra1"]


def test_keys_no_record_has_are_named_together_with_one_mapping(tmp_path):
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join(json.dumps({"who": u, "what": i, "overall": r, "reviewText": t})
                              for u, i, r, t in REVIEWS) + "\n")
    with pytest.raises(DataError, match=r"no record has a key for 'user' or 'item' \(looked for user: user, "
                       r"user_id.*; item: item, .*; in any case, with or without spaces and underscores\); the first "
                       r"record's keys are \['who', 'what', 'overall', 'reviewText'\]; map them with "
                       r"--column user=NAME --column item=NAME \(load_corpus: columns=\{'user': NAME, "
                       r"'item': NAME\}\)$"):  # worded as a table's missing columns are
        load_corpus(path)
    with pytest.raises(DataError, match=r"no record has a key for 'item' \(looked for item, item_id.*\), nor the "
                       r"key 'whom' given for 'user'; .*map them with --column user=NAME --column item=NAME"):
        load_corpus(path, columns={"user": "whom"})


def test_a_mapped_field_is_read_from_its_mapped_key_alone(tmp_path):
    """A key named like a usual one (``UserId``), or like the mapped key but for case (``Customer``),
    is not taken for a field the user mapped to another key: records lacking the mapped key lack the
    field."""
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps({"UserId": u, "Customer": u, "asin": i, "overall": r, "reviewText": t})
                              for u, i, r, t in REVIEWS) + "\n")
    assert quiet_load(path).users.tolist()[0] == REVIEWS[0][0]  # unmapped: found though named loosely
    with pytest.raises(DataError, match=r"no record has the key 'customer' given for 'user'"):
        load_corpus(path, columns={"user": "customer"})
