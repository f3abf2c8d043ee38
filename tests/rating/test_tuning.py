"""TunedModel: settings picked on validation over a grid (RMSE, MAE or a ranking metric), never on test."""

from __future__ import annotations

import json

import numpy as np
import pytest

from whyrec.bundle import describe_bundle, load_bundle, read_bundle_header, save_bundle
from whyrec.data import ratio_split
from whyrec.errors import ConfigError, DataError, NotFittedError
from whyrec.experiment import Experiment, models_from_specs
from whyrec.metrics.rating import rmse
from whyrec.rating import BiasBaseline, make_model
from whyrec.rating.base import validation_rmse
from whyrec.rating.tuning import TunedModel, describe_tuning, grid_values, model_or_tuned


@pytest.fixture(scope="module")
def split():
    from whyrec.data.synthetic import make_planted_corpus

    return ratio_split(make_planted_corpus(n_users=120, n_items=50, reviews_per_user=10, seed=3).corpus, seed=0)


def test_grid_values_reads_each_value_as_json():
    assert grid_values("4|8|16") == [4, 8, 16]
    assert grid_values("0.1| 1 |true|ab") == [0.1, 1, True, "ab"]
    assert grid_values(8) == [8]
    with pytest.raises(ConfigError, match="empty value"):
        grid_values("4||8")


def test_picks_the_lowest_validation_rmse_and_predicts_with_it(split):
    grid = {"reg_user": [0.01, 3.0, 300.0], "reg_item": [0.01, 3.0]}
    tuned = TunedModel("bias-baseline", grid).fit(split.train, split.valid)
    # the same search by hand
    scores = {(a, b): validation_rmse(BiasBaseline(reg_user=a, reg_item=b).fit(split.train, split.valid), split.valid)
              for a in grid["reg_user"] for b in grid["reg_item"]}
    best = min(scores, key=scores.get)
    assert tuned.chosen == {"reg_user": best[0], "reg_item": best[1]}
    assert [t.score for t in tuned.trials] == pytest.approx(list(scores.values()))
    expected = BiasBaseline(reg_user=best[0], reg_item=best[1]).fit(split.train, split.valid)
    np.testing.assert_array_equal(tuned.predict_corpus(split.test), expected.predict_corpus(split.test))
    np.testing.assert_array_equal(tuned.predict_unclipped(split.test.users, split.test.items),
                                  expected.predict_unclipped(split.test.users, split.test.items))
    assert tuned.user_map.ids == expected.user_map.ids  # the rest is the chosen model's
    user = split.test.users[0]  # the service ranks a user's items by score_items: the chosen model's too
    for items in (None, list(split.test.items[:3])):
        mine, theirs = tuned.score_items(user, items), expected.score_items(user, items)
        assert mine[0] == theirs[0] and np.array_equal(mine[1], theirs[1])
    # a grid that holds the best value beats its worst corner on validation
    assert min(scores.values()) < max(scores.values())


def test_reports_choices_at_the_grid_edge(split):
    tuned = TunedModel("bias-baseline", {"reg_user": [1e-6, 2e-6], "reg_item": [5.0], "iterations": [10]})
    tuned.fit(split.train, split.valid)
    edge = tuned.at_edge()
    assert "reg_user" in edge and edge["reg_user"] == tuned.chosen["reg_user"]  # both values are ends
    assert "reg_item" not in edge and "iterations" not in edge  # one value: no edge
    middle = TunedModel("bias-baseline", {"reg_user": [0.0, 3.0, 1e6]}).fit(split.train, split.valid)
    assert middle.chosen == {"reg_user": 3.0} and middle.at_edge() == {}  # no shrinkage and all of it lose


def test_bad_grids_fail_before_fitting():
    with pytest.raises(ConfigError, match="factors"):
        TunedModel("pmf", {"factors": [4, "x"]})
    with pytest.raises(ConfigError, match="repeats"):
        TunedModel("pmf", {"factors": [4, 4]})
    with pytest.raises(ConfigError, match="no values"):
        TunedModel("pmf", {"factors": []})
    with pytest.raises(ConfigError, match="combinations"):
        TunedModel("pmf", {"factors": list(range(1, 41)), "lambda_u": list(range(1, 41))})
    with pytest.raises(ConfigError, match="unknown rating model"):
        TunedModel("pfm", {"factors": [4, 8]})


def test_needs_validation_data_and_a_fit(split):
    tuned = TunedModel("pmf", {"factors": [2, 4]})
    with pytest.raises(NotFittedError):
        tuned.predict(["u"], ["i"])
    with pytest.raises(NotFittedError, match="before scoring items"):
        tuned.score_items("u")
    with pytest.raises(AttributeError):
        tuned.user_map
    with pytest.raises(ConfigError, match="validation"):
        tuned.fit(split.train, None)


