"""Ids as the corpus keeps them (``whyrec.data.ids``); the close-id hints are in test_close_ids.py."""

from __future__ import annotations

import numpy as np
import pytest

from whyrec.data.ids import IdMap, as_id, paired_ids
from whyrec.errors import UnknownIdError, WhyrecError


def test_a_number_is_looked_up_by_the_text_the_readers_keep():
    assert [as_id(k) for k in ("u1", 7, np.int64(7), 3.0, 2.5, float(2 ** 60))] == \
        ["u1", "7", "7", "3", "2.5", str(float(2 ** 60))]
    ids = IdMap(["a", "7", "b"])
    assert len(ids) == 3 and 7 in ids and "c" not in ids and ids.index(7.0) == 1
    assert ids.lookup(["b", "c", "a"]).tolist() == [2, -1, 0]
    with pytest.raises(UnknownIdError, match="unknown item 'c'"):
        ids.index("c", "item")
    with pytest.raises(ValueError, match="unique"):
        IdMap(["a", "a"])


def test_pairs_are_two_lists_of_one_length_and_never_one_bare_string():
    assert paired_ids(("u1", "u2"), iter(["i1", "i2"]), "explain") == (["u1", "u2"], ["i1", "i2"])
    with pytest.raises(WhyrecError, match=r"explain: items must be a list of ids, not one string; wrap it: \['i1'\]"):
        paired_ids(["u1"], "i1", "explain")
    with pytest.raises(WhyrecError, match=r"explain needs as many users as items \(2 != 1\)"):
        paired_ids(["u1", "u2"], ["i1"], "explain")
