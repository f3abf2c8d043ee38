"""One save at a time into a folder.

A bundle's save replaces several files (its arrays and header as a pair, then its ``run.json``).
Two runs saving into one folder at once (the same ``train --out`` typed in two terminals) each
replace them whole, but their replacements could interleave: one run's bundle under the other's
record. :func:`saving_into` makes the second wait until the first's save has ended, so the folder
ends with one run's files, the last one's. The lock is the system's advisory ``flock`` on the
folder itself: nothing is written into the folder for it, and the system lets go of it when the
process ends, however it ends.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Callable, Iterator


@contextmanager
def saving_into(folder: str | Path, waiting: Callable[[Path], None] | None = None) -> Iterator[None]:
    """Hold ``folder`` (made if missing) for the ``with`` block: another block saving into it, in
    this process or another, waits until this one ends. ``waiting(folder)`` is called once when
    this one has to wait (the command line says so: a wait is otherwise a silent pause). Where
    there is no ``flock`` (Windows, some network file systems) or the folder cannot be opened for
    it, the block runs without the lock."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:
        yield
        return
    held = _held_here()
    key = folder.resolve()
    if key in held:  # a save within a save of this thread's: it holds the folder already
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another save holds it: said, then waited for
            if waiting is not None:
                waiting(folder)
            with suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:  # a file system without such locks (some network ones): saved without it
            pass
        held.add(key)
        yield
    finally:
        held.discard(key)
        os.close(fd)  # closing the descriptor lets go of its lock


_THREAD = threading.local()


def _held_here() -> set[Path]:
    """The folders this thread holds (another descriptor's lock would wait for its own)."""
    if not hasattr(_THREAD, "held"):
        _THREAD.held = set()
    return _THREAD.held