def test_model_or_tuned_and_specs():
    assert isinstance(model_or_tuned("pmf", {"factors": 4}), type(make_model("pmf")))
    tuned = model_or_tuned("pmf", {"factors": "2|4", "lambda_u": 0.5})
    assert isinstance(tuned, TunedModel) and tuned.grid == {"factors": [2, 4], "lambda_u": [0.5]}
    models = models_from_specs(["pmf:factors=2|4"])
    assert isinstance(models["pmf:factors=2|4"], TunedModel)


def test_experiment_records_each_split_choice(split, tmp_path):
    from whyrec.data import kfold_splits

    folds = kfold_splits(split.train, 2, seed=0, valid_share=0.1)
    table = Experiment(folds, {"bias": BiasBaseline(), "pmf:factors=2|4": TunedModel("pmf", {"factors": [2, 4]})}).run()
    notes = table.tuning_notes()
    assert len(notes) == 2 and all(n.startswith("pmf:factors=2|4, split ") for n in notes)
    saved = json.loads((table.save(tmp_path) / "results.json").read_text())
    folds_saved = saved["systems"][1]["folds"]
    assert [f["tuning"]["chosen"]["factors"] in (2, 4) for f in folds_saved] == [True, True]
    markdown = (tmp_path / "results.md").read_text()
    assert "| pmf:factors=2\\|4 |" in markdown  # a grid's | does not split the cell
    assert "Settings picked on validation:" in markdown


def test_experiment_refuses_a_split_without_validation(split):
    from whyrec.data.split import Split

    bare = Split(split.train, split.valid.take(np.arange(0)), split.test, "bare")
    with pytest.raises(DataError, match="no validation records"):
        Experiment(bare, {"pmf:factors=2|4": TunedModel("pmf", {"factors": [2, 4]})}).run()


def test_bundle_keeps_the_chosen_model_and_the_tuning(split, tmp_path):
    tuned = TunedModel("pmf", {"factors": [2, 4], "lambda_u": [0.5, 5.0]}).fit(split.train, split.valid)
    save_bundle(tuned, tmp_path / "b")
    again = load_bundle(tmp_path / "b")
    assert again.get_params() == tuned.best.get_params()
    np.testing.assert_array_equal(again.predict_corpus(split.test), tuned.predict_corpus(split.test))
    assert read_bundle_header(tmp_path / "b")["tuning"]["chosen"] == tuned.chosen
    described = describe_bundle(tmp_path / "b")
    assert described["tuning"]["chosen"] == tuned.chosen
    line = describe_tuning(described["tuning"])
    assert "best of 4 combinations" in line and "validation RMSE" in line
    assert rmse(again.predict_corpus(split.valid), split.valid.ratings) == pytest.approx(
        described["tuning"]["valid_score"])


def test_describe_tuning_tolerates_a_hand_edited_record():
    assert describe_tuning({}) == "? (best of 0 combinations)"
    assert describe_tuning({"grid": {"factors": [2, 4]}, "chosen": {"factors": 4}, "at_edge": {"factors": 4}}) == (
        "factors=4 (best of 0 combinations); at the grid's edge: factors=4")


def test_fit_reports_each_combination_before_fitting_it(split):
    seen = []
    TunedModel("pmf", {"factors": [2, 4], "lambda_u": [1.0]}).fit(
        split.train, split.valid, on_trial=lambda k, n, params: seen.append((k, n, params)))
    assert seen == [(1, 2, {"factors": 2, "lambda_u": 1.0}), (2, 2, {"factors": 4, "lambda_u": 1.0})]
    lines, steps = [], []
    Experiment(split, {"pmf": TunedModel("pmf", {"factors": [2, 4]})}, on_progress=lines.append,
               on_step=steps.append).run()
    assert lines == ["fold 1/1 · pmf"] and steps == [f"fold 1/1 · pmf · combination {k}/2" for k in (1, 2)]


def test_the_picking_metric_is_rmse_mae_or_a_ranking_metric_at_k():
    from whyrec.rating.tuning import tuning_metric

    assert tuning_metric("rmse") == ("rmse", None) and tuning_metric("MAE") == ("mae", None)
    assert tuning_metric("ndcg@10") == ("ndcg", 10) and tuning_metric("recall@3") == ("recall", 3)
    for bad in ("ndcg", "rmse@10", "ndcg@0", "ndcg@x", "auc"):
        with pytest.raises(ConfigError, match="cannot tune on"):
            TunedModel("pmf", {"factors": [2, 4]}, metric=bad)


