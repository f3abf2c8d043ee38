"""JSON that every parser reads: what whyrec prints (``--json``) and writes (results files).

Python's ``json`` writes NaN and ±inf as the bare words ``NaN`` and ``Infinity``, which are not
JSON (RFC 8259 §6) and which strict parsers (a browser's ``JSON.parse``, jq) refuse. A metric
with nothing to measure is NaN here (FMR without a feature set, the mean rating of no reviews),
so such values are written as ``null``. :func:`read_json_file` reads such a file back, with one
clear error for a file that is missing or not JSON."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path


def finite_or_none(value):
    """``value`` with every non-finite float inside dicts, lists and tuples replaced by None."""
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def strict_dumps(value, indent: int | None = None) -> str:
    """``json.dumps`` of :func:`finite_or_none` (``value``), refusing NaN; other objects (paths,
    numpy scalars) are written as their ``str``."""
    return json.dumps(finite_or_none(value), indent=indent, allow_nan=False, default=str)


def content_digest(value) -> str:
    """The SHA-256 of ``value`` (parsed JSON) written as strict JSON with its keys sorted: the same
    for what a file was written from and for what it reads back as, however it is spaced or its
    keys ordered, and different once any value in it changed. For files whyrec writes and reads
    back itself (a checkpoint's state, a kept split), which record it to refuse an edited copy."""
    text = json.dumps(finite_or_none(value), sort_keys=True, allow_nan=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# the key under which a file whyrec reads back records its own content's SHA-256 (:func:`sealed`)
SEAL = "sha256"


def sealed(data: dict, key: str = SEAL) -> dict:
    """``data`` with ``key`` added: the :func:`content_digest` of ``data`` as it reads back from
    :func:`strict_dumps` (NaN as null, a path as its text). What :func:`unsealed` checks."""
    return {**data, key: content_digest(json.loads(strict_dumps(data)))}


def unsealed(data: dict, key: str = SEAL) -> dict | None:
    """``data`` read back from a file written :func:`sealed`, without ``key``; None when a value in
    it changed since (its digest is not the one recorded). A file written before its digest was
    recorded has no ``key`` and is returned as it is."""
    rest = {k: v for k, v in data.items() if k != key}
    if key in data and data[key] != content_digest(rest):
        return None
    return rest


def json_kind(value) -> str:
    """What JSON calls ``value``'s type (as ``json.loads`` decodes it), with its article, for an
    error that names what stood where something else should: "a JSON object", "a JSON array",
    "a JSON string", "a JSON number", "JSON true", "JSON false" or "JSON null". A value JSON
    cannot hold is named by its Python type ("a Python tuple")."""
    if isinstance(value, dict):
        return "a JSON object"
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, str):
        return "a JSON string"
    if isinstance(value, bool):
        return f"JSON {str(value).lower()}"
    if value is None:
        return "JSON null"
    if isinstance(value, (int, float)):
        return "a JSON number"
    return f"a Python {type(value).__name__}"


def read_json_file(path: Path, error: type[Exception], missing: str):
    """The parsed JSON of the file ``path``. A missing file raises ``error(missing)``; one that
    cannot be read or is not JSON, ``error("<path>: not readable JSON (<why>)")``, on one line."""
    from whyrec.errors import one_line

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(missing) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"{path}: not readable JSON ({one_line(exc)})") from None
