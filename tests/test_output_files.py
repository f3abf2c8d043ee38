"""Output files a command replaces: its own earlier rows, an empty file; never another file."""

from __future__ import annotations

import pytest

from whyrec.errors import ConfigError
from whyrec.output_files import check_replaceable, holds_rows_of

FIELDS = ["user", "item", "rating"]


@pytest.mark.parametrize("text,csv,holds", [
    ("", False, True),
    ("\n\n", True, True),
    ("\n\nmy essay after blank lines\n", False, False),  # not empty: its first line is blank
    ('{"user": "u1", "item": "i1", "rating": 5, "more": 1}\n', False, True),
    ('{"item": "i1", "user": "u1", "rating": 5}\n', False, False),  # another order: another kind of row
    ('{"user": "u1"}\n', False, False),
    ("[1, 2]\n", False, False),
    ("not json\n", False, False),
    ("user,item,rating,predicted\nu1,i1,5,4.2\n", True, True),
    ("user,item,text\n", True, False),
    ('{"user": "u1", "item": "i1", "rating": 5}\n', True, False),  # JSON lines named .csv: not a CSV of rows
])
def test_a_file_holds_rows_when_its_first_row_begins_with_the_fields(tmp_path, text, csv, holds):
    path = tmp_path / "out"
    path.write_text(text, encoding="utf-8")
    assert holds_rows_of(path, FIELDS, csv) is holds


def test_only_a_folder_or_a_file_of_something_else_is_refused(tmp_path):
    check_replaceable(tmp_path / "new.jsonl", FIELDS, "--out", "rows")  # not there yet
    (tmp_path / "old.jsonl").write_text('{"user": "u", "item": "i", "rating": 1}\n')
    check_replaceable(tmp_path / "old.jsonl", FIELDS, "--out", "rows")
    with pytest.raises(ConfigError, match="--out .* is a folder; give a file name"):
        check_replaceable(tmp_path, FIELDS, "--out", "rows")
    (tmp_path / "essay.jsonl").write_text("my essay\n")
    with pytest.raises(ConfigError, match="essay.jsonl is a file that holds no rows; it is kept: choose another name"):
        check_replaceable(tmp_path / "essay.jsonl", FIELDS, "--out", "rows")
