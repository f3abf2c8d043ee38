"""Readers: one function per file format, all producing :class:`RawRecord` streams.

Formats (``FORMATS``): Amazon 2014/2018/2023 JSON lines (plain or gzip; also other JSON lines
or one JSON array of review objects), CSV/TSV, Parquet (each of these with a column mapping), Yelp academic-dataset review JSON, the Yelp ``.ss`` format (user, product,
rating, text separated by double tabs), the PETER benchmark ``reviews.pickle`` and Amazon
item metadata. :func:`detect_format` chooses by content; :func:`load_corpus` is the entry.
"""

from __future__ import annotations

import ast
import codecs
import csv
import gzip
import html
import io
import json
import pickle
import re
import threading
import warnings
import zlib
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd

from whyrec.data.corpus import Corpus, DuplicatePolicy, RawRecord, ValidationReport, build_corpus
from whyrec.errors import DataError, UnsafePickleError
from whyrec.wording import counted, shortened
from whyrec.data.text import fold_to_ascii

FORMATS = ("amazon-json", "yelp-json", "yelp-ss", "csv", "tsv", "parquet", "peter-pickle", "movielens-dat")


class DataWarning(UserWarning):
    """Something in the input was wrong but reading went on (e.g. a truncated gzip)."""


# Known names of each field across the formats whyrec reads, tried in order.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "user": ("user", "user_id", "userId", "reviewerID", "reviewer_id"),
    # Amazon Reviews 2023 gives both: parent_asin groups a product's variants (sizes, colours), and
    # its metadata and published benchmarks are keyed by it
    "item": ("item", "item_id", "itemId", "parent_asin", "asin", "business_id", "product", "product_id", "movieId"),
    "rating": ("rating", "overall", "stars", "score"),
    "text": ("text", "reviewText", "review", "review_text"),
    "time": ("time", "unixReviewTime", "timestamp", "date"),
    "summary": ("summary", "title"),
}
REQUIRED_FIELDS = ("user", "item", "rating", "text")


