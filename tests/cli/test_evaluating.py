"""``whyrec evaluate``'s text for scores that are undefined (its runs are in test_training.py)."""

from __future__ import annotations


def test_an_undefined_mi_is_said_with_its_reason():
    from whyrec.cli.evaluating import _mi_value

    assert _mi_value(float("nan"), "every predicted rating in one class") == \
        "undefined (every predicted rating in one class)"
    assert _mi_value(0.12345, "unused") == "0.123"
    assert _mi_value(-5.4e-06, "unused") == "0.000" and _mi_value(-0.0123, "unused") == "-0.012"  # no -0.000


def test_evaluate_says_feature_scores_are_undefined_instead_of_printing_nan():
    import math

    from whyrec.cli.evaluating import _feature_scores

    assert _feature_scores({"fmr": 0.25, "fcr": 0.1, "div": 1.5}) == "FMR 0.250  FCR 0.100  DIV 1.500"
    assert _feature_scores({"fmr": math.nan, "fcr": math.nan, "div": math.nan}) == \
        "FMR, FCR, DIV n/a (no feature words: none was extracted from the train reviews)"
    assert _feature_scores({"fmr": 0.5, "fcr": 0.2, "div": math.nan}) == "FMR 0.500  FCR 0.200  DIV n/a"
