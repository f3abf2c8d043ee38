"""Reviews as a table: CSV or TSV with a header line (also ``;``- or ``|``-separated spreadsheet
exports), Parquet, or a DataFrame (:func:`whyrec.data.readers.corpus_from_frame`). A table
without a text column holds ratings only."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterator

import pandas as pd

from whyrec.data.corpus import RawRecord, ValidationReport
from whyrec.data.readers.fields import FIELD_ALIASES, RATINGS_ONLY_NOTE, mapping_hint, resolve_columns
from whyrec.data.readers.text_files import iter_lines, peek_text
from whyrec.errors import DataError, warn_data
from whyrec.wording import columns_shown, shortened


def table_columns(available: list[str], mapping: dict[str, str] | None, path: str | Path,
                  report: ValidationReport, command_line: bool = True) -> dict[str, str]:
    """:func:`resolve_columns` for a table (CSV, TSV, Parquet, a DataFrame), where a missing text
    column means ratings only (MovieLens' ``ratings.csv``): the records are read without text, the
    report says so (``ratings_only``), and a :class:`DataWarning` names the columns looked for."""
    resolved = resolve_columns(available, mapping, path, command_line)
    report.columns = resolved
    report.columns_not_read = [str(c) for c in available if c not in resolved.values()]
    if "text" not in resolved:
        report.ratings_only = True
        note = RATINGS_ONLY_NOTE.format("column", mapping_hint(["text"], command_line))
        warn_data(
            f"{path}: no column for 'text' (looked for {', '.join(FIELD_ALIASES['text'])}; columns are "
            f"{columns_shown(available)}): {note}")
    return resolved


def table_records(frame: pd.DataFrame, columns: dict[str, str], line_offset: int) -> Iterator[RawRecord]:
    get = {f: frame[c].tolist() for f, c in columns.items()}
    empty = [None] * len(frame)
    for row in range(len(frame)):
        yield RawRecord(user=get["user"][row], item=get["item"][row], rating=get["rating"][row],
                        text=get.get("text", empty)[row], time=get.get("time", empty)[row],
                        summary=get.get("summary", empty)[row], item_title=get.get("item_title", empty)[row],
                        position=row, line=row + line_offset)


class _LineFeed:
    """The lines of a file handed to :mod:`csv` one at a time, remembering those of the current row."""

    def __init__(self, lines: Iterator[tuple[int, str]]) -> None:
        self._lines = lines
        self.row_lines: list[str] = []
        self.next_line = 1  # 1-based number of the next physical line

    def __iter__(self):
        return self

    def __next__(self) -> str:
        _, line = next(self._lines)
        self.row_lines.append(line)
        self.next_line += 1
        return line

    def start_row(self) -> int:
        """Forget the previous row's lines; return the physical line the next row starts on."""
        self.row_lines = []
        return self.next_line


def _reads_as_a_review(line: str, sep: str, width: int, rating_column: int) -> bool:
    """Whether one physical line would be a complete row on its own, with a numeric rating."""
    try:
        fields = next(csv.reader([line], delimiter=sep))
        float(fields[rating_column])
    except (csv.Error, StopIteration, ValueError, IndexError):
        return False
    return len(fields) == width


def read_csv(path: Path, report: ValidationReport, strict: bool = False, *, sep: str | None = None,
             columns: dict[str, str] | None = None, quotes_as_text: bool | None = None) -> Iterator[RawRecord]:
    """CSV or TSV with a header row, quoted as RFC 4180 says (``""`` is a quote inside a quoted field),
    or, with ``quotes_as_text``, a TSV that quotes no field, each line one row and every quote part of
    its text (None: a TSV is read so when :func:`quotes_are_text` finds it written so).

    ``line`` is the physical line a row starts on, the header being line 1: a quoted text
    may hold line breaks. ``position`` counts data rows, malformed ones included and blank
    lines not, as split index files do. A row whose field count differs from the header's, or whose
    quoting is broken (text after a closing quote), is skipped and counted as "malformed
    row" (with ``strict``, it is an error naming its line).

    An unbalanced quote swallows the rows after it into one text, and a CSV parser cannot
    tell that from a text with line breaks. Reading therefore stops with an error naming
    both lines when a line inside a multi-line row would be a complete review on its own
    (the header's number of fields, a numeric rating), and when a quote is never closed:
    skipping would silently lose every swallowed review.
    """
    if sep is None:
        sep = csv_separator(path, tabs=True)
    kind = "TSV" if sep == "\t" else "CSV"
    if quotes_as_text is None:
        quotes_as_text = sep == "\t" and quotes_are_text(path)
    report.quotes_as_text = quotes_as_text
    feed = _LineFeed(iter_lines(path, report))
    rows = csv.reader(feed, delimiter=sep, quoting=csv.QUOTE_NONE) if quotes_as_text else \
        csv.reader(feed, delimiter=sep, strict=True)
    try:
        header = next(rows)
    except StopIteration:
        raise DataError("file is empty", path=path) from None
    except csv.Error as exc:
        raise DataError(f"cannot parse the {kind} header: {exc}", path=path, line=1) from None
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise DataError(f"column(s) {repeated} appear more than once in the header", path=path, line=1)
    try:
        resolved = table_columns(header, columns, path, report)
    except DataError as exc:
        if not _reads_as_a_record(header):
            raise
        raise DataError(f"the first line, {shortened(sep.join(header), 60)!r}, reads as a record, not as a header naming "
                        f"the columns ({exc.problem.split(' (')[0]}): add a header line first, such as "
                        "'item,user,rating,time' for Amazon's ratings-only CSVs, which have none",
                        path=path, line=1) from None
    where = {f: header.index(c) for f, c in resolved.items()}
    return _csv_records(rows, feed, path, report, strict, sep, kind, len(header), where)


def quotes_are_text(path: Path) -> bool:
    """Whether a TSV writes its quotes as text instead of quoting fields, as the Amazon Customer
    Reviews files do (a review body ``"Best strings ever`` or ``"Fine" I guess``): in the file's first
    64 KiB every line splits at its tabs alone into the header's number of fields, and some field
    opens with a quote that RFC 4180 quoting would not close at the field's end, so that read as
    quoting it would swallow the lines after it, or leave its row malformed."""
    text = peek_text(path)
    lines = text.splitlines()
    if not text.endswith(("\n", "\r")):  # the file goes on past what was peeked at: its last line may be cut off
        lines = lines[:-1]
    if len(lines) < 2:
        return False
    width = lines[0].count("\t") + 1
    if any(line.count("\t") + 1 != width for line in lines[1:] if line.strip()):
        return False  # a quoted field holding a line break or a tab: quoting is in use
    return any(value.startswith('"') and not _one_quoted_field(value) for line in lines[1:]
               for value in line.split("\t"))


def _one_quoted_field(value: str) -> bool:
    """Whether ``value`` is one field quoted as RFC 4180 says: a quote at each end, and inside them
    only doubled quotes."""
    return len(value) >= 2 and value.endswith('"') and '"' not in value[1:-1].replace('""', "")


def _reads_as_a_record(header: list[str]) -> bool:
    """Whether a header line holds a number, as a record's rating or time would, where column
    names would be: the file has no header line."""
    for name in header:
        try:
            float(name)
            return True
        except ValueError:
            continue
    return False


def csv_separator(path: Path, tabs: bool = False) -> str:
    """The separator of a delimited file by its header line: ``,`` when the header holds one, else
    ``;`` (the spreadsheet export of locales that write decimal commas) or ``|`` when it holds
    that; a header holding none of them is read as a one-column CSV. With ``tabs``, a ``.tsv`` or
    ``.tab`` name or a header holding tabs and none of the others gives a tab."""
    header = next((line for line in peek_text(path).splitlines() if line.strip()), "")
    if tabs and (path.suffix.lower() in (".tsv", ".tab") or ("\t" in header and not any(c in header for c in ",;|"))):
        return "\t"
    if "," in header:
        return ","
    return next((sep for sep in (";", "|") if sep in header), ",")


def quote_swallowed(until: str, swallowed: int, what: str) -> str:
    """What a file is told whose unbalanced quote took the rows after it into one text (a review
    file's, ``what`` "review", and ``explain --pairs``' alike): ``until``, where the quote closes (or
    why it stays open); ``swallowed``, a line between that reads as a ``what`` of its own."""
    return (f"a quote opened on this line {until} and line {swallowed} between them reads as a {what} of its own: "
            "close the quote, or write a quote inside a quoted text as \"\"")


# what a TSV whose quotes break its rows is told, when its first lines did not show them as text
_QUOTES_AS_TEXT_HINT = ("; a TSV whose quotes are part of its texts (as the Amazon Customer Reviews files') reads "
                        "with --format tsv-unquoted (load_corpus: format='tsv-unquoted')")


def _csv_records(rows, feed: _LineFeed, path: Path, report: ValidationReport, strict: bool, sep: str,
                 kind: str, width: int, where: dict[str, int]) -> Iterator[RawRecord]:
    position = 0
    hint = _QUOTES_AS_TEXT_HINT if kind == "TSV" else ""  # said of a broken quote
    while True:
        start = feed.start_row()
        try:
            fields = next(rows)
            problem = None if len(fields) in (width, 0) or not "".join(fields).strip() else \
                f"{len(fields)} fields where the header has {width}"
        except StopIteration:
            return
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise DataError(f"a quote opened on this line is never closed; nothing after it can be read "
                                f"as {kind}{hint}", path=path, line=start) from None
            fields, problem = [], f"broken quoting ({exc})"
        swallowed = next((start + k for k, line in enumerate(feed.row_lines[1:], 1)
                          if _reads_as_a_review(line, sep, width, where["rating"])), None)
        if swallowed is not None:
            until = (f"is still open on line {feed.next_line - 1}, where the text outgrew the csv module's "
                     "field limit," if problem and "field limit" in problem else
                     f"closes only on line {feed.next_line - 1},")
            raise DataError(quote_swallowed(until, swallowed, "review") + hint, path=path, line=start)
        if problem is not None:
            # a text past the csv module's field limit is long, not malformed: say so in the count
            reason = f"field over {csv.field_size_limit():,} characters" if "field limit" in problem else "malformed row"
            report.unreadable(f"malformed row: {problem}", reason, strict=strict, line=start)
            position += 1  # still a data row: split index files count it
            continue
        if not "".join(fields).strip():  # a blank line
            continue
        value = {f: (fields[k] if fields[k] != "" else None) for f, k in where.items()}
        yield RawRecord(user=value["user"], item=value["item"], rating=value["rating"], text=value.get("text"),
                        time=value.get("time"), summary=value.get("summary"), item_title=value.get("item_title"),
                        position=position, line=start)
        position += 1


def parquet_frame(path: Path) -> pd.DataFrame:
    """A Parquet file's table; a file pyarrow cannot read is a :class:`DataError` naming it."""
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(f"cannot read as Parquet: {exc}", path=path) from None


def read_parquet(path: Path, report: ValidationReport, strict: bool = False, *,
                 columns: dict[str, str] | None = None) -> Iterator[RawRecord]:
    """A Parquet table with one review per row (column names as for CSV)."""
    frame = parquet_frame(path)
    return table_records(frame, table_columns(list(frame.columns), columns, path, report), line_offset=1)
