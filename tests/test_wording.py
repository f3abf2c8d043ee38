import pytest

from whyrec.wording import counted, shortened


def test_counted_is_singular_for_exactly_one_and_groups_thousands():
    assert counted(1, "review") == "1 review"
    assert counted(0, "review") == "0 reviews"
    assert counted(2959, "other rating") == "2,959 other ratings"


def test_shortened_never_exceeds_the_limit():
    assert shortened("abc", 3) == "abc"
    assert shortened("abcd", 3) == "ab…"
    assert len(shortened("x" * 100)) == 40
    with pytest.raises(ValueError):
        shortened("abc", 0)
