"""nDCG@k and ROC AUC against scikit-learn's (``ndcg_score``, ``roc_auc_score``), written by others.

whyrec's nDCG is binary-gain nDCG over each user's whole ranking of candidates, which is what
``ndcg_score`` computes when every relevant item is among the candidates and no two scores tie
(scikit-learn averages over tied scores; whyrec's evaluation breaks ties at random before
ranking). Its AUC counts a tie as half a correctly ordered pair, as ``roc_auc_score`` does."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.properties import fuzz
from whyrec.metrics.ranking import ndcg_at_k, roc_auc

metrics = pytest.importorskip("sklearn.metrics")


@st.composite
def users_with_rankings(draw):
    """Per user: distinct scores of 2–12 candidates and a non-empty set of relevant ones."""
    users = []
    for u in range(draw(st.integers(1, 6))):
        n = draw(st.integers(2, 12))
        scores = draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n, unique=True))
        relevant = draw(st.lists(st.booleans(), min_size=n, max_size=n).filter(any))
        users.append((np.array(scores, dtype=float), np.array(relevant)))
    return users


@fuzz(200)
@given(users=users_with_rankings(), k=st.integers(1, 12))
def test_ndcg_equals_scikit_learns_on_whole_rankings_without_ties(users, k):
    ranked = [[f"i{j}" for j in np.argsort(-scores)] for scores, _ in users]
    relevant = [{f"i{j}" for j in np.flatnonzero(rel)} for _, rel in users]
    theirs = np.mean([metrics.ndcg_score([rel.astype(float)], [scores], k=k) for scores, rel in users])
    assert ndcg_at_k(ranked, relevant, k) == pytest.approx(theirs, abs=1e-12)


@fuzz(200)
@given(pairs=st.lists(st.tuples(st.integers(0, 5), st.booleans()), min_size=2, max_size=40)
       .filter(lambda p: len({label for _, label in p}) == 2))
def test_auc_equals_scikit_learns_ties_included(pairs):
    scores, labels = [s for s, _ in pairs], [label for _, label in pairs]  # few score values: many ties
    assert roc_auc(scores, labels) == pytest.approx(metrics.roc_auc_score(labels, scores), abs=1e-12)
