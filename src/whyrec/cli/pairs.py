"""The (user, item) pairs ``whyrec explain`` answers: ``--user``/``--item`` paired, or a
``--pairs`` file (CSV/TSV with a header, JSON lines, or one JSON array, of pair objects, or a
Parquet table, any of them gzipped; a review file's id columns are read too; ``-``: the same from
standard input), each row kept with its line; a row naming an item the bundle does not know
refused, or (``--skip-unknown``) answered with its error in the file's order. The users
``whyrec recommend --users`` answers are read from such a file too, by its user column alone, or
from a bare list of ids, one a line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Iterable, Iterator

from whyrec.ids import is_whole_number


def paired_options(users: list[str], items: list[str]) -> tuple[list[str], list[str]]:
    """``--user`` and ``--item`` as pairs: the k-th of each together; one user with each of several
    items (``--user u1 --item i1 --item i2``), or each of several users with one item."""
    from whyrec.errors import ConfigError

    if len(users) == 1 and len(items) > 1:
        users = users * len(items)
    elif len(items) == 1 and len(users) > 1:
        items = items * len(users)
    if not users or len(users) != len(items):
        raise ConfigError(f"give as many --user as --item (got {len(users)} and {len(items)}), or one of them for "
                          "several of the other, or --pairs FILE")
    if not all(users) or not all(items):
        raise ConfigError("a --user or --item id is empty")
    return users, items


def without_unknown_items(model, users: list[str], items: list[str], words: list[str | None] | None,
                          lines: list[int], history=None
                          ) -> tuple[list[str], list[str], list[str | None] | None, dict[int, dict]]:
    """The pairs whose item ``model`` knows, and for each other one, by its position in the file,
    ``{user, item, row, line, error}``: its pair's number in the file (a JSON array on one line holds
    many on a line), its line, and the error naming the known id most like it, when one is close,
    or the item whose title it is (the model's titles, else those of ``history``, its data)."""
    from whyrec.errors import UnknownIdError
    from whyrec.explanations import TitledItems, item_index

    kept, skipped = [], {}
    titled = TitledItems.of(model, history)  # read at the first unknown item
    for n, item in enumerate(items):
        try:
            item_index(model, item, titled)
            kept.append(n)
        except UnknownIdError as exc:
            skipped[n] = {"user": users[n], "item": item, "row": n + 1, "line": lines[n], "error": str(exc)}
    return ([users[n] for n in kept], [items[n] for n in kept],
            None if words is None else [words[n] for n in kept], skipped)


# the pairs answered at a time: each part is printed when done, so a long file shows its progress and
# its first answers at once, keeps its memory to a part's, and an interrupted run keeps what was printed
PAIRS_AT_A_TIME = 32768


def answered_in_parts(answer: Callable[[int, int], list[dict]], count: int, part: int,
                      progress: Callable[[str], None]) -> Iterator[dict]:
    """The rows ``answer(start, stop)`` gives for pairs ``start``..``stop - 1`` of ``count``, asked
    ``part`` pairs at a time as the rows are read; ``progress`` is told ``explained N/count``
    pairs before each part."""
    for start in range(0, count, part):
        progress(f"explained {start:,}/{count:,} pairs")
        yield from answer(start, min(start + part, count))


def in_file_order(rows: Iterable[dict], skipped: dict[int, dict], count: int) -> Iterator[dict]:
    """The answered ``rows`` and the ``skipped`` ones (by position) merged back into the file's order,
    as the answered ones come."""
    answered = iter(rows)
    for n in range(count):
        yield skipped[n] if n in skipped else next(answered)


def check_pair_items(model, path: Path | str, users: list[str], items: list[str], lines: list[int],
                     history=None) -> None:
    """Refuse a pairs file naming an item ``model`` does not know, with the file and line of the
    first such row, the close known id when there is one, how many rows there are like it, and
    that ``--skip-unknown`` answers the others."""
    from whyrec.errors import DataError

    unknown = list(without_unknown_items(model, users, items, None, lines, history)[3].values())
    if not unknown:
        return
    problem = unknown[0]["error"]
    if lines.count(unknown[0]["line"]) > 1:  # a JSON array on one line: which of the line's pairs
        problem += f" (row {unknown[0]['row']})"
    if len(unknown) > 1:
        problem += f" (and {len(unknown) - 1} more of the {len(items):,} rows name items the bundle does not know)"
    if len(unknown) < len(items):
        problem += "; --skip-unknown answers the other rows"
    raise DataError(problem, path=path, line=unknown[0]["line"], field="item")


PAIR_JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
STDIN = "-"  # --pairs -, --users -: the rows are read from standard input
STDIN_SHOWN = "<stdin>"  # how an error or warning names standard input, as Python's own do
PAIR = ("user", "item")  # the ids of a --pairs file's row
USER = ("user",)  # the id of a --users file's row


def pairs_shown(path: Path) -> str:
    """How errors and warnings name a ``--pairs`` (``--users``) source: its path, or ``<stdin>`` for ``-``."""
    return STDIN_SHOWN if str(path) == STDIN else str(path)


def read_pairs_given(path: Path, stdin=None) -> tuple[list[str], list[str], list[str | None] | None, list[int]]:
    """:func:`read_pairs` of a ``--pairs`` source: a file, or ``-`` for standard input (``stdin``:
    a binary stream, by default the process's), read whole as a file of the kind its first
    character says (``{`` or ``[``: JSON lines or a JSON array, else CSV/TSV by its header), so
    that a pipe (``jq -c … | whyrec explain B --pairs -``) is read as a file would be. An error
    names ``<stdin>`` and its line."""
    return _read_given(read_pairs, path, stdin, "a header row, then a pair a line")


def read_users_given(path: Path, stdin=None) -> tuple[list[str], list[int]]:
    """:func:`read_users` of a ``--users`` source: a file, or ``-`` for standard input, read as
    :func:`read_pairs_given` reads one."""
    return _read_given(read_users, path, stdin, "a user id a line (after a header row, for several columns)")


def _read_given(read: Callable, path: Path, stdin, waits_for: str):
    """``read(path)``, or, for ``-``, ``read`` of a copy of ``stdin`` (by default the process's
    standard input) named by its first character (:func:`read_pairs_given`), its errors naming
    ``<stdin>``; at a terminal, first a line saying what it waits for and how to end."""
    from whyrec.cli.inputs import warnings_as_lines  # a Windows-1252 file's warning, as a line

    if str(path) != STDIN:
        with warnings_as_lines():
            return read(path)
    import tempfile

    from whyrec.data.readers.text_files import peek_text
    from whyrec.errors import DataError

    if stdin is None:
        if sys.stdin is None:  # started with it closed (<&-): Python then has none
            raise DataError("is closed: pipe the rows in, or give a file", path=STDIN_SHOWN)
        if sys.stdin.isatty():  # typed at the terminal: say what it waits for
            print(f"reading from standard input: {waits_for}; end with Ctrl-D", file=sys.stderr)
        stdin = sys.stdin.buffer
    data = stdin.read()
    with tempfile.TemporaryDirectory(prefix="whyrec-stdin-") as folder:
        copy = Path(folder) / "stdin"
        copy.write_bytes(data)
        # a gzip is named without a kind, which its decompressed first character then tells; text by
        # its first character, read as the file will be (after a byte order mark, in UTF-16 too)
        first = peek_text(copy).lstrip()[:1]
        suffix = ".gz" if data[:2] == b"\x1f\x8b" else ".jsonl" if first in ("{", "[") else ".csv"
        copy = copy.rename(copy.with_suffix(suffix))
        try:
            with warnings_as_lines(renamed=(str(copy), STDIN_SHOWN)):
                return read(copy)
        except DataError as exc:  # told of standard input, not of the copy
            raise DataError(exc.problem, path=STDIN_SHOWN, line=exc.line, field=exc.field) from None


def read_pairs(path: Path) -> tuple[list[str], list[str], list[str | None] | None, list[int]]:
    """(users, items, feature words, line numbers) of a pairs file: CSV/TSV (or ; or | separated, by
    its header) with 'user' and 'item' columns (or a review file's: :func:`_id_keys`) and an
    optional 'feature_word' one, or JSON lines (``.jsonl``, ``.ndjson``, ``.json``) of objects with
    those keys, such as `explain --json` and `evaluate --records` write (`recommend --json`'s lines
    give each of their items), or one JSON array of them, or a Parquet table, its rows numbered
    from 1 for lines; any of them gzipped (:func:`_pairs_file_kind`). Other columns and keys are
    ignored. A blank feature word is None (the item's own), and so are all of them when no row has
    one. A bad file or row is a one-line DataError naming the file and line."""
    users, items, words, lines, has_word = [], [], [], [], False
    for line, row, with_word in _id_rows(path, PAIR, "--pairs"):
        users.append(row["user"])
        items.append(row["item"])
        words.append(row["feature_word"] or None)  # read as the features are written by explain_pairs
        has_word = has_word or with_word
        lines.append(line)
    return users, items, words if has_word else None, lines


def read_users(path: Path) -> tuple[list[str], list[int]]:
    """(users, line numbers) of a users file, read as :func:`read_pairs` reads a pairs file but by
    its user column alone (``user``, or a review file's: ``reviewerID``, ``customer_id`` …), so
    that a file of reviews, ``evaluate --records``' rows or another command's ``--json`` are asked
    as they are: each user once, in the order of first appearance, at the line of its first row. A
    file of one column whose first line reads as an id, not as a column's name, is a bare list of
    ids, its first line one of them (:func:`_bare_id_list`: ``jq -r .user`` writes one)."""
    first_line: dict[str, int] = {}
    for line, row, _ in _id_rows(path, USER, "--users"):
        first_line.setdefault(row["user"], line)
    return list(first_line), list(first_line.values())


def _id_rows(path: Path, ids: tuple[str, ...], option: str) -> Iterator[tuple[int, dict, bool]]:
    """(line, row, whether the row has a 'feature_word') of a file of ``ids`` rows (:data:`PAIR`,
    :data:`USER`): the row's ids and feature word read as cells (:func:`_id_cell`), each id
    required. A bad file or row is a one-line DataError naming the file and line."""
    import gzip
    import zlib

    from whyrec.errors import DataError

    count = 0
    try:
        kind = _pairs_file_kind(path)
        for line, row in _raw_id_rows(path, kind, ids):
            absent = [field for field in ids if field not in row]  # a JSON object's (a table's header is checked)
            if absent:
                raise DataError(_no_id_keys(ids, absent, list(row)), path=path, line=line)
            cells = {field: _id_cell(row.get(field), path, line, field) for field in (*ids, "feature_word")}
            for field in ids:
                if not cells[field]:
                    raise DataError(f"missing {field} id", path=path, line=line, field=field)
            count += 1
            yield line, cells, "feature_word" in row
    except FileNotFoundError:
        raise DataError("no such file", path=path) from None
    except IsADirectoryError:
        raise DataError(f"is a folder; {option} takes a CSV/TSV, JSON lines or Parquet file (maybe gzipped)",
                        path=path) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"cannot read as {kind}: {exc}", path=path) from None
    except EOFError as exc:  # a gzip cut short: no pair of it is answered, lest its last be half a line
        raise DataError(f"the gzip is cut short ({exc}); download or compress the whole file again",
                        path=path) from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(f"the gzip data is damaged: {exc}; download or compress the file again", path=path) from None
    if not count:
        raise DataError(f"no ({', '.join(ids)}) rows" if len(ids) > 1 else f"no {ids[0]} rows", path=path)


