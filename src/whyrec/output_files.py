"""Output files a command replaces: only its own earlier output, never a file of something else.

A command that writes a file the user names (``evaluate --records``, ``data features --out``)
replaces it when it holds what the command writes: an earlier run's rows, recognised by their
first fields; or when it is empty. Any other file there is kept, and the command is refused
before its work, so that a mistyped name loses nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from whyrec.errors import ConfigError


def holds_rows_of(path: Path, first_fields: list[str], csv: bool = False) -> bool:
    """Whether ``path`` is empty or begins with a row whose first fields are ``first_fields``, in
    order: a CSV header (``csv``), else a JSON object on the first line (JSON lines)."""
    with path.open("rb") as handle:
        head = handle.read(65536).decode("utf-8", errors="replace")
    first = next((line.strip() for line in head.splitlines() if line.strip()), "")
    if not first:  # empty, or blank lines only
        return True
    if csv:
        return first.split(",")[:len(first_fields)] == first_fields
    try:
        row = json.loads(first)
    except json.JSONDecodeError:
        return False
    return isinstance(row, dict) and list(row)[:len(first_fields)] == first_fields


def check_replaceable(path: Path, first_fields: list[str], option: str, what: str, csv: bool = False) -> None:
    """Refuse ``path`` (given as ``option``) when it is a folder, or an existing file that does not
    hold ``what`` the command writes (rows beginning with ``first_fields``; ``csv``: a CSV file,
    else JSON lines)."""
    if path.is_dir():
        raise ConfigError(f"{option} {path} is a folder; give a file name")
    if path.is_file() and not holds_rows_of(path, first_fields, csv):
        raise ConfigError(f"{option} {path} is a file that holds no {what}; it is kept: choose another name")
