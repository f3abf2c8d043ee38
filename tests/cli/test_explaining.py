"""``whyrec explain``'s text output (its end-to-end runs are in tests/test_explanations.py)."""

from __future__ import annotations

from whyrec.cli.explaining import rating_split_text


def test_a_rating_split_reads_as_one_line_with_counted_nouns():
    account = {"score": 4.2, "baseline": 3.9, "rest": 0.01, "n_other": 1, "other_ratings": 0.05,
               "because": [{"item": "i1", "title": "A very long item title that will surely be cut short",
                            "rating": 5.0, "contribution": 0.24}]}
    line = rating_split_text(account, has_text=True)
    assert line == ("rating 4.20 = item baseline 3.90; your ratings of A very long item title that will surely… "
                    "5★ (+0.24); your 1 other rating +0.05; text prior and rest +0.01")
    assert "your 3 other ratings" in rating_split_text({**account, "n_other": 3}, has_text=False)
    assert "other" not in rating_split_text({**account, "n_other": 0}, has_text=False)


def test_a_split_past_the_scale_names_the_clipped_rating_beside_the_score():
    account = {"score": 5.12, "baseline": 5.03, "rest": 0.02, "n_other": 0, "other_ratings": 0.0,
               "because": [{"item": "i1", "title": None, "rating": 5.0, "contribution": 0.07}]}
    assert rating_split_text(account, False, predicted=5.0).startswith("score 5.12 (clipped to 5.00) = item baseline")
    assert rating_split_text(account, False, predicted=5.12).startswith("rating 5.12 = ")