def _raw_id_rows(path: Path, kind: str, ids: tuple[str, ...]) -> Iterator[tuple[int, dict]]:
    """(line, row as read) of a pairs (users) file of ``kind`` (:func:`_pairs_file_kind`), plain or
    gzipped, its text read as the review readers read theirs (a spreadsheet's UTF-16 or Windows-1252
    export too, with a warning for the latter: :func:`whyrec.data.readers.text_files.open_text`);
    one JSON array of rows (on one line or pretty-printed) each at its line, as a review file's."""
    from whyrec.data.readers.json_reviews import json_array_objects
    from whyrec.data.readers.text_files import peek_text, reading_text

    if kind == "Parquet":
        yield from _parquet_id_rows(path, ids)
        return
    if kind == "JSON lines" and peek_text(path).lstrip().startswith("["):  # one JSON array, read as a review file's
        for at, obj in json_array_objects(path):  # (which says itself what was not UTF-8)
            yield from ((at, _id_object(pair, ids)) for pair in _recommended_pairs(obj, ids, path, at))
        return
    with reading_text(path, newline="") as handle:
        yield from _json_id_rows(handle, path, ids) if kind == "JSON lines" else _csv_id_rows(handle, path, ids)


def _pairs_file_kind(path: Path) -> str:
    """How a pairs (users) file is read: "Parquet" by its first bytes, "JSON lines" (or a JSON array)
    by its name's suffix (the one before ``.gz`` for a gzip: ``reviews.json.gz``), else "CSV" (or
    TSV); a gzip named without a kind (``pairs.gz``) by its first character, as standard input is."""
    from whyrec.data.readers.text_files import peek_text

    with open(path, "rb") as handle:
        head = handle.read(4)
    if head == b"PAR1":
        return "Parquet"
    gzipped = head[:2] == b"\x1f\x8b"
    suffix = Path(path.name.lower().removesuffix(".gz") if gzipped else path.name.lower()).suffix
    if suffix in PAIR_JSON_SUFFIXES:
        return "JSON lines"
    if gzipped and path.name.lower().endswith(".gz") and suffix not in (".csv", ".tsv", ".tab", ".txt"):
        return "JSON lines" if peek_text(path).lstrip()[:1] in ("{", "[") else "CSV"
    return "CSV"


