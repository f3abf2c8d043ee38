import json

import numpy as np
import pytest

from whyrec.data import kfold_splits, ratio_split
from whyrec.experiment import Experiment
from whyrec.rating import BiasBaseline, ContextAwareALS, GlobalAverage


def test_single_split_table(planted, tmp_path):
    split = ratio_split(planted.corpus, seed=0)
    table = Experiment(split, {"avg": GlobalAverage(), "bias": BiasBaseline(), "als": ContextAwareALS()}).run()
    assert [r.system for r in table.results] == ["avg", "bias", "als"]
    assert table.columns == ["system", "rmse", "mae", "train (s)", "test (s)", "p vs avg"]
    assert table.best("rmse").system in ("bias", "als")
    assert table.results[0].p_value is None and table.results[2].p_value < 0.05
    md = table.to_markdown()
    assert md.count("\n") == 4 and "| als |" in md
    folder = table.save(tmp_path / "run")
    data = json.loads((folder / "results.json").read_text())
    assert data["systems"][1]["params"] == {"reg_user": 5.0, "reg_item": 5.0, "iterations": 10}
    assert (folder / "rmse.png").stat().st_size > 1000
    assert (folder / "results.csv").read_text().startswith("system,rmse,mae")


def test_kfold_mean_and_std(planted):
    folds = kfold_splits(planted.corpus, k=3, seed=0)
    table = Experiment(folds, {"avg": GlobalAverage(), "bias": BiasBaseline()}).run()
    assert all(len(r.per_fold) == 3 for r in table.results)
    assert "±" in table.rows()[0][1]
    assert table.results[1].std("rmse") > 0


def test_several_splits_add_the_corrected_resampled_t_test(planted):
    import pytest

    from whyrec.metrics.rating import corrected_resampled_t_test

    folds = kfold_splits(planted.corpus, k=3, seed=0)
    table = Experiment(folds, {"avg": GlobalAverage(), "bias": BiasBaseline()}).run()
    assert table.columns[-2:] == ["p vs avg", "p vs avg over splits"]
    avg, bias = table.results
    assert avg.p_value_over_splits is None
    # the MSE of each fold, and test over train of 1/2 (3 folds, no validation part)
    ratio = np.mean([len(f.test) for f in folds]) / np.mean([len(f.train) for f in folds])
    assert ratio == pytest.approx(0.5, abs=0.01)
    expected = corrected_resampled_t_test([f["rmse"] ** 2 for f in bias.per_fold],
                                          [f["rmse"] ** 2 for f in avg.per_fold], ratio)[1]
    assert bias.p_value_over_splits == pytest.approx(expected)
    # three folds are little evidence: the corrected test is far less sure than the pooled records
    assert bias.p_value < bias.p_value_over_splits < 1.0
    assert table.rows()[1][-1] == f"{expected:.3g}" and table.rows()[0][-1] == "—"
    saved = table.to_dict()["systems"]
    assert saved[1]["p_value_over_splits"] == pytest.approx(expected) and saved[0]["p_value_over_splits"] is None


def test_models_from_specs_reads_names_and_parameters():
    import pytest

    from whyrec.errors import ConfigError
    from whyrec.experiment import models_from_specs

    models = models_from_specs(["pmf", "context-als:factors=4, lambda_bias=2.5,use_biases=false"])
    assert list(models) == ["pmf", "context-als:factors=4, lambda_bias=2.5,use_biases=false"]
    als = models["context-als:factors=4, lambda_bias=2.5,use_biases=false"]
    assert (als.factors, als.lambda_bias, als.use_biases) == (4, 2.5, False)
    assert list(models_from_specs([]))[:2] == ["global-average", "bias-baseline"]
    assert list(models_from_specs([" pmf", "context-als:"])) == ["pmf", "context-als"]  # the table's names
    for specs, message in ((["nope"], "unknown rating model 'nope'"), (["pmf:rank=3"], "unknown parameter"),
                           (["pmf:factors"], "'factors' must look like NAME=VALUE"),
                           (["pmf", "pmf"], "given twice"), (["pmf", "pmf:"], "given twice"),
                           (["pmf:factors=4,factors=5"], "'factors' is given twice"),
                           (["pmf,factors=3"], "a colon comes after the model's name: pmf:factors=3"),
                           (["pmf:factors=3:lambda_u=2"],
                            "settings are separated by commas: pmf:factors=3,lambda_u=2")):
        with pytest.raises(ConfigError, match=message):
            models_from_specs(specs)
    assert models_from_specs(["pmf:device=cpu:0,factors=3"])  # a colon inside a value is no separator


