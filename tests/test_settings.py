"""Settings checks shared by the systems' configs: types follow the defaults, ranges a table."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from whyrec.errors import ConfigError
from whyrec.settings import above, at_least, changed_settings, check_settings, config_from_dict, each, fraction, one_of


@dataclass
class Toy:
    count: int = 3
    rate: float = 0.1
    limit: float | None = None
    mode: str = "a"
    sizes: tuple = (1, 2)
    flag: bool = True

    def __post_init__(self) -> None:
        check_settings(self, "Toy", {"count": at_least(1), "rate": above(0), "limit": fraction(closed_top=True),
                                     "mode": one_of("a", "b"), "sizes": each(at_least(1))})


def test_good_settings_are_normalised():
    toy = Toy(count=2, rate=1, limit=None, sizes=[3])
    assert toy.rate == 1.0 and isinstance(toy.rate, float) and toy.sizes == (3,) and toy.limit is None
    assert Toy(limit=1).limit == 1.0


@pytest.mark.parametrize("setting, value, message", [
    ("count", 0, "Toy: count must be at least 1, got 0"),
    ("count", True, "count must be a whole number"),
    ("count", 2.0, r"count must be a whole number written as one, without a point or an exponent \(write 2\), got 2.0"),
    ("count", 1e9, r"without a point or an exponent \(write 1000000000\), got 1000000000.0"),  # as --param count=1e9
    ("count", 2.5, "count must be a whole number, got 2.5"),
    ("rate", 0, "rate must be greater than 0"),
    ("rate", "1", "rate must be a finite number"),
    ("rate", float("nan"), "rate must be a finite number"),  # NaN compares false: no range rule catches it
    ("rate", float("inf"), "rate must be a finite number"),
    ("rate", 1e300, r"rate must be a number within float32's range \(±3.4e38\), got 1e\+300"),
    ("rate", -1e39, "rate must be a number within float32's range"),
    ("limit", float("nan"), "limit must be a finite number"),  # a setting whose default is None: typed too
    ("limit", "0.5", "limit must be a finite number, got '0.5'"),  # was a bare TypeError from its range rule
    ("limit", True, "limit must be a finite number"),
    ("sizes", [2, float("inf")], "each at least 1"),
    ("limit", 1.5, r"limit must be in \[0, 1\]"),
    ("mode", "c", "mode must be one of 'a', 'b', got 'c'$"),  # no choice is close to it: no guess
    ("mode", 1, "mode must be a string"),
    ("sizes", [], "sizes must be a non-empty list"),
    ("sizes", [0], "each at least 1"),
    ("sizes", ["x"], "each at least 1"),
    ("sizes", {"a": 1}, "sizes must be a list"),
    ("sizes", "2,x", "each at least 1"),  # as a command line writes a list, with an element of the wrong type
    ("sizes", "", "sizes must be a non-empty list"),
    ("flag", "yes", "flag must be true or false"),
])
def test_bad_settings_name_the_setting(setting, value, message):
    with pytest.raises(ConfigError, match=message):
        Toy(**{setting: value})


def test_a_mistyped_choice_is_told_the_close_one():
    from whyrec.systems.mt_config import MTConfig

    with pytest.raises(ConfigError, match=r"MT: encoder must be one of 'document', 'embedding', got 'documnet' "
                                          r"\(did you mean 'document'\?\)"):
        MTConfig(encoder="documnet")


@pytest.mark.parametrize("given, stored", [
    ("2,3", (2, 3)), ("[2, 3]", (2, 3)), (" 4 ", (4,)), (4, (4,)), ([2, 3], (2, 3)),
])
def test_a_list_setting_takes_what_a_command_line_writes(given, stored):
    """``--set d_widths=3,4`` or ``variants=[user]``: the list a user meant, not a refusal."""
    assert Toy(sizes=given).sizes == stored


def test_a_list_of_names_from_a_command_line_keeps_them_as_text():
    from whyrec.systems.mt_config import MTConfig

    assert MTConfig.from_dict({"variants": "user,pair"}).variants == ("user", "pair")
    assert MTConfig.from_dict({"variants": "[item]"}).variants == ("item",)


def test_config_from_dict_names_unknown_settings_and_the_known_ones():
    assert config_from_dict(Toy, "Toy", {"count": 5, "rate": 2}) == Toy(count=5, rate=2.0)
    with pytest.raises(ConfigError, match=r"Toy: unknown setting\(s\) \['cuont', 'zeta'\] \(did you mean 'count' for "
                       r"'cuont'\?\); known: count, flag, limit"):
        config_from_dict(Toy, "Toy", {"cuont": 5, "zeta": 1, "rate": 2})
    with pytest.raises(ConfigError, match="count must be at least 1"):  # known names still get their checks
        config_from_dict(Toy, "Toy", {"count": 0})


def test_a_setting_given_twice_is_refused_not_overwritten():
    from whyrec.settings import parse_assignments

    assert parse_assignments(["a=1", "b=x"], "--param") == {"a": 1, "b": "x"}
    with pytest.raises(ConfigError, match=r"--param 'a' is given twice \(1 and 2\)"):
        parse_assignments(["a=1", "a=2"], "--param")


def test_a_config_shows_only_the_settings_that_differ_from_the_defaults():
    assert changed_settings(Toy()) == {}
    assert changed_settings(Toy(rate=0.5, sizes=[1, 2], mode="b")) == {"rate": 0.5, "mode": "b"}  # [1, 2] is (1, 2)


def test_each_rule_at_its_bounds():
    from whyrec.settings import at_most, from_to, whole_number

    assert at_most(3).test(3) and not at_most(3).test(3.5)
    assert from_to(1, 4).test(1) and from_to(1, 4).test(4) and not from_to(1, 4).test(0) and not from_to(1, 4).test(5)
    assert fraction().test(0) and fraction().test(0.99) and not fraction().test(1) and not fraction().test(1.5)
    assert fraction(closed_top=True).test(0) and fraction(closed_top=True).test(1)
    assert not fraction(closed_top=True).test(-0.1) and not fraction(closed_top=True).test(1.01)
    assert whole_number(1).test(1) and not whole_number(1).test(True) and not whole_number(1).test(2.0)
    assert each(at_least(0)).test((1.0, 2)) and not each(at_least(0)).test((1.0, float("nan")))
    assert not each(at_least(0)).test(())


def test_a_float_setting_is_taken_up_to_float32s_largest_and_command_line_text_is_read():
    from whyrec.settings import FLOAT32_MAX, is_grid_value, parse_assignment

    @dataclass
    class Rate:
        lr: float = 0.1

    largest = Rate(lr=FLOAT32_MAX)
    check_settings(largest, "toy", {})
    assert largest.lr == FLOAT32_MAX
    with pytest.raises(ConfigError, match="within float32's range"):
        check_settings(Rate(lr=1e39), "toy", {})
    assert is_grid_value("4|8") and not is_grid_value(4) and not is_grid_value("4")
    assert parse_assignment("factors=8", "--param") == ("factors", 8)
    for bad in ("factors", "=8", " =8"):
        with pytest.raises(ConfigError, match=f"--param '{bad}' must look like NAME=VALUE"):
            parse_assignment(bad, "--param")
