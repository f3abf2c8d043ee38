"""How a user or item id is read wherever one comes in: the data readers, the command line, a
pairs file and the service all strip an id the same way, so the id a request names is the id the
data gave. Ids are kept as strings (:func:`as_id`), each given its 0-based index by an
:class:`IdMap`; this module imports no pandas, so loading a saved model does not.

    stripped_id(" A2SUAM1J3GNN3B\\u200b")   # "A2SUAM1J3GNN3B"
    stripped_id("\\ufeff")                  # "" (an empty id, refused as missing)
"""

from __future__ import annotations

import numbers
import unicodedata
from typing import Iterable

import numpy as np

from whyrec.errors import UnknownIdError, WhyrecError
from whyrec.wording import counted


def _invisible(character: str) -> bool:
    """Whitespace, or an invisible format character (Unicode category Cf: the zero-width space,
    the byte-order mark, left-to-right and right-to-left marks, the soft hyphen, the word joiner)."""
    return character.isspace() or unicodedata.category(character) == "Cf"


def stripped_id(text: str) -> str:
    """``text`` without the whitespace and the invisible format characters at either end.

    An id copied from a web page or a spreadsheet often carries a zero-width space or a mark that
    nothing shows; kept, it made another id than the one it looks like ("u1\\u200b" was not
    "u1"), and an id of nothing but such characters was read as a user. Characters inside an id
    are kept: a joiner between two emoji is part of a name."""
    text = text.strip()
    if text[:1].isprintable() and text[-1:].isprintable():  # no format character at either end: the usual id
        return text
    start, end = 0, len(text)
    while start < end and _invisible(text[start]):
        start += 1
    while end > start and _invisible(text[end - 1]):
        end -= 1
    return text[start:end]


def as_id(key: object) -> str:
    """An id as the corpus keeps it: a string. Readers keep ids as text, so a DataFrame's integer
    user ids become "1", "2", ...; a key given as a number (``df.user.values``, a numpy int) is
    looked up by its text instead of being an unknown id, which would have given every such
    user the cold-start prediction without a word. A whole number given as a float (``3.0``) is
    looked up as the readers keep it (``"3"``)."""
    if isinstance(key, str):
        return key
    if isinstance(key, float) and is_whole_number(key):
        return str(int(key))
    return str(key)


def is_whole_number(value: object) -> bool:
    """Whether ``value`` is a number that :func:`as_id` reads as the digits of a whole one: an
    integer (Python's or numpy's; not a bool), or a float (Python's or numpy's) that holds one
    exactly (below 2^53). Where ids come as JSON or in a table, these are read as ids and other
    numbers (7.5) refused; the review readers read such a float as its whole number too
    (:func:`whyrec.data.field_values.clean_id`)."""
    if isinstance(value, (bool, np.bool_)):
        return False
    return isinstance(value, numbers.Integral) or isinstance(value, (float, np.floating)) and value.is_integer() \
        and abs(value) < 2 ** 53


class IdMap:
    """A fixed, ordered list of string ids with a lookup from id to 0-based index. Keys that are
    not strings (numbers) are looked up by their text (:func:`as_id`)."""

    def __init__(self, ids: Iterable[str]) -> None:
        self.ids: list[str] = list(ids)
        self._index = {key: i for i, key in enumerate(self.ids)}
        if len(self._index) != len(self.ids):
            raise ValueError("IdMap ids must be unique")
        self._close = None  # the index of close ids, built at the first unknown id asked about

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, key: object) -> bool:
        return as_id(key) in self._index

    def index(self, key: str, kind: str = "id") -> int:
        """The index of ``key``; an unknown one is an :class:`UnknownIdError` naming the known id
        most like it, when one is close ("unknown item 'x'; did you mean 'X'?")."""
        key = as_id(key)
        try:
            return self._index[key]
        except KeyError:
            close = self.closest(key)
            raise UnknownIdError(f"unknown {kind} '{key}'" + (f"; did you mean '{close}'?" if close else "")) from None

    def close(self, key: str, limit: int = 3, at_least: float | None = None) -> list[str]:
        """Up to ``limit`` known ids like ``key`` (:meth:`whyrec.close_ids.IdIndex.close`; by
        default at its typo similarity), most alike first."""
        from whyrec.close_ids import TYPO_SIMILARITY, IdIndex

        if self._close is None:
            self._close = IdIndex(self.ids)
        return self._close.close(key, limit, TYPO_SIMILARITY if at_least is None else at_least)

    def closest(self, key: str) -> str | None:
        """The known id most like ``key`` when one is close enough to be a typo of it, else None."""
        found = self.close(key, 1)
        return found[0] if found else None

    def require_known(self, keys: list[str], indices: np.ndarray, kind: str, refusal: str) -> None:
        """Raise :class:`UnknownIdError` when one of ``keys`` (``indices``: their :meth:`lookup`) is
        unknown: ``refusal`` (what cannot be done for it), then the first such id in
        :meth:`index`'s words (with the known id most like it) and how many other unknown ``kind``
        ids there are: "PETER cannot explain a pair it has no embedding for: unknown item 'zzz';
        did you mean 'ZZ1'? (2 other unknown items too)"."""
        missing = np.flatnonzero(indices < 0)
        if not len(missing):
            return
        first, others = keys[missing[0]], len({keys[k] for k in missing}) - 1
        try:
            self.index(first, kind)
        except UnknownIdError as exc:
            more = f" ({counted(others, f'other unknown {kind}')} too)" if others else ""
            raise UnknownIdError(f"{refusal}: {exc}{more}") from None

    def lookup(self, keys: Iterable[str]) -> np.ndarray:
        """Indices of ``keys``; -1 marks an unknown id (callers decide how to fall back). A key that
        is not a string is read by :func:`as_id`, as :meth:`index` reads it."""
        get = self._index.get
        return np.fromiter((get(k if isinstance(k, str) else as_id(k), -1) for k in keys), dtype=np.int64)


def paired_ids(users: Iterable[str], items: Iterable[str], who: str) -> tuple[list[str], list[str]]:
    """``users`` and ``items`` as lists of ids of one (user, item) pair each, for ``who`` (named in
    the error), each id as the readers keep it (:func:`as_id`: the number 7, or 7.0, is "7"), so
    that what answers a pair names it as the data does. One bare string is refused: iterated, it
    would be read as one id per character."""
    for name, ids in (("users", users), ("items", items)):
        if isinstance(ids, (str, bytes)):
            raise WhyrecError(f"{who}: {name} must be a list of ids, not one string; wrap it: [{ids!r}]")
    users, items = _as_ids(users), _as_ids(items)
    if len(users) != len(items):
        raise WhyrecError(f"{who} needs as many users as items ({len(users)} != {len(items)})")
    return users, items


def _as_ids(keys: Iterable[object]) -> list[str]:
    # strings as they are (no call for each: a million pairs are predicted at once), others by as_id
    return [key if isinstance(key, str) else as_id(key) for key in keys]