def test_ranking_columns_score_the_top_k_of_unrated_items(planted):
    import pytest

    from whyrec.errors import ConfigError
    from whyrec.metrics.ranking import ndcg_at_k, recall_at_k
    from whyrec.ranking_evaluation import ranking_scores, top_k_lists
    from whyrec.rating import PMF

    split = ratio_split(planted.corpus, seed=0)
    table = Experiment(split, {"avg": GlobalAverage(), "pmf": PMF(factors=4)}, top_k=5).run()
    assert table.metrics == ["rmse", "mae", "precision@5", "recall@5", "hr@5", "mrr@5", "ndcg@5"]
    assert table.panels == table.metrics and "metrics.png" in table.files  # ranking beside the rating errors
    assert Experiment(split, {"avg": GlobalAverage()}).run().panels == []
    assert table.note == ""  # 5 places among more items than that
    whole = Experiment(split, {"avg": GlobalAverage()}, top_k=10_000).run()  # every list: all of a user's unrated items
    items = len(set(split.train.items))
    assert whole.note == f"Ranking: top 10000: no fewer than the {items} items the model knows, so each list holds " \
        "all of a user's unrated ones; only mrr and ndcg then depend on the order."
    from whyrec.results_table import metric_title

    assert [metric_title(m) for m in ("ndcg@5", "hr@10", "bleu1", "acc5", "odd")] == \
        ["nDCG@5", "hit rate@10", "BLEU-1", "sentiment = rating (%, 5 classes)", "odd"]
    model = PMF(factors=4).fit(split.train, split.valid)
    users, ranked, relevant = top_k_lists(model, split, 5)
    row = table.results[1].per_fold[0]
    assert row["ndcg@5"] == pytest.approx(ndcg_at_k(ranked, relevant, 5))
    assert row["recall@5"] == pytest.approx(recall_at_k(ranked, relevant, 5))
    seen = {(u, i) for u, i in zip(split.train.users, split.train.items)}
    assert sorted(users) == sorted({u for u, r in zip(split.test.users, split.test.ratings) if r >= 4})
    assert all(len(top) == 5 for top in ranked)
    assert all(rel == {i for u, i, r in zip(split.test.users, split.test.items, split.test.ratings) if u == user and r >= 4}
               for user, rel in zip(users, relevant))
    assert not any((u, i) in seen for u, top in zip(users, ranked) for i in top)  # train items are never ranked
    scores = model.predict([users[0]] * 5, ranked[0])
    assert list(scores) == sorted(scores, reverse=True)
    assert top_k_lists(model, split, 5, pairs_per_call=1) == (users, ranked, relevant)  # one user per call
    n_users, scores = ranking_scores(model, split, 5)
    assert n_users == len(users) and scores["ndcg"] == pytest.approx(ndcg_at_k(ranked, relevant, 5))
    for refused in (lambda: top_k_lists(model, split, 0), lambda: Experiment(split, {"avg": GlobalAverage()}, top_k=0)):
        with pytest.raises(ConfigError, match="top_k must be at least 1"):
            refused()


def test_no_model_or_an_unknown_reference_is_refused_before_fitting(planted):
    import pytest

    from whyrec.errors import ConfigError

    split = ratio_split(planted.corpus, seed=0)
    with pytest.raises(ConfigError, match="needs at least one model"):
        Experiment(split, {})  # was: an empty table, whose plot then failed
    with pytest.raises(ConfigError, match="reference 'als' is not one of the models: avg, bias"):
        Experiment(split, {"avg": GlobalAverage(), "bias": BiasBaseline()}, reference="als")  # was: KeyError at run


