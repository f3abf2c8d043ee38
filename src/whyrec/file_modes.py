"""Permission bits of the safetensors files whyrec writes: those of the JSON file beside them.

safetensors (0.8) writes a file through a temporary file of its own, created readable and
writable by its owner only (mode 0600) whatever the umask says, and renames it into place
(safetensors issue #782). A bundle trained by one account could then not be read by another
that serves it (a service account, a container's user, a colleague on a shared machine), though
its JSON files, written by Python's ``open``, could. Each safetensors file whyrec writes is
therefore given the mode of the JSON file written next to it, which ``open`` created as the
umask (and the folder's default ACL) asks; a folder kept private stays private.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def give_mode_of(sibling: str | Path, path: str | Path) -> None:
    """Set ``path``'s permission bits to those of ``sibling`` (a file whyrec wrote with ``open``)."""
    os.chmod(path, stat.S_IMODE(os.stat(sibling).st_mode))
