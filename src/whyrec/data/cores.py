"""k-core filtering: the largest part of the data in which every user has rated at least ``k``
items and every item has been rated by at least ``k`` users.

Recommendation datasets are commonly filtered so (Amazon's "5-core" review files, He & McAuley,
WWW 2016, which the shared datasets are taken from): a user or item with one or two ratings gives a
model almost nothing to learn and a test almost nothing to measure.
Removing a user's reviews can take an item below ``k``, and that item's removal another user,
so the filter repeats until nothing changes. What it keeps is unique: the union of any two
k-cores is a k-core, so repeated removal ends at the largest one, whatever the order.

Counts are of distinct (user, item) pairs, so a pair reviewed twice counts once, and a corpus read
with its repeated pairs kept keeps or loses all of a pair's rows together. ``whyrec data split
--k-core K`` writes splits of the k-core; ``data stats`` says when the data already is one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from whyrec.data.corpus import Corpus
from whyrec.errors import ConfigError


def k_core_rows(users, items, k_users: int, k_items: int | None = None) -> np.ndarray:
    """The row numbers (sorted) of the ``(users[r], items[r])`` pairs in the k-core: every user with
    at least ``k_users`` distinct items, every item with at least ``k_items`` (default ``k_users``)
    distinct users, found by removing the others until none is left to remove."""
    k_items = k_users if k_items is None else k_items
    for name, k in (("k_users", k_users), ("k_items", k_items)):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ConfigError(f"k-core: {name} must be a whole number of at least 1, got {k!r}")
    rows = pd.DataFrame({"user": np.asarray(users, dtype=object), "item": np.asarray(items, dtype=object)})
    pairs = rows.drop_duplicates()
    while len(pairs):
        keep = (pairs.groupby("user")["item"].transform("size") >= k_users) & \
               (pairs.groupby("item")["user"].transform("size") >= k_items)
        if keep.all():
            break
        pairs = pairs[keep.to_numpy()]
    kept = pd.MultiIndex.from_frame(pairs)
    return np.flatnonzero(pd.MultiIndex.from_frame(rows).isin(kept))


def k_core(corpus: Corpus, k_users: int, k_items: int | None = None) -> Corpus:
    """The part of ``corpus`` in its k-core (:func:`k_core_rows`), named as ``corpus``; its records
    keep their positions in the source file, so a split of it indexes the file as any other does.
    A k-core that holds no record is a :class:`~whyrec.errors.ConfigError` saying how far the data
    falls short."""
    rows = k_core_rows(corpus.users, corpus.items, k_users, k_items)
    if not len(rows):
        k_items = k_users if k_items is None else k_items
        pairs = corpus.reviews.drop_duplicates(["user", "item"])
        most = int(pairs["user"].value_counts().max()) if len(pairs) else 0
        items = f" (items: {k_items})" if k_items != k_users else ""
        raise ConfigError(f"{corpus.name}: its {k_users}-core{items} is empty: no set of its users and items has "
                          f"that many ratings each (the most items a user rated: {most:,})")
    return corpus.take(rows)
