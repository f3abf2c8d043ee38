"""One suite over every registered rating model (the contract every model keeps)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.conftest import with_numbered_ids
from whyrec.bundle import load_bundle, save_bundle
from whyrec.data import ratio_split
from whyrec.errors import ConfigError, WhyrecError
from whyrec.metrics.rating import rmse
from whyrec.rating import RATING_MODELS, NotFittedError, make_model


@pytest.fixture(scope="module")
def planted_split():
    from whyrec.data.synthetic import make_planted_corpus

    return ratio_split(make_planted_corpus(n_users=150, n_items=60, reviews_per_user=12, seed=5).corpus, seed=0)


@pytest.mark.parametrize("name", sorted(RATING_MODELS))
def test_fit_returns_self_and_predicts_in_scale(name, planted_split):
    model = make_model(name)
    assert model.fit(planted_split.train, planted_split.valid) is model
    pred = model.predict(planted_split.test.users, planted_split.test.items)
    assert pred.shape == (len(planted_split.test),)
    assert pred.min() >= 1.0 and pred.max() <= 5.0


@pytest.mark.parametrize("name", sorted(RATING_MODELS))
def test_seeded_determinism(name, planted_split):
    a = make_model(name).fit(planted_split.train, planted_split.valid).predict_corpus(planted_split.test)
    b = make_model(name).fit(planted_split.train, planted_split.valid).predict_corpus(planted_split.test)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", sorted(RATING_MODELS))
def test_save_load_same_predictions(name, planted_split, tmp_path):
    model = make_model(name).fit(planted_split.train, planted_split.valid)
    save_bundle(model, tmp_path / name)
    again = load_bundle(tmp_path / name)
    assert type(again) is type(model) and again.get_params() == model.get_params()
    users = list(planted_split.test.users) + ["nobody"]
    items = list(planted_split.test.items) + ["nothing"]
    np.testing.assert_array_equal(model.predict(users, items), again.predict(users, items))


@pytest.mark.parametrize("name", sorted(set(RATING_MODELS) - {"global-average"}))
def test_beats_global_average_on_planted_corpus(name, planted_split):
    test = planted_split.test
    base = rmse(make_model("global-average").fit(planted_split.train).predict_corpus(test), test.ratings)
    got = rmse(make_model(name).fit(planted_split.train, planted_split.valid).predict_corpus(test), test.ratings)
    assert got < base - 0.05


@pytest.mark.parametrize("name", sorted(RATING_MODELS))
def test_unknown_users_and_items_fall_back(name, planted_split):
    model = make_model(name).fit(planted_split.train)
    item = planted_split.train.items[0]
    both_unknown = model.predict(["nobody"], ["nothing"])[0]
    assert both_unknown == pytest.approx(np.clip(model.global_mean, 1, 5))
    cold_user = model.predict(["nobody"], [item])[0]
    expected = model.global_mean + (model.item_bias[model.item_map.index(item)] if len(model.item_bias) else 0.0)
    assert cold_user == pytest.approx(np.clip(expected, 1, 5))


@pytest.mark.parametrize("name", sorted(RATING_MODELS))
def test_one_string_is_not_a_list_of_ids(name, planted_split):
    model = make_model(name).fit(planted_split.train)
    user, item = planted_split.train.users[0], planted_split.train.items[0]
    with pytest.raises(WhyrecError, match=f"{name}: predict: users must be a list of ids, not one string"):
        model.predict(user, [item])  # iterated, "u12" was three users: 'u', '1', '2'
    with pytest.raises(WhyrecError, match=r"as many users as items \(2 != 1\)"):
        model.predict([user, user], [item])
    assert model.predict((u for u in [user]), iter([item])).shape == (1,)  # any iterable of ids is fine


def test_predict_before_fit_and_bad_params():
    with pytest.raises(NotFittedError):
        make_model("biased-mf").predict(["a"], ["b"])
    with pytest.raises(ConfigError, match="unknown parameter"):
        make_model("biased-mf", factor=3)
    with pytest.raises(ConfigError, match="unknown rating model"):
        make_model("svd++")
    with pytest.raises(ConfigError, match=r"unknown rating model 'pfm' \(did you mean 'pmf'\?\); known: "):
        make_model("pfm")
    # each refusal names the setting and the value it got (it had been "factors and iterations must be positive")
    with pytest.raises(ConfigError, match=r"^context-als: lambda_u must be greater than 0, got 0\.0$"):
        make_model("context-als", lambda_u=0)
    with pytest.raises(ConfigError, match="^context-als: iterations must be at least 1, got 0$"):
        make_model("context-als", iterations=0)
    with pytest.raises(ConfigError, match="^pmf: factors must be at least 1, got 0$"):
        make_model("pmf", factors=0)
    with pytest.raises(ConfigError, match="^biased-mf: batch_size must be at least 1, got 0$"):
        make_model("biased-mf", batch_size=0)
    with pytest.raises(ConfigError, match="pmf: factors must be a whole number, got 'x'"):
        make_model("pmf", factors="x")
    with pytest.raises(ConfigError, match="context-als: use_biases must be true or false, got 1"):
        make_model("context-als", use_biases=1)
    assert make_model("pmf", lambda_u=3).lambda_u == 3.0  # an int where a float is wanted is fine
    # settings that train nothing or diverge (biased-mf took lr=0 and reg=-1 and "trained")
    for name, bad, says in (("biased-mf", {"lr": 0}, "lr must be greater than 0"),
                            ("biased-mf", {"lr": float("nan")}, "lr must be a finite number"),
                            ("biased-mf", {"reg": -1}, "reg must be at least 0, got -1"),
                            ("biased-mf", {"patience": -1}, "patience must be at least 0, got -1"),
                            ("context-als", {"lambda_v": float("inf")}, "lambda_v must be a finite number"),
                            ("pmf", {"init_std": -0.1}, "init_std must be at least 0"),
                            ("bias-baseline", {"reg_item": -2}, "reg_item must be at least 0, got -2"),
                            ("bias-baseline", {"iterations": 0}, "iterations must be at least 1")):
        with pytest.raises(ConfigError, match=f"{name}: {says}"):
            make_model(name, **bad)
    for cls, bad in ((RATING_MODELS["context-als"], {"lambda_v": float("nan")}),  # built directly: no type check
                     (RATING_MODELS["context-als"], {"lambda_bias": float("inf")}),
                     (RATING_MODELS["biased-mf"], {"reg": float("nan")}),
                     (RATING_MODELS["pmf"], {"init_std": float("-inf")}),
                     (RATING_MODELS["bias-baseline"], {"reg_user": float("nan")})):
        (name, value), = bad.items()  # the words make_model's type check uses, not "at least 0, got nan"
        with pytest.raises(ValueError, match=f"^{name} must be a finite number, got {value}$"):
            cls(**bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_a_gpu_the_machine_lacks_is_refused_when_fitting(planted_split):
    model = make_model("context-als", device="cuda")  # a bundle trained on a GPU still loads
    with pytest.raises(ConfigError, match="sees no CUDA GPU"):
        model.fit(planted_split.train)


@pytest.mark.parametrize("name", sorted(RATING_MODELS))
def test_predict_is_the_score_clipped_to_the_scale(name, planted_split):
    model = make_model(name)
    with pytest.raises(NotFittedError):
        model.predict_unclipped(["u"], ["i"])
    model.fit(planted_split.train, planted_split.valid)
    users = list(planted_split.test.users) + ["nobody"]
    items = list(planted_split.test.items) + ["nothing"]
    np.testing.assert_array_equal(model.predict(users, items), np.clip(model.predict_unclipped(users, items), 1.0, 5.0))


def test_scores_past_the_scale_keep_their_order_where_predictions_tie(planted_split):
    model = make_model("bias-baseline").fit(planted_split.train)
    first, second = model.item_map.ids[:2]
    model.item_bias = model.item_bias.copy()
    model.item_bias[:2] = 10.0, 11.0  # both far past 5
    user = model.user_map.ids[0]
    assert list(model.predict([user, user], [first, second])) == [5.0, 5.0]
    low, high = model.predict_unclipped([user, user], [first, second])
    assert high - low == pytest.approx(1.0) and low > 5


@pytest.mark.parametrize("name", sorted(RATING_MODELS))
def test_integer_ids_of_a_frame_are_looked_up_by_their_text(name):
    """Readers keep ids as text, so a DataFrame's integer ids become "0", "1", ...; asking with the
    frame's own integer column (numpy ints, or floats of whole numbers) must find them, not answer
    every pair as a cold start."""
    from whyrec.data import corpus_from_frame
    from whyrec.data.synthetic import make_planted_corpus

    frame = with_numbered_ids(make_planted_corpus(n_users=60, n_items=30, reviews_per_user=10, seed=2).corpus.reviews)
    model = make_model(name).fit(corpus_from_frame(frame))
    users, items = frame["user"].to_numpy()[:20], frame["item"].to_numpy()[:20]
    by_text = model.predict([str(u) for u in users], [str(i) for i in items])
    np.testing.assert_array_equal(model.predict(users, items), by_text)
    np.testing.assert_array_equal(model.predict(list(map(int, users)), list(map(int, items))), by_text)
    # a column with a gap is read as floats (7.0): looked up as "7", as the readers keep it
    np.testing.assert_array_equal(model.predict(users.astype(float), items.astype(float)), by_text)
    assert int(users[0]) in model.user_map
    if name != "global-average":  # the cold-start answer differs from the known pairs'
        assert not np.allclose(by_text, model.predict(["nobody"] * 20, ["nothing"] * 20))


@pytest.mark.parametrize("name", sorted(RATING_MODELS))
def test_a_users_item_scores_and_the_embeddings_match_the_fitted_model(name, planted_split):
    """score_items: one user's predictions of every item (or the given ones) in one call; the
    user/item embeddings (what an explainer or surrogate is fed): a row per known id."""
    model = make_model(name).fit(planted_split.train)
    user = planted_split.train.users[0]
    items, scores = model.score_items(user)
    assert items == model.item_map.ids
    np.testing.assert_array_equal(scores, model.predict([user] * len(items), items))
    some = [model.item_map.ids[3], "never-seen"]
    assert model.score_items(user, some)[0] == some
    np.testing.assert_array_equal(model.score_items(user, some)[1], model.predict([user, user], some))
    users, items_ = model.user_embeddings(), model.item_embeddings()
    assert users.shape[0] in (0, len(model.user_map)) and items_.shape[0] in (0, len(model.item_map))
    assert users.ndim == items_.ndim == 2 and users.shape[1] == items_.shape[1]  # none for bias-only models
    with pytest.raises(NotFittedError):
        make_model(name).user_embeddings()
    assert repr(make_model(name)).startswith(type(model).__name__ + "(")


@pytest.mark.parametrize("name", sorted(RATING_MODELS))
def test_fitting_on_no_ratings_is_refused_by_name(name, planted_split):
    with pytest.raises(WhyrecError, match=f"{name}: the training data is empty"):
        make_model(name).fit(planted_split.train.take([]))


def test_sgd_that_diverges_says_which_setting_to_lower(planted_split):
    """biased-mf at lr=100: NaN factors were a ValueError from the validation RMSE."""
    from whyrec.errors import DivergedError

    with pytest.raises(DivergedError, match=r"biased-mf: training diverged in epoch 1 \(the training error became "
                                            r"NaN or infinite\); lower lr \(now 100\) and train again"):
        make_model("biased-mf", lr=100.0, epochs=3).fit(planted_split.train, planted_split.valid)



def test_biased_mf_names_the_epoch_it_keeps_and_holds_its_factors(planted_split):
    """Early stopping keeps the best epoch: the held model scores that epoch's validation RMSE,
    whatever later epochs scored (a large lr makes the validation RMSE rise again)."""
    from whyrec.rating.base import validation_rmse

    model = make_model("biased-mf", lr=0.2, epochs=30, patience=3).fit(planted_split.train, planted_split.valid)
    (kept,) = model.kept_epochs()
    scores = [r["valid_rmse"] for r in model.history]
    assert kept["epoch"] == int(np.argmin(scores)) + 1 < len(scores) and kept["by"] == "lowest validation RMSE"
    assert validation_rmse(model, planted_split.valid) == pytest.approx(scores[kept["epoch"] - 1], abs=1e-12)
    assert make_model("biased-mf").kept_epochs() == []


def test_validation_rmse_is_of_the_clipped_predictions_from_one_record_up(planted_split):
    """None without validation records; otherwise the RMSE of the predictions clipped to the scale."""
    from whyrec.rating.base import validation_rmse

    model = make_model("context-als", iterations=2).fit(planted_split.train)
    assert validation_rmse(model, None) is None and validation_rmse(model, planted_split.valid.take([])) is None
    for rows in ([0], [0, 1, 2]):
        part = planted_split.valid.take(rows)
        assert validation_rmse(model, part) == pytest.approx(rmse(model.predict_corpus(part), part.ratings), abs=1e-12)