def test_mt_and_peter_take_part_in_an_experiment_as_rating_models(tmp_path):
    """Experiment needs fit, predict, clone and get_params; MultiTask and Peter lacked the last two
    (an AttributeError after the first fold began), and an object without them is named up front."""
    import pytest

    from whyrec.data.synthetic import make_planted_corpus
    from whyrec.errors import ConfigError
    from whyrec.systems.mt import MultiTask
    from whyrec.systems.peter import Peter

    split = ratio_split(make_planted_corpus(n_users=40, n_items=20, reviews_per_user=6, seed=1).corpus, seed=0)
    mt = MultiTask(epochs=1, factors=3, vocab_size=300, max_words=8, doc_words=12, doc_reviews=3, word_dim=16,
                   word_vectors="random", encoder_hidden=12, decoder_hidden=24, adversarial_from=2)
    peter = Peter(epochs=1, emsize=16, heads=2, ffn=16, layers=1)
    assert mt.clone().get_params() == mt.get_params() and peter.clone().get_params() == peter.get_params()
    table = Experiment(split, {"bias": BiasBaseline(), "mt": mt, "peter": peter}).run()
    rows = {r.system: r for r in table.results}
    assert set(rows) == {"bias", "mt", "peter"} and all(0 < r.mean("rmse") < 2 for r in rows.values())
    assert mt.als is None and peter.model is None  # the prototypes stay unfitted: each fold fits a clone
    table.save(tmp_path / "run")
    assert "mt" in (tmp_path / "run" / "results.md").read_text()
    with pytest.raises(ConfigError, match=r"model 'x' \(object\) has no fit, predict, clone, get_params"):
        Experiment(split, {"x": object()})


def test_rmse_by_the_users_training_activity(planted, tmp_path):
    from collections import Counter

    from whyrec.metrics.rating import activity_groups

    folds = kfold_splits(planted.corpus, 2, seed=0)
    table = Experiment(folds, {"bias": BiasBaseline(), "avg": GlobalAverage()}, by_activity=True).run()
    bias = table.results[0].by_activity
    assert sum(g["count"] for g in bias.values()) == sum(len(f.test) for f in folds)
    # by hand: each fold's test records grouped by their user's train count, errors pooled over folds
    errors, groups = [], []
    for fold in folds:
        pred = np.clip(BiasBaseline().fit(fold.train).predict_corpus(fold.test), 1, 5)
        errors.append(pred - fold.test.ratings)
        counts = Counter(fold.train.users)
        groups.append(activity_groups([counts[u] for u in fold.test.users]))
    errors, groups = np.concatenate(errors), np.concatenate(groups)
    for group, got in bias.items():
        assert got["count"] == int((groups == group).sum())
        assert got["rmse"] == np.sqrt(np.mean(errors[groups == group] ** 2))
    assert len(bias) >= 2  # the planted users' counts span several groups
    markdown = table.activity_markdown()
    first = next(iter(bias.values()))
    assert markdown.splitlines()[2].startswith("| bias | ") and f"(n={first['count']:,})" in markdown
    table.save(tmp_path)
    assert "RMSE by the user's number of training ratings" in (tmp_path / "results.md").read_text()
    saved = json.loads((tmp_path / "results.json").read_text())["systems"][0]["rmse_by_activity"]
    assert saved == bias
    assert Experiment(folds[0], {"bias": BiasBaseline()}).run().activity_markdown() == ""  # only when asked


