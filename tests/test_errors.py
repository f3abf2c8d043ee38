import errno
import os

from whyrec.errors import one_line, os_error_text


def test_a_refusal_naming_a_file_says_the_file_and_the_systems_words():
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "runs/x/mt.json")
    assert os_error_text(full) == "runs/x/mt.json: No space left on device"


def test_a_refusal_naming_no_file_says_the_systems_words_alone():
    assert os_error_text(OSError(errno.EIO, os.strerror(errno.EIO))) == "Input/output error"


def test_an_error_without_the_systems_words_gives_its_message_on_one_line():
    assert os_error_text(OSError("the disk\n  went away")) == "the disk went away"
    assert one_line(OSError()) == "no detail"


def test_a_data_warning_is_shown_under_the_first_line_outside_whyrec(tmp_path):
    """Called here, the line is here; raised by a reader's ``with`` block (the not-UTF-8 count, said
    when the block ends, from inside contextlib), it is still the line here that ran it."""
    import inspect
    import warnings

    from whyrec.data.readers.text_files import reading_text
    from whyrec.errors import DataWarning, warn_data

    latin = tmp_path / "latin.txt"
    latin.write_bytes("très bon\n".encode("latin-1"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        here = inspect.currentframe().f_lineno + 1
        warn_data("a record was skipped")
        with reading_text(latin) as handle:
            assert handle.read() == "très bon\n"
    assert [(w.category, w.filename) for w in caught] == [(DataWarning, __file__)] * 2
    assert caught[0].lineno == here and str(caught[0].message) == "a record was skipped"
    assert "not UTF-8" in str(caught[1].message)
