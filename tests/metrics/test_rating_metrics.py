import math

import numpy as np
import pytest
from scipy import stats

from whyrec.metrics.rating import corrected_resampled_t_test, mae, mse, paired_p_by_group, paired_t_test, rmse


def test_hand_computed_values():
    pred, ref = [1.0, 2.0, 6.0], [2.0, 2.0, 4.0]
    assert mse(pred, ref) == pytest.approx((1 + 0 + 4) / 3)
    assert rmse(pred, ref) == pytest.approx(math.sqrt(5 / 3))
    assert mae(pred, ref) == pytest.approx(1.0)
    # clamping to the 1..5 scale turns the 6 into a 5
    assert mse(pred, ref, clamp=(1, 5)) == pytest.approx((1 + 0 + 1) / 3)
    assert mae(pred, ref, clamp=(1, 5)) == pytest.approx(2 / 3)


def test_errors_on_bad_input():
    with pytest.raises(ValueError):
        rmse([1.0], [1.0, 2.0])
    with pytest.raises(ValueError):
        rmse([], [])
    with pytest.raises(ValueError, match="1 predictions and 0 references are NaN"):
        rmse([float("nan"), 3.0], [4.0, 3.0])  # was NaN, silently


def test_paired_t_test_by_hand_and_against_scipy():
    a = np.array([1.0, 2.0, 3.0, 4.0]); b = np.array([1.5, 2.0, 2.0, 3.0])
    # differences a − b = −0.5, 0, 1, 1: mean 0.375, sd 0.75
    t, p = paired_t_test(a, b)
    assert t == pytest.approx(0.375 / (0.75 / 2))
    ref = stats.ttest_rel(a, b)
    assert t == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue)
    assert paired_t_test(a, a) == (0.0, 1.0)


def test_corrected_resampled_t_test_by_hand():
    a = np.array([1.0, 2.0, 3.0, 4.0]); b = np.array([1.5, 2.0, 2.0, 3.0])
    # d = −0.5, 0, 1, 1: mean 0.375, variance 0.5625; J = 4 splits, test/train = 1/4:
    # t = 0.375 / √((1/4 + 1/4) · 0.5625) = 1/√2, on 3 degrees of freedom
    t, p = corrected_resampled_t_test(a, b, test_to_train=0.25)
    assert t == pytest.approx(1 / math.sqrt(2))
    assert p == pytest.approx(2 * stats.t.sf(1 / math.sqrt(2), df=3))
    # without the correction term it is the plain paired test over splits; the correction only widens p
    plain = stats.ttest_rel(a, b)
    t_small, p_small = corrected_resampled_t_test(a, b, test_to_train=1e-12)
    assert t_small == pytest.approx(plain.statistic) and p_small == pytest.approx(plain.pvalue)
    assert p > plain.pvalue
    assert corrected_resampled_t_test(a, a, 0.25) == (0.0, 1.0)
    assert corrected_resampled_t_test(a, a + 1.0, 0.25) == (-math.inf, 0.0)  # a constant gap: certain


def test_corrected_resampled_t_test_refuses_what_it_cannot_test():
    with pytest.raises(ValueError, match="at least two splits"):
        corrected_resampled_t_test([1.0], [2.0], 0.25)
    with pytest.raises(ValueError, match="same length"):
        corrected_resampled_t_test([1.0, 2.0], [2.0], 0.25)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="positive number"):
            corrected_resampled_t_test([1.0, 2.0], [2.0, 2.5], bad)


def test_activity_groups_cut_at_the_users_training_counts():
    from whyrec.metrics.rating import activity_groups, activity_labels

    assert activity_labels() == ["0", "1–2", "3–5", "6–10", "11–20", "21+"]
    assert activity_labels((1, 2, 5)) == ["0", "1", "2–4", "5+"]
    groups = activity_groups([0, 1, 2, 3, 5, 6, 10, 11, 20, 21, 500])
    assert list(groups) == ["0", "1–2", "1–2", "3–5", "3–5", "6–10", "6–10", "11–20", "11–20", "21+", "21+"]
    for edges in ((3, 3), (0, 2), (), (-1,)):  # not increasing; a count below 1 (first, or the only one)
        with pytest.raises(ValueError, match="increasing counts from 1"):
            activity_labels(edges)


def test_rmse_by_group_by_hand():
    from whyrec.metrics.rating import rmse_by_group

    # group a: errors 1 and 3 → √5; group b: error 2 → 2 (clipping 7 to 5 first)
    got = rmse_by_group([2.0, 7.0, 4.0], [1.0, 3.0, 1.0], ["a", "b", "a"], clamp=(1, 5))
    assert list(got) == ["a", "b"]
    assert got["a"] == {"count": 2, "rmse": pytest.approx(5 ** 0.5)} and got["b"] == {"count": 1, "rmse": 2.0}
    with pytest.raises(ValueError, match="differ in shape"):
        rmse_by_group([1.0, 2.0], [1.0, 2.0], ["a"])


def test_paired_p_by_group_tests_each_groups_records_alone():
    a, b = [1.0, 2.0, 4.0, 1.0, 0.0, 3.0], [0.5, 2.5, 3.0, 1.5, 1.0, 3.0]
    got = paired_p_by_group(a, b, ["x", "x", "y", "y", "y", "z"])
    assert list(got) == ["x", "y", "z"]
    assert got["x"] == 1.0  # differences 0.5 and −0.5: mean 0
    assert got["y"] == paired_t_test([4.0, 1.0, 0.0], [3.0, 1.5, 1.0])[1] and 0 < got["y"] < 1
    assert got["z"] is None  # one record: no test
