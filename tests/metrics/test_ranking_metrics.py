"""Ranking metrics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from whyrec.metrics.ranking import (hit_rate_at_k, mrr_at_k, ndcg_at_k, precision_at_k, recall_at_k,
                                    roc_auc)

# user a: hits at ranks 1 and 3 of 4, 3 relevant items; user b: a hit at rank 2 of 2 relevant;
# user c has no relevant item and is left out of every mean
RANKED = [["x", "y", "z", "w"], ["p", "q", "r", "s"], ["m", "n", "o", "t"]]
RELEVANT = [{"x", "z", "v"}, {"q", "u"}, set()]


def test_precision_recall_and_hit_rate():
    assert precision_at_k(RANKED, RELEVANT, 3) == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert recall_at_k(RANKED, RELEVANT, 3) == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert hit_rate_at_k(RANKED, RELEVANT, 1) == pytest.approx(0.5)  # only a's first item is a hit
    assert hit_rate_at_k(RANKED, RELEVANT, 2) == pytest.approx(1.0)


def test_mrr_and_ndcg():
    assert mrr_at_k(RANKED, RELEVANT, 4) == pytest.approx((1 + 1 / 2) / 2)
    assert mrr_at_k(RANKED, RELEVANT, 1) == pytest.approx((1 + 0) / 2)
    a = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3) + 1 / math.log2(4))  # hits at 1, 3; 3 relevant
    b = (1 / math.log2(3)) / (1 + 1 / math.log2(3))  # hit at 2; 2 relevant
    assert ndcg_at_k(RANKED, RELEVANT, 4) == pytest.approx((a + b) / 2)
    assert ndcg_at_k([["x", "z", "v"]], [{"x", "z", "v"}], 3) == pytest.approx(1.0)  # the ideal list


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="ranked lists for"):
        precision_at_k(RANKED, RELEVANT[:2], 3)
    with pytest.raises(ValueError, match="no user has a relevant item"):
        recall_at_k(RANKED, [set(), set(), set()], 3)
    with pytest.raises(ValueError, match="k must be at least 1"):
        ndcg_at_k(RANKED, RELEVANT, 0)


def test_auc_counts_ordered_pairs_and_half_the_ties():
    # positives 0.9, 0.4; negatives 0.4, 0.1: pairs (0.9>0.4) (0.9>0.1) (0.4=0.4 → ½) (0.4>0.1) → 3.5 / 4
    assert roc_auc([0.9, 0.4, 0.4, 0.1], [1, 1, 0, 0]) == pytest.approx(3.5 / 4)
    assert roc_auc([0.1, 0.2, 0.3], [1, 0, 0]) == pytest.approx(0.0)
    rng = np.random.default_rng(0)
    scores, labels = rng.normal(size=200), rng.integers(0, 2, 200)
    naive = np.mean([1.0 if p > n else 0.5 if p == n else 0.0
                     for p in scores[labels == 1] for n in scores[labels == 0]])
    assert roc_auc(scores, labels) == pytest.approx(naive)
    with pytest.raises(ValueError, match="at least one positive and one negative"):
        roc_auc([0.1, 0.2], [1, 1])
    for scores, labels in (([0.1, 0.2, 0.3], [1, 0]), ([[0.1, 0.2]], [[1, 0]])):  # a label short; a table
        with pytest.raises(ValueError, match="1-d arrays of the same length"):
            roc_auc(scores, labels)