def _parquet_id_rows(path: Path, ids: tuple[str, ...] = PAIR) -> Iterator[tuple[int, dict]]:
    """(row number from 1, row) of a Parquet table of ``ids`` rows, its columns found as a CSV's
    header's are (:func:`_id_keys`)."""
    from whyrec.data.readers.tables import parquet_frame
    from whyrec.errors import DataError

    frame = parquet_frame(path)
    names = [str(name).strip() for name in frame.columns]
    keys = _id_keys(names, ids)
    if keys is None:
        from whyrec.data.readers.fields import column_for, looked_for
        from whyrec.wording import columns_shown

        missing = [field for field in ids if column_for(field, names) is None]
        them = "them" if len(ids) > 1 else "it"
        raise DataError(f"needs {_id_columns(ids)} (or a review file's names for {them}): no column for "
                        f"{looked_for(missing)}; columns are {columns_shown(names)}", path=path)
    frame.columns = names
    columns = {field: frame[key].tolist() for field, key in keys.items()}
    for row in range(len(frame)):
        yield row + 1, {field: values[row] for field, values in columns.items()}


def _no_id_keys(ids: tuple[str, ...], absent: list[str], keys: list[str]) -> str:
    """Why a JSON row of a pairs (users) file is refused that lacks a key for the ids ``absent``,
    as a table lacking their columns is: what it needs, the names looked for, the keys it has."""
    from whyrec.data.readers.fields import looked_for
    from whyrec.wording import columns_shown

    them = "them" if len(ids) > 1 else "it"
    return (f"needs {_id_columns(ids, 'key')} (or a review file's names for {them}): no key for {looked_for(absent)}; "
            f"the object's keys are {columns_shown(keys)}")


