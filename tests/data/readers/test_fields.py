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


def test_two_fields_mapped_to_one_column_or_key_are_refused(tmp_path):
    """--column user=item beside the item's usual column read each review as by its own item (and
    duplicate-pair handling then kept one review per item)."""
    import json

    from whyrec.data import load_corpus

    with pytest.raises(DataError, match="fields 'user' and 'item' would both be read from the column 'item'; map one "
                                        "of them to its own column with --column user=NAME --column item=NAME"):
        resolve_columns(["user", "item", "rating", "text"], {"user": "item"}, tmp_path / "r.csv")
    with pytest.raises(DataError, match="fields 'item' and 'rating' would both be read from the column 'stars'"):
        resolve_columns(["u", "stars", "text"], {"user": "u", "item": "stars"}, tmp_path / "r.csv")
    reviews = tmp_path / "r.jsonl"
    reviews.write_text("".join(json.dumps({"reviewerID": f"u{k}", "asin": f"i{k % 2}", "overall": 4.0,
                                           "reviewText": "fine"}) + "\n" for k in range(4)))
    assert len(load_corpus(reviews)) == 4
    with pytest.raises(DataError, match="fields 'user' and 'item' would both be read from the key 'asin'"):
        load_corpus(reviews, columns={"user": "asin"})
