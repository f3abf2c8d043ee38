"""What a long run made (a trained or aligned bundle, a comparison's tables) kept when the folder it
was asked for refuses it, not lost with the write."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from whyrec.errors import WhyrecError, os_error_text

UNSAVED_PREFIX = "whyrec-unsaved-"  # the folder under the system's temporary one a refused save goes to


class KeptElsewhere(WhyrecError):
    """A write refused in the folder asked for (``refused``: the system's error) and made in
    ``folder`` instead. Its message says both; :meth:`told` words it with another reason (the
    command line's, naming its output options)."""

    def __init__(self, refused: OSError, folder: Path, what: str) -> None:
        self.refused, self.folder, self.what = refused, folder, what
        super().__init__(self.told(os_error_text(refused)))

    def told(self, reason: str) -> str:
        return f"{reason}; the {self.what} was saved in {self.folder} instead: move it where it belongs"


def write_or_keep_elsewhere(write: Callable[[Path], None], out: str | Path, what: str) -> None:
    """``write(out)``; when the system refuses it (an ``OSError``: a full disk or quota, a folder
    removed or made read-only while the work ran), the work of the run is not lost with it: it is
    written with ``write`` into a new folder under the system's temporary folder (often another
    disk), made as ``out`` would be (0777 less the umask), and :class:`KeptElsewhere` says why
    ``out`` failed and where ``what`` is instead, to be moved. A write refused there too raises
    the first refusal, leaving nothing behind in the temporary folder. ``write`` writes a whole
    folder (a bundle and its run record) and leaves an earlier one in ``out`` as it was when it
    fails (:func:`whyrec.tensor_files.write_tensors_with_record`,
    :func:`whyrec.provenance.run_record_after`)."""
    try:
        write(Path(out))
        return
    except OSError as refused:
        first = refused
    elsewhere = None
    try:
        elsewhere = Path(tempfile.mkdtemp(prefix=UNSAVED_PREFIX))
        os.chmod(elsewhere, 0o777 & ~_umask())  # as out would be made: mkdtemp's 0700 moves with it
        write(elsewhere)
    except OSError:
        if elsewhere is not None:
            shutil.rmtree(elsewhere, ignore_errors=True)
        raise first from None
    raise KeptElsewhere(first, elsewhere, what) from None


def _umask() -> int:
    """The process's umask. Linux gives it in ``/proc/self/status`` (since 4.7), read without
    changing it; elsewhere it is read by setting it and setting it back, which another thread
    making a file meanwhile would see."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