def _id_columns(ids: tuple[str, ...], noun: str = "column") -> str:
    """What a file of ``ids`` rows must have: "'user' and 'item' columns", "a 'user' column" (of a
    JSON object, ``noun`` "key": "'user' and 'item' keys")."""
    named = " and ".join(f"'{field}'" for field in ids)
    return f"{named} {noun}s" if len(ids) > 1 else f"a {named} {noun}"


def _csv_id_rows(handle, path: Path, ids: tuple[str, ...] = PAIR):
    """(line, row) of a CSV/TSV file of ``ids`` rows; the header's names are read without the spaces
    around them (``user, item``), as the cells are."""
    import csv

    from whyrec.data.readers.tables import csv_separator, quote_swallowed, quotes_are_text
    from whyrec.errors import DataError

    # the separator by the name, else by the header, as review files are read: a spreadsheet's ; or |,
    # or tabs in a header that holds none of those
    separator = csv_separator(path, tabs=True)
    tabs = separator == "\t"
    # a TSV of reviews that quotes no field (Amazon's) would otherwise swallow the rows after a text's lone quote
    reader = csv.DictReader(handle, delimiter=separator, strict=True,  # strict: a quote never closed
                            quoting=csv.QUOTE_NONE if tabs and quotes_are_text(path) else csv.QUOTE_MINIMAL)
    try:
        # blank lines before the header, passed over as csv_separator passes them
        while reader.fieldnames is not None and not "".join(reader.fieldnames).strip():
            reader.fieldnames = next(reader.reader, None)
        if not reader.fieldnames:
            kind, each = ("a pairs file", "pair") if ids == PAIR else ("a users file", "user")
            raise DataError(f"is empty: {kind} needs a header row with {_id_columns(ids)}, then a row per {each}",
                            path=path)
        reader.fieldnames = [name.strip() for name in reader.fieldnames]
        keys = _id_keys(reader.fieldnames, ids)
        bare = keys is None and _bare_id_list(reader.fieldnames, ids)
        if bare:  # jq -r .user …: no header, its first line an id
            yield reader.line_num, {"user": reader.fieldnames[0]}
            keys = {"user": reader.fieldnames[0]}
        if keys is None:
            from whyrec.data.readers.fields import column_for, looked_for
            from whyrec.wording import columns_shown

            missing = [field for field in ids if column_for(field, reader.fieldnames) is None]
            them = "them" if len(ids) > 1 else "it"
            alone = ("; a list of ids alone is read without a header when its first id has a digit, else begin it "
                     "with a line 'user'") if ids == USER and len(reader.fieldnames) == 1 else ""
            raise DataError(f"needs a header row with {_id_columns(ids)} (or a review file's names for {them}): no "
                            f"column for {looked_for(missing or list(ids))}; columns are "
                            f"{columns_shown(reader.fieldnames)}{alone}", path=path, line=reader.line_num)
        # a line inside a row's quoted text reads as a row of its own when its id cells look like ids: a
        # users file's user cell, and its item cell too when it has one (a review file), lest a line of
        # text that happens to start with a word be taken for one
        looks = {**keys, **_item_key(reader.fieldnames, ids)}
        for row in reader:
            if bare and None in row:  # DictReader's key for the cells past the header's
                raise DataError(f"{len(row[None]) + 1} cells where a bare list of user ids has one a line; a file "
                                "of several columns needs a header row with a 'user' column", path=path,
                                line=reader.line_num)
            pair = {field: row[key] for field, key in keys.items()}
            spanned = [line for value in row.values() if isinstance(value, str) for line in value.split("\n")[1:]]
            inside = next((k for k, line in enumerate(spanned, 1)
                           if _reads_as_a_row(line, reader, looks, tuple(looks))), None)
            if inside is not None:  # an unbalanced quote took the rows after it into one text
                start = reader.line_num - len(spanned)
                raise DataError(quote_swallowed(f"closes only on line {reader.line_num},", start + inside, "row"),
                                path=path, line=start)
            yield reader.line_num, pair
    except csv.Error as exc:
        # line_num: the last line of the last row read, so the row that failed starts on the next
        raise DataError(f"cannot read as CSV: {exc}", path=path, line=reader.line_num + 1) from None