# --- opening files ------------------------------------------------------------------------
def _head_bytes(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of the file, decompressed when it is a gzip (a cut-short one too)."""
    with open(path, "rb") as handle:
        raw = handle.read(size)
    if raw[:2] == b"\x1f\x8b":
        # a decompressor object accepts partial input, so a cut-short file still yields its head
        try:
            raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, size)
        except zlib.error:
            raw = b""
    return raw


def _text_encoding(head: bytes) -> str:
    """``utf-16`` for text that starts with its byte order mark (Excel's "Unicode text" export),
    else ``utf-8``."""
    return "utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8"


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


# how many byte sequences the codec error handler below has read as Windows-1252, in this thread
_NOT_UTF8 = threading.local()


def _as_windows_1252(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: bytes that are not UTF-8 are read as Windows-1252, the encoding of
    spreadsheet exports on Western Windows (0xE9 → é, 0x92 → ’), and Latin-1 for its five
    unassigned bytes; each such sequence is counted."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    _NOT_UTF8.count = getattr(_NOT_UTF8, "count", 0) + 1
    text = []
    for byte in error.object[error.start:error.end]:
        try:
            text.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            text.append(chr(byte))
    return "".join(text), error.end


codecs.register_error("whyrec-windows-1252", _as_windows_1252)


def iter_lines(path: Path, report: ValidationReport | None = None) -> Iterator[tuple[int, str]]:
    """Yield (0-based line number, line) of a text file, gzip or plain, in UTF-8 (UTF-16 when it
    starts with that encoding's byte order mark).

    A gzip that was cut short yields the complete lines read so far, then warns with the
    count instead of failing: nothing already read is lost. Bytes that are not UTF-8 (a file
    saved as Latin-1 or Windows-1252, or a few such lines among UTF-8 ones) are read as
    Windows-1252 rather than replaced by �, and a warning says how many there were.
    """
    opener = gzip.open if _is_gzip(path) else open
    count = 0
    pending = None
    not_utf8_before = getattr(_NOT_UTF8, "count", 0)
    try:
        encoding = _text_encoding(_head_bytes(path, 4096))  # a gzip's first kilobytes hold its first bytes
        with opener(path, "rt", encoding=encoding, errors="whyrec-windows-1252") as handle:
            for number, line in enumerate(handle):
                if number == 0:  # a byte order mark, as Windows tools write before UTF-8, is no text
                    line = line.removeprefix("\ufeff")
                if pending is not None:
                    yield pending
                pending = (number, line)
                count += 1
        if pending is not None:
            yield pending
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        # the last line may be incomplete; drop it rather than parse half a record
        if report is not None:
            report.truncated = True
        kept = max(count - 1, 0)
        warnings.warn(
            DataWarning(f"{path}: compressed file is truncated ({exc.__class__.__name__}); "
                        f"using the {kept:,} complete lines read before the break"),
            stacklevel=2,
        )
    not_utf8 = getattr(_NOT_UTF8, "count", 0) - not_utf8_before
    if not_utf8:
        if report is not None:
            report.not_utf8 += not_utf8
        warnings.warn(DataWarning(f"{path}: {counted(not_utf8, 'byte sequence')} not UTF-8, read as Windows-1252 "
                                  "(é, ’); if the file is in another encoding, convert it to UTF-8 first"),
                      stacklevel=2)


def _json_lines(path: Path, report: ValidationReport, strict: bool) -> Iterator[tuple[int, dict]]:
    return _parsed_objects(path, iter_lines(path, report), report, strict)


def _parsed_objects(path: Path, lines: Iterable[tuple[int, str]], report: ValidationReport,
                    strict: bool) -> Iterator[tuple[int, dict]]:
    """Each line as a dict: JSON, else a Python literal; a line that is neither is an error
    (``strict``) or counted as malformed."""
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
        if not isinstance(obj, dict):
            if strict:
                raise DataError("line is not a JSON object", path=path, line=number + 1)
            report.read += 1
            report.skipped["malformed line"] += 1
            continue
        yield number, obj


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
        self.mapped = dict(columns or {})

    def __call__(self, obj: dict, field_name: str):
        if self.first_keys is None:
            self.first_keys = list(obj)
        for key in self.keys[field_name]:
            if key in obj:
                self.missing.discard(field_name)
                return obj[key]
        return None

    def check_found(self) -> None:
        """After the last record: a required field that no record had is an error naming it."""
        if self.first_keys is None or not self.missing:
            return
        missing = [f for f in REQUIRED_FIELDS if f in self.missing]
        looked = [f"the key '{self.mapped[f]}' given for '{f}'" if f in self.mapped else
                  f"a key for '{f}' (looked for {', '.join(FIELD_ALIASES[f])})" for f in missing]
        raise DataError(f"no record has {', nor '.join(looked)}; the first record's keys are {self.first_keys}; "
                        f"map them with --column {missing[0]}=NAME (load_corpus: columns={{'{missing[0]}': NAME}})",
                        path=self.path)


def _check_mapping(columns: dict[str, str] | None, path: Path) -> None:
    unknown = set(columns or {}) - set(FIELD_ALIASES)
    if unknown:
        raise DataError(f"unknown field(s) in column mapping: {sorted(unknown)}; "
                        f"fields are {list(FIELD_ALIASES)}", path=path)


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
                elif strict:
                    raise DataError("array element is not a JSON object", path=path, line=line)
                else:
                    report.read += 1
                    report.skipped["malformed line"] += 1
                position, at = position + 1, end
                continue
        elif ended:
            raise DataError("the JSON array is never closed (file cut short?)", path=path, line=line)
        # the next element may go on past what is read: let go of what is decoded, and read on by
        # as much again as is pending (each retry doubles it, so a long element is not re-decoded
        # from its start once per line)
        buffer, at, counted_to = buffer[at:], 0, 0
        read_on(max(_ARRAY_READ, len(buffer)))


def _json_objects(path: Path, report: ValidationReport, strict: bool) -> Iterator[tuple[int, int, dict]]:
    """(position, 1-based line, object) of the review objects of a JSON Lines file, or of a JSON array."""
    if _peek_text(path).lstrip().startswith("["):
        return _json_array(path, report, strict)
    return ((number, number + 1, obj) for number, obj in _json_lines(path, report, strict))


# --- review formats -------------------------------------------------------------------------
# a review time above this is in milliseconds (as seconds it would be after the year 5000)
MILLISECONDS_FROM = 1e11


def read_amazon_json(path: Path, report: ValidationReport, strict: bool = False,
                     columns: dict[str, str] | None = None) -> Iterator[RawRecord]:
    """JSON Lines (or one JSON array) of review objects, keys found by their usual names or as
    ``columns`` maps them. Amazon review dumps: 2014 and 2018 reviewerID, asin, overall,
    reviewText, summary, unixReviewTime (seconds). 2023 (Hou et al., "Bridging Language and
    Items for Retrieval and Recommendation", 2024): user_id, parent_asin (the item, as its
    metadata is keyed) and asin, rating, text, title (the review's summary), timestamp in
    milliseconds (read as seconds). Yelp's academic dataset (user_id, business_id, stars, text,
    date as an ISO date-time) uses usual names too: ``yelp-json`` is this reader."""
    _check_mapping(columns, path)
    pick = _JsonFields(columns, path)
    for position, line, obj in _json_objects(path, report, strict):
        time = pick(obj, "time")
        if "unixReviewTime" not in obj and isinstance(time, (int, float)) and not isinstance(time, bool) \
                and time >= MILLISECONDS_FROM:
            time = time / 1000.0
        yield RawRecord(user=pick(obj, "user"), item=pick(obj, "item"), rating=pick(obj, "rating"),
                        text=pick(obj, "text"), time=time, summary=pick(obj, "summary"),
                        position=position, line=line)
    pick.check_found()


def read_yelp_ss(path: Path, report: ValidationReport, strict: bool = False) -> Iterator[RawRecord]:
    """Tang et al. (2015) Yelp 2013/2014 ``.ss`` files: ``user\\t\\tproduct\\t\\trating\\t\\ttext``."""
    for number, line in iter_lines(path, report):
        line = line.rstrip("\n")
        if not line.strip():
            continue
        parts = line.split("\t\t")
        if len(parts) < 4:
            if strict:
                raise DataError(f"expected 4 fields separated by double tabs, found {len(parts)}",
                                path=path, line=number + 1)
            report.read += 1
            report.skipped["malformed line"] += 1
            continue
        # the .ss texts mark sentence ends with <sssss>
        text = "\t\t".join(parts[3:]).replace("<sssss>", " ")
        yield RawRecord(user=parts[0], item=parts[1], rating=parts[2], text=text, position=number, line=number + 1)


def read_movielens_dat(path: Path, report: ValidationReport, strict: bool = False) -> Iterator[RawRecord]:
    """MovieLens 1M and 10M ``ratings.dat``: ``UserID::MovieID::Rating::Timestamp`` per line, no
    header and no text, so the corpus holds ratings only (``report.ratings_only``)."""
    report.ratings_only = True
    for number, line in iter_lines(path, report):
        if not line.strip():
            continue
        parts = line.strip().split("::")
        if len(parts) != 4:
            if strict:
                raise DataError(f"expected 4 fields separated by '::' (UserID::MovieID::Rating::Timestamp), "
                                f"found {len(parts)}", path=path, line=number + 1)
            report.read += 1
            report.skipped["malformed line"] += 1
            continue
        yield RawRecord(user=parts[0], item=parts[1], rating=parts[2], text=None, time=parts[3], position=number,
                        line=number + 1)


_MOVIELENS_LINE = re.compile(r"\s*[^:\s]+::[^:\s]+::\d+(\.\d+)?::\d+\s*")


COLUMN_MAPPING_HINT = "--column {0}=NAME (load_corpus: columns={{'{0}': NAME}})"


def resolve_columns(available: list[str], mapping: dict[str, str] | None, path: str | Path,
                    how_to_map: str = COLUMN_MAPPING_HINT, *, text_optional: bool = False) -> dict[str, str]:
    """Map whyrec fields to table columns: explicit ``mapping`` first, then known aliases.
    ``how_to_map`` tells, for a missing field, how to name its column. With ``text_optional`` a
    table without a text column is no error: the result then has no ``text``."""
    mapping = dict(mapping or {})
    _check_mapping(mapping, path)
    resolved: dict[str, str] = {}
    for field_name, aliases in FIELD_ALIASES.items():
        if field_name in mapping:
            if mapping[field_name] not in available:
                raise DataError(f"column '{mapping[field_name]}' for field '{field_name}' not found; "
                                f"columns are {available}", path=path)
            resolved[field_name] = mapping[field_name]
            continue
        found = next((a for a in aliases if a in available), None)
        if found is not None:
            resolved[field_name] = found
        elif field_name in REQUIRED_FIELDS and not (field_name == "text" and text_optional):
            raise DataError(f"no column for '{field_name}' (looked for {', '.join(aliases)}); "
                            f"columns are {available}; map one with {how_to_map.format(field_name)}", path=path)
    return resolved


def table_columns(available: list[str], mapping: dict[str, str] | None, path: str | Path,
                  report: ValidationReport, how_to_map: str = COLUMN_MAPPING_HINT) -> dict[str, str]:
    """:func:`resolve_columns` for a table (CSV, TSV, Parquet, a DataFrame), where a missing text
    column means ratings only (MovieLens' ``ratings.csv``): the records are read without text, the
    report says so (``ratings_only``), and a :class:`DataWarning` names the columns looked for."""
    resolved = resolve_columns(available, mapping, path, how_to_map, text_optional=True)
    if "text" not in resolved:
        report.ratings_only = True
        warnings.warn(DataWarning(
            f"{path}: no column for 'text' (looked for {', '.join(FIELD_ALIASES['text'])}; columns are "
            f"{available}): read as ratings only, which the rating models fit; MT, PETER, MMI and the "
            f"explanation metrics need review text: map its column with {how_to_map.format('text')}"), stacklevel=3)
    return resolved


def _table_records(frame: pd.DataFrame, columns: dict[str, str], line_offset: int) -> Iterator[RawRecord]:
    get = {f: frame[c].tolist() for f, c in columns.items()}
    empty = [None] * len(frame)
    for row in range(len(frame)):
        yield RawRecord(user=get["user"][row], item=get["item"][row], rating=get["rating"][row],
                        text=get.get("text", empty)[row], time=get.get("time", empty)[row],
                        summary=get.get("summary", empty)[row], position=row, line=row + line_offset)


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
             columns: dict[str, str] | None = None) -> Iterator[RawRecord]:
    """CSV or TSV with a header row, quoted as RFC 4180 says (``""`` is a quote inside a quoted field).

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
        sep = "\t" if path.suffix.lower() in (".tsv", ".tab") else csv_separator(path)
    kind = "TSV" if sep == "\t" else "CSV"
    feed = _LineFeed(iter_lines(path, report))
    rows = csv.reader(feed, delimiter=sep, strict=True)
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


def csv_separator(path: Path) -> str:
    """The separator of a delimited file by its header line: ``,`` when the header holds one, else
    ``;`` (the spreadsheet export of locales that write decimal commas) or ``|`` when it holds
    that; a header holding none of them is read as a one-column CSV."""
    header = next((line for line in _peek_text(path).splitlines() if line.strip()), "")
    if "," in header:
        return ","
    return next((sep for sep in (";", "|") if sep in header), ",")


def _csv_records(rows, feed: _LineFeed, path: Path, report: ValidationReport, strict: bool, sep: str,
                 kind: str, width: int, where: dict[str, int]) -> Iterator[RawRecord]:
    position = 0
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
                                f"as {kind}", path=path, line=start) from None
            fields, problem = [], f"broken quoting ({exc})"
        swallowed = next((start + k for k, line in enumerate(feed.row_lines[1:], 1)
                          if _reads_as_a_review(line, sep, width, where["rating"])), None)
        if swallowed is not None:
            until = (f"is still open on line {feed.next_line - 1}, where the text outgrew the csv module's "
                     "field limit," if problem and "field limit" in problem else
                     f"closes only on line {feed.next_line - 1},")
            raise DataError(f"a quote opened on this line {until} and line {swallowed} between them reads as a "
                            f"review of its own: close the quote, or write a quote inside a quoted text as \"\"",
                            path=path, line=start)
        if problem is not None:
            if strict:
                raise DataError(f"malformed row: {problem}", path=path, line=start)
            report.read += 1
            # a text past the csv module's field limit is long, not malformed: say so in the count
            reason = f"field over {csv.field_size_limit():,} characters" if "field limit" in problem else "malformed row"
            report.skipped[reason] += 1
            position += 1  # still a data row: split index files count it
            continue
        if not "".join(fields).strip():  # a blank line
            continue
        value = {f: (fields[k] if fields[k] != "" else None) for f, k in where.items()}
        yield RawRecord(user=value["user"], item=value["item"], rating=value["rating"], text=value.get("text"),
                        time=value.get("time"), summary=value.get("summary"), position=position, line=start)
        position += 1


def read_parquet(path: Path, report: ValidationReport, strict: bool = False, *,
                 columns: dict[str, str] | None = None) -> Iterator[RawRecord]:
    """A Parquet table with one review per row (column names as for CSV)."""
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(f"cannot read as Parquet: {exc}", path=path) from None
    return _table_records(frame, table_columns(list(frame.columns), columns, path, report), line_offset=1)


# --- the PETER benchmark pickle -------------------------------------------------------------------
class PlainDataUnpickler(pickle.Unpickler):
    """An unpickler that builds only plain containers and scalars.

    Lists, dicts, tuples, strings, numbers, booleans and None are built by pickle opcodes
    and never reach :meth:`find_class`; sets and frozensets are allowed by name. Any other
    global (``os.system``, a class to instantiate, ...) is refused, so loading a hostile
    file cannot run code.
    """

    ALLOWED = {("builtins", "set"), ("builtins", "frozenset")}

    def __init__(self, file, path: Path) -> None:
        super().__init__(file)
        self.path = path

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise UnsafePickleError(
            f"pickle refers to {module}.{name}; only plain containers and scalars are allowed",
            path=self.path,
        )


def load_plain_pickle(path: Path):
    """Read a pickle that holds only plain data (see :class:`PlainDataUnpickler`)."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return PlainDataUnpickler(io.BytesIO(data), path).load()
    except UnsafePickleError:
        raise
    except Exception as exc:
        raise DataError(f"not a readable pickle: {exc}", path=path) from None


def read_peter_pickle(path: Path, report: ValidationReport, strict: bool = False) -> Iterator[RawRecord]:
    """PETER/PEPLER ``reviews.pickle``: a list of dicts with user, item, rating, template.

    ``template`` is (feature, adjective, sentence, sentiment); the sentence becomes the
    record's text and the quadruple is kept by :func:`peter_features`.
    """
    records = load_plain_pickle(path)
    if not isinstance(records, list):
        raise DataError(f"expected a list of records, found {type(records).__name__}", path=path)
    for number, obj in enumerate(records):
        if not isinstance(obj, dict):
            if strict:
                raise DataError("record is not a dict", path=path, line=number + 1)
            report.read += 1
            report.skipped["malformed record"] += 1
            continue
        template = obj.get("template")
        sentence = template[2] if isinstance(template, (tuple, list)) and len(template) >= 3 else obj.get("text")
        yield RawRecord(user=obj.get("user"), item=obj.get("item"), rating=obj.get("rating"), text=sentence,
                        time=obj.get("time"), position=number, line=number + 1)


def peter_features(path: Path, fold_unicode: bool = False) -> pd.DataFrame:
    """The (feature, opinion, sentence, sentiment) quadruples of a PETER pickle, by position;
    ``fold_unicode``: their words written in ASCII as the review texts are (:func:`fold_to_ascii`),
    so that the explanation targets and feature words match the folded reviews."""
    rows = []
    write = fold_to_ascii if fold_unicode else str
    for number, obj in enumerate(load_plain_pickle(path)):
        template = obj.get("template") if isinstance(obj, dict) else None
        if isinstance(template, (tuple, list)) and len(template) >= 4:
            fea, adj, sentence, score = template[:4]
            rows.append((number, write(str(fea)), write(str(adj)), write(str(sentence)), int(score)))
    return pd.DataFrame(rows, columns=["position", "feature", "opinion", "sentence", "sentiment"])


# --- item metadata -----------------------------------------------------------------------------------
_TAG = re.compile(r"<[a-zA-Z/!][^<>]*(?:>|$)")  # whole tags, and a tag cut off at the end of the string


def clean_html(text: object) -> str:
    """Strip tags and unescape entities (meta titles and descriptions contain HTML)."""
    if isinstance(text, list):
        text = " ".join(str(t) for t in text)
    if not isinstance(text, str):
        return ""
    return re.sub(r"\s+", " ", html.unescape(_TAG.sub(" ", text))).strip()


def read_item_metadata(path: str | Path, items: set[str] | None = None) -> dict[str, dict]:
    """Amazon item metadata JSON lines → {item: {title, category, description, brand}}. 2014 and
    2018: asin, title, category (2014: categories, a list of paths), description, brand. 2023:
    parent_asin (the item key of its reviews), title, categories (often empty; then
    main_category), description, store (as the brand). With ``items``, only those are kept (a
    category's metadata file lists millions of items that its 5-core reviews never name), and
    only lines that can name one of them are parsed (``_may_name``)."""
    path = Path(path)
    if not path.is_file():
        raise DataError("no such metadata file", path=path)
    if path.name in MOVIELENS_MOVIES:
        return read_movielens_movies(path, items)
    report = ValidationReport(source=str(path))
    meta: dict[str, dict] = {}
    lines = iter_lines(path, report)
    if items is not None:
        lines = ((number, line) for number, line in lines if _may_name(line, items))
    for _, obj in _parsed_objects(path, lines, report, strict=False):
        item = obj.get("parent_asin") or obj.get("asin")
        if not item or items is not None and str(item) not in items:
            continue
        categories = obj.get("category") or obj.get("categories") or []
        if categories and isinstance(categories[0], list):  # 2014: list of category paths
            categories = categories[0]
        if not categories and isinstance(obj.get("main_category"), str):
            categories = [obj["main_category"]]
        meta[str(item)] = {
            "title": clean_html(obj.get("title")),
            "category": [clean_html(c) for c in categories if clean_html(c)],
            "description": clean_html(obj.get("description")),
            "brand": clean_html(obj.get("brand") or obj.get("store")),
        }
    return meta


MOVIELENS_MOVIES = ("movies.dat", "movies.csv")


def read_movielens_movies(path: Path, items: set[str] | None = None) -> dict[str, dict]:
    """MovieLens' movie list as item metadata, {movie id: {title, category (its genres), description,
    brand}}: ``movies.dat`` (1M, 10M: ``MovieID::Title::Genres``) or ``movies.csv`` (``movieId,title,
    genres``, titles quoted where they hold a comma); genres are separated by ``|``. A line that
    does not read so is left out; with ``items``, only those movies are kept."""
    if path.name.endswith(".csv"):
        rows = csv.reader(line for _, line in iter_lines(path))
        next(rows, None)  # the header
    else:
        rows = (line.rstrip("\r\n").split("::") for _, line in iter_lines(path))
    meta: dict[str, dict] = {}
    for row in rows:
        if len(row) != 3 or (items is not None and row[0] not in items):
            continue
        genres = [g for g in row[2].split("|") if g and g != "(no genres listed)"]
        meta[row[0]] = {"title": row[1].strip(), "category": genres, "description": "", "brand": ""}
    return meta


# the value of an "asin" or "parent_asin" key, in JSON or in a 2014 file's Python literal
# (the pattern starts with a literal, which the regex engine finds fast: a leading quote class
# made it slower than parsing)
_ITEM_KEY_VALUE = re.compile(r"""asin["']\s*:\s*["']([^"']*)""")


def _may_name(line: str, items: set[str]) -> bool:
    """Whether a metadata line can describe one of ``items``, without parsing it: some
    "asin"/"parent_asin" value on it is among them, or it has none that the pattern sees (then
    parsing decides). It never skips a wanted line: the item key's value is among the values
    found. Parsing only candidates makes a category's metadata (millions of lines) several
    times faster to read."""
    values = _ITEM_KEY_VALUE.findall(line)
    return not values or any(value in items for value in values)


REVIEW_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".csv", ".tsv", ".parquet", ".ss", ".pickle")


def reviews_in(folder: Path) -> Path:
    """The review file of a data folder: ``reviews.json.gz`` (``.json``, ``.csv``, ``.pickle``),
    as whyrec's data folders and the PETER benchmark name it, or MovieLens' ``ratings.csv`` or
    ``ratings.dat``; else its one review-like file that
    is not item metadata (``meta*``), as an Amazon Reviews 2023 download holds ``X.jsonl`` beside
    ``meta_X.jsonl``. Several such files are an error naming them."""
    named = [folder / n for n in ("reviews.json.gz", "reviews.json", "reviews.csv", "reviews.pickle",
                                  "ratings.csv", "ratings.dat")]
    found = next((p for p in named if p.is_file()), None)
    if found:
        return found
    others = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("meta")
                    and p.name.lower().endswith(REVIEW_SUFFIXES))
    if len(others) == 1:
        return others[0]
    if not others:
        raise DataError("folder holds no review file (reviews.json.gz, MovieLens' ratings.csv or ratings.dat, or "
                        "one .jsonl/.json/.csv/.tsv/.parquet file that is not meta*)", path=folder)
    raise DataError(f"folder holds several review files ({', '.join(p.name for p in others[:5])}"
                    f"{', ...' if len(others) > 5 else ''}); give the file", path=folder)


def metadata_beside(path: Path) -> Path | None:
    """The item metadata file next to a review file, when there is one: ``meta.json(.gz)`` (the
    layout of whyrec's data folders), or ``meta_X`` as the Amazon dumps name it beside their
    reviews of category X: ``X.jsonl`` → ``meta_X.jsonl`` (2023), ``X.json.gz`` and ``X_5.json.gz``
    (its 5-core) → ``meta_X.json.gz`` (2018), ``reviews_X_5.json.gz`` → ``meta_X.json.gz`` (2014);
    each plain or gzipped. Beside MovieLens' ``ratings.dat`` or ``ratings.csv``: its ``movies.dat``
    or ``movies.csv``."""
    if path.name in ("ratings.dat", "ratings.csv"):  # MovieLens: the movie list beside the ratings
        return next((path.parent / name for name in MOVIELENS_MOVIES if (path.parent / name).is_file()), None)
    stem = path.name.split(".")[0]
    category = stem.removeprefix("reviews_")
    categories = dict.fromkeys([stem, category, category.removesuffix("_5")])  # in that order, once each
    names = ["meta.json.gz", "meta.json"] + [f"meta_{c}{suffix}" for c in categories
                                             for suffix in (".jsonl", ".jsonl.gz", ".json", ".json.gz")]
    return next((path.parent / name for name in names if (path.parent / name).is_file()), None)


# --- detection and the entry point --------------------------------------------------------------------
def _peek_text(path: Path, size: int = 65536) -> str:
    """The first ``size`` bytes of the (decompressed) file as text; a truncated gzip still has a head."""
    raw = _head_bytes(path, size)
    if _text_encoding(raw) == "utf-16":
        return raw[:len(raw) - len(raw) % 2].decode("utf-16", errors="replace")
    return raw.decode("utf-8", errors="replace").removeprefix("\ufeff")


def detect_format(path: str | Path) -> str:
    """Choose a reader by the file's content (magic bytes, then the first record)."""
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head == b"PAR1":
        return "parquet"
    if head[:1] == b"\x80":
        return "peter-pickle"
    text = _peek_text(path)
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\n\r\f\v")
    if controls > 0.01 * len(text):  # text files, in any encoding, hold next to no control characters
        raise DataError("binary content: not a review file whyrec reads (JSON Lines, CSV/TSV, each maybe "
                        "gzipped; Parquet; a PETER pickle)", path=path)
    first = next((line for line in text.splitlines() if line.strip()), "")
    if first.lstrip().startswith("{"):
        try:
            obj = json.loads(first)
        except json.JSONDecodeError:
            obj = {}
        if "business_id" in obj:
            return "yelp-json"
        return "amazon-json"
    if first.lstrip().startswith("["):  # one JSON document holding a list of review objects
        return "amazon-json"
    if first.count("\t\t") >= 3:
        return "yelp-ss"
    if _MOVIELENS_LINE.fullmatch(first):
        return "movielens-dat"
    if "\t" in first:
        return "tsv"
    if "," in first or first.count(";") >= 3 or first.count("|") >= 3:  # ; and |: see csv_separator
        return "csv"
    if not first:
        raise DataError("file is empty (or holds only blank lines)", path=path)
    raise DataError("cannot tell the file format from its content; pass --format "
                    f"(one of {', '.join(FORMATS)})", path=path)


def load_corpus(
    path: str | Path,
    *,
    format: str | None = None,
    columns: dict[str, str] | None = None,
    rating_scale: tuple[float, float] = (1.0, 5.0),
    strict: bool = False,
    duplicates: DuplicatePolicy = "keep-last",
    meta_path: str | Path | None = None,
    fold_unicode: bool = False,
) -> Corpus:
    """Read a review file into a validated :class:`Corpus`.

    ``format`` is detected from the content when not given. Item metadata is read from
    ``meta_path``, or from the file :func:`metadata_beside` finds next to the reviews.
    ``fold_unicode``: read the texts with :func:`whyrec.data.text.fold_to_ascii`.
    A PETER pickle's (feature, opinion, sentence, sentiment) quadruples are attached as
    ``corpus.features``.
    """
    path = Path(path)
    if not path.exists():
        raise DataError("no such file", path=path)
    if path.is_dir():
        path = reviews_in(path)
    fmt = format or detect_format(path)
    if fmt not in FORMATS:
        raise DataError(f"unknown format '{fmt}'; known formats are {', '.join(FORMATS)}", path=path)
    if columns and fmt in ("yelp-ss", "peter-pickle", "movielens-dat"):
        raise DataError(f"a {fmt} file has fixed fields; --column (columns=) maps those of CSV, TSV, Parquet "
                        "and JSON files", path=path)
    report = ValidationReport(source=str(path))
    readers = {
        "amazon-json": lambda: read_amazon_json(path, report, strict, columns=columns),
        "yelp-json": lambda: read_amazon_json(path, report, strict, columns=columns),
        "yelp-ss": lambda: read_yelp_ss(path, report, strict),
        "csv": lambda: read_csv(path, report, strict, sep=csv_separator(path), columns=columns),
        "tsv": lambda: read_csv(path, report, strict, sep="\t", columns=columns),
        "parquet": lambda: read_parquet(path, report, strict, columns=columns),
        "peter-pickle": lambda: read_peter_pickle(path, report, strict),
        "movielens-dat": lambda: read_movielens_dat(path, report, strict),
    }
    if meta_path is None:
        meta_path = metadata_beside(path)
    elif not Path(meta_path).is_file():  # before the reviews are read: a typo costs no waiting
        raise DataError("no such metadata file", path=meta_path)
    records: Iterable[RawRecord] = readers[fmt]()
    corpus = build_corpus(records, source=str(path), rating_scale=rating_scale, strict=strict,
                          duplicates=duplicates, report=report, fold_unicode=fold_unicode,
                          name=path.parent.name if path.name.split(".")[0] == "reviews" else path.name.split(".")[0])
    if meta_path:  # only the reviewed items' entries are kept
        corpus.item_meta = read_item_metadata(meta_path, set(corpus.reviews["item"]))
    if fmt == "peter-pickle":
        feats = peter_features(path, fold_unicode)
        corpus.features = feats[feats["position"].isin(set(corpus.positions))].reset_index(drop=True)
    _warn_skipped(report)
    return corpus


def corpus_from_frame(
    frame: pd.DataFrame,
    *,
    columns: dict[str, str] | None = None,
    rating_scale: tuple[float, float] = (1.0, 5.0),
    strict: bool = False,
    duplicates: DuplicatePolicy = "keep-last",
    item_meta: dict[str, dict] | None = None,
    name: str = "frame",
    fold_unicode: bool = False,
) -> Corpus:
    """Validate an in-memory table (one review per row) into a :class:`Corpus`, as :func:`load_corpus`
    does a file: columns found by the same names as a CSV's (or mapped with ``columns``), bad rows
    skipped and counted (or, ``strict``, the first raises :class:`DataError` naming its row, 1-based),
    duplicates by ``duplicates``, texts folded to ASCII with ``fold_unicode``."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(frame).__name__}", path=f"<{name}>")
    source = f"<{name}>"
    report = ValidationReport(source=source)
    frame = frame.set_axis([str(c) for c in frame.columns], axis=1)  # column names as a file's header gives them
    found = table_columns(list(frame.columns), columns, source, report, how_to_map="columns={{'{}': NAME}}")
    records = _table_records(frame, found, line_offset=1)
    corpus = build_corpus(records, source=source, rating_scale=rating_scale, strict=strict,
                          duplicates=duplicates, item_meta=item_meta, report=report, name=name,
                          fold_unicode=fold_unicode)
    _warn_skipped(report, stacklevel=3)
    return corpus


def _warn_skipped(report: ValidationReport, stacklevel: int = 3) -> None:
    """One :class:`DataWarning` with the report's counts when any record was skipped (or kept
    without the time it gave)."""
    if sum(report.skipped.values()) or report.unreadable_times:
        warnings.warn(DataWarning(report.summary()), stacklevel=stacklevel)
