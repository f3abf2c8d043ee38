"""Saving what a long command made (a trained or aligned bundle) without losing it to a failed write."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable

from whyrec.errors import WhyrecError

UNSAVED_PREFIX = "whyrec-unsaved-"  # the folder under the system's temporary one a refused save goes to


def save_or_keep_elsewhere(save: Callable[[Path], None], out: Path, what: str) -> None:
    """``save(out)``; when the system refuses it (an ``OSError``: a full disk or quota, a folder
    removed or made read-only while training ran), the work of the run is not lost with it: it is
    saved with ``save`` into a new folder under the system's temporary folder (often another
    disk), and the error then says why ``out`` failed and where ``what`` is instead, to be moved.
    A save refused there too raises the first refusal, leaving nothing behind in the temporary
    folder. ``save`` writes a whole folder (a bundle and its run record) and leaves an earlier
    one in ``out`` as it was when it fails (:func:`whyrec.tensor_files.write_tensors_with_record`)."""
    try:
        save(out)
        return
    except OSError as refused:
        first = refused
    elsewhere = None
    try:
        elsewhere = Path(tempfile.mkdtemp(prefix=UNSAVED_PREFIX))
        os.chmod(elsewhere, 0o777 & ~_umask())  # as --out would be made: mkdtemp's 0700 moves with it
        save(elsewhere)
    except OSError:
        if elsewhere is not None:
            shutil.rmtree(elsewhere, ignore_errors=True)
        raise first from None
    from whyrec.cli import os_error_message
    from whyrec.cli.option_checks import CHECKED_OUTPUTS

    reason = os_error_message(first, sys.argv[1:], CHECKED_OUTPUTS)
    raise WhyrecError(f"{reason}; the {what} was saved in {elsewhere} instead: move it where it belongs") from None


def _umask() -> int:
    """The process's umask (read by setting it, and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
