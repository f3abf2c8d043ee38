"""The temporary names a file is written under before it is renamed into place, and the removal of
those a killed process left behind.

The files whyrec replaces (a bundle's arrays and record, a run's ``run.json``, a records or
feature file, a split's index files, a comparison's tables and charts) are written as
``NAME.<pid>.tmp`` beside ``NAME`` and renamed when whole (:func:`staged_file`,
:func:`staged_files`, :func:`whyrec.tensor_files.write_tensors_with_record`), so a full disk or a
kill leaves what ``NAME`` held, never half of it, and files that go together are renamed together.
The process id keeps two processes saving into one folder apart. A failed save removes its own
temporary file; a process killed while saving (SIGKILL, a power cut) cannot, and each such kill
would leave one more. The next save of the same file removes them (:func:`remove_abandoned`).
"""

from __future__ import annotations

import os
import re
import stat
import time
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Callable, Iterator, Mapping

ABANDONED_AFTER = 3600.0  # seconds without a write before a dead writer's temporary file is removed


def writer() -> int:
    """Who is writing, in temporary names: this process's id."""
    return os.getpid()


def temporary_path(path: str | Path) -> Path:
    """Where this process writes ``path`` before renaming it into place: ``NAME.<pid>.tmp``."""
    path = Path(path)
    return path.with_name(f"{path.name}.{writer()}.tmp")


def process_runs(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (signal 0: asks, sends nothing). One of
    another account counts as running."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # no such process (or no such process id)
        return False
    except PermissionError:
        return True
    return True


def remove_abandoned(path: str | Path, older_than: float = ABANDONED_AFTER) -> list[Path]:
    """Remove the temporary files of ``path`` (``NAME.<pid>.tmp`` beside it) that a killed save
    left: those whose process no longer runs and that nothing has written for ``older_than``
    seconds. Both conditions, since a process id is only this machine's: on a folder other
    machines share, another machine's process that is still writing its file (a running save
    keeps its file's time recent) is not one that runs here. Returns the files removed. A file
    that cannot be removed is left; where there is no signal 0 (Windows) nothing is removed."""
    path = Path(path)
    if os.name != "posix":
        return []
    pattern = re.compile(rf"^{re.escape(path.name)}\.(\d+)\.tmp$")
    removed = []
    try:
        siblings = list(path.parent.iterdir())
    except OSError:  # no folder yet: nothing left in it
        return []
    now = time.time()
    for sibling in siblings:
        found = pattern.match(sibling.name)
        if not found or int(found.group(1)) == writer():
            continue
        try:
            if now - sibling.stat().st_mtime >= older_than and not process_runs(int(found.group(1))):
                sibling.unlink()
                removed.append(sibling)
        except OSError:  # gone meanwhile, or not ours to remove
            continue
    return removed


@contextmanager
def staged_file(path: str | Path, write: Callable[[Path], None]) -> Iterator[None]:
    """``write`` ``path`` under its temporary name, then run the block (what ``path`` describes,
    saved beside it), then rename the file to ``path``: only once both ended without an error.
    A failure of either leaves what ``path`` held as it was and no temporary file. The system's
    refusal of ``write`` (a full disk, whose error names no file) is raised naming ``path``, the
    file the user knows. A killed write's temporary files of ``path`` are removed first
    (:func:`remove_abandoned`). As a write in place would, the new file keeps the permission bits
    of the one it replaces, and its owner and group where the system lets this process give them
    (:func:`_keep_owner_and_mode`), and a symbolic link at ``path`` stays one: the file it points
    to is the one replaced."""
    named = Path(path)
    path = Path(os.path.realpath(named)) if named.is_symlink() else named
    remove_abandoned(path)
    staged = temporary_path(path)
    try:
        try:
            write(staged)
        except OSError as refused:
            if refused.errno is None:  # not the system's refusal: nothing to name
                raise
            raise OSError(refused.errno, refused.strerror, str(named)) from None
        yield
        with suppress(FileNotFoundError):  # a new file: the mode the umask gave it
            _keep_owner_and_mode(path.stat(), staged)
    except BaseException:
        with suppress(OSError):  # the error to see is the one that stopped the save, not this
            staged.unlink()
        raise
    os.replace(staged, path)


def _keep_owner_and_mode(old: os.stat_result, staged: Path) -> None:
    """Give ``staged`` the permission bits, and where the system lets this process, the owner and
    group of the file it replaces (a root run replacing a service's results file had made it
    root's). Only root may give a file away: another process keeps the new file its own, with the
    old file's group where it is one of its groups, else the group the folder gives it."""
    if hasattr(os, "chown"):
        mine = staged.stat()
        if (mine.st_uid, mine.st_gid) != (old.st_uid, old.st_gid):
            try:
                os.chown(staged, old.st_uid, old.st_gid)
            except OSError:
                with suppress(OSError):
                    os.chown(staged, -1, old.st_gid)  # the group alone
    os.chmod(staged, stat.S_IMODE(old.st_mode))  # after chown, which clears the setuid and setgid bits


def text_writer(text: str) -> Callable[[Path], None]:
    """What writes ``text`` (UTF-8) into the file it is given: the ``write`` of :func:`staged_file`,
    :func:`write_whole` and :func:`write_together` for a text file (a table, a record, an index)."""
    return lambda path: Path(path).write_text(text, encoding="utf-8")


def write_whole(path: str | Path, write: Callable[[Path], None]) -> None:
    """``write`` ``path`` whole or not at all (:func:`staged_file` with nothing beside it)."""
    with staged_file(path, write):
        pass


@contextmanager
def staged_files(writes: Mapping[str | Path, Callable[[Path], None]]) -> Iterator[None]:
    """:func:`staged_file` for files that go together (a comparison's tables, charts and config):
    each path's ``write`` under its temporary name, then the block, and only once all of them and
    the block ended without an error, every file renamed into place. A refusal of any leaves every
    path as it was, not some files of this run beside the others of the last one."""
    with ExitStack() as files:
        for path, write in writes.items():
            files.enter_context(staged_file(path, write))
        yield


def write_together(writes: Mapping[str | Path, Callable[[Path], None]]) -> None:
    """Write each path with its ``write``, all or none of them (:func:`staged_files`)."""
    with staged_files(writes):
        pass


def write_together_in(folder: str | Path, writes: Mapping[str, Callable[[Path], None]]) -> None:
    """:func:`write_together` of files of ``folder``, each by its name (a results folder's tables,
    charts and record)."""
    write_together({Path(folder) / name: write for name, write in writes.items()})
