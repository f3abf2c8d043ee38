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
