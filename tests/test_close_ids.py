"""Known ids close to an unknown one: typos found, the unrelated left out, case ignored."""

import difflib

from whyrec.close_ids import TYPO_SIMILARITY, IdIndex

AMAZON = ["A2SUAM1J3GNN3B", "A1UCQPHW6K4F7W", "AK5HC8ZCR3YOJ", "B000NKJIXM", "A2SUAM1J3GNN"]


def test_one_character_off_is_found_and_an_unrelated_id_is_not():
    index = IdIndex(AMAZON)
    assert index.closest("A2SUAM1J3GNN3X") == "A2SUAM1J3GNN3B"  # substituted
    assert index.closest("A1UCQPHW6K4FW") == "A1UCQPHW6K4F7W"  # dropped
    assert index.closest("AK5HC8ZCR3YOJJ") == "AK5HC8ZCR3YOJ"  # doubled
    assert index.closest("somebody-new") is None and index.closest("") is None


def test_case_is_ignored_and_the_query_itself_is_never_suggested():
    index = IdIndex(AMAZON)
    assert index.closest("a2suam1j3gnn3b") == "A2SUAM1J3GNN3B"  # typed in lower case: 100 against its upper-case self
    assert index.close("A2SUAM1J3GNN3B") == ["A2SUAM1J3GNN"]  # the exact id is known: only others


def test_most_similar_first_ties_in_the_order_given_and_at_most_limit():
    index = IdIndex(["ab3", "ab1", "ab2", "abcd"])
    assert index.close("ab", limit=5, at_least=50) == ["ab3", "ab1", "ab2", "abcd"]  # 80, 80, 80, 66.7
    assert index.close("ab", limit=2, at_least=50) == ["ab3", "ab1"]
    assert index.close("ab", limit=0) == [] and index.close("ab", at_least=81) == []


def test_the_threshold_keeps_what_difflib_at_0_85_kept():
    """The CLI used difflib.get_close_matches(cutoff=0.85); the similarity here is at least its ratio."""
    index = IdIndex(AMAZON)
    for typo in ("A2SUAM1J3GNN3X", "A1UCQPHW6K4FW", "B000NKJIXN", "AK5HC8ZCR3YOJJ"):
        assert index.closest(typo) == difflib.get_close_matches(typo, AMAZON, n=1, cutoff=TYPO_SIMILARITY / 100)[0]


def test_the_message_of_a_refused_id_names_the_close_one_when_there_is_one():
    import pytest

    from whyrec.ids import IdMap
    from whyrec.errors import UnknownIdError

    ids = IdMap(AMAZON)
    with pytest.raises(UnknownIdError) as refused:
        ids.index("B000NKJIXN", "item")
    assert str(refused.value) == "unknown item 'B000NKJIXN'; did you mean 'B000NKJIXM'?"
    with pytest.raises(UnknownIdError) as refused:
        ids.index("nobody", "user")
    assert str(refused.value) == "unknown user 'nobody'"
    assert ids.closest("b000nkjixm") == "B000NKJIXM" and ids.index("B000NKJIXM") == 3


def test_an_id_with_whitespace_or_invisible_marks_around_it_finds_the_id_the_readers_kept():
    """The readers strip ids; a library caller's " u1" was refused with no suggestion at all
    (its similarity to "u1" is 80, under the typo threshold)."""
    import pytest

    from whyrec.ids import IdMap
    from whyrec.errors import UnknownIdError

    ids = IdMap(["u1", "u2", "alice"])
    for asked, meant in ((" u1", "u1"), ("u2\n", "u2"), (" alice ", "alice"), ("\ufeffu1\u200b", "u1")):
        with pytest.raises(UnknownIdError) as refused:
            ids.index(asked, "user")
        assert str(refused.value) == f"unknown user '{asked}'; did you mean '{meant}'?"
    assert IdIndex(["0007", "7 "]).close(" 7", limit=2, at_least=100) == ["0007"]  # " 7" stripped is not known
    assert IdIndex(["007", "7"]).close(" 7", limit=2, at_least=100) == ["7", "007"]


def test_an_id_that_lost_its_leading_zeros_finds_the_padded_one_first():
    """A spreadsheet reads 0007 as the number 7: the padded id is far by edit distance (40 of 100)
    and is found all the same, ahead of closer-looking ids; zeros added are found too."""
    import pytest

    from whyrec.ids import IdMap
    from whyrec.errors import UnknownIdError

    index = IdIndex(["0007", "0017", "0070", "A7", "107"])
    assert index.closest("7") == "0007"
    assert index.close("7", limit=5, at_least=50) == ["0007", "A7", "107"]  # 66.7 and 50; 0017 and 0070 are not 7
    assert index.closest("00107") == "107"
    assert "0007" not in index.close("0007")  # the known id itself is never suggested
    with pytest.raises(UnknownIdError, match=r"unknown item '7'; did you mean '0007'\?"):
        IdMap(["0007", "0012"]).index("7", "item")


def test_an_id_written_as_a_whole_float_finds_its_whole_number():
    """A bundle saved before the readers wrote a float-typed id 3.0 as "3" keeps "3.0": asked for
    "3", it names "3.0", and the other way round; a decimal part that is not zero is another id."""
    import pytest

    from whyrec.close_ids import number_key
    from whyrec.ids import IdMap
    from whyrec.errors import UnknownIdError

    assert [number_key(t) for t in ("7", "0007", "7.0", "07.00", "7.5", "a7.0", "7.", "0.0", "0")] == \
        ["7", "7", "7", "7", "7.5", "a7.0", "7.", "", ""]
    index = IdIndex(["3.0", "30", "13.0", "3.5"])
    assert index.closest("3") == "3.0"
    assert index.close("3", limit=1, at_least=100) == ["3.0"]
    assert IdIndex(["3", "4"]).closest("3.0") == "3"
    with pytest.raises(UnknownIdError, match=r"unknown user '3'; did you mean '3.0'\?"):
        IdMap(["3.0", "4.0"]).index("3", "user")


def test_a_typo_at_85_is_close_and_three_are_given_unless_asked():
    """abcdefx against abcdefg: 2·6/14 = 85.7, just above the threshold."""
    index = IdIndex(["abcdefg", "abcdefh", "abcdefi", "abcdefj"])
    assert TYPO_SIMILARITY == 85.0
    assert index.close("abcdefx") == ["abcdefg", "abcdefh", "abcdefi"]
    assert index.close("abcdefx", at_least=86) == [] and len(index.close("abcdefx", limit=4)) == 4
