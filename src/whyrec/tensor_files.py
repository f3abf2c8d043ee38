"""Writing safetensors files as Python writes any other file: with the permission bits the umask
asks for, and, when the disk is full, an ``OSError`` naming the file. Every one whyrec writes (a
bundle's arrays, a checkpoint's tensors, a saved part's) is written with the JSON record of its
SHA-256 by :func:`write_tensors_with_record`, the pair renamed into place only when both are whole.

- **Permissions.** safetensors (0.8) writes a file through a temporary file of its own, created
  readable and writable by its owner only (mode 0600) whatever the umask says, and renames it into
  place (safetensors issue #782). A bundle trained by one account could then not be read by another
  that serves it (a service account, a container's user, a colleague on a shared machine), though
  its JSON files, written by Python's ``open``, could. Each safetensors file whyrec writes is
  therefore given the mode of the JSON file written next to it (:func:`give_mode_of`), which
  ``open`` created as the umask (and the folder's default ACL) asks; a folder kept private stays
  private.
- **Errors.** safetensors reports a failed write (a full disk, a quota) as its own
  ``SafetensorError`` ("Error while serializing: I/O error: No space left on device (os error
  28)"), which the command line would print as a traceback. :func:`write_safetensors` raises it as
  the ``OSError`` it is, naming the file, as every other write's error reads.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from pathlib import Path

from whyrec.provenance import file_digest
from whyrec.temporary_names import remove_abandoned, temporary_path

_OS_ERROR = re.compile(r"\(os error (\d+)\)")  # how safetensors' Rust side quotes errno


def write_safetensors(tensors: dict, path: str | Path, named: str | Path | None = None) -> None:
    """Write ``tensors`` (torch tensors, else numpy arrays) to ``path`` with safetensors, each made
    contiguous first. A write the system refused is an ``OSError`` with its errno, naming ``named``
    (the file the caller will rename ``path`` to; ``path`` itself by default)."""
    import numpy as np
    from safetensors import SafetensorError

    torch = sys.modules.get("torch")  # torch tensors mean torch is imported: a numpy model does not import it
    if torch is not None and any(isinstance(value, torch.Tensor) for value in tensors.values()):
        from safetensors.torch import save_file
        tensors = {name: value.contiguous() for name, value in tensors.items()}
    else:
        from safetensors.numpy import save_file
        tensors = {name: np.ascontiguousarray(value) for name, value in tensors.items()}
    try:
        save_file(tensors, str(path))
    except SafetensorError as exc:
        code = _OS_ERROR.search(str(exc))
        if code is None:  # not the system's refusal: a tensor safetensors cannot store is a bug to see
            raise
        errno = int(code.group(1))
        raise OSError(errno, os.strerror(errno), str(named or path)) from None


def give_mode_of(sibling: str | Path, path: str | Path) -> None:
    """Set ``path``'s permission bits to those of ``sibling`` (a file whyrec wrote with ``open``)."""
    os.chmod(path, stat.S_IMODE(os.stat(sibling).st_mode))


def write_tensors_with_record(tensors: dict, tensors_path: Path, record: dict, record_path: Path, key: str,
                              indent: int | None = None, named: Path | None = None) -> None:
    """Write ``tensors`` (torch tensors or numpy arrays; safetensors) to ``tensors_path`` and ``record``
    (JSON, with the tensors' SHA-256 under ``key``) to ``record_path``. Both are written under
    temporary names and renamed at the end, the record last, so an interrupted or failed save (a full
    disk: an ``OSError`` naming the file) leaves the previous pair (or none), never new tensors under
    an old record or half of a new pair; a failed one leaves no temporary file either. The tensors
    file gets the record's permission bits. ``named``: the path an error names for the tensors file
    (a checkpoint's, written in a folder renamed afterwards); ``tensors_path`` by default.

    The temporary names carry the process id: two processes saving into one folder at once (the
    same ``train --out`` run twice) each hash their own tensors. With one name, the second's
    tensors could be written under the first's record between its write and its hash, and the
    pair would load as whole, one run's weights under the other's settings; now the folder ends
    with one run's pair, or with a record that does not match its tensors, which loading refuses.
    Temporary files of this pair that a killed save left are removed first
    (:func:`whyrec.temporary_names.remove_abandoned`)."""
    for path in (tensors_path, record_path):  # a killed save's, from before
        remove_abandoned(path)
    tmp_tensors, tmp_record = temporary_path(tensors_path), temporary_path(record_path)
    try:
        write_safetensors(tensors, tmp_tensors, named=named or tensors_path)
        tmp_record.write_text(json.dumps({**record, key: file_digest(tmp_tensors)}, indent=indent), encoding="utf-8")
        give_mode_of(tmp_record, tmp_tensors)
    except BaseException:
        tmp_tensors.unlink(missing_ok=True)
        tmp_record.unlink(missing_ok=True)
        raise
    os.replace(tmp_tensors, tensors_path)
    os.replace(tmp_record, record_path)