def _bare_id_list(names: list[str], ids: tuple[str, ...]) -> bool:
    """Whether a users file (:data:`USER`) whose header row ``names`` no user column is a bare list of
    ids, one a line, as ``jq -r .user`` or ``cut`` write it: its first line is one cell that reads as
    an id, no spaces and a digit in it (``A1SYEK1CRS9FAA``, ``1024``), not as a column's name
    (``usr``, ``id``, ``item``: a header misspelt, or a file of something else, would otherwise be
    answered as a new user). A pairs file always needs its header: two ids on a line do not say
    which is the user's."""
    first = names[0] if ids == USER and len(names) == 1 else ""
    return any(ch.isdigit() for ch in first) and not any(ch.isspace() for ch in first)


def _item_key(names: list[str], ids: tuple[str, ...]) -> dict[str, str]:
    """``{"item": column}`` of a users file (:data:`USER`) that has an item column, else nothing."""
    if ids != USER:
        return {}
    from whyrec.data.readers.fields import column_for

    column = column_for("item", names)
    return {"item": column} if column else {}


def _reads_as_a_row(line: str, reader, keys: dict[str, str], ids: tuple[str, ...] = PAIR) -> bool:
    """Whether one physical line inside a pairs (users) file's row would be a row of its own: the
    header's number of fields, read as ``reader`` (a :class:`csv.DictReader`) reads them, with the
    cells of ``ids`` (``keys``' columns: a user and an item) that look like ids, not words of a
    text: non-empty, no spaces."""
    import csv

    try:
        fields = next(csv.reader([line], dialect=reader.reader.dialect))
    except (csv.Error, StopIteration):
        return False
    if len(fields) != len(reader.fieldnames):
        return False
    values = [fields[reader.fieldnames.index(keys[field])] for field in ids]
    return all(value and not any(ch.isspace() for ch in value) for value in values)


