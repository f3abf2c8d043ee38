"""Ids as every entry point reads them: stripped of whitespace and invisible format characters;
and as the corpus keeps them (the close-id hints are in test_close_ids.py)."""

import numpy as np
import pytest

from whyrec.errors import UnknownIdError, WhyrecError
from whyrec.ids import IdMap, as_id, is_whole_number, paired_ids, stripped_id


def test_whitespace_and_format_characters_at_either_end_are_stripped():
    assert stripped_id(" u1\t") == "u1"
    # zero-width space, byte-order mark, left-to-right mark, soft hyphen, word joiner
    assert stripped_id("\ufeffu1\u200b") == "u1"
    assert stripped_id("\u200eA2SUAM1J3GNN3B \u00ad\u2060") == "A2SUAM1J3GNN3B"
    assert stripped_id("\u200b u1 \t") == "u1"  # spaces and format characters mixed
    assert stripped_id("u1\u200b") == "u1" and stripped_id("\u200bu1") == "u1"  # at one end only


def test_characters_inside_an_id_are_kept():
    assert stripped_id("u\u200b1") == "u\u200b1"
    assert stripped_id("\U0001F468\u200d\U0001F373") == "\U0001F468\u200d\U0001F373"  # an emoji joined by ZWJ
    assert stripped_id("New York") == "New York"


def test_an_id_of_invisible_characters_only_is_empty():
    assert stripped_id("\u200b") == ""
    assert stripped_id(" \ufeff \u200b ") == ""
    assert stripped_id("") == ""


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


def test_lookup_reads_a_number_as_index_does():
    """A float column of whole numbers (pandas makes one of integer ids with a gap) was looked up
    by ``str()``: 7.0 became "7.0", an unknown id, and the user got the cold-start prediction."""
    ids = IdMap(["a", "7", "b"])
    keys = [7.0, np.float64(7.0), np.int64(7), 7, "7", 7.5, "b"]
    assert ids.lookup(keys).tolist() == [1, 1, 1, 1, 1, -1, 2]
    assert ids.lookup(keys).tolist() == [ids.index(k) if k in ids else -1 for k in keys]


def test_unknown_ids_are_refused_by_the_first_with_its_close_id_and_the_count_of_the_others():
    ids = IdMap(["guitar", "cable"])
    keys = ["guitar", "gitar", "drum", "gitar", "cable"]
    ids.require_known(["cable", "guitar"], ids.lookup(["cable", "guitar"]), "item", "nothing to refuse")
    with pytest.raises(UnknownIdError, match=r"^cannot do it: unknown item 'gitar'; did you mean 'guitar'\? "
                                             r"\(1 other unknown item too\)$"):
        ids.require_known(keys, ids.lookup(keys), "item", "cannot do it")
    with pytest.raises(UnknownIdError, match=r"^no: unknown user 'drum' \(2 other unknown users too\)$"):
        ids.require_known(["drum", "x", "y"], np.array([-1, -1, -1]), "user", "no")


def test_pairs_are_two_lists_of_one_length_and_never_one_bare_string():
    assert paired_ids(("u1", "u2"), iter(["i1", "i2"]), "explain") == (["u1", "u2"], ["i1", "i2"])
    with pytest.raises(WhyrecError, match=r"explain: items must be a list of ids, not one string; wrap it: \['i1'\]"):
        paired_ids(["u1"], "i1", "explain")
    with pytest.raises(WhyrecError, match=r"explain needs as many users as items \(2 != 1\)"):
        paired_ids(["u1", "u2"], ["i1"], "explain")


def test_pairs_given_as_numbers_are_the_ids_the_readers_keep():
    """A frame's integer column (or floats of whole numbers, where it has a gap) names ids as the
    readers keep them, so that the answers to those pairs name "7", not 7 or 7.0."""
    users, items = paired_ids(np.array([7, 8]), [np.float64(3.0), 4.5], "explain")
    assert (users, items) == (["7", "8"], ["3", "4.5"])
    assert all(type(key) is str for key in users + items)


def test_whole_numbers_are_those_as_id_reads_as_digits():
    """What the service and the pairs files read as ids when they come as numbers: integers of any
    kind and floats that hold one exactly; not a bool (JSON true), 7.5, NaN, infinity, or a float
    past 2^53, whose digits would not be the ones written."""
    for whole in (7, -3, 0, np.int64(7), 7.0, np.float64(12.0), 2.0 ** 52):
        assert is_whole_number(whole) and as_id(whole) == str(int(whole))
    for other in (True, np.bool_(False), 7.5, float("nan"), float("inf"), 2.0 ** 60, "7", None):
        assert not is_whole_number(other)
    assert is_whole_number(2.0 ** 53 - 1) and not is_whole_number(2.0 ** 53)  # below 2^53, not at it


def test_close_ids_are_at_most_three_unless_asked():
    known = IdMap([f"guitar-strings-{n}" for n in range(1, 5)])
    assert known.close("guitar-strings-5") == ["guitar-strings-1", "guitar-strings-2", "guitar-strings-3"]
    assert len(known.close("guitar-strings-5", 4)) == 4