def test_mae_and_ranking_metrics_pick_their_own_best(split):
    from whyrec.data.split import Split
    from whyrec.ranking_evaluation import ranking_scores

    grid = {"factors": [1, 4], "lambda_u": [0.5, 50.0]}
    fitted = {(f, lam): make_model("pmf", factors=f, lambda_u=lam).fit(split.train, split.valid)
              for f in grid["factors"] for lam in grid["lambda_u"]}
    mae = {key: float(np.mean(np.abs(np.clip(m.predict_corpus(split.valid), 1, 5) - split.valid.ratings)))
           for key, m in fitted.items()}
    tuned = TunedModel("pmf", grid, metric="mae").fit(split.train, split.valid)
    assert tuple(tuned.chosen.values()) == min(mae, key=mae.get)
    on_valid = Split(split.train, split.valid.take([]), split.valid, "validation")  # validation ranked as a test
    ndcg = {key: ranking_scores(m, on_valid, 5)[1]["ndcg"] for key, m in fitted.items()}
    ranked = TunedModel("pmf", grid, metric="ndcg@5").fit(split.train, split.valid)
    assert tuple(ranked.chosen.values()) == max(ndcg, key=ndcg.get)  # the highest wins
    assert ranked.record()["valid_score"] == pytest.approx(max(ndcg.values()))
    assert ranked.record()["metric"] == "ndcg@5" and "validation ndcg@5 " in describe_tuning(ranked.record())
    assert ranked.clone().metric == "ndcg@5"
    assert len(set(ndcg.values())) > 1  # the metric tells the combinations apart here


def test_tuned_uses_each_models_default_grid_and_keeps_what_a_spec_gives():
    from whyrec.rating import RATING_MODELS
    from whyrec.rating.tuning import DEFAULT_GRIDS, with_default_grid

    assert set(DEFAULT_GRIDS) <= set(RATING_MODELS)
    for name, grid in DEFAULT_GRIDS.items():  # every default value is one the model takes
        TunedModel(name, grid)
    models = models_from_specs(["global-average", "pmf", "pmf:factors=8", "pmf:factors=4|8"], tuned=True)
    assert not isinstance(models["global-average"], TunedModel)  # nothing to tune
    assert models["pmf"].grid == DEFAULT_GRIDS["pmf"]
    assert models["pmf:factors=8"].grid == {**DEFAULT_GRIDS["pmf"], "factors": [8]}
    assert models["pmf:factors=4|8"].grid["factors"] == [4, 8]
    assert with_default_grid("global-average", {"x": 1}) == {"x": 1}
    every = models_from_specs([], tuned=True)
    assert {name for name, m in every.items() if isinstance(m, TunedModel)} == set(DEFAULT_GRIDS)


def test_a_ranking_metric_needs_a_relevant_validation_rating(split):
    low = split.valid.take(np.flatnonzero(split.valid.ratings < 4))
    with pytest.raises(DataError, match="no validation rating reaches 4"):
        TunedModel("pmf", {"factors": [2, 4]}, metric="ndcg@5").fit(split.train, low)


def test_a_combination_that_diverges_is_never_picked_and_all_diverging_is_the_error(split):
    """An lr grid with a value too large used to stop the tuning with a ValueError on NaN predictions."""
    tuned = TunedModel("biased-mf", {"lr": [100.0, 0.01], "epochs": [3]}).fit(split.train, split.valid)
    assert tuned.chosen["lr"] == 0.01
    record = tuned.record()
    assert record["trials"][0]["valid_score"] is None and record["trials"][0]["diverged"] is True
    assert "diverged" not in record["trials"][1] and np.isfinite(record["valid_score"])
    json.dumps(record, allow_nan=False)  # the bundle header holds it
    with pytest.raises(ConfigError, match=r"biased-mf: training diverged with every combination of the grid; the "
                                          r"last: biased-mf: training diverged in epoch 1 .*lower lr \(now 1000\)"):
        TunedModel("biased-mf", {"lr": [100.0, 1000.0], "epochs": [3]}).fit(split.train, split.valid)


def scripted_scores(monkeypatch, scores: dict) -> None:
    """Each combination's validation score from ``scores`` (keyed by the combination's values, in
    grid order), in the place of fitting's measured one."""
    monkeypatch.setattr("whyrec.rating.tuning.validation_score",
                        lambda model, train, valid, metric, relevant_at=None: scores[
                            tuple(model.get_params()[key] for key in ("reg_user", "reg_item"))])


