"""Tables: CSV and TSV (quoting, separators, headers), Parquet, DataFrames, ratings-only tables."""

from __future__ import annotations

import gzip
import warnings

import pandas as pd
import pytest

from tests.conftest import REVIEWS, amazon_lines
from tests.data.readers import quiet_load, write_csv
from whyrec.data import DataWarning, corpus_from_frame, detect_format, load_corpus
from whyrec.errors import DataError


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


def test_every_missing_column_is_named_in_one_error(tmp_path):
    """A file whose item and rating columns both have unusual names is told both at once, with one
    command line that maps them (before, the rating column was asked for only after the item's)."""
    path = tmp_path / "films.csv"
    pd.DataFrame(REVIEWS, columns=["User", "Movie", "Score (1-10)", "Comment"]).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"films\.csv: no column for 'item' or 'rating' \(looked for item: item, "
                       r"item_id.*; rating: rating, overall, stars, score, star_rating; in any case, with or without "
                       r"spaces and underscores\); columns are \['User', 'Movie', 'Score \(1-10\)', 'Comment'\]; map "
                       r"them with --column item=NAME --column rating=NAME \(load_corpus: columns=\{'item': NAME, "
                       r"'rating': NAME\}\)$"):
        load_corpus(path)
    frame = pd.DataFrame(REVIEWS, columns=["who", "what", "stars", "words"])
    with pytest.raises(DataError, match=r"no column for 'user' or 'item' .*map them with columns=\{'user': NAME, "
                       r"'item': NAME\}$"):
        corpus_from_frame(frame)
    mapped = load_corpus(path, columns={"item": "Movie", "rating": "Score (1-10)"})  # Comment: the text, unasked
    assert len(mapped) == len(REVIEWS) and mapped.report.columns["text"] == "Comment"


def test_csv_text_with_line_breaks_is_one_review_and_lines_stay_physical(tmp_path):
    path = write_csv(tmp_path, 'u1,i1,5,"great guitar,\nloud and ""bright"""', "u2,i2,4,fine", "u3,i3,9,too high")
    corpus = quiet_load(path)
    assert corpus.reviews["text"].tolist() == ['great guitar,\nloud and "bright"', "fine"]
    with pytest.raises(DataError, match=r"r\.csv:5\b.*rating"):  # the header is line 1, the text spans 2-3
        load_corpus(path, strict=True)


def test_csv_row_with_a_wrong_field_count_is_skipped_not_shifted(tmp_path):
    # pandas used such a row's first field as an index and shifted the others one column left
    path = write_csv(tmp_path, "u1,i1,5,good", "u2,i2,4,fine,extra", "u3,i3", "u4,i4,3,ok")
    corpus = quiet_load(path)
    assert corpus.reviews[["user", "item"]].values.tolist() == [["u1", "i1"], ["u4", "i4"]]
    assert corpus.report.skipped["malformed row"] == 2
    assert list(corpus.positions) == [0, 3]  # data rows after the header, as split index files count them
    with pytest.raises(DataError, match=r"r\.csv:3: malformed row: 5 fields where the header has 4"):
        load_corpus(path, strict=True)


def test_csv_unbalanced_quote_that_swallows_reviews_is_an_error(tmp_path):
    path = write_csv(tmp_path, 'u1,i1,5,"great product', "u2,i2,4,fine thing", 'u3,i3,3,"ok, really" ok"', "u4,i4,2,bad")
    with pytest.raises(DataError, match=r"r\.csv:2: a quote opened on this line closes only on line 4, "
                                        r"and line 3 between them reads as a review"):
        load_corpus(path)
    long = write_csv(tmp_path, 'u0,i0,5,"starts here', *(f"u{k},i{k},4,fine {'x' * 60}" for k in range(1, 3000)),
                     'u9,i9,3,"closed" late', name="long.csv")
    import csv

    outgrew, size = 2, len("starts here\n")  # the line on which the quoted text passes the csv module's limit
    while size <= csv.field_size_limit():
        outgrew += 1
        size += len(f"u{outgrew - 2},i{outgrew - 2},4,fine {'x' * 60}\n")
    with pytest.raises(DataError, match=rf"long\.csv:2: a quote opened on this line is still open on line {outgrew}, "
                                        r"where the text outgrew the csv module's field limit, and line 3"):
        load_corpus(long)
    never_closed = write_csv(tmp_path, "u1,i1,5,good", 'u2,i2,4,"fine thing', "u3,i3,3,ok", name="open.csv")
    with pytest.raises(DataError, match=r"open\.csv:3: a quote opened on this line is never closed"):
        load_corpus(never_closed)


