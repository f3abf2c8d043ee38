"""The ids (and an item's title) that hold a text: what the web page's user and item boxes list,
and the titles an unknown item's error names (:meth:`whyrec.explanations.TitledItems.holding`).

The page makes one search per keystroke, so a scan in Python over every id (lower-casing each
as it went) took about 200 ms at 200,000 items when few or none held the query. :class:`IdSearch`
lower-cases the texts once, into one string in the search's order, each id and its name ended by
a NUL, and asks ``str.find`` (C) for the query from one hit's end to the next: the same answers,
a few milliseconds at that size (``benchmarks/id_search.py``).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Mapping, Sequence

from whyrec.ids import stripped_id

END = "\x00"  # ends each id and each name in the joined text; a query holding it is searched the slow way


class IdSearch:
    """The ids of ``ids`` at the positions ``order`` (the search's order of answers: the most
    rated items first), each with its name in ``names`` (an item's title; none: ``""``),
    searched for the ones that hold a query, but for case. The joined text is made at the
    first search, or by :meth:`prepare`, whole before it is kept (the service's threads share it)."""

    def __init__(self, ids: Sequence[str], order: Sequence[int], names: Mapping[str, str] | None = None) -> None:
        self.ids = ids
        self.order = [int(n) for n in order]
        self.names = names or {}
        self._text: tuple[str, list[int]] | None = None  # the joined text; where each position's part starts

    def holding(self, query: str, limit: int) -> list[int]:
        """The positions of up to ``limit`` ids, in the search's order, whose id or name holds
        ``query`` stripped as ids are (:func:`whyrec.ids.stripped_id`), in lower case; a blank
        query: the first ``limit``."""
        q = stripped_id(query).lower()
        if not q:
            return self.order[:limit]
        if END in q:  # the joined text's separator: looked for in each text on its own
            return [n for n in self.order if q in self.ids[n].lower() or q in self.names.get(self.ids[n], "").lower()
                    ][:limit]
        text, starts = self._joined()
        found: list[int] = []
        at = text.find(q)
        while at >= 0 and len(found) < limit:
            part = bisect_right(starts, at) - 1  # the position whose id or name the hit is in
            found.append(self.order[part])
            if part + 1 == len(starts):
                break
            at = text.find(q, starts[part + 1])  # one answer per position: on from the next one's start
        return found

    def prepare(self) -> "IdSearch":
        """Make the joined text now rather than at the first search: ``whyrec serve`` does so
        before it forks its workers, which then share it, and no first keystroke waits for it
        (0.27 s at 200,000 items)."""
        self._joined()
        return self

    @property
    def prepared(self) -> bool:
        """Whether the joined text is made: a search then reads it as it is."""
        return self._text is not None

    def _joined(self) -> tuple[str, list[int]]:
        if self._text is None:
            parts, starts, at = [], [], 0
            for n in self.order:
                key = self.ids[n]
                part = f"{key.lower()}{END}{self.names.get(key, '').lower()}{END}"
                starts.append(at)
                parts.append(part)
                at += len(part)
            self._text = ("".join(parts), starts)
        return self._text
