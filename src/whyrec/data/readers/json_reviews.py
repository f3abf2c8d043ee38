"""Review objects in JSON: JSON Lines (one object per line; Python literals too, as in the
original 2014 Amazon files) or one JSON array, read as it is parsed. Amazon 2014/2018/2023 and
Yelp's academic dataset use usual key names; other keys are mapped with ``columns``."""

from __future__ import annotations

import ast
import json
import shlex
from pathlib import Path
from typing import Iterable, Iterator

from whyrec.data.corpus import RawRecord, ValidationReport
from whyrec.data.readers.fields import (FIELD_ALIASES, RATINGS_ONLY_NOTE, REQUIRED_FIELDS, check_distinct_columns,
                                        check_mapping, loosely_named, looked_for, mapping_hint)
from whyrec.data.readers.text_files import iter_lines, peek_text
from whyrec.errors import DataError, warn_data
from whyrec.strict_json import json_kind


def _json_lines(path: Path, report: ValidationReport, strict: bool) -> Iterator[tuple[int, dict]]:
    return parsed_objects(iter_lines(path, report), report, strict)


def parsed_objects(lines: Iterable[tuple[int, str]], report: ValidationReport,
                   strict: bool) -> Iterator[tuple[int, dict]]:
    """Each line as a dict: JSON, else a Python literal; a line that is neither is an error
    naming its line in ``report.source`` (``strict``) or counted as malformed."""
    for number, line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            try:  # the original 2014 metadata files are Python literals, not JSON
                obj = ast.literal_eval(line)
            except (ValueError, SyntaxError):
                obj = None
            what = "not a JSON object"  # neither JSON nor a Python literal, or a literal of another type
        else:
            what = f"{json_kind(obj)}, not an object"
        if not isinstance(obj, dict):
            report.unreadable(f"line is {what}", "malformed line", strict=strict, line=number + 1)
            continue
        yield number, obj


# distinct key layouts (the keys of a record, in order) whose keys are learned: Amazon's dumps have a
# handful (with or without vote, image, style ...); a file whose every record differs stops learning here
KEY_LAYOUTS_LEARNED = 1000


class _JsonFields:
    """Which key of a JSON review object holds each whyrec field: the one ``columns`` maps it to,
    else the first of its aliases the object has (records of one file may differ: some Amazon
    records lack ``reviewText``). Remembers whether any record had a key for each required
    field, so that a field no record has is one clear error instead of every record skipped."""

    def __init__(self, columns: dict[str, str] | None, path: Path) -> None:
        self.path = path
        self.keys = {f: (columns[f],) if columns and f in columns else aliases
                     for f, aliases in FIELD_ALIASES.items()}
        self.missing = set(REQUIRED_FIELDS)  # required fields no record has had a key for yet
        self.first_keys: list[str] | None = None
        self.seen_keys: dict[str, None] = {}  # every key of the layouts learned from, in order of appearance
        self.layouts: set[tuple[str, ...]] = set()  # the key layouts learned from
        self.last_seen: dict | None = None
        self.mapped = dict(columns or {})
        self.used: dict[str, str] = {}  # the key each field was first found under

    def record_columns(self, report: ValidationReport) -> None:
        """Tell ``report`` which key each field was read from, and which keys of the records no
        field read (of the first :data:`KEY_LAYOUTS_LEARNED` key layouts)."""
        report.columns = {f: self.used[f] for f in FIELD_ALIASES if f in self.used}
        report.columns_not_read = [k for k in self.seen_keys if k not in self.used.values()]

    def _see(self, obj: dict) -> None:
        """At each record with keys laid out as no earlier one was (up to :data:`KEY_LAYOUTS_LEARNED`
        layouts): its keys, and for each field it has no key for yet, one of its keys named like a
        usual one but for case, spaces, underscores and hyphens (``UserId``, ``Review Text``), as a
        table's columns are matched (:func:`~whyrec.data.readers.fields.loosely_named`). A file's
        records may differ: a key that only later records have is found too."""
        if obj is self.last_seen or len(self.layouts) >= KEY_LAYOUTS_LEARNED:
            return  # each field of a record asks: its layout is looked at once (held, so its id is not reused)
        self.last_seen = obj
        layout = tuple(obj)
        if layout in self.layouts:
            return
        self.layouts.add(layout)
        if self.first_keys is None:
            self.first_keys = list(layout)
        self.seen_keys.update(dict.fromkeys(layout))
        for field_name, keys in self.keys.items():
            if field_name not in self.mapped and not any(key in obj for key in keys):
                loose = loosely_named(keys, list(layout))
                if loose is not None:
                    self.keys[field_name] = keys + (loose,)

    def has(self, obj: dict, field_name: str) -> bool:
        """Whether ``obj`` has a key for the field (whatever its value)."""
        self._see(obj)
        return any(key in obj for key in self.keys[field_name])

    def __call__(self, obj: dict, field_name: str):
        self._see(obj)
        for key in self.keys[field_name]:
            if key in obj:
                self.missing.discard(field_name)
                if field_name not in self.used:  # the first record with this field: a key of its own?
                    self.used[field_name] = key
                    check_distinct_columns(self.used, self.path, "key")
                return obj[key]
        return None

    def check_found(self) -> None:
        """After the last record: a required field that no record had is an error naming it."""
        if self.first_keys is None or not self.missing:
            return
        missing = [f for f in REQUIRED_FIELDS if f in self.missing]
        unmapped = [f for f in missing if f not in self.mapped]
        looked = ([f"a key for {looked_for(unmapped)}"] if unmapped else []) + \
            [f"the key '{self.mapped[f]}' given for '{f}'" for f in missing if f in self.mapped]
        raise DataError(f"no record has {', nor '.join(looked)}; the first record's keys are {self.first_keys}; "
                        f"map {'one' if len(missing) == 1 else 'them'} with {mapping_hint(missing)}",
                        path=self.path)