def test_csv_text_after_a_closing_quote_is_a_malformed_row(tmp_path):
    path = write_csv(tmp_path, 'u1,i1,5,"best" guitar', "u2,i2,4,fine")
    corpus = quiet_load(path)
    assert corpus.reviews["user"].tolist() == ["u2"] and corpus.report.skipped["malformed row"] == 1
    with pytest.raises(DataError, match=r"r\.csv:2: malformed row: broken quoting"):
        load_corpus(path, strict=True)


def test_csv_header_with_byte_order_mark_repeated_column_and_gzip(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text("\ufeffuser,item,rating,text\nu1,i1,5,good\n", encoding="utf-8")
    assert quiet_load(path).reviews.loc[0, "user"] == "u1"
    marked = tmp_path / "bom.jsonl"  # JSON Lines saved by a Windows tool: still JSON, first record kept
    marked.write_text("\n".join(amazon_lines(REVIEWS)), encoding="utf-8-sig")
    assert detect_format(marked) == "amazon-json" and len(load_corpus(marked)) == len(REVIEWS)
    for name, opener in (("excel.txt", open), ("excel.csv.gz", gzip.open)):  # Excel's "Unicode text": UTF-16
        wide = tmp_path / name
        with opener(wide, "wt", encoding="utf-16") as handle:
            handle.write("user\titem\trating\ttext\nu1\ti1\t5\tcafé crème\n")
        assert quiet_load(wide, format="tsv").texts == ["café crème"]
    assert detect_format(tmp_path / "excel.txt") == "tsv"
    repeated = tmp_path / "twice.csv"
    repeated.write_text("user,item,rating,text,text\nu1,i1,5,good,bad\n")
    with pytest.raises(DataError, match=r"twice\.csv:1: column\(s\) \['text'\] appear more than once"):
        load_corpus(repeated)
    packed = tmp_path / "r.csv.gz"
    with gzip.open(packed, "wt") as handle:
        handle.write("user,item,rating,text\nu1,i1,5,\"good,\nreally\"\n")
    assert quiet_load(packed, format="csv").reviews.loc[0, "text"] == "good,\nreally"


def test_parquet(tmp_path):
    path = tmp_path / "r.parquet"
    pd.DataFrame(REVIEWS, columns=["user_id", "item_id", "rating", "text"]).to_parquet(path)
    assert detect_format(path) == "parquet"
    assert len(load_corpus(path)) == len(REVIEWS)
    # a date-time column is read as review times (they were all unreadable), as a DataFrame's is
    frame = pd.DataFrame(REVIEWS, columns=["user_id", "item_id", "rating", "text"])
    frame["date"] = pd.to_datetime([1_400_000_000 + 86_400 * n for n in range(len(frame))], unit="s")
    frame.to_parquet(path)
    corpus = load_corpus(path)
    assert corpus.report.unreadable_times == 0
    assert corpus.reviews["time"].tolist() == [1_400_000_000.0 + 86_400 * n for n in range(len(frame))]
    assert corpus_from_frame(frame).reviews["time"].tolist() == corpus.reviews["time"].tolist()


def test_a_table_without_a_text_column_is_read_as_ratings_only(tmp_path):
    """MovieLens' ratings.csv (userId, movieId, half stars, a timestamp) has no text: it is read,
    with a warning, as ratings only, which the rating models fit; what reads text refuses it."""
    from whyrec.explain.targets import explanation_targets

    lines = ["userId,movieId,rating,timestamp", "1,31,2.5,1260759144", "1,1029,3.0,1260759179",
             "2,31,0.5,1260759185", ",10,4.0,1260759185", "3,10,6.0,1260759185"]
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.warns(DataWarning, match="1 skipped"), pytest.warns(
            DataWarning, match=r"no column for 'text' \(looked for text, reviewText, review, review_text, review_body, "
                               r"body, comment, content; columns are \['userId', 'movieId', 'rating', 'timestamp'\]\): "
                               r"read as ratings only"):
        corpus = load_corpus(path, rating_scale=(0.5, 5.0))
    assert corpus.ratings_only and corpus.report.to_dict()["ratings_only"]
    assert list(corpus.users) == ["1", "1", "2"] and list(corpus.items) == ["31", "1029", "31"]
    assert list(corpus.ratings) == [2.5, 3.0, 0.5] and corpus.reviews["time"].notna().all()
    summary = corpus.report.summary()
    assert "1 skipped (missing user)" in summary
    assert "1 skipped (rating out of scale: 6, outside 0.5 to 5; --min" in summary
    assert corpus.report.to_dict()["outside_scale"] == [6.0, 6.0]
    assert corpus.report.to_dict()["scale"] == [0.5, 5.0]
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
        assert not load_corpus(write_csv(tmp_path, "u1,i1,5,fine")).ratings_only


def test_a_csv_without_a_header_line_is_told_so(tmp_path):
    """Amazon's ratings-only CSVs have no header: the first record was reported as a header
    without the user column, and mapping a column named by it would have lost that record."""
    path = tmp_path / "Gift_Cards.csv"
    path.write_text("B001GXRQW0,APV13CM0919JD,1.0,1229644800\nB001GXRQW0,A3G8U1G1V082SN,5.0,1229472000\n")
    with pytest.raises(DataError, match=r"Gift_Cards.csv:1: the first line, 'B001GXRQW0,APV13CM0919JD,1.0,1229644800', "
                       r"reads as a record, not as a header naming the columns \(no column for 'user', 'item' or "
                       r"'rating'\): add a header line first, such as 'item,user,rating,time'"):
        load_corpus(path)
    path.write_text("item,user,rating,time\n" + path.read_text())
    with pytest.warns(DataWarning, match="read as ratings only"):
        assert len(load_corpus(path)) == 2
    named = tmp_path / "named.csv"  # names and no numbers: a header, whose missing column is said as before
    named.write_text("who,item,rating,text\nu1,i1,5,fine\n")
    with pytest.raises(DataError, match=r"named.csv: no column for 'user' \(looked for user, user_id"):
        load_corpus(named)


def test_a_csv_text_past_the_field_limit_is_counted_as_such(tmp_path):
    import csv

    path = tmp_path / "long.csv"
    huge = "word " * (csv.field_size_limit() // 5 + 10)
    path.write_text(f'user,item,rating,text\nu1,i1,5,"{huge}"\nu2,i2,4,fine\n')
    corpus = quiet_load(path)
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
    read = quiet_load(halves)
    assert read.ratings.tolist() == [3.5, 4.0] and read.report.skipped["bad rating"] == 1
    # a comma header keeps the comma, whatever the texts hold
    comma = tmp_path / "comma.csv"
    comma.write_text('user,item,rating,text\na,x,5,"semi; colons; here; too"\n')
    assert quiet_load(comma).texts[0] == "semi; colons; here; too"


def test_the_report_names_the_column_each_field_was_read_from(tmp_path):
    """What ``data stats`` shows before anything is trained: the column of each field, and the
    columns no field read (here the dates, under a name whyrec does not guess)."""
    path = tmp_path / "r.csv"
    pd.DataFrame([("u1", "i1", 5, "good", 1_400_000_000, "x")],
                 columns=["user_id", "item_id", "stars", "review", "when", "helpful"]).to_csv(path, index=False)
    report = load_corpus(path).report
    assert report.columns == {"user": "user_id", "item": "item_id", "rating": "stars", "text": "review"}
    assert report.columns_not_read == ["when", "helpful"]
    assert report.column_word == "column"
    mapped = load_corpus(path, columns={"time": "when"}).report
    assert mapped.columns["time"] == "when" and mapped.columns_not_read == ["helpful"]
    assert mapped.to_dict()["columns"]["time"] == "when" and mapped.to_dict()["columns_not_read"] == ["helpful"]
    frame = corpus_from_frame(pd.read_csv(path)).report  # a DataFrame's columns are told the same way
    assert frame.columns_not_read == ["when", "helpful"]


def test_column_names_are_matched_without_case_spaces_or_underscores(tmp_path):
    """A spreadsheet's "User ID", "Item ID", "Rating", "Review Text" are the usual fields; a column
    with the exact name still wins over one that only matches loosely."""
    path = tmp_path / "export.csv"
    pd.DataFrame([("u1", "i1", 5, "good", 1)], columns=["User ID", "Item-ID", "Rating", "Review Text", "x"]).to_csv(
        path, index=False)
    report = load_corpus(path).report
    assert report.columns == {"user": "User ID", "item": "Item-ID", "rating": "Rating", "text": "Review Text"}
    both = tmp_path / "both.csv"
    pd.DataFrame([("u1", "i1", 5, 1, "good")], columns=["user", "item", "Rating", "rating", "text"]).to_csv(
        both, index=False)
    assert load_corpus(both).report.columns["rating"] == "rating"


def test_the_amazon_customer_reviews_tsv_is_read_without_a_mapping(tmp_path):
    """The Amazon Customer Reviews dataset's files name their fields customer_id, product_id,
    star_rating, review_body, review_date and review_headline, and mark paragraphs with <br />: a
    line break, at which sentences are cut, not the word "br"."""
    from whyrec.data.text import split_sentences, tokenize

    header = ("marketplace\tcustomer_id\treview_id\tproduct_id\tproduct_parent\tproduct_title\tproduct_category\t"
              "star_rating\thelpful_votes\ttotal_votes\tvine\tverified_purchase\treview_headline\treview_body\t"
              "review_date\n")
    rows = ["US\t17\tR1\tB001\t5\tStrings\tMusical Instruments\t2\t0\t0\tN\tY\tMeh\tThe tone is dull.<br /><br />"
            "They broke<BR>in a week<br/>sadly\t2015-08-31\n",
            "US\t18\tR2\tB001\t5\tStrings\tMusical Instruments\t5\t1\t1\tN\tY\tFive Stars\tBright tone\t2015-08-30\n",
            "US\t19\tR3\tB001\t5\tStrings\tMusical Instruments\t4\t0\t0\tN\tY\tOK\t<br />\t2015-08-29\n"]
    path = tmp_path / "amazon_reviews_us_Musical_Instruments_v1_00.tsv"
    path.write_text(header + "".join(rows), encoding="utf-8")
    corpus = quiet_load(path)
    assert corpus.report.columns == {"user": "customer_id", "item": "product_id", "rating": "star_rating",
                                     "text": "review_body", "time": "review_date", "summary": "review_headline",
                                     "item_title": "product_title"}
    assert corpus.item_title("B001") == "Strings"  # the item's name, which each row repeats
    assert corpus.report.skipped == {"empty text": 1}  # a text of line breaks only holds no words
    first = corpus.reviews.iloc[0]
    assert first["text"] == "The tone is dull.\n\nThey broke\nin a week\nsadly"
    assert "br" not in tokenize(first["text"])
    assert split_sentences(first["text"]) == ["The tone is dull.", "They broke", "in a week", "sadly"]
    assert corpus.reviews["rating"].tolist() == [2.0, 5.0] and corpus.reviews["summary"].iloc[1] == "Five Stars"


AMAZON_TSV_HEADER = "customer_id\tproduct_id\tstar_rating\treview_headline\treview_body\n"


def test_a_tsv_whose_quotes_are_text_is_read_line_by_line(tmp_path):
    """The Amazon Customer Reviews files quote no field: a body may open with a quote it never
    closes, or close it mid-field. Read as RFC 4180 quoting, the first swallowed the lines after it
    and the second was a malformed row; seen in the file's first lines, each line is one row."""
    rows = ['1\tB001\t5\t"Best strings ever\tGreat tone', '2\tB001\t4\tGood\tI said "wow" when I heard them',
            '3\tB002\t3\tOK\t"Fine" I guess', '4\tB002\t3\tOK\t12" cable, too short',
            '5\tB003\t5\t"Quoted"\t"All of it"']
    path = tmp_path / "amazon.tsv"
    path.write_text(AMAZON_TSV_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    from whyrec.data.readers.tables import quotes_are_text

    assert quotes_are_text(path)
    corpus = quiet_load(path)
    assert corpus.report.quotes_as_text and "quotes read as text (the file quotes no field)" in corpus.report.summary()
    assert corpus.reviews["text"].tolist() == ["Great tone", 'I said "wow" when I heard them', '"Fine" I guess',
                                               '12" cable, too short', '"All of it"']
    assert corpus.reviews["summary"].tolist()[0] == '"Best strings ever'
    with pytest.raises(DataError, match=r"amazon\.tsv:2: a quote opened on this line"):  # asked for: RFC quoting
        load_corpus(path, format="tsv")


def test_a_tsv_that_quotes_its_fields_is_still_read_as_quoted(tmp_path):
    """pandas and spreadsheets quote a field holding a tab, a line break or a quote: those quotes are
    quoting, and a file whose first lines have a quote that opens only a field is read so too."""
    frame = pd.DataFrame([("u1", "i1", 5, 'He said "wow"'), ("u2", "i1", 4, "two\nlines"), ("u3", "i2", 3, "a\ttab")],
                         columns=["user", "item", "rating", "text"])
    path = tmp_path / "quoted.tsv"
    frame.to_csv(path, sep="\t", index=False)
    from whyrec.data.readers.tables import quotes_are_text

    assert not quotes_are_text(path)
    corpus = quiet_load(path)
    assert not corpus.report.quotes_as_text and corpus.reviews["text"].tolist() == frame["text"].tolist()
    plain = tmp_path / "plain.tsv"
    plain.write_text('user\titem\trating\ttext\nu1\ti1\t5\t"Loud"\n', encoding="utf-8")  # one field, quoted whole
    assert not quotes_are_text(plain) and quiet_load(plain).reviews["text"].tolist() == ["Loud"]


def test_a_tsv_whose_text_quotes_show_only_past_its_head_is_told_the_format_that_reads_it(tmp_path):
    rows = [f"{k}\tB{k % 7}\t{1 + k % 5}\tFine\tPlain text number {k} of a long enough file" for k in range(2000)]
    rows += ['9000\tB1\t5\tLate\t"Best strings ever', '9001\tB2\t4\tAfter\tgood', '9002\tB3\t5\tOK\tthe 12" one']
    path = tmp_path / "late.tsv"
    path.write_text(AMAZON_TSV_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    hint = r"; a TSV whose quotes are part of its texts .* reads with --format tsv-unquoted \(load_corpus: " \
        r"format='tsv-unquoted'\)$"
    with pytest.raises(DataError, match=r"late\.tsv:2002: a quote opened on this line closes only on line 2004, and "
                                        r"line 2003 between them reads as a review of its own: .*" + hint):
        load_corpus(path)
    corpus = quiet_load(path, format="tsv-unquoted")
    assert len(corpus) == 2003 and corpus.reviews["text"].tolist()[-3:] == ['"Best strings ever', "good", 'the 12" one']
    path.write_text(AMAZON_TSV_HEADER + "\n".join(rows[:-1]) + "\n", encoding="utf-8")  # a quote never closed
    with pytest.raises(DataError, match=r"late\.tsv:2002: a quote opened on this line is never closed; nothing after "
                                        r"it can be read as TSV" + hint):
        load_corpus(path)
    csv_path = tmp_path / "late.csv"  # a CSV is told no TSV format
    csv_path.write_text("user,item,rating,text\nu1,i1,5,\"never closed\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"never closed; nothing after it can be read as CSV$"):
        load_corpus(csv_path)


@pytest.mark.parametrize("rows, as_text", [
    # the quote on the first row, of three lines, or of two
    (['1\tB1\t5\t"Best strings ever\tGreat tone', "2\tB1\t4\tGood\tfine"], True),
    (['1\tB1\t5\t"Best strings ever\tGreat tone'], True),
    # an empty quoted field, and a field quoted whole, are RFC 4180 quoting
    (['1\tB1\t5\t""\tGreat tone', '2\tB1\t4\t"Good"\tfine', "3\tB2\t4\tOK\tok"], False),
    # quotes doubled inside a quoted field, at its start or its end: RFC 4180 quoting
    (['1\tB1\t5\t"""Best"" strings"\tGreat tone', '2\tB1\t4\t"Good, I said ""wow"""\tfine', "3\tB2\t4\tOK\tok"],
     False),
    # a field that opens and ends with a quote, with a lone one between: text
    (['1\tB1\t5\t"Best" and "worst"\tGreat tone', "2\tB1\t4\tGood\tfine", "3\tB2\t4\tOK\tok"], True),
    # the first row's fields differ from the header's: a tab inside a quoted field, so quoting is in use
    (['1\tB1\t"Best strings ever', '2\tB1\t4\tGood\t"Fine" I guess', "3\tB2\t4\tOK\tok"], False),
    # every row's fields differ from the header's, alike
    (['1\tB1\t5\t"Best strings ever', '2\tB1\t4\t"Fine" I guess', "3\tB2\t4\tok"], False),
])
def test_quotes_are_text_by_the_first_rows_against_the_header(tmp_path, rows, as_text):
    from whyrec.data.readers.tables import quotes_are_text

    path = tmp_path / "r.tsv"
    path.write_text(AMAZON_TSV_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    assert quotes_are_text(path) is as_text


@pytest.mark.parametrize("name, header, tabs, sep", [
    ("r.tsv", "user,item,rating,text", False, ","),  # not asked to look for tabs: the header says
    ("r.tsv", "user\titem\trating\ttext, in words", True, "\t"),  # a .tsv is one whatever its header holds
    ("r.TAB", "user;item;rating;text", True, "\t"),
    ("r.txt", "user\titem\trating\ttext", True, "\t"),
    ("r.txt", "user\titem\trating\ttext,words", True, ","),  # tabs and a comma: a CSV
    ("r.txt", "user", True, ","),  # no separator at all: a one-column CSV
    ("r.txt", "user|item|rating|text; words", True, ";"),  # ; before |
])
def test_csv_separator_by_name_and_header(tmp_path, name, header, tabs, sep):
    from whyrec.data.readers.tables import csv_separator

    path = tmp_path / name
    path.write_text(f"\n\n{header}\nu1\n", encoding="utf-8")  # blank lines before the header are passed over
    assert csv_separator(path, tabs=tabs) == sep


def test_a_parquet_row_is_named_by_its_row_number(tmp_path):
    path = tmp_path / "r.parquet"
    pd.DataFrame([("u1", "i1", 5, "good"), ("u2", "i2", 9, "too high")],
                 columns=["user", "item", "rating", "text"]).to_parquet(path)
    with pytest.raises(DataError, match=r"r\.parquet:2: field 'rating'"):
        load_corpus(path, strict=True)


def test_a_tsv_longer_than_what_is_peeked_at_is_judged_without_its_cut_off_line(tmp_path):
    """Past the first 64 KiB the last line looked at may be cut off mid-row, its fields fewer than
    the header's: it is left out, so a TSV quoting its fields is still judged by the whole rows."""
    from whyrec.data.readers.tables import quotes_are_text

    rows = [f'{k}\tB1\t5\t"Best strings ever"\tGreat tone number {k}' for k in range(3000)]
    path = tmp_path / "long.tsv"
    path.write_text(AMAZON_TSV_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    assert path.stat().st_size > 1 << 16 and not quotes_are_text(path)
    rows[0] = '0\tB1\t5\t"Best strings ever\tGreat tone'
    path.write_text(AMAZON_TSV_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    assert quotes_are_text(path)
