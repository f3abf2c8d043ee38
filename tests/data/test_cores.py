"""k-core filtering: the cascade of removals, pairs counted once, and the largest k-core found,
checked against every subset of small drawn rating sets."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.properties import fuzz
from whyrec.data import corpus_from_frame, k_core
from whyrec.data.cores import k_core_rows
from whyrec.errors import ConfigError


def test_a_removal_can_take_others_below_k():
    # u3's item c has one user: c goes, then u3 has one item and goes too; u1's repeated pair counts once
    users = ["u1", "u1", "u2", "u2", "u3", "u3", "u1"]
    items = ["a", "b", "a", "b", "a", "c", "a"]
    assert k_core_rows(users, items, 2).tolist() == [0, 1, 2, 3, 6]
    assert k_core_rows(users, items, 1).tolist() == list(range(7))  # every pair is in the 1-core
    assert k_core_rows(users, items, 3).tolist() == []
    # users and items may have their own k: every user 2 items, every item 1 user keeps u3 whole
    assert k_core_rows(users, items, 2, 1).tolist() == list(range(7))
    assert k_core_rows(users, items, 1, 3).tolist() == [0, 2, 4, 6]  # only item a has 3 users


def test_a_repeated_pair_does_not_make_a_user_look_active():
    users, items = ["u1", "u1", "u1", "u2", "u2"], ["a", "a", "a", "a", "b"]
    assert k_core_rows(users, items, 2, 1).tolist() == [3, 4]  # u1 reviewed one item, three times


def _largest_core(pairs: list[tuple[str, str]], k: int) -> set[tuple[str, str]]:
    """The largest subset of ``pairs`` whose users and items each have k of them, by trying every subset."""
    def is_core(chosen):
        users, items = pd.Series([u for u, _ in chosen]), pd.Series([i for _, i in chosen])
        return users.value_counts().min() >= k and items.value_counts().min() >= k
    for size in range(len(pairs), 0, -1):
        cores = [set(c) for c in combinations(pairs, size) if is_core(c)]
        if cores:  # k-cores are closed under union, so the largest is the only one of its size
            assert len(cores) == 1
            return cores[0]
    return set()


@fuzz(60)
@given(pairs=st.sets(st.tuples(st.sampled_from("uvwxy"), st.sampled_from("abcd")), max_size=10),
       k=st.integers(1, 3))
def test_the_filter_keeps_the_largest_k_core(pairs, k):
    pairs = sorted(pairs)
    rows = k_core_rows([u for u, _ in pairs], [i for _, i in pairs], k)
    assert {pairs[r] for r in rows} == _largest_core(pairs, k)


def test_a_corpus_keeps_its_positions_name_and_features_and_an_empty_core_is_refused():
    frame = pd.DataFrame({"user": ["u1", "u1", "u2", "u2", "u3"], "item": ["a", "b", "a", "b", "a"],
                          "rating": [5, 4, 3, 2, 1], "text": ["fine"] * 5})
    corpus = corpus_from_frame(frame, name="tiny")
    core = k_core(corpus, 2)
    assert core.name == "tiny" and list(core.positions) == [0, 1, 2, 3] and core.rating_scale == corpus.rating_scale
    with pytest.raises(ConfigError, match=r"^tiny: its 3-core is empty: .* \(the most items a user rated: 2\)$"):
        k_core(corpus, 3)
    for bad in (0, 2.5, True, "5"):
        with pytest.raises(ConfigError, match="k_users must be a whole number of at least 1"):
            k_core_rows(["u"], ["a"], bad)
    assert k_core_rows(np.array([], dtype=object), np.array([], dtype=object), 2).tolist() == []
