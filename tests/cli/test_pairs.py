"""The pairs ``whyrec explain`` answers: ``--user``/``--item`` and ``--pairs`` files; and the users
``whyrec recommend --users`` answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.invoke import assert_one_line_error, run_cli
from whyrec.cli.pairs import answered_in_parts, in_file_order, read_pairs
from whyrec.errors import ConfigError, DataError


def test_a_pairs_file_is_read_with_its_feature_words_and_a_spreadsheets_byte_order_mark(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_bytes("\ufeffuser,item,feature_word\n u1 ,i1,sound\nu2,i2\u200b,\n".encode("utf-8"))
    assert read_pairs(path) == (["u1", "u2"], ["i1", "i2"], ["sound", None], [2, 3])  # a zero-width space stripped
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("user\titem\nu1\ti1\n")
    assert read_pairs(tsv) == (["u1"], ["i1"], None, [2])
    texts = tmp_path / "texts.csv"  # a text over lines, one of them with the header's number of fields
    texts.write_text('user,item,text\nu1,i1,"I liked it,\nbut the cable, the strap, and box"\nu2,i2,ok\n')
    assert read_pairs(texts) == (["u1", "u2"], ["i1", "i2"], None, [3, 4])
    spaced = tmp_path / "spaced.csv"  # typed by hand: a space after each comma, the header's too
    spaced.write_text("user, item\nu1, i1\n")
    assert read_pairs(spaced) == (["u1"], ["i1"], None, [2])


@pytest.mark.parametrize("content", ["user;item;title\nu1;i1;Red, blue\n", "user|item\nu1|i1\n",
                                     "user\titem\nu1\ti1\n"])
def test_a_pairs_file_is_read_with_the_separator_its_header_shows(tmp_path, content):
    """A spreadsheet's ; or |, or tabs in a file named .csv, as review files are read: the header
    had read as one column named 'user;item'."""
    path = tmp_path / "pairs.csv"
    path.write_text(content)
    assert read_pairs(path) == (["u1"], ["i1"], None, [2])


def test_a_pairs_file_may_be_json_lines_as_explain_json_writes_them(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"user": "u1", "item": "i1", "predicted_rating": 4.2, "explanations": {"pair": "good"}}\n'
                    '\n{"user": " u2 ", "item": 17, "feature_word": "sound"}\n')
    assert read_pairs(path) == (["u1", "u2"], ["i1", "17"], [None, "sound"], [1, 3])
    path.write_text('{"user": "u1", "item": "i1"}\n')
    assert read_pairs(path) == (["u1"], ["i1"], None, [1])  # no feature word in any row: None for all
    path.write_text('{"user": 7.0, "item": 3}\n')  # pandas writes an integer column with a gap as floats
    assert read_pairs(path) == (["7"], ["3"], None, [1])


def test_a_pairs_file_may_be_one_json_array_of_pair_objects(tmp_path):
    """As a review file may be: ``[{"user": …, "item": …}, …]``, each pair at the line it starts on
    (it was refused, and asked for JSON lines)."""
    path = tmp_path / "pairs.json"
    path.write_text('\n[\n  {"user": "u1", "item": "i1"},\n\n'
                    '  {"reviewerID": "u2", "asin": 7, "feature_word": "ink"}\n]\n')
    assert read_pairs(path) == (["u1", "u2"], ["i1", "7"], [None, "ink"], [3, 5])
    path.write_text('\ufeff[{"user": "u1", "item": "i1"}, {"user": "u2", "item": "i2"}]')  # one line, a byte-order mark
    assert read_pairs(path) == (["u1", "u2"], ["i1", "i2"], None, [1, 1])


def test_a_file_of_reviews_is_a_pairs_file_by_its_id_columns(tmp_path):
    """The test reviews of a data file are asked as they are: their id columns are found by the names
    a review file's are (reviewerID and asin, customer_id and product_id, "User ID" …), other columns
    passed over; 'user' and 'item' still come first."""
    amazon = tmp_path / "test.csv"
    amazon.write_text("reviewerID,asin,overall,reviewText\nA1,B1,5,great\nA2,B2,1,\"bad, very\"\n")
    assert read_pairs(amazon) == (["A1", "A2"], ["B1", "B2"], None, [2, 3])
    tsv = tmp_path / "test.tsv"  # quoting no field, as Amazon's do: a text's lone quote swallows no row
    tsv.write_text('marketplace\tcustomer_id\tproduct_id\treview_body\nUS\t17\tB001\t"Best strings\n'
                   'US\t18\tB002\tfine\n')
    assert read_pairs(tsv) == (["17", "18"], ["B001", "B002"], None, [2, 3])
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("User ID,Item ID,user_id\nu1,i1,other\n")  # an exact alias before a loose match
    assert read_pairs(sheet) == (["other"], ["i1"], None, [2])
    both = tmp_path / "both.csv"
    both.write_text("user_id,user,item\nx,u1,i1\n")  # 'user' itself first
    assert read_pairs(both) == (["u1"], ["i1"], None, [2])
    lines = tmp_path / "test.jsonl"
    lines.write_text('{"reviewerID": "A1", "asin": "B1", "overall": 5}\n{"user_id": "u2", "business_id": "b2"}\n')
    assert read_pairs(lines) == (["A1", "u2"], ["B1", "b2"], None, [1, 2])


@pytest.mark.parametrize("content, message", [
    ('[{"user": "u1", "item": "i1"}, ["u2", "i2"]]\n', r"pairs\.jsonl:1: array element is a JSON array, not an object"),
    ('[{"user": "u1", "item": "i1"},\n{"user": "u2" "item": "i2"}]\n', r"pairs\.jsonl:2: not JSON inside the array"),
    ('[\n{"user": "u1"}]\n', r"pairs\.jsonl:2: needs 'user' and 'item' keys .*: no key for 'item' \(looked for item, "
                            r"item_id, .*\); the object's keys are \['user'\]$"),
    ('{"user": "u1", "item": "i1"}\n{"user": "u2", \n', r"pairs\.jsonl:2: not JSON"),
    ('{"user": "u1", "item": "i1"}\n["u2", "i2"]\n',
     r"pairs\.jsonl:2: the line is a JSON array, not an object with 'user' and 'item'"),
    ('{"user": "u1"}\n', r"pairs\.jsonl:1: needs 'user' and 'item' keys .*: no key for 'item' "),
    # was "field 'user': missing user id", though the object has no key for it, only one wrapping the pairs
    ('{"pairs": [{"user": "u1", "item": "i1"}]}\n',
     r"pairs\.jsonl:1: needs .*: no key for 'user' or 'item' \(looked for user: user, .*\); the object's keys are "
     r"\['pairs'\]$"),
    ('{"user": "u1", "item": null}\n', r"pairs\.jsonl:1: field 'item': missing item id$"),  # the key, no id
    ('{"user": "u1", "item": true}\n', r"pairs\.jsonl:1: .*item is not text: True"),
    ('{"user": ["u1"], "item": "i1"}\n', r"pairs\.jsonl:1: .*user is not text"),
    ('{"user": 7.5, "item": "i1"}\n', r"pairs\.jsonl:1: .*user is not text: 7\.5"),
    ('\n\n', r"pairs\.jsonl: no \(user, item\) rows"),
])
def test_a_bad_json_lines_pairs_file_is_named_with_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "pairs.jsonl"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        read_pairs(path)


@pytest.mark.parametrize("content, message", [
    (b"person,thing\nu1,i1\n", r"pairs\.csv:1: needs a header row with 'user' and 'item' columns \(or a review "
                                r"file's names for them\): no column for 'user' or 'item' \(looked for user: user, "
                                r"user_id.*\); columns are \['person', 'thing'\]$"),
    (b"reviewerID,thing\nu1,i1\n", r"pairs\.csv:1: .*no column for 'item' \(looked for item, item_id"),
    # a split's index file (one line of row numbers) as one column: its name is cut, not printed whole
    pytest.param(" ".join(map(str, range(2000))).encode() + b"\n",
                 r"columns are \['0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 1…'\]$", id="an index file"),
    pytest.param(",".join(f"c{n}" for n in range(500)).encode() + b"\n",
                 r"columns are \['c0', 'c1', .*'c11', …\] \(500 in all\)$", id="500 columns"),
    (b"", r"pairs\.csv: is empty: a pairs file needs a header row with 'user' and 'item' columns, then a row per pair"),
    (b"\n\n", r"pairs\.csv: is empty: a pairs file needs a header row"),  # was told its columns are []
    (b"user,item\n", r"pairs\.csv: no \(user, item\) rows"),
    (b"user,item\nu1,\n", r"pairs\.csv:2: .*missing item id"),
    (b'user,item,text\nu1,i1,"never closed\nu2,i2,fine\n', r"pairs\.csv:2: cannot read as CSV: unexpected end of data"),
    (b'user,item,text\nu1,i1,"Fine" I guess\nu2,i2,fine\n', r"pairs\.csv:2: cannot read as CSV: ',' expected"),
    (b'user,item,text\nu1,i1,"opens here\nu2,i2,fine\nu3,i3,closes"\nu4,i4,ok\n',
     r"pairs\.csv:2: a quote opened on this line closes only on line 4, and line 3 between them reads as a row of its "
     r"own: close the quote"),
    (None, r"pairs\.csv: no such file"),
])
def test_a_bad_pairs_file_is_named_with_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "pairs.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_pairs(path)


def test_pairs_are_given_one_way_and_users_match_items(tmp_path):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("user,item\nu1,i1\n")
    assert_one_line_error(run_cli("explain", str(tmp_path), "--pairs", str(pairs), "--user", "u1"),
                          "give pairs either with --pairs or with --user/--item, not both")
    assert_one_line_error(run_cli("explain", str(tmp_path), "--user", "u1", "--user", "u2", "--item", "i1", "--item",
                                  "i2", "--item", "i3"),
                          "give as many --user as --item (got 2 and 3), or one of them for several of the other, or "
                          "--pairs FILE")


def test_one_user_goes_with_every_item_and_one_item_with_every_user():
    from whyrec.cli.pairs import paired_options

    assert paired_options(["u1"], ["i1", "i2"]) == (["u1", "u1"], ["i1", "i2"])
    assert paired_options(["u1", "u2"], ["i1"]) == (["u1", "u2"], ["i1", "i1"])
    assert paired_options(["u1", "u2"], ["i1", "i2"]) == (["u1", "u2"], ["i1", "i2"])
    for users, items, says in ((["u1"], [], "got 1 and 0"), ([], [], "got 0 and 0"), (["u1", ""], ["i1"], "empty")):
        with pytest.raises(ConfigError, match=says):
            paired_options(users, items)


def test_an_unknown_item_in_a_json_array_on_one_line_is_named_by_its_row(tmp_path):
    """Every pair of a one-line array is at line 1: the row left out, or refused, is told by its number."""
    from types import SimpleNamespace

    from whyrec.cli.pairs import check_pair_items, without_unknown_items
    from whyrec.ids import IdMap
    from whyrec.errors import DataError

    path = tmp_path / "pairs.json"
    path.write_text('[{"user": "u1", "item": "i1"}, {"user": "u2", "item": "i9"}, {"user": "u3", "item": "i1"}]')
    model = SimpleNamespace(item_map=IdMap(["i1", "i2"]))
    users, items, words, lines = read_pairs(path)
    kept_users, _, _, skipped = without_unknown_items(model, users, items, words, lines)
    assert kept_users == ["u1", "u3"] and skipped[1]["row"] == 2 and skipped[1]["line"] == 1
    with pytest.raises(DataError, match=r"pairs\.json:1: field 'item': unknown item 'i9'.* \(row 2\); "
                                        r"--skip-unknown answers the other rows$"):
        check_pair_items(model, path, users, items, lines)
    path.write_text('{"user": "u1", "item": "i1"}\n{"user": "u2", "item": "i9"}\n')  # a line each: the line says it
    users, items, _, lines = read_pairs(path)
    with pytest.raises(DataError, match=r"pairs\.json:2: field 'item': unknown item 'i9'[^(]*$"):
        check_pair_items(model, path, users, items, lines)
    path.write_text('{"user": "u2", "item": "i9"}\n')  # no other row to answer: --skip-unknown is not offered
    users, items, _, lines = read_pairs(path)
    with pytest.raises(DataError, match=r"unknown item 'i9'$"):
        check_pair_items(model, path, users, items, lines)


def test_rows_left_out_go_back_to_their_places_in_the_file():
    rows = [{"item": "a"}, {"item": "c"}]
    skipped = {1: {"item": "b", "error": "unknown"}, 3: {"item": "d", "error": "unknown"}}
    assert [r["item"] for r in in_file_order(rows, skipped, 4)] == ["a", "b", "c", "d"]
    assert list(in_file_order([], {0: {"item": "z"}}, 1)) == [{"item": "z"}]  # every row unknown


def test_pairs_are_answered_a_part_at_a_time_as_their_rows_are_read():
    asked, told = [], []

    def answer(start, stop):
        asked.append((start, stop))
        return [{"n": n} for n in range(start, stop)]

    rows = answered_in_parts(answer, 7, 3, told.append)
    assert asked == []  # nothing is answered before a row is read
    assert next(rows) == {"n": 0} and asked == [(0, 3)]
    assert [row["n"] for row in rows] == [1, 2, 3, 4, 5, 6] and asked == [(0, 3), (3, 6), (6, 7)]
    assert told == ["explained 0/7 pairs", "explained 3/7 pairs", "explained 6/7 pairs"]
    assert list(answered_in_parts(answer, 0, 3, told.append)) == [] and len(asked) == 3
    # the rows left out go back to their places across the parts
    skipped = {0: {"n": "x"}, 4: {"n": "y"}, 8: {"n": "z"}}
    merged = in_file_order(answered_in_parts(answer, 7, 3, told.append), skipped, 10)
    assert [row["n"] for row in merged] == ["x", 0, 1, 2, "y", 3, 4, 5, "z", 6]


@pytest.mark.parametrize("content", ["user,item\nu1,i1\nu2,i2\n", "\ufeffuser\titem\nu1\ti1\nu2\ti2\n",
                                     '{"user": "u1", "item": "i1"}\n\n{"user": "u2", "item": "i2"}\n',
                                     ' [{"user": "u1", "item": "i1"},\n {"user": "u2", "item": "i2"}]'])
def test_pairs_from_standard_input_are_read_as_a_file_of_the_kind_they_start_as(content):
    """``--pairs -``: a pipe's CSV or TSV by its header, JSON lines or a JSON array by their first
    character, each pair at its line, as the same file would be read."""
    import io

    from whyrec.cli.pairs import read_pairs_given

    users, items, words, lines = read_pairs_given(Path("-"), io.BytesIO(content.encode("utf-8")))
    assert (users, items, words) == (["u1", "u2"], ["i1", "i2"], None)
    assert lines == ([1, 3] if content.startswith("{") else [1, 2] if content.startswith(" [") else [2, 3])


def test_a_bad_pair_from_standard_input_is_named_by_its_line_of_stdin(tmp_path):
    import io

    from whyrec.cli.pairs import pairs_shown, read_pairs_given

    with pytest.raises(DataError, match=r"^<stdin>:3: field 'user': missing user id$"):
        read_pairs_given(Path("-"), io.BytesIO(b"user,item\nu1,i1\n,i2\n"))
    with pytest.raises(DataError, match=r"^<stdin>:2: not JSON"):
        read_pairs_given(Path("-"), io.BytesIO(b'{"user": "u1", "item": "i1"}\nuser,item\n'))
    with pytest.raises(DataError, match=r"^<stdin>: is empty"):
        read_pairs_given(Path("-"), io.BytesIO(b""))
    assert pairs_shown(Path("-")) == "<stdin>" and pairs_shown(tmp_path / "p.csv") == str(tmp_path / "p.csv")
    path = tmp_path / "pairs.csv"  # a file is read as it always was
    path.write_text("user,item\nu1,i1\n")
    assert read_pairs_given(path, io.BytesIO(b"not read")) == read_pairs(path)


def test_pairs_typed_at_the_terminal_are_told_how_to_end(monkeypatch, capsys):
    """Standard input at a terminal waits for what is typed: the command says so, and how to end it;
    a pipe is read without a word."""
    import io
    from types import SimpleNamespace

    from whyrec.cli.pairs import read_pairs_given

    for terminal in (True, False):
        monkeypatch.setattr("sys.stdin", SimpleNamespace(isatty=lambda: terminal,
                                                         buffer=io.BytesIO(b"user,item\nu1,i1\n")))
        assert read_pairs_given(Path("-"))[:2] == (["u1"], ["i1"])
        said = capsys.readouterr().err
        assert ("end with Ctrl-D" in said) is terminal


def test_a_users_file_gives_each_user_once_in_order_at_its_first_line(tmp_path):
    """``recommend --users``: a review file, ``evaluate --records``' rows or a list with a 'user'
    header; a user of several rows is answered once."""
    from whyrec.cli.pairs import read_users

    reviews = tmp_path / "reviews.csv"
    reviews.write_text("reviewerID,asin,overall\nu2,i1,5\nu1,i1,4\n u2 ,i2,3\n")
    assert read_users(reviews) == (["u2", "u1"], [2, 3])
    records = tmp_path / "records.jsonl"
    records.write_text('{"user": "u1", "item": "i1"}\n\n{"user": 7}\n{"user": "u1"}\n')
    assert read_users(records) == (["u1", "7"], [1, 3])
    listed = tmp_path / "users.json"
    listed.write_text('[{"user": "u3"}, {"customer_id": "u4"}]')
    assert read_users(listed) == (["u3", "u4"], [1, 1])


@pytest.mark.parametrize("content, message", [
    ("", "is empty: a users file needs a header row with a 'user' column, then a row per user"),
    ("user\n", "no user rows"),
    ("item\ni1\n", ":1: needs a header row with a 'user' column (or a review file's names for it): no column "
                   "for 'user'"),
    ("user,item\nu1,i1\n,i2\n", ":3: field 'user': missing user id"),
    ('["u1"]', "users.json:1: array element is a JSON string, not an object"),
    ('[{"name": "u1"}]', "users.json:1: needs a 'user' key (or a review file's names for it): no key for 'user' "
                         "(looked for user, user_id, userId, reviewerID, reviewer_id, customer_id, in any case, with "
                         "or without spaces and underscores); the object's keys are ['name']"),
])
def test_a_bad_users_file_is_named_with_what_is_wrong(tmp_path, content, message):
    from whyrec.cli.pairs import read_users

    path = tmp_path / "users.csv" if not content.startswith("[") else tmp_path / "users.json"
    path.write_text(content)
    with pytest.raises(DataError, match=re.escape(message)):
        read_users(path)
    with pytest.raises(DataError, match="is a folder; --users takes a CSV/TSV, JSON lines or Parquet file"):
        read_users(tmp_path)


def test_users_from_standard_input_are_read_as_a_file(tmp_path):
    import io

    from whyrec.cli.pairs import read_users_given

    assert read_users_given(Path("-"), io.BytesIO(b'{"user": "u1"}\n{"user": "u2"}\n')) == (["u1", "u2"], [1, 2])
    assert read_users_given(Path("-"), io.BytesIO(b"user\nu1\nu1\n")) == (["u1"], [2])
    with pytest.raises(DataError, match=r"^<stdin>:1: needs a header row with a 'user' column"):
        read_users_given(Path("-"), io.BytesIO(b"person,item\nu1,i1\n"))
    assert read_users_given(Path("-"), io.BytesIO(b"u1\nu2\n")) == (["u1", "u2"], [1, 2])  # a bare list


def test_a_bare_list_of_user_ids_is_read_from_its_first_line(tmp_path):
    """What ``jq -r .user`` or ``cut -f1`` write: one id a line, no header; each user once, as from
    a file with a header."""
    from whyrec.cli.pairs import read_users

    listed = tmp_path / "users.txt"
    listed.write_bytes(b'\xef\xbb\xbfA1SYEK\n\n"A2OTUW"\nA1SYEK\n 123 \nbob\n')  # a byte-order mark, jq's quotes
    assert read_users(listed) == (["A1SYEK", "A2OTUW", "123", "bob"], [1, 3, 5, 6])
    listed.write_text("A1SYEK\nA2OTUW,i1\n")  # not a list of ids: which cell would be the user's?
    with pytest.raises(DataError, match=r"users\.txt:2: 2 cells where a bare list of user ids has one a line; a "
                                        r"file of several columns needs a header row with a 'user' column"):
        read_users(listed)


@pytest.mark.parametrize("first", ["usr", "id", "item", "Rating", "user name", "user 2", "person,item"])
def test_a_first_line_that_reads_as_a_header_is_not_answered_as_a_user(tmp_path, first):
    """A one-column file headed by a word (a misspelt ``user``, ``id``, another field's name) is
    refused as before, naming its columns, not answered as if its header were a new user; the
    error says how a bare list is read."""
    from whyrec.cli.pairs import read_users

    path = tmp_path / "users.csv"
    path.write_text(f"{first}\nu1\n")
    with pytest.raises(DataError, match=r":1: needs a header row with a 'user' column") as refused:
        read_users(path)
    alone = "a list of ids alone is read without a header when its first id has a digit, else begin it with a line"
    assert (alone in str(refused.value)) is ("," not in first)


def test_a_users_file_of_reviews_checks_its_item_cell_too_before_taking_a_text_line_for_a_row(tmp_path):
    """A line inside a review's quoted text is taken for a row of its own only when its user cell and,
    in a file with an item column, its item cell both look like ids: a line of text whose first
    word alone does so is read as text, as a pairs file reads it."""
    from whyrec.cli.pairs import read_users

    reviews = tmp_path / "reviews.csv"
    reviews.write_text('user,item,text\nu1,i1,"Loud,\nGreat,cheap and small, really"\nu2,i2,ok\n')
    assert read_users(reviews) == (["u1", "u2"], [3, 4])
    swallowed = tmp_path / "swallowed.csv"  # a quote never closed until later: a row inside it is still found
    swallowed.write_text('user,item,text\nu1,i1,"Loud\nu2,i2,ok\nu3,i3,fine"\n')
    with pytest.raises(DataError, match=r"swallowed\.csv:2: a quote opened on this line closes only on line 4,"):
        read_users(swallowed)


def test_blank_lines_before_the_header_are_passed_over(tmp_path):
    """A file that begins with blank lines (spaces, tabs) is read from its header on, its rows at
    their own lines; it was told it was empty. A header naming no id is told at its own line."""
    from whyrec.cli.pairs import read_users

    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("\n \t \nuser\titem\nu1\ti1\n")
    assert read_pairs(pairs) == (["u1"], ["i1"], None, [4])
    users = tmp_path / "users.csv"
    users.write_text("\n\nuser\nu1\n")
    assert read_users(users) == (["u1"], [4])
    users.write_text("\n\nA1\nu1\n")  # a bare list
    assert read_users(users) == (["A1", "u1"], [3, 4])
    users.write_text("\n\nperson,item\nu1,i1\n")
    with pytest.raises(DataError, match=r"users\.csv:3: needs a header row with a 'user' column"):
        read_users(users)


def test_a_pairs_file_without_a_header_is_still_refused(tmp_path):
    """Two ids on a line do not say which is the user: a pairs file keeps needing its header."""
    path = tmp_path / "pairs.csv"
    path.write_text("u1\nu2\n")
    with pytest.raises(DataError, match=r":1: needs a header row with 'user' and 'item' columns"):
        read_pairs(path)


def test_a_closed_standard_input_is_said_to_be_closed(monkeypatch):
    """A command started with standard input closed (``<&-``) has none: one line, not a traceback."""
    from whyrec.cli.pairs import read_pairs_given, read_users_given

    monkeypatch.setattr("sys.stdin", None)
    for read in (read_pairs_given, read_users_given):
        with pytest.raises(DataError, match=r"^<stdin>: is closed: pipe the rows in, or give a file$"):
            read(Path("-"))


def test_a_users_recommendations_as_recommend_json_writes_them_are_pairs(tmp_path):
    """``recommend --json`` writes a line a user with its items (the service's answer too): read as a
    pairs file, each item is a pair at the user's line, so that another bundle can be asked about
    the same recommendations. It was "missing item id"; a users file still reads the users."""
    from whyrec.cli.pairs import read_users

    path = tmp_path / "top.jsonl"
    path.write_text('{"user": "u1", "k": 2, "items": [{"user": "u1", "item": "i1", "predicted_rating": 4.5}, '
                    '{"user": "u1", "item": "i2"}]}\n{"user": "u2", "k": 2, "items": []}\n'
                    '{"user": "u3", "item": "i3"}\n')
    assert read_pairs(path) == (["u1", "u1", "u3"], ["i1", "i2", "i3"], None, [1, 1, 3])
    assert read_users(path) == (["u1", "u2", "u3"], [1, 2, 3])
    path.write_text('[{"user": "u1", "items": [{"user": "u1", "item": "i1"}]},\n {"user": "u2", "items": '
                    '[{"user": "u2", "item": "i2"}]}]')  # the service's answers gathered in an array
    assert read_pairs(path) == (["u1", "u2"], ["i1", "i2"], None, [1, 2])
    path.write_text('{"user": "u1", "items": ["i1"]}\n')
    with pytest.raises(DataError, match=r"top\.jsonl:1: element 1 of 'items' is a JSON string, not an object "
                                        r"with 'user' and 'item'$"):
        read_pairs(path)
    path.write_text('{"user": "u1", "items": [{"user": "u1"}]}\n')
    with pytest.raises(DataError, match=r"top\.jsonl:1: needs 'user' and 'item' keys .*: no key for 'item' .*the "
                                        r"object's keys are \['user'\]$"):
        read_pairs(path)


@pytest.mark.parametrize("name, content, lines", [
    ("pairs.csv.gz", "user,item\nu1,i1\nu2,i2\n", [2, 3]),
    ("pairs.tsv.gz", "user\titem\nu1\ti1\nu2\ti2\n", [2, 3]),
    ("pairs.jsonl.gz", '{"user": "u1", "item": "i1"}\n{"user": "u2", "item": "i2"}\n', [1, 2]),
    ("reviews.json.gz", '[{"reviewerID": "u1", "asin": "i1"},\n {"reviewerID": "u2", "asin": "i2"}]\n', [1, 2]),
    ("pairs.gz", '{"user": "u1", "item": "i1"}\n{"user": "u2", "item": "i2"}\n', [1, 2]),
    ("pairs.gz", "user,item\nu1,i1\nu2,i2\n", [2, 3]),
])
def test_a_gzipped_pairs_file_is_read_as_the_file_inside_it(tmp_path, name, content, lines):
    """A review file as it is downloaded and kept (the shared data's ``reviews.json.gz``) is asked as
    it is: of the kind its name gives before ``.gz``, or, named without one, its first character
    (as standard input's); piped in, it is read so too. It was read as CSV: "cannot read as CSV:
    'utf-8' codec can't decode byte 0x8b"."""
    import gzip
    import io

    from whyrec.cli.pairs import read_pairs_given

    path = tmp_path / name
    path.write_bytes(gzip.compress(content.encode("utf-8")))
    assert read_pairs(path) == (["u1", "u2"], ["i1", "i2"], None, lines)
    assert read_pairs_given(Path("-"), io.BytesIO(path.read_bytes())) == read_pairs(path)


def test_a_gzip_cut_short_or_damaged_is_refused_whole(tmp_path):
    """No pair of a gzip that does not decompress whole is answered: its last line read may be half
    a pair, and a damaged one's text cannot be trusted."""
    import gzip

    whole = gzip.compress("".join(f'{{"user": "u{n}", "item": "i{n}"}}\n' for n in range(5000)).encode())
    cut = tmp_path / "pairs.jsonl.gz"
    cut.write_bytes(whole[:len(whole) // 2])
    with pytest.raises(DataError, match=r"pairs\.jsonl\.gz: the gzip is cut short \(.*\); download or compress"):
        read_pairs(cut)
    damaged = tmp_path / "damaged.jsonl.gz"
    damaged.write_bytes(whole[:-8] + bytes(8))  # its CRC and length: checked at the end
    with pytest.raises(DataError, match=r"damaged\.jsonl\.gz: the gzip data is damaged: .*; download or compress"):
        read_pairs(damaged)


def test_a_parquet_table_is_a_pairs_or_users_file_by_its_id_columns(tmp_path):
    """A table of test reviews kept as Parquet is asked as it is, each row numbered from 1 where a
    file's line would be; an integer id column with a gap (floats in pandas) reads as the readers
    keep ids ("7"), and a missing id is refused at its row. It was read as CSV."""
    import io

    import pandas as pd

    from whyrec.cli.pairs import read_pairs_given, read_users

    path = tmp_path / "test.parquet"
    pd.DataFrame({"reviewerID": [7, 8, 7], "asin": ["B1", "B2", "B3"], "feature_word": ["ink", None, ""],
                  "overall": [5, 4, 3]}).astype({"reviewerID": float}).to_parquet(path)
    assert read_pairs(path) == (["7", "8", "7"], ["B1", "B2", "B3"], ["ink", None, None], [1, 2, 3])
    assert read_users(path) == (["7", "8"], [1, 2])
    assert read_pairs_given(Path("-"), io.BytesIO(path.read_bytes())) == read_pairs(path)
    pd.DataFrame({"user": pd.array([7, None], dtype="Int64"), "item": ["B1", "B2"]}).to_parquet(path)
    with pytest.raises(DataError, match=r"test\.parquet:2: field 'user': missing user id$"):
        read_pairs(path)
    pd.DataFrame({"user": [7.0, float("nan")], "item": ["B1", "B2"]}).to_parquet(path)
    with pytest.raises(DataError, match=r"test\.parquet:2: field 'user': missing user id$"):
        read_pairs(path)
    pd.DataFrame({"person": ["u1"], "thing": ["i1"]}).to_parquet(path)
    with pytest.raises(DataError, match=r"test\.parquet: needs 'user' and 'item' columns .*columns are "
                                        r"\['person', 'thing'\]$"):
        read_pairs(path)
    path.write_bytes(b"PAR1 but not a table")
    with pytest.raises(DataError, match=r"test\.parquet: cannot read as Parquet"):
        read_pairs(path)


def test_the_shared_datas_review_file_is_a_pairs_file_as_it_is(shared_data):
    """``--pairs reviews.json.gz``: every review of the downloaded file is a pair, the reviewer's
    and the product's ids, at its line, as the review reader reads them."""
    import warnings

    from whyrec.data import load_corpus
    from whyrec.errors import DataWarning

    path = shared_data / "amazon-magazine-subscriptions" / "reviews.json.gz"
    users, items, words, lines = read_pairs(path)
    with warnings.catch_warnings():  # the reader's count of the reviews without text it leaves out
        warnings.simplefilter("ignore", DataWarning)
        corpus = load_corpus(path, duplicates="keep-all")
    assert len(users) == len(lines) >= len(corpus) > 1000 and words is None
    assert lines[:3] == [1, 2, 3] and lines == sorted(lines)
    pairs = set(zip(users, items))
    assert set(zip(corpus.users, corpus.items)) <= pairs


def test_a_spreadsheets_windows_1252_or_utf16_export_is_read_as_the_review_readers_read_it(tmp_path, capsys):
    """A pairs file saved as Windows-1252 (a spreadsheet on Western Windows) had been refused with
    Python's codec error, and a UTF-16 one ("Unicode text") as having no 'user' column; each is read
    as the review readers read a file so saved, so "café" is the user they keep, with a warning
    line for the bytes that are not UTF-8 (naming <stdin> for a pipe)."""
    import io
    import warnings

    from whyrec.cli.pairs import read_pairs_given, read_users
    from whyrec.data import load_corpus
    from whyrec.errors import DataWarning

    rows = "user,item,rating,text\ncafé,i1,5,fine\nzoë,i2,4,ok\n"
    windows = tmp_path / "windows.csv"
    windows.write_bytes(rows.encode("cp1252"))
    unicode_text = tmp_path / "unicode.tsv"
    unicode_text.write_bytes(rows.replace(",", "\t").encode("utf-16"))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        kept = [list(load_corpus(path).reviews.user) for path in (windows, unicode_text)]
    assert kept == [["café", "zoë"], ["café", "zoë"]]
    with pytest.warns(DataWarning, match=r"windows\.csv: 2 byte sequences not UTF-8, read as Windows-1252"):
        assert read_pairs(windows)[:2] == (["café", "zoë"], ["i1", "i2"])
    assert read_pairs(unicode_text)[:2] == (["café", "zoë"], ["i1", "i2"])  # UTF-16 is no warning
    assert read_users(unicode_text) == (["café", "zoë"], [2, 3])
    array = tmp_path / "windows.json"  # one JSON array: read once, so told once
    array.write_bytes('[{"user": "café", "item": "i1"}]'.encode("cp1252"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert read_pairs(array)[:2] == (["café"], ["i1"])
    assert [str(w.message).split(", read as")[0] for w in caught] == [f"{array}: 1 byte sequence not UTF-8"]
    proc = run_cli("explain", str(tmp_path / "no-bundle"), "--pairs", str(windows))
    assert "warning: " + str(windows) + ": 2 byte sequences not UTF-8" in proc.stderr, proc.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # printed as a line, not left to Python's warning machinery
        assert read_pairs_given(Path("-"), io.BytesIO(windows.read_bytes()))[:2] == (["café", "zoë"], ["i1", "i2"])
        assert "warning: <stdin>: 2 byte sequences not UTF-8" in capsys.readouterr().err
        assert read_pairs_given(Path("-"), io.BytesIO(unicode_text.read_bytes()))[0] == ["café", "zoë"]
        as_json = '{"user": "café", "item": "i1"}\n'.encode("utf-16")  # a pipe's kind, told after its mark
        assert read_pairs_given(Path("-"), io.BytesIO(as_json))[:2] == (["café"], ["i1"])