def test_activity_groups_get_a_p_value_against_the_reference(planted, tmp_path):
    from collections import Counter

    from whyrec.metrics.rating import activity_groups, corrected_resampled_t_test, paired_t_test

    folds = kfold_splits(planted.corpus, 2, seed=0)
    table = Experiment(folds, {"bias": BiasBaseline(), "avg": GlobalAverage()}, by_activity=True).run()
    bias, avg = (r.by_activity for r in table.results)
    assert all("p_vs_reference" not in g for g in bias.values())  # the reference itself
    errors = {"bias": [], "avg": []}
    groups = []
    for fold in folds:
        for name, model in (("bias", BiasBaseline()), ("avg", GlobalAverage())):
            pred = np.clip(model.fit(fold.train).predict_corpus(fold.test), 1, 5)
            errors[name].append((pred - fold.test.ratings) ** 2)
        counts = Counter(fold.train.users)
        groups.append(activity_groups([counts[u] for u in fold.test.users]))
    pooled_groups = np.concatenate(groups)
    test_to_train = np.mean([len(f.test) for f in folds]) / np.mean([len(f.train) for f in folds])
    for group, got in avg.items():
        chosen = pooled_groups == group
        expected = paired_t_test(np.concatenate(errors["avg"])[chosen], np.concatenate(errors["bias"])[chosen])[1] \
            if chosen.sum() >= 2 else None
        assert got["p_vs_reference"] == expected
        # over the two folds: each fold's MSE on the group's records, corrected for the overlap of train parts
        per_fold = [[float(e[g == group].mean()) for e, g in zip(errors[name], groups) if (g == group).any()]
                    for name in ("avg", "bias")]
        expected = corrected_resampled_t_test(*per_fold, test_to_train)[1] if len(per_fold[0]) >= 2 else None
        if expected is None:
            assert got["p_over_splits"] is None
        else:
            assert got["p_over_splits"] == pytest.approx(expected)
    assert any(g["p_vs_reference"] is not None for g in avg.values())
    assert any(g["p_over_splits"] is not None for g in avg.values())
    row = table.activity_markdown().splitlines()[3]
    assert row.startswith("| avg | ") and " (p " in row and " (p " not in table.activity_markdown().splitlines()[2]
    assert " / " in row  # the pooled test / the test over the splits
    assert "paired t-test against bias on the group's records of all splits / corrected resampled t-test" \
        in table.activity_title()
    table.save(tmp_path)
    assert "p: paired t-test against bias" in (tmp_path / "results.md").read_text()
    # read together: Holm's adjustment over avg's tested groups (bias, the reference, has none)
    from whyrec.metrics.significance import holm_adjusted

    saved = json.loads((tmp_path / "results.json").read_text())["systems"][1]["rmse_by_activity"]
    tested = [g for g, entry in avg.items() if entry["p_vs_reference"] is not None]
    assert [saved[g]["p_holm"] for g in tested] == pytest.approx(list(holm_adjusted([avg[g]["p_vs_reference"]
                                                                                    for g in tested])))
    assert f"the first p of each cell, {len(tested)} paired t-tests" in table.activity_markdown()


def test_activity_groups_of_one_split_get_only_the_paired_test(planted):
    split = kfold_splits(planted.corpus, 5, seed=0)[:1]
    table = Experiment(split, {"bias": BiasBaseline(), "avg": GlobalAverage()}, by_activity=True).run()
    avg = table.results[1].by_activity
    assert any(g["p_vs_reference"] is not None for g in avg.values())
    assert all("p_over_splits" not in g for g in avg.values())
    assert " / " not in table.activity_markdown()
    assert table.activity_title().endswith("p: paired t-test against bias on the group's records")


def test_ranking_metrics_get_the_corrected_test_over_splits(planted, tmp_path):
    import pytest

    from whyrec.metrics.rating import corrected_resampled_t_test
    from whyrec.metrics.significance import holm_adjusted
    from whyrec.rating import PMF

    folds = kfold_splits(planted.corpus, k=3, seed=0, valid_share=0.1)
    table = Experiment(folds, {"avg": GlobalAverage(), "pmf": PMF(factors=4)}, top_k=5).run()
    avg, pmf = table.results
    assert list(pmf.ranking_p_over_splits) == ["precision@5", "recall@5", "hr@5", "mrr@5", "ndcg@5"]
    assert avg.ranking_p_over_splits == {}
    ratio = np.mean([len(f.test) for f in folds]) / np.mean([len(f.train) for f in folds])
    expected = corrected_resampled_t_test([f["ndcg@5"] for f in pmf.per_fold], [f["ndcg@5"] for f in avg.per_fold],
                                          ratio)[1]
    assert pmf.ranking_p_over_splits["ndcg@5"] == pytest.approx(expected) and 0 < expected <= 1
    md = table.ranking_significance_markdown()
    assert md.splitlines()[0] == "| system | precision@5 | recall@5 | hr@5 | mrr@5 | ndcg@5 |"
    assert md.splitlines()[2].startswith("| pmf |") and md.splitlines()[3] == ""
    # the five read together (Holm), as the JSON's ranking_p_holm gives them
    holm = table.to_dict()["systems"][1]["ranking_p_holm"]
    assert holm == pytest.approx(dict(zip(holm, holm_adjusted(list(pmf.ranking_p_over_splits.values())))))
    kept = [m for m, p in holm.items() if p <= 0.05]
    assert md.splitlines()[4] == "Read together (Holm's adjustment of the table's 5 p-values), " + (
        f"{len(kept)} of 5 differences keep an adjusted p ≤ 0.05: pmf: {', '.join(kept)}" if kept
        else "no difference keeps an adjusted p ≤ 0.05")
    assert "corrected resampled t-test over the 3 splits" in (table.save(tmp_path / "r") / "results.md").read_text()
    titled = (table.save(tmp_path / "t", title="pmf against avg") / "results.md").read_text()
    assert titled.startswith("# pmf against avg\n\n| system |")
    assert table.to_dict()["systems"][1]["ranking_p_over_splits"]["ndcg@5"] == pytest.approx(expected)
    # one split: nothing to test over
    single = Experiment(folds[0], {"avg": GlobalAverage(), "pmf": PMF(factors=4)}, top_k=5).run()
    assert single.ranking_significance_markdown() == "" and single.results[1].ranking_p_over_splits == {}


