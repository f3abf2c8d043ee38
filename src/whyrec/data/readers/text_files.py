"""Opening review files as text: gzip or plain, UTF-8 (UTF-16 with its byte order mark), bytes
that are not UTF-8 read as Windows-1252 and counted, a cut-short gzip read up to its break, a
damaged one refused."""

from __future__ import annotations

import codecs
import gzip
import threading
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from whyrec.data.corpus import ValidationReport
from whyrec.errors import DataError, warn_data
from whyrec.wording import counted


def head_bytes(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of the file, decompressed when it is a gzip (a cut-short one too)."""
    with open(path, "rb") as handle:
        raw = handle.read(size)
    if raw[:2] == b"\x1f\x8b":
        # a decompressor object accepts partial input, so a cut-short file still yields its head
        try:
            raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, size)
        except zlib.error as exc:
            raise _damaged(path, exc) from None
    return raw


def _damaged(path: Path, exc: Exception, lines: int = 0) -> DataError:
    """The error of a gzip whose data is damaged (a bad header, invalid compressed data, a failed
    CRC check): unlike a file cut short, what it decompresses to cannot be trusted, not even the
    lines read before the damage was found (a CRC is checked at the end)."""
    read = f" ({counted(lines, 'line')} read before it was found)" if lines else ""
    return DataError(f"the gzip data is damaged: {exc}{read}; download or compress the file again", path=path)


def _text_encoding(head: bytes) -> str:
    """``utf-16`` for text that starts with its byte order mark (Excel's "Unicode text" export),
    else ``utf-8-sig``: UTF-8, without the byte order mark Windows tools write before it."""
    return "utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"


def is_gzip(path: Path) -> bool:
    """Whether the file starts as a gzip does (its magic bytes 1f 8b), whatever its name."""
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


def open_text(path: Path, newline: str | None = None) -> IO[str]:
    """``path``, gzip or plain, open as text as the review readers read it: UTF-8 (UTF-16 when it
    starts with that encoding's byte order mark; a UTF-8 one is no text), bytes that are not UTF-8
    read as Windows-1252 and counted (:func:`not_utf8_read`, :func:`warn_not_utf8`)."""
    opener = gzip.open if is_gzip(path) else open
    encoding = _text_encoding(head_bytes(path, 4096))  # a gzip's first kilobytes hold its first bytes
    return opener(path, "rt", encoding=encoding, errors="whyrec-windows-1252", newline=newline)


def not_utf8_read() -> int:
    """How many byte sequences this thread has read as Windows-1252 (:func:`open_text`) so far: the
    difference over a reading is its count."""
    return getattr(_NOT_UTF8, "count", 0)


def warn_not_utf8(path: Path | str, count: int) -> None:
    """Warn (a :class:`DataWarning`) that ``count`` byte sequences of ``path`` were not UTF-8."""
    if count:
        warn_data(f"{path}: {counted(count, 'byte sequence')} not UTF-8, read as Windows-1252 (é, ’); if the "
                  "file is in another encoding, convert it to UTF-8 first")


@contextmanager
def reading_text(path: Path, newline: str | None = None) -> Iterator[IO[str]]:
    """:func:`open_text` for a ``with`` block, and once the block has read what it wanted the
    warning of how many byte sequences of it were not UTF-8 (:func:`warn_not_utf8`): what a reader
    of a whole file (a pairs file, a table of explanations) wants."""
    before = not_utf8_read()
    with open_text(path, newline) as handle:
        yield handle
    warn_not_utf8(path, not_utf8_read() - before)


def iter_lines(path: Path, report: ValidationReport | None = None) -> Iterator[tuple[int, str]]:
    """Yield (0-based line number, line) of a text file, gzip or plain, in UTF-8 (UTF-16 when it
    starts with that encoding's byte order mark).

    A gzip that was cut short yields the complete lines read so far, then warns with the
    count instead of failing: nothing already read is lost. One whose data is damaged is a
    :class:`DataError`, even after lines were yielded: its CRC is checked only at its end.
    Bytes that are not UTF-8 (a file saved as Latin-1 or Windows-1252, or a few such lines
    among UTF-8 ones) are read as Windows-1252 rather than replaced by �, and a warning says
    how many there were.
    """
    count = 0
    pending = None
    not_utf8_before = not_utf8_read()
    try:
        with open_text(path) as handle:
            for number, line in enumerate(handle):
                if pending is not None:
                    yield pending
                pending = (number, line)
                count += 1
        if pending is not None:
            yield pending
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise _damaged(path, exc, count) from None
    except EOFError as exc:  # cut short: what came before the break is sound
        # the last line may be incomplete; drop it rather than parse half a record
        if report is not None:
            report.truncated = True
        kept = max(count - 1, 0)
        warn_data(f"{path}: compressed file is truncated ({exc.__class__.__name__}); "
                  f"using the {kept:,} complete lines read before the break")
    not_utf8 = not_utf8_read() - not_utf8_before
    if not_utf8 and report is not None:
        report.not_utf8 += not_utf8
    warn_not_utf8(path, not_utf8)


def peek_text(path: Path, size: int = 65536) -> str:
    """The first ``size`` bytes of the (decompressed) file as text; a truncated gzip still has a head."""
    raw = head_bytes(path, size)
    if _text_encoding(raw) == "utf-16":
        return raw[:len(raw) - len(raw) % 2].decode("utf-16", errors="replace")
    return raw.decode("utf-8", errors="replace").removeprefix("\ufeff")
