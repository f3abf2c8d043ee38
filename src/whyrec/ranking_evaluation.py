"""Top-k evaluation of a rating model: each test user's k best-predicted items among those they
did not rate in train (ties broken at random, the same for every model), scored by the ranking
metrics of :mod:`whyrec.metrics.ranking` against the test items they rated highly."""

from __future__ import annotations

import numpy as np

from whyrec.data.split import Split
from whyrec.errors import ConfigError, DataError
from whyrec.metrics.ranking import RANKING_METRICS


def top_k_lists(model, split: Split, k: int, relevant_at: float | None = None,
                pairs_per_call: int = 2_000_000, seed: int = 0) -> tuple[list[str], list[list[str]], list[set]]:
    """(users, ranked, relevant) for the ranking metrics: for every test user with a test item rated at
    least ``relevant_at``, the k items with the highest predicted rating among those the model
    knows and the user did not rate in train, and the set of those test items. Items are ranked
    by the model's ``predict_unclipped`` (its rating before clipping, so that items predicted past
    the top of the scale do not tie; ``predict`` for a model without one). Ties are broken in a
    random order drawn per user from ``seed`` — the same order for every model scored on the
    split — not in the catalogue's item order, which can carry signal (order of first appearance
    follows popularity and time): a model that predicts one rating for all (the global average)
    then ranks as chance does, rather than as that order does. Users without such an item are
    left out; none at all is a :class:`DataError`. About ``pairs_per_call`` (user, item) pairs
    are scored at a time.
    ``relevant_at`` defaults to :func:`relevance_threshold` of the test part's scale (4 on 1–5)."""
    check_top_k(k)
    test, train = split.test, split.train
    if relevant_at is None:
        relevant_at = relevance_threshold(test.rating_scale)
    relevant: dict[str, set] = {}
    for user, item, rating in zip(test.users, test.items, test.ratings):
        if rating >= relevant_at:
            relevant.setdefault(user, set()).add(item)
    if not relevant:
        raise DataError(f"split {split.name}: no test rating reaches {relevant_at:g}, so nothing is relevant")
    seen: dict[str, set] = {}
    for user, item in zip(train.users, train.items):
        seen.setdefault(user, set()).add(item)
    items = list(model.item_map.ids)
    column = {item: n for n, item in enumerate(items)}
    score = getattr(model, "predict_unclipped", model.predict)
    users, ranked = list(relevant), []
    per_call = max(1, pairs_per_call // max(len(items), 1))  # users scored per predict call
    tie_break = np.random.default_rng(seed)  # one draw per user, in order: the same however users are chunked
    for start in range(0, len(users), per_call):
        chunk = users[start:start + per_call]
        scores = np.asarray(score(np.repeat(chunk, len(items)).tolist(), items * len(chunk)),
                            dtype=np.float64).reshape(len(chunk), len(items))
        for row, user in zip(scores, chunk):
            row[[column[i] for i in seen.get(user, ()) if i in column]] = -np.inf
            order = np.lexsort((tie_break.random(len(items)), -row))[:k]  # by score, then the random keys
            ranked.append([items[n] for n in order if np.isfinite(row[n])])
    return users, ranked, list(relevant.values())


def relevance_threshold(scale: tuple[float, float]) -> float:
    """The rating from which a test item counts as relevant by default: three quarters of the way
    up the scale, ``low + 0.75·(high − low)`` — 4 on 1–5 (the usual "rated 4 or 5"), 7.5 on 0–10."""
    low, high = scale
    return low + 0.75 * (high - low)


def ranking_scores(model, split: Split, k: int, relevant_at: float | None = None) -> tuple[int, dict[str, float]]:
    """Every ranking metric of :mod:`whyrec.metrics.ranking` at ``k`` over the lists of
    :func:`top_k_lists`: (the number of test users ranked, {metric name: value})."""
    users, ranked, relevant = top_k_lists(model, split, k, relevant_at)
    return len(users), {name: metric(ranked, relevant, k) for name, metric in RANKING_METRICS.items()}


def whole_list_note(k: int, items: int) -> str | None:
    """What a top-``k`` list means when the model knows no more than ``k`` items (None when it knows
    more): each list then holds all of a user's unrated items, so precision divides by more places
    than a list can fill and only the order-aware metrics (MRR, nDCG) tell models apart."""
    from whyrec.wording import counted

    if k < items:
        return None
    return (f"top {k}: no fewer than the {counted(items, 'item')} the model knows, so each list holds all of a "
            "user's unrated ones; only mrr and ndcg then depend on the order")


def check_top_k(k: int) -> None:
    """Refuse a list length below 1 (``Experiment(top_k=…)`` checks it before fitting anything)."""
    if k < 1:
        raise ConfigError(f"top_k must be at least 1, not {k}")