_ARRAY_READ = 1 << 16  # characters a JSON array is read ahead by, at least


def _json_array(path: Path, report: ValidationReport, strict: bool) -> Iterator[tuple[int, int, dict]]:
    """(position, 1-based line, object) of each element of a file holding one JSON array of review
    objects (pretty-printed or on one line). The file is read as it is parsed, a few lines ahead
    of the element being decoded, so a pretty-printed dump needs no more memory than its longest
    element (an array on one line is one line, read whole). An element that is not an object is
    skipped and counted (``strict``: an error); text that is not JSON is an error naming its
    line, as the elements after it cannot be told apart."""
    lines = iter_lines(path, report)
    buffer, ended = "", False

    def read_on(at_least: int) -> None:
        """Append whole lines (so no JSON token is cut) until ``at_least`` characters came, or the end."""
        nonlocal buffer, ended
        parts, size = [], 0
        for _, text in lines:
            parts.append(text)
            size += len(text)
            if size >= at_least:
                break
        else:
            ended = True
        buffer += "".join(parts)

    while "[" not in buffer and not ended:
        read_on(_ARRAY_READ)
    if "[" not in buffer:  # a gzip cut short within its first line: nothing complete was read
        raise DataError("the JSON array is never closed (file cut short?)", path=path, line=1)
    decoder = json.JSONDecoder()
    at = buffer.index("[") + 1
    line, counted_to, position = 1, 0, 0  # line: the 1-based line of buffer[counted_to]
    while True:
        while at < len(buffer) and buffer[at] in " \t\r\n,":
            at += 1
        line += buffer.count("\n", counted_to, at)
        counted_to = at
        if at < len(buffer):
            if buffer[at] == "]":
                return
            try:
                obj, end = decoder.raw_decode(buffer, at)
            except json.JSONDecodeError as exc:
                if ended:
                    raise DataError(f"not JSON inside the array: {exc.msg}", path=path,
                                    line=line + buffer.count("\n", at, exc.pos)) from None
            else:
                if isinstance(obj, dict):
                    yield position, line, obj
                else:
                    report.unreadable(f"array element is {json_kind(obj)}, not an object", "malformed line",
                                      strict=strict, line=line)
                position, at = position + 1, end
                continue
        elif ended:
            raise DataError("the JSON array is never closed (file cut short?)", path=path, line=line)
        # the next element may go on past what is read: let go of what is decoded, and read on by
        # as much again as is pending (each retry doubles it, so a long element is not re-decoded
        # from its start once per line)
        buffer, at, counted_to = buffer[at:], 0, 0
        read_on(max(_ARRAY_READ, len(buffer)))


