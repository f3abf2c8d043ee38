"""Top-k ranking metrics: pure functions of ranked lists and relevant sets.

``ranked[u]`` is user u's recommendation list, best first; ``relevant[u]`` the set of items that
count as hits for u (in whyrec's evaluation, the user's test items rated at least a threshold).
Every metric is the mean over the users that have at least one relevant item; binary relevance:

* Precision@k = |top_k ∩ R| / k
* Recall@k    = |top_k ∩ R| / |R|
* HR@k        = 1 if top_k ∩ R ≠ ∅ else 0 (hit rate)
* MRR@k       = 1 / rank of the first relevant item in top_k (0 when there is none)
* nDCG@k      = DCG@k / IDCG@k, DCG@k = Σ_{r=1..k} [item_r ∈ R] / log₂(r + 1), IDCG@k the DCG of a
  list with all of R first, Σ_{r=1..min(k, |R|)} 1 / log₂(r + 1) (Järvelin & Kekäläinen,
  "Cumulated gain-based evaluation of IR techniques", TOIS 2002, with binary gains)

and, for scores of labelled pairs (a click model's), the area under the ROC curve:

* AUC = P(s⁺ > s⁻) + ½ P(s⁺ = s⁻) over all (positive, negative) pairs — the Mann–Whitney U
  statistic divided by n⁺·n⁻ (Hanley & McNeil, Radiology 1982).

``tests/metrics/test_ranking_against_sklearn.py`` checks nDCG@k and AUC against scikit-learn's
``ndcg_score`` (on whole rankings without tied scores, which it averages over) and
``roc_auc_score``.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
from scipy import stats

Ranked = Sequence[Sequence[str]]
Relevant = Sequence[set]


def _per_user(ranked: Ranked, relevant: Relevant, k: int, score: Callable[[Sequence[str], set], float]) -> float:
    if len(ranked) != len(relevant):
        raise ValueError(f"{len(ranked)} ranked lists for {len(relevant)} relevant sets")
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    values = [score(list(items)[:k], rel) for items, rel in zip(ranked, relevant) if rel]
    if not values:
        raise ValueError("no user has a relevant item")
    return float(np.mean(values))


def precision_at_k(ranked: Ranked, relevant: Relevant, k: int) -> float:
    """Mean over users of ``|top_k ∩ R| / k``."""
    return _per_user(ranked, relevant, k, lambda top, rel: sum(i in rel for i in top) / k)


def recall_at_k(ranked: Ranked, relevant: Relevant, k: int) -> float:
    """Mean over users of ``|top_k ∩ R| / |R|``."""
    return _per_user(ranked, relevant, k, lambda top, rel: sum(i in rel for i in top) / len(rel))


def hit_rate_at_k(ranked: Ranked, relevant: Relevant, k: int) -> float:
    """Share of users with at least one relevant item in their top k."""
    return _per_user(ranked, relevant, k, lambda top, rel: float(any(i in rel for i in top)))


def mrr_at_k(ranked: Ranked, relevant: Relevant, k: int) -> float:
    """Mean over users of ``1 / rank`` of the first relevant item in the top k (0 without one)."""
    def reciprocal(top, rel):
        return next((1.0 / r for r, item in enumerate(top, start=1) if item in rel), 0.0)
    return _per_user(ranked, relevant, k, reciprocal)


def ndcg_at_k(ranked: Ranked, relevant: Relevant, k: int) -> float:
    """Mean over users of ``DCG@k / IDCG@k`` with binary gains and a ``log₂(rank + 1)`` discount."""
    def ndcg(top, rel):
        dcg = sum(1.0 / math.log2(r + 1) for r, item in enumerate(top, start=1) if item in rel)
        ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(k, len(rel)) + 1))
        return dcg / ideal
    return _per_user(ranked, relevant, k, ndcg)


def roc_auc(scores, labels) -> float:
    """``P(s⁺ > s⁻) + ½ P(s⁺ = s⁻)`` over positive/negative pairs, from the ranks of the scores
    (ties get their average rank): ``(Σ ranks of positives − n⁺(n⁺ + 1)/2) / (n⁺ n⁻)``."""
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels).astype(bool)
    if scores.shape != labels.shape or scores.ndim != 1:
        raise ValueError("scores and labels must be 1-d arrays of the same length")
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if positives == 0 or negatives == 0:
        raise ValueError("AUC needs at least one positive and one negative")
    ranks = stats.rankdata(scores)
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


RANKING_METRICS = {"precision": precision_at_k, "recall": recall_at_k, "hr": hit_rate_at_k, "mrr": mrr_at_k,
                   "ndcg": ndcg_at_k}
