"""load_corpus and detection: validation, duplicates, scales, errors each reader gives, the shared data."""

from __future__ import annotations

import gzip
import inspect
import json
import pickle
import re
import warnings

import pandas as pd
import pytest

from tests.conftest import REVIEWS, amazon_lines
from tests.data.readers import quiet_load
from whyrec.data import DataWarning, corpus_from_frame, detect_format, load_corpus
from whyrec.errors import ConfigError, DataError


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
    assert quiet_load(path).reviews.set_index("user").loc["a", "text"] == "second"
    assert quiet_load(path, duplicates="keep-first").reviews.set_index("user").loc["a", "text"] == "first"
    assert len(quiet_load(path, duplicates="keep-all")) == 3
    with pytest.raises(DataError, match="duplicate"):
        quiet_load(path, duplicates="error")


def test_dropping_a_repeated_pair_is_said_in_a_warning(tmp_path):
    """A pair's other reviews are left out by keep-last and keep-first: a warning counts them, as
    for skipped records; keep-all leaves nothing out, and says nothing."""
    import warnings

    from whyrec.data import load_corpus
    from whyrec.errors import DataWarning

    path = tmp_path / "d.json"
    path.write_text("\n".join(amazon_lines([("a", "x", 1.0, "first"), ("a", "x", 5.0, "second"),
                                             ("a", "x", 4.0, "third"), ("b", "x", 3.0, "other")])))
    for policy, kept in (("keep-last", "latest"), ("keep-first", "earliest")):
        with pytest.warns(DataWarning, match=rf"4 records read, 2 kept, 2 duplicate \(user, item\) pairs dropped "
                                             rf"\(the {kept} review of each pair kept\)"):
            load_corpus(path, duplicates=policy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load_corpus(path, duplicates="keep-all")) == 4


def test_keep_last_keeps_the_latest_review_by_time_not_by_place_in_the_file(tmp_path):
    """Amazon's 2018 dumps list an item's reviews newest first: the last in the file is the oldest.
    keep-last kept it; it now keeps the latest written (file order among equal or missing times)."""
    def line(text, time=None, user="a"):
        return json.dumps({"reviewerID": user, "asin": "x", "overall": 3.0, "reviewText": text,
                           **({"unixReviewTime": time} if time is not None else {})})

    path = tmp_path / "d.json"
    path.write_text("\n".join([line("newest", 1_500_000_000), line("other", 1_400_000_000, user="b"),
                               line("oldest", 1_300_000_000), line("middle", 1_400_000_000)]))
    latest = quiet_load(path)
    assert dict(zip(latest.users, latest.texts)) == {"a": "newest", "b": "other"}
    assert list(latest.users) == ["a", "b"]  # the kept records stay in file order
    assert "2 duplicate (user, item) pairs dropped (the latest review of each pair kept)" in latest.report.summary()
    earliest = quiet_load(path, duplicates="keep-first")
    assert earliest.reviews.set_index("user").loc["a", "text"] == "oldest"
    assert "(the earliest review of each pair kept)" in earliest.report.summary()
    path.write_text("\n".join([line("early", 1_400_000_000), line("tie", 1_400_000_000), line("undated")]))
    assert list(quiet_load(path).texts) == ["tie"]  # equal times: the last in the file; undated counts as older
    assert list(quiet_load(path, duplicates="keep-first").texts) == ["early"]
    path.write_text("\n".join([line("one"), line("two")]))
    assert list(quiet_load(path).texts) == ["two"] and list(quiet_load(path, duplicates="keep-first").texts) == ["one"]


