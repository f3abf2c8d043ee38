"""Exceptions that are part of whyrec's interface.

Every error a user can cause (a malformed file, an unknown id, a bad setting) is one of
these, and its message is a single line that names where the problem is: the file, the
line or row, and the field. The command line prints the message without a traceback.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from pathlib import Path


class WhyrecError(Exception):
    """Base class: the message is meant for the person running whyrec."""


class DataError(WhyrecError):
    """Input data is malformed or invalid.

    The message is built as ``<path>:<line>: field '<field>': <problem>`` from whichever of
    the parts are known, so that the person can open the file at the right place.
    """

    def __init__(
        self,
        problem: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.problem = problem
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        where = ""
        if self.path is not None:
            where = self.path + (f":{line}" if line is not None else "") + ": "
        elif line is not None:
            where = f"line {line}: "
        what = f"field '{field}': " if field else ""
        super().__init__(f"{where}{what}{problem}")


class UnsafePickleError(DataError):
    """A pickle file tried to build an object other than plain containers and scalars."""


class UnknownIdError(WhyrecError, KeyError):
    """A user or item id that the model or corpus has never seen."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ConfigError(WhyrecError):
    """A setting is unknown, has the wrong type, or is out of range."""


class DivergedError(ConfigError):
    """Training made its loss NaN or infinite, or blew it up past what a uniform guess scores (MT's
    text, ``whyrec.systems.mt.NLL_PAST_UNIFORM``): a setting (a learning rate, mostly) is too large
    for the data. Raised at the end of the epoch it happened in, before that epoch is checkpointed."""

    def __init__(self, system: str, epoch: int, what: str, lower: str,
                 happened: str = "became NaN or infinite") -> None:
        super().__init__(f"{system}: training diverged in epoch {epoch} ({what} {happened}); lower {lower} and train "
                         f"again")


class BundleError(WhyrecError):
    """A saved model folder is missing, incomplete or of an unknown kind."""


class NotFittedError(WhyrecError):
    """A model was used (predict, explain, save) before fit() or loading a bundle."""


def require_fitted(fitted: bool, model: str, action: str) -> None:
    """Raise :class:`NotFittedError` naming ``model`` and ``action`` unless ``fitted``."""
    if not fitted:
        raise NotFittedError(f"{model}: call fit() (or load a bundle) before {action}")


# the command line's exit statuses: whyrec's own one-line error, and a stop by Ctrl-C (the
# shell's 128 + SIGINT); the launcher of `train --processes` passes its processes' on
ERROR_EXIT = 2
INTERRUPTED_EXIT = 130


def one_line(exc: Exception, limit: int = 300) -> str:
    """``exc``'s message on one line (torch's load errors span several), cut at ``limit`` characters."""
    text = " ".join(str(exc).split()) or "no detail"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def os_error_text(exc: OSError) -> str:
    """A system refusal on one line: the file it names, when it names one, and the system's words
    (``runs/x/mt.json: No space left on device``); an error without ``strerror`` gives its
    message (:func:`one_line`)."""
    reason = exc.strerror or one_line(exc)
    return f"{exc.filename}: {reason}" if exc.filename else reason


class DataWarning(UserWarning):
    """Something in the input was wrong but reading went on (e.g. a truncated gzip)."""


_PACKAGE_FOLDER = str(Path(__file__).parent) + os.sep


def warn_data(message: str) -> None:
    """Warn (a :class:`DataWarning`) at the line outside whyrec that led here: the user's
    ``load_corpus(...)`` or ``model.fit(...)``, however many of whyrec's functions, generators
    and ``with`` blocks lie between, so that Python shows the warning under the user's own line
    (a fixed ``stacklevel`` pointed inside whyrec when a reader was reached another way)."""
    frame, level = sys._getframe(1), 2  # warn_data's caller is stacklevel 2
    while frame is not None and (frame.f_code.co_filename.startswith(_PACKAGE_FOLDER)
                                 or frame.f_code.co_filename == contextlib.__file__):
        frame, level = frame.f_back, level + 1
    warnings.warn(DataWarning(message), stacklevel=level)
