"""A predicted ALS rating split over the user's past ratings: exact when the user side is solved
against the final item side, and always adding up to the prediction."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import with_numbered_ids
from whyrec.data import ratio_split
from whyrec.errors import UnknownIdError
from whyrec.rating import PMF, ContextAwareALS
from whyrec.rating.attribution import attribute_rating


def _resolve_users(model) -> None:
    """One more user solve against the final items, as the attribution's formula assumes."""
    model._U, model._bu = model._solve_side(model._u, model._i, model._resid, len(model.user_map), model._V,
                                            model._bi, model._prior_u, model._prior_bu, model._n_u, model.lambda_u)
    model.user_factors = model._U.numpy()
    model.user_bias = model._bu.numpy() if model.use_biases else np.zeros(0)


def _history(corpus, user):
    rows = [n for n, u in enumerate(corpus.users) if u == user]
    return [corpus.items[n] for n in rows], corpus.ratings[rows]


@pytest.mark.parametrize("model", [ContextAwareALS(factors=4, iterations=3),
                                   ContextAwareALS(factors=3, iterations=2, weighted_reg=True, lambda_u=0.5),
                                   PMF(factors=4, iterations=3),
                                   ContextAwareALS(factors=3, iterations=2, use_biases=False, center=False)],
                         ids=["biases", "weighted", "pmf", "raw"])
def test_past_ratings_account_for_the_whole_prediction_without_priors(planted, model):
    train = ratio_split(planted.corpus, seed=0).train
    model.fit(train)
    _resolve_users(model)
    for user in train.users[:5]:
        items, ratings = _history(train, user)
        for item in (items[0], train.items[-1]):
            a = attribute_rating(model, user, item, items, ratings)
            assert a.predicted == pytest.approx(float(model._score(model.user_map.lookup([user]),
                                                                   model.item_map.lookup([item]))[0]))
            assert a.rest == pytest.approx(0.0, abs=1e-9)  # nothing left over: the ratings explain it all
            assert a.baseline + sum(c for _, _, c in a.contributions) == pytest.approx(a.predicted)
            # the baseline is named for what it is: PMF has no item bias, only the mean rating
            i = model.item_map.lookup([item])[0]
            expected = {"item": model.global_mean + model.item_bias[i] if model.use_biases else None,
                        "mean": model.global_mean, "none": 0.0}
            assert a.baseline_of == ("item" if model.use_biases else "mean" if model.center else "none")
            assert a.baseline == pytest.approx(expected[a.baseline_of])
            sizes = [abs(c) for _, _, c in a.contributions]
            assert sizes == sorted(sizes, reverse=True) and len(a.top(2)) == min(2, len(items))


def test_a_text_prior_shows_as_the_rest_and_bad_ids_are_refused(planted):
    from whyrec.rating.als import TextPriors

    train = ratio_split(planted.corpus, seed=0).train
    users = train.user_ids()
    prior = TextPriors(users, np.full((len(users), 4), 0.3))
    model = ContextAwareALS(factors=4, iterations=3).fit(train, user_priors=prior)
    _resolve_users(model)
    user = train.users[0]
    items, ratings = _history(train, user)
    a = attribute_rating(model, user, train.items[-1], items, ratings)
    assert abs(a.rest) > 1e-6  # the prior's pull is not a past rating's
    assert a.baseline + sum(c for _, _, c in a.contributions) + a.rest == pytest.approx(a.predicted)
    with pytest.raises(UnknownIdError, match="unknown item"):
        attribute_rating(model, user, "nothing", items, ratings)
    with pytest.raises(UnknownIdError, match="new user"):
        attribute_rating(model, "someone-new", items[0], items, ratings)


def test_ids_given_as_numbers_are_named_as_they_were_looked_up(planted):
    """7.0 finds item "7" (IdMap.lookup reads it by as_id); the attribution named it "7.0", an id
    the model does not know."""
    from whyrec.data import corpus_from_frame

    train = corpus_from_frame(with_numbered_ids(planted.corpus.reviews))
    model = ContextAwareALS(factors=3, iterations=2).fit(train)
    user = train.users[0]
    items, ratings = _history(train, user)
    by_text = attribute_rating(model, user, items[-1], items, ratings)
    by_number = attribute_rating(model, float(user), float(items[-1]), [float(i) for i in items], ratings)
    assert (by_number.user, by_number.item) == (user, items[-1]) and by_number.item in model.item_map
    assert by_number.contributions == by_text.contributions and by_number.predicted == by_text.predicted


def test_past_ratings_are_refused_unless_one_rating_per_item_and_the_first_ids_taken(planted):
    from whyrec.errors import WhyrecError
    from whyrec.rating.attribution import attribute_ratings

    train = ratio_split(planted.corpus, seed=0).train
    model = ContextAwareALS(factors=3, iterations=2).fit(train)
    user = train.users[0]
    items, ratings = _history(train, user)
    for past, rated in ((items, ratings[:-1]), ([], [])):
        with pytest.raises(WhyrecError, match="needs at least one past rating, as many items as ratings"):
            attribute_rating(model, user, items[0], past, rated)
    with pytest.raises(WhyrecError, match="name items the model does not know"):
        attribute_rating(model, user, items[0], [*items, "nothing"], [*ratings, 4.0])
    first_item = model.item_map.ids[0]  # the item and the user at index 0 are known ones
    first_user = model.user_map.ids[0]
    for asked in ([first_item, "nothing"], ["nothing", first_item]):  # the unknown one named, wherever it is
        with pytest.raises(UnknownIdError, match="unknown item 'nothing'"):
            attribute_ratings(model, user, asked, items, ratings)
    past = [i for u, i in zip(train.users, train.items) if u == first_user]
    a = attribute_rating(model, first_user, first_item, [first_item, *past], [3.0] + [4.0] * len(past))
    assert len(past) >= 3 and len(a.contributions) == len(past) + 1
    assert a.top() == a.contributions[:3]  # three by default
