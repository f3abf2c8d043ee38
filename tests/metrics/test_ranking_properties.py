"""Properties the ranking and rating metrics must have on any input, drawn by Hypothesis (the
hand-computed cases are in test_ranking_metrics.py and test_rating_metrics.py): each top-k metric
within [0, 1] and at 1 for a list that puts every relevant item first; AUC equal to the share of
(positive, negative) pairs in order, ties counted half, as a plain double loop counts it; RMSE² the
MSE and at least the MAE."""

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tests.properties import fuzz
from whyrec.metrics.rating import mae, mse, rmse
from whyrec.metrics.ranking import RANKING_METRICS, roc_auc

FUZZ = fuzz(300)
ITEMS = [f"i{n}" for n in range(12)]
users = st.lists(st.tuples(st.permutations(ITEMS), st.sets(st.sampled_from(ITEMS), max_size=6)), min_size=1,
                 max_size=6).filter(lambda rows: any(rel for _, rel in rows))


@FUZZ
@given(rows=users, k=st.integers(1, 12))
def test_each_top_k_metric_is_within_zero_and_one(rows, k):
    ranked, relevant = [r for r, _ in rows], [rel for _, rel in rows]
    for name, metric in RANKING_METRICS.items():
        assert -1e-12 <= metric(ranked, relevant, k) <= 1.0 + 1e-12, name


@FUZZ
@given(rows=users, k=st.integers(1, 12))
def test_every_relevant_item_first_is_the_best_list(rows, k):
    relevant = [rel for _, rel in rows]
    best = [sorted(rel) + [i for i in ITEMS if i not in rel] for rel in relevant]
    for name in ("recall", "hr", "mrr", "ndcg"):
        value = RANKING_METRICS[name](best, relevant, k)
        if name == "recall":  # all of R fits in k only when k >= |R|
            expected = np.mean([min(k, len(rel)) / len(rel) for rel in relevant if rel])
            assert math.isclose(value, expected), name
        else:
            assert math.isclose(value, 1.0), name


@FUZZ
@given(pairs=st.lists(st.tuples(st.integers(0, 5).map(float), st.booleans()), min_size=2, max_size=30).filter(
    lambda p: any(label for _, label in p) and not all(label for _, label in p)))
def test_auc_is_the_share_of_pairs_in_order(pairs):
    scores, labels = [s for s, _ in pairs], [label for _, label in pairs]
    positives = [s for s, label in pairs if label]
    negatives = [s for s, label in pairs if not label]
    counted = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in positives for n in negatives)
    assert math.isclose(roc_auc(scores, labels), counted / (len(positives) * len(negatives)))


@FUZZ
@given(pairs=st.lists(st.tuples(st.floats(-10, 10), st.floats(1, 5)), min_size=1, max_size=30))
def test_rmse_squared_is_the_mse_and_at_least_the_mae(pairs):
    predicted, truth = [p for p, _ in pairs], [t for _, t in pairs]
    assert math.isclose(rmse(predicted, truth) ** 2, mse(predicted, truth), rel_tol=1e-9, abs_tol=1e-12)
    assert rmse(predicted, truth) >= mae(predicted, truth) - 1e-12
    clamped = rmse(predicted, truth, clamp=(1.0, 5.0))
    assert clamped <= rmse(predicted, truth) + 1e-12  # clipping to the scale never moves a prediction away