def _id_keys(names: list[str], ids: tuple[str, ...] = PAIR) -> dict[str, str] | None:
    """Which of a pairs (users) file's columns (a JSON object's keys) hold ``ids`` (the user and
    the item) and the feature word: ``user`` and ``item``, else the names a review file's are found
    by (``reviewerID``, ``asin``, ``customer_id``, ``User ID`` …: :func:`~whyrec.data.readers.fields.
    column_for`), so that a file of test reviews is asked as it is. None without every id."""
    from whyrec.data.readers.fields import column_for

    keys = {field: column_for(field, names) for field in ids}
    if None in keys.values():
        return None
    return {**keys, "feature_word": "feature_word"} if "feature_word" in names else keys


def _json_id_rows(handle, path: Path, ids: tuple[str, ...] = PAIR):
    """(line, object) of a JSON lines file of ``ids`` rows, blank lines passed over (one JSON array
    of them, ``[{"user": …, "item": …}, …]``, is read by :func:`_raw_id_rows`); a recommendation's
    answer gives its items' pairs (:func:`_recommended_pairs`)."""
    import json

    from whyrec.errors import DataError
    from whyrec.strict_json import json_kind

    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except ValueError as exc:
            raise DataError(f"not JSON: {exc}", path=path, line=line) from None
        if not isinstance(row, dict):
            wanted = " and ".join(repr(field) for field in ids)
            raise DataError(f"the line is {json_kind(row)}, not an object with {wanted}", path=path, line=line)
        yield from ((line, _id_object(pair, ids)) for pair in _recommended_pairs(row, ids, path, line))


def _recommended_pairs(row: dict, ids: tuple[str, ...], path: Path, line: int) -> list[dict]:
    """The pair objects of a JSON row of a pairs file: the row itself, or, for a user's
    recommendations as ``recommend --json`` writes them a line each and the service answers them
    (``{"user": …, "items": [{"user": …, "item": …}, …]}``, no item of its own), each of its
    items, so that another bundle can be asked about the same pairs. A users file reads the row's user."""
    from whyrec.errors import DataError
    from whyrec.strict_json import json_kind

    items = row.get("items")
    if ids != PAIR or not isinstance(items, list) or _id_keys(list(row), ids) is not None:
        return [row]
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise DataError(f"element {position} of 'items' is {json_kind(item)}, not an object with 'user' and "
                            "'item'", path=path, line=line)
    return items


def _id_object(row: dict, ids: tuple[str, ...] = PAIR) -> dict:
    """A JSON object with its ``ids`` under 'user' (and 'item'), found as :func:`_id_keys` finds them."""
    keys = _id_keys(list(row), ids)
    return {field: row[key] for field, key in keys.items()} if keys else row


def _id_cell(value, path: Path, line: int, field: str) -> str:
    """A pairs (users) file's id or feature word, read as the review readers read an id
    (:func:`~whyrec.data.field_values.clean_id`: stripped; a whole number stored as a float, as
    pandas writes an integer column with a gap, as the whole number), '' when absent (null, NaN, a
    table's NA); a number that is not whole, and anything else but text, is a DataError."""
    from whyrec.data.field_values import clean_id, is_missing
    from whyrec.errors import DataError

    if is_missing(value):
        return ""
    if not (isinstance(value, str) or is_whole_number(value)):
        raise DataError(f"{field} is not text: {value!r}", path=path, line=line, field=field)
    return clean_id(value) or ""
