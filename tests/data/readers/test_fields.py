"""Which column holds each whyrec field (``whyrec.data.readers.fields``)."""

from __future__ import annotations

import pytest

from whyrec.data.readers.fields import column_for, looked_for, resolve_columns
from whyrec.errors import DataError


def test_a_field_is_found_by_its_first_known_name_then_by_a_loose_spelling():
    assert column_for("user", ["asin", "reviewerID", "user_id"]) == "user_id"  # user_id comes before reviewerID
    assert column_for("item", ["reviewerID", "parent_asin", "asin"]) == "parent_asin"
    assert column_for("user", ["User ID", "Item"]) == "User ID"  # a spreadsheet's header
    assert column_for("text", ["Review-Text"]) == "Review-Text"
    assert column_for("rating", ["rating", "Rating"]) == "rating"  # the exact name before a loose one
    assert column_for("user", ["person", "thing"]) is None


def test_columns_are_resolved_as_column_for_finds_them_unless_mapped(tmp_path):
    header = ["customer_id", "product_id", "star_rating", "review_body", "product_title"]
    assert resolve_columns(header, None, tmp_path / "r.tsv") == {
        "user": "customer_id", "item": "product_id", "rating": "star_rating", "text": "review_body",
        "item_title": "product_title"}
    assert resolve_columns(header + ["user"], {"user": "customer_id"}, tmp_path / "r.tsv")["user"] == "customer_id"
    with pytest.raises(DataError, match=r"no column for 'item' or 'rating' \(looked for item: item, item_id"):
        resolve_columns(["user", "text"], None, tmp_path / "r.csv")


def test_the_names_looked_for_are_listed_per_missing_field():
    assert looked_for(["rating"]).startswith("'rating' (looked for rating, overall, stars, score, star_rating, in any")
    assert looked_for(["user", "item"]).startswith("'user' or 'item' (looked for user: user, user_id")
