"""Ids as every entry point reads them: stripped of whitespace and invisible format characters."""

from whyrec.ids import stripped_id


def test_whitespace_and_format_characters_at_either_end_are_stripped():
    assert stripped_id(" u1\t") == "u1"
    # zero-width space, byte-order mark, left-to-right mark, soft hyphen, word joiner
    assert stripped_id("\ufeffu1\u200b") == "u1"
    assert stripped_id("\u200eA2SUAM1J3GNN3B \u00ad\u2060") == "A2SUAM1J3GNN3B"
    assert stripped_id("\u200b u1 \t") == "u1"  # spaces and format characters mixed


def test_characters_inside_an_id_are_kept():
    assert stripped_id("u\u200b1") == "u\u200b1"
    assert stripped_id("\U0001F468\u200d\U0001F373") == "\U0001F468\u200d\U0001F373"  # an emoji joined by ZWJ
    assert stripped_id("New York") == "New York"


def test_an_id_of_invisible_characters_only_is_empty():
    assert stripped_id("\u200b") == ""
    assert stripped_id(" \ufeff \u200b ") == ""
    assert stripped_id("") == ""