def test_unknown_content_asks_for_format(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("just some words\n")
    with pytest.raises(DataError, match="--format"):
        load_corpus(path)


def test_shared_digital_music_counts(shared_data):
    corpus = quiet_load(shared_data / "amazon-digital-music", duplicates="keep-all")
    assert corpus.report.read == 6908
    assert len(corpus.report.users_seen) == 2490 and len(corpus.report.items_seen) == 382


def test_a_frame_with_a_column_name_twice_is_refused_by_name():
    """``frame["user"]`` is then a table of both: an AttributeError traceback."""
    from whyrec.data import corpus_from_frame

    frame = pd.DataFrame([["a", "x", 5, "b"]], columns=["user", "item", "rating", "user"])
    with pytest.raises(DataError, match=r"<frame>: the column 'user' appears 2 times; keep one"):
        corpus_from_frame(frame)


def test_an_empty_file_says_so(tmp_path):
    for name, content in (("empty.csv", ""), ("blank.json", "\n\n  \n")):
        (tmp_path / name).write_text(content)
        with pytest.raises(DataError, match=rf"{name}: file is empty"):
            load_corpus(tmp_path / name)


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
    # 1..inf had trained a bundle that could not be loaded (a saved scale must be finite)
    for scale in ((1.0, float("inf")), (float("-inf"), 5.0), (float("nan"), 5.0)):
        with pytest.raises(ConfigError, match="the lowest and the highest rating must be finite numbers"):
            load_corpus(path, rating_scale=scale)
    with pytest.raises(ConfigError, match="duplicates must be one of keep-last, keep-first, keep-all, error"):
        load_corpus(path, duplicates="newest")  # was: silently keep-first
    with pytest.raises(ConfigError, match=r"^duplicates must be .*, not 'keep-al' \(did you mean 'keep-all'\?\)$"):
        load_corpus(path, duplicates="keep-al")  # the library is told the close one, as the command line is


def _zip(path, names):
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(name, "user,item,rating,text\n")


@pytest.mark.parametrize("name, write, said", [
    ("reviews.xlsx", lambda p: _zip(p, ["[Content_Types].xml", "xl/workbook.xml"]),
     "an Excel workbook: save the sheet as CSV, or read it with pandas.read_excel and pass the DataFrame to "
     "whyrec.data.corpus_from_frame"),
    ("reviews.xls", lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)),
     "an Excel 97–2003 workbook"),
    ("reviews.zip", lambda p: _zip(p, ["reviews.csv"]), "a zip archive: unpack it and give the review file inside"),
    ("reviews.feather", lambda p: pd.DataFrame(REVIEWS, columns=["user", "item", "rating", "text"]).to_feather(p),
     "an Arrow/Feather file: write it as Parquet"),
    ("reviews.feather.gz", lambda p: p.write_bytes(gzip.compress(b"ARROW1\x00\x00" + bytes(range(256)))),
     "an Arrow/Feather file"),
    ("reviews.db", lambda p: p.write_bytes(b"SQLite format 3\x00" + bytes(600)),
     "an SQLite database: export the reviews table as CSV"),
])
def test_files_reviews_are_often_kept_in_are_named_with_what_to_do(tmp_path, name, write, said):
    """A workbook, archive or database is not refused as mere "binary content": it is named, with the
    way to read it."""
    path = tmp_path / name
    write(path)
    with pytest.raises(DataError, match=re.escape(said)):
        load_corpus(path)


def test_binary_content_is_named_as_such_and_text_in_any_encoding_is_not(tmp_path):
    noise = bytes((n * 97 + 13) % 256 for n in range(4000))  # every byte value, control bytes included
    path = tmp_path / "reviews.json.gz"
    path.write_bytes(gzip.compress(noise))
    with pytest.raises(DataError, match="binary content: not a review file whyrec reads"):
        load_corpus(path)  # was: read as a CSV whose header is noise
    latin = tmp_path / "latin.csv"  # not UTF-8, yet text
    latin.write_bytes("user,item,rating,text\nu1,i1,5,très élégant café\n".encode("latin-1"))
    assert len(quiet_load(latin)) == 1
    folder = tmp_path / "data"
    (folder / "reviews.csv").mkdir(parents=True)  # a folder by the name of a review file is not one
    with pytest.raises(DataError, match="folder holds no review file"):
        load_corpus(folder)


