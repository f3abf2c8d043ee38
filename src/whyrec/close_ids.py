"""Known ids close to one that is not known: the likely intended id behind a typo.

Closeness is the normalised Indel similarity of the lower-cased ids (the measure of
:func:`difflib.SequenceMatcher.ratio` without its junk heuristics):
``100 · (1 − d_indel(a, b) / (|a| + |b|))``, where ``d_indel`` counts the insertions and
deletions that turn ``a`` into ``b``; one substituted character in a 14-character Amazon id
scores 92.9, and an id typed in lower case scores 100 against its upper-case self. RapidFuzz
computes it in C++, about 1 ms per 20,000 ids: cheap enough for the service's answer to a new user.

    index = IdIndex(user_ids)
    index.closest("A2SUAM1J3GNN3X")      # "A2SUAM1J3GNN3B" when that is known, else None

:class:`whyrec.ids.IdMap` keeps one, built at the first unknown id, and names the close
id in its error; the service and the CLI ask it for ``did_you_mean``.
"""

from __future__ import annotations

from typing import Sequence

from rapidfuzz import fuzz, process

from whyrec.ids import stripped_id

# the CLI's threshold since it used difflib (cutoff 0.85): one or two characters off in a typical id
TYPO_SIMILARITY = 85.0


def number_key(text: str) -> str:
    """``text`` without leading zeros and without a whole-number decimal part: ``0007``, ``7`` and
    ``7.0`` all give ``7`` (``7.5`` stays ``7.5``, ``a7`` stays ``a7``)."""
    whole, dot, decimals = text.partition(".")
    number = whole if dot and whole.isdigit() and decimals and set(decimals) == {"0"} else text
    return number.lstrip("0")


class IdIndex:
    """The known ids of one kind (users or items), ready to be searched for close ones."""

    def __init__(self, ids: Sequence[str]) -> None:
        self.ids = list(ids)
        self._folded = [i.lower() for i in self.ids]  # compared in lower case, answered as known
        self._known = set(self.ids)
        self._by_number: dict[str, list[str]] | None = None  # built at the first query that needs it

    def close(self, query: str, limit: int = 3, at_least: float = TYPO_SIMILARITY) -> list[str]:
        """Up to ``limit`` known ids whose similarity to ``query`` is at least ``at_least``
        (0–100), most similar first (ties: in the order of ``ids``); ``query`` itself never.
        Ahead of them, the ids that read as the same whole number (:func:`number_key`: ``7``,
        ``0007`` and ``7.0``), as a spreadsheet writes a zero-padded id it has read as a number and
        as a bundle saved before the readers wrote ``3.0`` as ``3`` keeps it; and first of
        all ``query`` stripped (:func:`whyrec.ids.stripped_id`), as the readers keep ids, when
        that is known (``" u1"`` and ``"u1"``)."""
        if not query or limit < 1:
            return []
        found = process.extract(query.lower(), self._folded, scorer=fuzz.ratio, score_cutoff=at_least,
                                limit=limit + 1)
        stripped = stripped_id(query)
        first = [stripped] if stripped != query and stripped in self._known else []
        same_number = self._same_number(stripped)
        alike = (self.ids[n] for _, _, n in found if self.ids[n] != query)
        return list(dict.fromkeys([*first, *same_number, *alike]))[:limit]

    def _same_number(self, query: str) -> list[str]:
        """The known ids other than ``query`` with its :func:`number_key`."""
        if self._by_number is None:
            self._by_number = {}
            for known, folded in zip(self.ids, self._folded):
                self._by_number.setdefault(number_key(folded), []).append(known)
        return [known for known in self._by_number.get(number_key(query.lower()), []) if known != query]

    def closest(self, query: str, at_least: float = TYPO_SIMILARITY) -> str | None:
        """The one known id most like ``query`` (see :meth:`close`), or None."""
        found = self.close(query, 1, at_least)
        return found[0] if found else None