def test_an_experiment_says_where_it_is_and_times_each_fit(planted):
    """Progress names the fold (from 1) and the model; a tuned model's grid alone reports steps; two
    splits are enough for the corrected test over splits."""
    from whyrec.rating.tuning import TunedModel

    folds = kfold_splits(planted.corpus, k=2, seed=0)
    said, steps = [], []
    table = Experiment(folds, {"avg": GlobalAverage(), "bias": BiasBaseline()}, on_progress=said.append,
                       on_step=steps.append).run()
    assert said == ["fold 1/2 · avg", "fold 1/2 · bias", "fold 2/2 · avg", "fold 2/2 · bias"] and steps == []
    assert all(0 <= f["train_s"] < 60 and 0 <= f["test_s"] < 60 for r in table.results for f in r.per_fold)
    assert table.results[1].p_value_over_splits is not None
    split = ratio_split(planted.corpus, seed=0)
    tuned = TunedModel("bias-baseline", {"reg_user": [1.0, 5.0]})
    Experiment(split, {"tuned": tuned}).run()  # without on_step: no step to report
    Experiment(split, {"tuned": tuned}, on_step=steps.append).run()
    assert steps == ["fold 1/1 · tuned · combination 1/2", "fold 1/1 · tuned · combination 2/2"]


def test_one_model_has_no_reference_and_a_split_without_test_or_validation_records_is_refused(planted):
    import dataclasses

    from whyrec.errors import DataError
    from whyrec.rating.tuning import TunedModel

    split = ratio_split(planted.corpus, seed=0)
    alone = Experiment(split, {"bias": BiasBaseline()}).run()
    assert alone.reference is None and alone.results[0].p_value is None
    no_test = dataclasses.replace(split, test=split.test.take([]), name="s1")
    with pytest.raises(DataError, match="split s1 has no test records"):
        Experiment(no_test, {"bias": BiasBaseline()}).run()
    one_test = dataclasses.replace(split, test=split.test.take([0]))
    assert len(Experiment(one_test, {"bias": BiasBaseline()}).run().results[0].squared_errors[0]) == 1
    no_valid = dataclasses.replace(split, valid=split.valid.take([]), name="s2")
    assert Experiment(no_valid, {"bias": BiasBaseline()}).run().results[0].per_fold  # a plain model needs none
    tuned = TunedModel("bias-baseline", {"reg_user": [1.0, 5.0]})
    with pytest.raises(DataError, match="split s2 has no validation records, on which 'tuned' picks its settings"):
        Experiment(no_valid, {"tuned": tuned}).run()
    one_valid = dataclasses.replace(split, valid=split.valid.take([0]))
    assert Experiment(one_valid, {"tuned": tuned}).run().results[0].per_fold[0]["tuning"]


def test_test_to_train_counts_a_train_size_below_one_as_one():
    from whyrec.experiment import test_to_train_of_sizes

    assert test_to_train_of_sizes([1.0], [0.5]) == 1.0 and test_to_train_of_sizes([2, 4], [10, 20]) == 0.2


def test_a_test_user_without_train_ratings_is_in_the_group_of_none(planted):
    import dataclasses

    from whyrec.experiment import activity_groups_of

    split = ratio_split(planted.corpus, seed=0)
    stranger = split.test.users[0]
    cold = dataclasses.replace(split, train=split.train.take(np.flatnonzero(split.train.users != stranger)))
    groups = activity_groups_of(cold)
    assert set(groups[split.test.users == stranger]) == {"0"}  # no train rating
    assert "0" not in set(groups[split.test.users != stranger])