def test_a_text_that_is_not_a_string_is_a_bad_text_not_an_empty_one(tmp_path):
    path = tmp_path / "reviews.json"
    rows = [{"reviewerID": "a", "asin": "x", "overall": 5, "reviewText": 123},
            {"reviewerID": "b", "asin": "x", "overall": 4, "reviewText": ["a", "list"]},
            {"reviewerID": "c", "asin": "x", "overall": 4, "reviewText": "  "},
            {"reviewerID": "d", "asin": "x", "overall": 4},
            {"reviewerID": "e", "asin": "x", "overall": 4, "reviewText": "fine"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with pytest.warns(DataWarning, match=r"1 kept, 2 skipped \(bad text; the first, line 1: review text 123 is "
                                         r"not a string\), 2 skipped \(empty text\)"):
        assert len(load_corpus(path)) == 1
    with pytest.raises(DataError, match=r"reviews.json:1: field 'text': review text 123 is not a string"):
        load_corpus(path, strict=True)


def test_times_are_read_as_numbers_or_iso_dates_and_unreadable_ones_counted(tmp_path):
    """A CSV's ``date`` column of ISO dates was read as no time at all, silently, so leave-last-out
    ordered those reviews by file position."""
    path = tmp_path / "reviews.csv"
    path.write_text("user,item,rating,text,date\na,x,5,good,2020-01-01\na,y,4,ok,yesterday\n"
                    "b,x,3,fine,1600000000\nb,y,2,bad,\nc,x,4,nice,2020-01-01T12:00:00+02:00\n"
                    "c,y,4,shelved,Fri Aug 25 13:55:02 -0700 2017\n")
    with pytest.warns(DataWarning, match=r"1 unreadable time \(records kept without one; the first, line 3: "
                      r"'yesterday'\)"):
        corpus = load_corpus(path)
    times = dict(zip(zip(corpus.users, corpus.items), corpus.reviews["time"]))
    assert times[("a", "x")] == 1577836800.0  # midnight UTC
    assert times[("b", "x")] == 1600000000.0 and times[("c", "x")] == 1577872800.0
    assert times[("c", "y")] == 1503694502.0  # Goodreads' date-times: 2017-08-25 20:55:02 UTC
    assert pd.isna(times[("a", "y")]) and pd.isna(times[("b", "y")])  # unreadable, and none given
    assert corpus.report.to_dict()["first_unreadable_time"] == "line 3: 'yesterday'"
    # a day/month date cannot be read either way round: the summary says why
    path.write_text("user,item,rating,text,date\na,x,5,good,03/04/2020\nb,x,4,fine,\"09 5, 2013\"\n")
    with pytest.warns(DataWarning, match=r"1 unreadable time \(records kept without one; the first, line 2: "
                      r"'03/04/2020': its day and month cannot be told apart; ISO dates \(2019-01-10\) are read\)"):
        corpus = load_corpus(path)
    assert corpus.reviews["time"].tolist()[1] == 1378339200.0  # Amazon's reviewTime: 2013-09-05
    # and a file whose only time is Amazon's reviewTime column
    path.write_text("reviewerID,asin,overall,reviewText,reviewTime\na,x,5,good,\"09 5, 2013\"\n")
    assert load_corpus(path).reviews["time"].tolist() == [1378339200.0]
    assert corpus.report.to_dict()["unreadable_times"] == 1


def _file(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


_SS_LINE = "alice\t\tguitar\t\t5\t\tgreat sound <sssss> loud"


_JSON_LINE = json.dumps({"reviewerID": "alice", "asin": "guitar", "overall": 5, "reviewText": "great"})


@pytest.mark.parametrize("name, content, options, message", [
    ("r.ss", f"{_SS_LINE}\nbob\t\tstrap 3 okay\n", {"strict": True}, r"r\.ss:2: expected 4 fields separated by "
     "double tabs, found 2"),
    ("r.jsonl", f"{_JSON_LINE}\n[1, 2]\n", {"strict": True}, r"r\.jsonl:2: line is a JSON array, not an object"),
    ("r.jsonl", f"{_JSON_LINE}\n(1, 2)\n", {"strict": True}, r"r\.jsonl:2: line is not a JSON object"),  # Python
    ("r.csv", "user,item,rating,text\nalice,guitar,5,great\n", {"columns": {"user": "customer"}},
     r"r\.csv: column 'customer' for field 'user' not found; columns are \['user', 'item', 'rating', 'text'\]"),
    ("r.csv", '"user,item,rating,text\n', {"format": "csv"}, r"r\.csv:1: cannot parse the CSV header"),
    ("reviews.pickle", pickle.dumps({"user": "alice"}, protocol=2), {}, "expected a list of records, found dict"),
    ("reviews.pickle", pickle.dumps(["alice"], protocol=2), {"strict": True}, r"reviews\.pickle:1: record is not "
     "a dict"),
    ("reviews.pickle", b"\x80\x02not a pickle at all", {"format": "peter-pickle"}, "not a readable pickle"),
    ("r.csv", "user,item,rating,text\nalice,guitar,5,great\n", {"format": "xml"},
     r"unknown format 'xml'; known formats are amazon-json, "),
    ("r.csv", "user,item,rating,text\nalice,guitar,5,great\n", {"format": "amazon-jsn"},
     r"unknown format 'amazon-jsn' \(did you mean 'amazon-json'\?\); known formats are amazon-json, "),
])
def test_each_reader_names_what_is_wrong_with_a_file(tmp_path, name, content, options, message):
    """The readers' own refusals, each naming the file (and line) and what is wrong."""
    path = _file(tmp_path, name, content)
    with pytest.raises(DataError, match=message):
        quiet_load(path, **options)


@pytest.mark.parametrize("name, content, kept, skipped", [
    ("r.ss", f"{_SS_LINE}\nbob\t\tstrap 3 okay\n", 1, "malformed line"),
    ("reviews.pickle", pickle.dumps(["alice", {"user": "bob", "item": "strap", "rating": 3, "text": "okay strap"}],
                                    protocol=2), 1, "malformed record"),
])
def test_without_strict_a_malformed_entry_is_skipped_and_counted(tmp_path, name, content, kept, skipped):
    corpus = quiet_load(_file(tmp_path, name, content))
    assert len(corpus) == kept and corpus.report.skipped[skipped] == 1 and corpus.report.read == 2


def test_a_folder_of_a_download_is_read_by_its_review_file(tmp_path):
    """Yelp's download holds its reviews beside business, user, tip and check-in files: the one named
    as reviews is read, with the businesses as metadata; the Amazon Customer Reviews files are gzipped
    TSVs. Several files none of which, or more than one of which, is named so stay an error."""
    import json

    yelp = tmp_path / "yelp"
    yelp.mkdir()
    (yelp / "yelp_academic_dataset_review.json").write_text(json.dumps(
        {"user_id": "u1", "business_id": "b1", "stars": 5, "text": "great", "date": "2019-05-01"}) + "\n")
    (yelp / "yelp_academic_dataset_business.json").write_text(json.dumps({"business_id": "b1", "name": "Luigi's"})
                                                              + "\n")
    for other in ("user", "tip", "checkin"):
        (yelp / f"yelp_academic_dataset_{other}.json").write_text("{}\n")
    corpus = load_corpus(yelp)
    assert len(corpus) == 1 and corpus.item_title("b1") == "Luigi's"
    amazon = tmp_path / "amazon"
    amazon.mkdir()
    with gzip.open(amazon / "amazon_reviews_us_Musical_Instruments_v1_00.tsv.gz", "wt") as handle:
        handle.write("customer_id\tproduct_id\tstar_rating\treview_body\n1\tB1\t4\tnice\n")
    assert load_corpus(amazon).reviews["item"].tolist() == ["B1"]
    (amazon / "amazon_reviews_us_Guitars_v1_00.tsv.gz").write_bytes(b"")
    with pytest.raises(DataError, match="several review files"):
        load_corpus(amazon)


def test_a_corpus_is_named_by_its_folder_when_its_file_is_named_reviews_and_else_by_its_file(tmp_path):
    """The name tables and charts show: whyrec's and PETER's data folders hold ``reviews.*``, so the
    folder names the data; a download's file (``Musical_Instruments.jsonl.gz``) names it by itself."""
    for folder, name, expected in (("digital_music", "reviews.json.gz", "digital_music"),
                                   ("downloads", "Musical_Instruments.jsonl.gz", "Musical_Instruments"),
                                   ("downloads", "ratings.v2.csv", "ratings")):
        (tmp_path / folder).mkdir(exist_ok=True)
        path = tmp_path / folder / name
        with (gzip.open if name.endswith(".gz") else open)(path, "wt") as handle:
            handle.write("\n".join(amazon_lines()) + "\n")
        assert quiet_load(path).name == expected
        path.unlink()


def test_metadata_naming_the_reviewed_items_is_read_without_a_warning(tmp_path, amazon_file):
    meta = tmp_path / "meta.jsonl"
    meta.write_text(json.dumps({"asin": "guitar", "title": "A guitar"}) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        corpus = load_corpus(amazon_file, meta_path=meta)
    assert corpus.item_title("guitar") == "A guitar"


def test_a_zip_is_an_excel_workbook_by_its_xl_folder_or_by_its_name(tmp_path):
    workbook = "an Excel workbook: save the sheet as CSV"
    for name, entries, said in (("book.zip", ["xl/workbook.xml"], workbook),
                                ("book.xlsx", ["data.csv"], workbook), ("book.xlsm", ["data.csv"], workbook),
                                ("book.zip", ["data.csv"], "a zip archive: unpack it")):
        _zip(tmp_path / name, entries)
        with pytest.raises(DataError, match=re.escape(said)):
            load_corpus(tmp_path / name)


def test_a_text_with_a_few_control_characters_is_still_text(tmp_path):
    """Up to 1% of the characters may be control characters (a stray \\x1a or \\x00 in a pasted
    review) before a file is taken for binary content."""
    header = "user,item,rating,text\n"
    body = "".join(f"u{k},i{k},5,good sound and strings {k:04d}\n" for k in range(200))
    for share, binary in ((0.006, False), (0.02, True)):
        count = round(share * (len(header) + len(body)))
        path = tmp_path / f"stray_{share}.csv"
        path.write_text(header + body[:-1] + "\x1a" * count + "\n")
        if binary:
            with pytest.raises(DataError, match="binary content"):
                detect_format(path)
        else:
            assert detect_format(path) == "csv"


@pytest.mark.parametrize("files, listed", [(5, "r0.csv, r1.csv, r2.csv, r3.csv, r4.csv)"),
                                           (6, "r0.csv, r1.csv, r2.csv, r3.csv, r4.csv, ...)")])
def test_a_folder_of_several_review_files_names_the_first_five(tmp_path, files, listed):
    for k in range(files):
        (tmp_path / f"r{k}.csv").write_text("user,item,rating,text\n")
    with pytest.raises(DataError, match=re.escape(f"several review files ({listed}; give the file")):
        load_corpus(tmp_path)


def _truncated_gzip(path):
    path.write_bytes(gzip.compress(b"user,item,rating,text\n" + b"u1,i1,5,good sound\n" * 500)[:-12])


@pytest.mark.parametrize("name, write, says", [
    ("skipped.csv", lambda p: p.write_text("user,item,rating,text\nu1,i1,5,good\nu2,i2,9,bad\n"), "1 skipped"),
    ("ratings.csv", lambda p: p.write_text("user,item,rating\nu1,i1,5\n"), "no column for 'text'"),
    ("ratings.jsonl", lambda p: p.write_text(json.dumps({"reviewerID": "u1", "asin": "i1", "overall": 5}) + "\n"),
     "no record has a key for 'text'"),
    ("latin.csv", lambda p: p.write_bytes("user,item,rating,text\nu1,i1,5,très bon\n".encode("latin-1")),
     "not UTF-8"),
    ("cut.csv.gz", _truncated_gzip, "compressed file is truncated"),
])
def test_a_reading_warning_is_shown_at_the_line_that_called_load_corpus(tmp_path, name, write, says):
    """Python shows a warning under a line of code: the user's, not one inside whyrec (the
    ratings-only and not-UTF-8 warnings were shown under lines of whyrec's readers)."""
    write(tmp_path / name)
    for given in (tmp_path / name, tmp_path):  # a file, or the folder holding it
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            called_on = inspect.currentframe().f_lineno + 1
            load_corpus(given)
        said = [w for w in caught if says in str(w.message)]
        assert said and all((w.filename, w.lineno) == (__file__, called_on) for w in said), said


def test_a_frames_and_a_metadata_files_warnings_are_shown_at_the_callers_line(tmp_path, amazon_file):
    frame = pd.DataFrame({"user": ["a", "b"], "item": ["x", "y"], "rating": [5, 9]})
    (tmp_path / "other.jsonl").write_text(json.dumps({"asin": "B0OTHER", "title": "Another"}) + "\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        framed_on = inspect.currentframe().f_lineno + 1
        corpus_from_frame(frame)
        loaded_on = inspect.currentframe().f_lineno + 1
        load_corpus(amazon_file, meta_path=tmp_path / "other.jsonl")
    assert [(w.filename, w.lineno) for w in caught] == [(__file__, framed_on)] * 2 + [(__file__, loaded_on)]
