"""Reading review files as text: gzip (cut short too), encodings, byte order marks."""

from __future__ import annotations

import gzip
import json
import warnings

import pytest

from tests.conftest import REVIEWS, amazon_lines
from tests.data.readers import write_csv
from whyrec.data import DataWarning, detect_format, load_corpus


def test_truncated_gzip_keeps_complete_records_and_warns(tmp_path):
    rows = REVIEWS * 200
    full = tmp_path / "full.json.gz"
    with gzip.open(full, "wt") as h:
        h.write("\n".join(amazon_lines(rows)) + "\n")
    cut = tmp_path / "cut.json.gz"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.warns(DataWarning, match="truncated"):
        corpus = load_corpus(cut, duplicates="keep-all")
    assert 0 < len(corpus) < len(rows)
    assert corpus.report.truncated
    # what was read is exactly the head of the file
    assert corpus.reviews["text"].tolist() == [r[3] for r in rows[: len(corpus)]]


def test_text_that_is_not_utf8_is_read_as_windows_1252_and_counted(tmp_path):
    latin = tmp_path / "latin.csv"  # a whole file saved as Latin-1 by a spreadsheet
    latin.write_bytes("user,item,rating,text\nu1,i1,5,café crème\nu2,i1,4,naïve\n".encode("latin-1"))
    with pytest.warns(DataWarning, match="3 byte sequences not UTF-8, read as Windows-1252"):
        corpus = load_corpus(latin)
    assert corpus.texts == ["café crème", "naïve"] and corpus.report.not_utf8 == 3
    mixed = tmp_path / "mixed.json.gz"  # one Windows-1252 line among UTF-8 ones
    with gzip.open(mixed, "wb") as handle:
        handle.write((json.dumps({"reviewerID": "u1", "asin": "i1", "overall": 5, "reviewText": "it’s fine"},
                                 ensure_ascii=False) + "\n").encode("utf-8"))
        handle.write(b'{"reviewerID": "u2", "asin": "i1", "overall": 4, "reviewText": "it\x92s loud"}\n')
    with pytest.warns(DataWarning, match="1 byte sequence not UTF-8"):
        corpus = load_corpus(mixed)
    assert corpus.texts == ["it’s fine", "it’s loud"]
    assert "1 byte sequence not UTF-8" in corpus.report.summary()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # UTF-8 throughout: nothing to say
        assert load_corpus(write_csv(tmp_path, "u1,i1,5,café")).report.not_utf8 == 0


def test_tiny_truncated_gzip_is_still_detected(tmp_path):
    full = tmp_path / "small.json.gz"
    with gzip.open(full, "wt") as h:
        h.write("\n".join(amazon_lines(REVIEWS)) + "\n")
    data = full.read_bytes()
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(data[: len(data) - 30])
    assert detect_format(cut) == "amazon-json"
    with pytest.warns(DataWarning, match="truncated"):
        corpus = load_corpus(cut, duplicates="keep-all")
    assert len(corpus) >= 1


def test_a_damaged_gzip_is_refused_not_read_as_cut_short_or_empty(tmp_path):
    """Damaged deflate data decompresses to garbage until the CRC check at the end fails: it had been
    read as a file cut short, its garbage lines counted as malformed records, and a file with a gzip
    header and nothing readable after it as an empty file."""
    from whyrec.errors import DataError

    full = tmp_path / "full.json.gz"
    with gzip.open(full, "wt") as h:
        h.write("\n".join(amazon_lines(REVIEWS * 200)) + "\n")
    data = bytearray(full.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 40] = bytes(b ^ 0x5A for b in data[middle:middle + 40])
    damaged = tmp_path / "damaged.json.gz"
    damaged.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"damaged\.json\.gz: the gzip data is damaged: .*download or compress"):
        load_corpus(damaged)
    header_only = tmp_path / "header.csv.gz"
    header_only.write_bytes(b"\x1f\x8b" + b"not deflate data at all")
    with pytest.raises(DataError, match=r"header\.csv\.gz: the gzip data is damaged: [^(]*; download or compress"):
        load_corpus(header_only)  # found before any line was read: no count of lines read


def test_a_cut_short_gzip_says_how_many_lines_it_kept(tmp_path):
    from whyrec.data.readers.text_files import iter_lines

    lines = [f"line {k} of the file\n" for k in range(2000)]
    cut = tmp_path / "cut.txt.gz"
    packed = gzip.compress("".join(lines).encode())
    cut.write_bytes(packed[:len(packed) // 2])
    with pytest.warns(DataWarning) as caught:
        read = list(iter_lines(cut))
    assert 0 < len(read) < len(lines) and [line for _, line in read] == lines[:len(read)]
    assert str(caught[0].message).endswith(f"using the {len(read):,} complete lines read before the break")
    packed = gzip.compress(("a first line longer than what is left of it " * 500).encode())
    cut.write_bytes(packed[:len(packed) // 2])  # cut within the first line: nothing is complete
    with pytest.warns(DataWarning, match="using the 0 complete lines read before the break$"):
        assert list(iter_lines(cut)) == []


def test_bytes_that_are_not_utf8_are_counted_per_reading_and_per_thread(tmp_path):
    """The count is kept per thread (the service reads in several): a new thread, which has read
    nothing before, and this one, after other readings, each count a file's own sequences exactly;
    a reading with no report to add to is still said."""
    import threading

    from whyrec.data.readers.text_files import iter_lines, reading_text

    one, three = tmp_path / "one.txt", tmp_path / "three.txt"
    one.write_bytes("café\n".encode("latin-1"))
    three.write_bytes("café crème naïve\n".encode("latin-1"))
    said = {}

    def read(path, where):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with reading_text(path) as handle:
                handle.read()
            list(iter_lines(path))  # no report
        said[where, path.name] = [str(w.message).split(": ", 1)[1].split(" not")[0] for w in caught]

    for path in (three, one):  # each in a thread of its own, which has read nothing before
        thread = threading.Thread(target=read, args=(path, "thread"))
        thread.start()
        thread.join()
    read(three, "here")  # and here, after other readings
    read(one, "here")
    assert said == {(where, "three.txt"): ["3 byte sequences"] * 2 for where in ("thread", "here")} | \
        {(where, "one.txt"): ["1 byte sequence"] * 2 for where in ("thread", "here")}


def test_a_utf16_head_cut_at_an_odd_byte_keeps_only_whole_characters(tmp_path):
    from whyrec.data.readers.text_files import peek_text

    text = "user\titem\trating\ttext\nu1\ti1\t5\tcafé crème\n" * 3
    path = tmp_path / "excel.txt"
    path.write_text(text, encoding="utf-16")  # a byte order mark, then two bytes a character
    assert peek_text(path, size=101) == text[:49]  # 2 + 49 × 2 bytes; the 101st, half a character, left out
    assert peek_text(path) == text