def json_array_objects(path: Path) -> Iterator[tuple[int, dict]]:
    """(1-based line, object) of each element of a file holding one JSON array of objects, read as
    a review file's array is; an element that is no object, or text that is no JSON, is a
    :class:`DataError` naming its line."""
    report = ValidationReport(source=str(path))
    return ((line, obj) for _, line, obj in _json_array(path, report, strict=True))


def _json_objects(path: Path, report: ValidationReport, strict: bool) -> Iterator[tuple[int, int, dict]]:
    """(position, 1-based line, object) of the review objects of a JSON Lines file, or of a JSON array."""
    if peek_text(path).lstrip().startswith("["):
        return _json_array(path, report, strict)
    return ((number, number + 1, obj) for number, obj in _json_lines(path, report, strict))


# leading records without a text key that make a JSON file ratings only: Amazon's dumps lack
# reviewText on a few records in a thousand, never on a run of this many
RATINGS_ONLY_AFTER = 1000


def read_amazon_json(path: Path, report: ValidationReport, strict: bool = False,
                     columns: dict[str, str] | None = None) -> Iterator[RawRecord]:
    """JSON Lines (or one JSON array) of review objects, or a table written by pandas as one JSON
    object (:func:`_table_rows`), keys found by their usual names or as
    ``columns`` maps them. Amazon review dumps: 2014 and 2018 reviewerID, asin, overall,
    reviewText, summary, unixReviewTime (seconds). 2023 (Hou et al., "Bridging Language and
    Items for Retrieval and Recommendation", 2024): user_id, parent_asin (the item, as its
    metadata is keyed) and asin, rating, text, title (the review's summary), timestamp in
    milliseconds (read as seconds, as any time past :data:`whyrec.data.field_values.MILLISECONDS_FROM`
    is). Yelp's academic dataset (user_id, business_id, stars, text, date as an ISO date-time) uses
    usual names too: ``yelp-json`` is this reader.

    A file whose first :data:`RATINGS_ONLY_AFTER` records (or all, when it has fewer) have no key
    for the text, and whose text key is not mapped, holds ratings only (``report.ratings_only``,
    with a :class:`DataWarning`); a later record with a text key is then an error naming it, since
    the records before it were read without their text."""
    check_mapping(columns, path)
    report.column_word = "key"
    pick = _JsonFields(columns, path)
    objects = _records_of_a_table(_json_objects(path, report, strict), pick.keys["user"], report, strict)
    if not (columns and "text" in columns):
        objects = _ratings_only_when_textless(objects, pick, path, report)
    for position, line, obj in objects:
        yield RawRecord(user=pick(obj, "user"), item=pick(obj, "item"), rating=pick(obj, "rating"),
                        text=None if report.ratings_only else pick(obj, "text"), time=pick(obj, "time"),
                        summary=pick(obj, "summary"), item_title=pick(obj, "item_title"), position=position,
                        line=line)
    pick.check_found()
    pick.record_columns(report)


def _records_of_a_table(objects: Iterator[tuple[int, int, dict]], user_keys: tuple[str, ...],
                        report: ValidationReport, strict: bool) -> Iterator[tuple[int, int, dict]]:
    """``objects`` unchanged, unless the file is one JSON object holding a table as pandas'
    ``DataFrame.to_json`` writes it by default or with ``orient`` "split", "index" or "table", or
    wrapping a list of records (:func:`_table_rows`): then its rows, as (position, position + 1,
    row), the row's number standing for its line (the file is one line). Such a file had been read
    as one record, whose ids were objects. A row that is not one is skipped and counted as an
    array's element is (``strict``: an error)."""
    first = next(objects, None)
    if first is None:
        return
    rows = _table_rows(first[2], user_keys)
    second = next(objects, None) if rows is not None else None
    if rows is None or second is not None:  # not a table, or one of several objects: JSON lines
        yield first
        if second is not None:
            yield second
        yield from objects
        return
    for position, row in enumerate(rows):
        if isinstance(row, dict):
            yield position, position + 1, row
        else:
            report.unreadable(f"table row {position + 1} is {json_kind(row)}, not a record", "malformed line",
                              strict=strict, line=position + 1)


