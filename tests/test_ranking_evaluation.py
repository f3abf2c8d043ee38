"""Top-k lists: ranked by the unclipped score, ties broken at random, relevance by the scale."""

import numpy as np

from whyrec.data import ratio_split
from whyrec.rating import BiasBaseline, GlobalAverage


def test_items_are_ranked_by_score_not_by_the_clipped_rating(planted):
    """Items predicted past 5 tie once clipped; the ranking keeps the model's order of them."""
    from whyrec.ranking_evaluation import top_k_lists

    split = ratio_split(planted.corpus, seed=0)
    model = BiasBaseline().fit(split.train)
    model.item_bias = np.zeros_like(model.item_bias)
    model.item_bias[:3] = 8.0, 9.0, 10.0  # the first three items, all past 5, in reverse order
    users, ranked, _ = top_k_lists(model, split, 3)
    seen = {(u, i) for u, i in zip(split.train.users, split.train.items)}
    for user, top in zip(users, ranked):
        expected = [i for i in reversed(model.item_map.ids[:3]) if (user, i) not in seen]
        assert top[:len(expected)] == expected


def test_ties_are_broken_at_random_not_in_the_catalogues_order():
    """A model that predicts one rating for every item ranked the catalogue in its item order
    (first appearance in train), so its hit rate was that order's. Here the first item is every
    user's test item: in item order, a hit at 1 for all 40 users; at random, about 1 in 10."""
    import pandas as pd

    from whyrec.data import Split, corpus_from_frame
    from whyrec.metrics.ranking import hit_rate_at_k
    from whyrec.ranking_evaluation import top_k_lists

    rows = [("first-rater", "i0", 3.0)] + [(f"u{u}", f"i{i}", 4.0) for u in range(40) for i in (1 + u % 10,)]
    train = corpus_from_frame(pd.DataFrame(rows, columns=["user", "item", "rating"]).assign(text="fine"))
    test = corpus_from_frame(pd.DataFrame({"user": [f"u{u}" for u in range(40)], "item": "i0", "rating": 5.0,
                                           "text": "fine"}))
    split = Split(train, train.take(np.array([], dtype=int)), test)
    model = GlobalAverage().fit(split.train)
    assert model.item_map.ids[0] == "i0"
    users, ranked, relevant = top_k_lists(model, split, 1)
    assert 0 < hit_rate_at_k(ranked, relevant, 1) < 0.4  # chance: 1/10 (each user rated one of the 11 items)
    assert len({tuple(top) for top in ranked}) > 5  # each user's own draw, not one list for all
    assert top_k_lists(model, split, 1) == (users, ranked, relevant)  # seeded: the same lists again
    assert top_k_lists(model, split, 1, seed=1)[1] != ranked


def test_the_default_relevance_threshold_follows_the_scale():
    from whyrec.ranking_evaluation import relevance_threshold

    assert relevance_threshold((1.0, 5.0)) == 4.0 and relevance_threshold((0.0, 10.0)) == 7.5
    assert relevance_threshold((0.5, 5.0)) == 3.875


def test_a_test_rating_exactly_at_the_threshold_is_relevant_and_chunking_changes_nothing(planted):
    from whyrec.ranking_evaluation import top_k_lists

    split = ratio_split(planted.corpus, seed=0)
    model = BiasBaseline().fit(split.train)
    users, ranked, relevant = top_k_lists(model, split, 5)
    fours = {(u, i) for u, i, r in zip(split.test.users, split.test.items, split.test.ratings) if r == 4}
    assert fours and all(i in relevant[users.index(u)] for u, i in fours)  # 4 on 1–5 is relevant
    # one user per predict call: the same lists (each user's tie-break draw is taken in order)
    assert top_k_lists(model, split, 5, pairs_per_call=1) == (users, ranked, relevant)


def test_a_list_as_long_as_the_catalogue_is_said_to_hold_it_all():
    from whyrec.ranking_evaluation import whole_list_note

    assert whole_list_note(9, 10) is None
    for k in (10, 11):
        assert whole_list_note(k, 10).startswith(f"top {k}: no fewer than the 10 items the model knows")