@pytest.mark.parametrize("metric, scores, chosen", [
    ("rmse", {(1.0, 1.0): 0.9, (2.0, 1.0): 0.7, (3.0, 1.0): 0.7}, 2.0),  # the lowest; of equals the first
    ("rmse", {(1.0, 1.0): 0.6, (2.0, 1.0): 0.7, (3.0, 1.0): 0.6}, 1.0),
    ("ndcg@5", {(1.0, 1.0): 0.1, (2.0, 1.0): 0.3, (3.0, 1.0): 0.3}, 2.0),  # the highest; of equals the first
    ("mae", {(1.0, 1.0): 0.8, (2.0, 1.0): 0.9, (3.0, 1.0): 0.5}, 3.0),
])
def test_the_best_score_is_chosen_and_ties_go_to_the_first(split, monkeypatch, metric, scores, chosen):
    scripted_scores(monkeypatch, scores)
    tuned = TunedModel("bias-baseline", {"reg_user": [1.0, 2.0, 3.0], "reg_item": [1.0], "iterations": [1]},
                       metric=metric).fit(split.train, split.valid)
    assert tuned.chosen["reg_user"] == chosen
    assert [t.score for t in tuned.trials] == list(scores.values())
    assert tuned.at_edge() == ({} if chosen == 2.0 else {"reg_user": chosen})  # either end of the axis


def test_settings_that_are_not_numbers_are_never_at_the_edge(split):
    """True and False are ints to Python; an axis of them has no ends to widen."""
    tuned = TunedModel("context-als", {"factors": [2], "center": [True, False], "iterations": [2]})
    tuned.fit(split.train, split.valid)
    assert tuned.at_edge() == {}


def test_each_trial_records_its_fitting_time(split):
    import time

    start = time.perf_counter()
    tuned = TunedModel("biased-mf", {"lr": [100.0, 0.01], "epochs": [2]}).fit(split.train, split.valid)
    elapsed = time.perf_counter() - start
    assert tuned.trials[0].score is None  # diverged, and timed too
    assert all(0 < t.fit_s < elapsed for t in tuned.trials)


def test_a_grid_of_exactly_the_most_combinations_is_taken():
    from whyrec.rating.tuning import MAX_COMBINATIONS

    assert MAX_COMBINATIONS == 1000
    axes = {"reg_user": [float(v) for v in range(1, 11)], "reg_item": [float(v) for v in range(1, 101)]}
    assert len(TunedModel("bias-baseline", axes).candidates) == 1000
    with pytest.raises(ConfigError, match="1,001 combinations, more than 1,000"):
        TunedModel("bias-baseline", {**axes, "reg_user": [float(v) for v in range(1, 8)],
                                     "reg_item": [float(v) for v in range(1, 144)]})


def test_an_empty_validation_part_and_the_smallest_ranking_cut_off(split):
    with pytest.raises(ConfigError, match="picked on validation data, and this split has none"):
        TunedModel("pmf", {"factors": [2, 4]}).fit(split.train, split.valid.take([]))
    from whyrec.rating.tuning import tuning_metric

    assert tuning_metric("ndcg@1") == ("ndcg", 1)


def test_a_validation_rating_exactly_at_the_relevance_threshold_is_relevant(split):
    at_most_four = split.valid.take(np.flatnonzero(split.valid.ratings <= 4))
    assert at_most_four.ratings.max() == 4  # nothing above 4: relevant only if 4 itself counts
    tuned = TunedModel("pmf", {"factors": [2, 4], "iterations": [2]}, metric="ndcg@5").fit(split.train, at_most_four)
    assert tuned.record()["valid_score"] > 0


def test_describe_tuning_names_only_the_settings_that_were_picked():
    record = {"grid": {"factors": [2, 4], "lambda_u": [0.5]}, "chosen": {"factors": 4, "lambda_u": 0.5},
              "metric": "rmse", "valid_score": 0.91234, "trials": [{}, {}]}
    assert describe_tuning(record) == "factors=4 (validation RMSE 0.9123, best of 2 combinations)"


def test_the_recorded_rating_benchmark_tried_todays_default_grids():
    """benchmarks/results/rating.json's whyrec rows were tuned over DEFAULT_GRIDS (what --tuned tries,
    and what the README's rating table reports): a grid changed since would leave them stale."""
    import math
    from pathlib import Path

    from whyrec.rating.tuning import DEFAULT_GRIDS

    recorded = json.loads((Path(__file__).parents[2] / "benchmarks/results/rating.json").read_text())
    rows = [row for dataset in recorded["datasets"].values() for row in dataset["rows"]
            if row["system"].removeprefix("whyrec ") in DEFAULT_GRIDS]
    assert len(rows) == 4 * len(DEFAULT_GRIDS)
    for row in rows:
        grid = DEFAULT_GRIDS[row["system"].removeprefix("whyrec ")]
        assert row["configs"] == math.prod(len(values) for values in grid.values())
        assert set(row["params"]) == set(grid) and all(row["params"][k] in grid[k] for k in grid), row