def _table_rows(obj: dict, user_keys: tuple[str, ...]) -> list | None:
    """The rows of a table written as one JSON object by pandas (None for any other object), a row
    that is not one (no list under "split", no object otherwise) left as it is for the caller to count:
    "split" ``{"columns": [...], "data": [[...], ...]}``; "table" ``{"schema": ..., "data": [{...}]}``;
    "columns" (the default) ``{column: {index: value}}``; "index" ``{index: {column: value}}``. The
    last two are told apart by which keys name the user (``user_keys``, or so but for case). Also
    the records of a wrapper, an object with one list of records: ``{"reviews": [{...}, ...]}``,
    ``{"count": 2, "tags": ["new"], "data": [...]}`` (the list whose first record, the first of
    its elements that is an object, names the user; the object itself names none)."""
    data = obj.get("data")
    if isinstance(data, list) and isinstance(obj.get("columns"), list):
        return [dict(zip(obj["columns"], row)) if isinstance(row, list) else row for row in data]
    if isinstance(data, list) and isinstance(obj.get("schema"), dict):
        return data

    def names_user(names: list[str]) -> bool:
        return any(key in names for key in user_keys) or loosely_named(user_keys, names) is not None

    by_column = names_user(list(obj))  # the object's own keys name the user: a review, or {column: {index: value}}
    firsts = [next((row for row in value if isinstance(row, dict)), None) if isinstance(value, list) else None
              for value in obj.values()]
    held = [value for value, first in zip(obj.values(), firsts) if first is not None and names_user(list(first))]
    if len(held) == 1 and not by_column:
        return held[0]
    if not obj or not all(isinstance(value, dict) for value in obj.values()):
        return None
    if by_column:  # {column: {index: value}}
        index = list(dict.fromkeys(label for column in obj.values() for label in column))
        return [{name: column.get(label) for name, column in obj.items()} for label in index]
    inner = next(iter(obj.values()))
    return list(obj.values()) if names_user(list(inner)) else None


def _ratings_only_when_textless(objects: Iterator[tuple[int, int, dict]], pick: _JsonFields, path: Path,
                                report: ValidationReport) -> Iterator[tuple[int, int, dict]]:
    """``objects`` unchanged, after looking at the first :data:`RATINGS_ONLY_AFTER`: when none has
    a text key, the file is ratings only (see :func:`read_amazon_json`)."""
    ahead = []
    for entry in objects:
        ahead.append(entry)
        if pick.has(entry[2], "text") or len(ahead) >= RATINGS_ONLY_AFTER:
            break
    if not ahead or pick.has(ahead[-1][2], "text"):  # the look-ahead stops at the first text key
        yield from ahead
        yield from objects
        return
    report.ratings_only = True
    pick.missing.discard("text")
    looked = ", ".join(FIELD_ALIASES["text"])
    warn_data(
        f"{path}: {'no record' if len(ahead) < RATINGS_ONLY_AFTER else f'none of the first {len(ahead):,} records'} "
        f"has a key for 'text' (looked for {looked}; the first record's keys are {list(ahead[0][2])}): "
        + RATINGS_ONLY_NOTE.format("key", mapping_hint(["text"])))
    yield from ahead
    for position, line, obj in objects:
        if pick.has(obj, "text"):
            key = next(k for k in pick.keys["text"] if k in obj)
            raise DataError(f"this record has a text key ('{key}'), but the first {RATINGS_ONLY_AFTER:,} records "
                            "had none, so the file was being read as ratings only; to read its texts, name the "
                            f"key with --column {shlex.quote('text=' + key)} "
                            f"(load_corpus: columns={{'text': {key!r}}})",
                            path=path, line=line)
        yield position, line, obj
