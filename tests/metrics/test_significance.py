"""The approximate randomization test of explanation metrics: hand-counted exact p-values, the
observed differences against explanation_quality, random trials against the exact test; and
Holm's adjustment of a table's p-values, by hand."""

import math
import random

import numpy as np
import pytest

from whyrec.metrics.significance import (PairedDifference, holm_adjusted, holm_by_test, randomization_test,
                                         smallest_p)
from whyrec.metrics.text import explanation_quality

FEATURES = {"sound", "price", "strings", "case", "cable", "tuner"}


def _perfect_and_bad(count: int):
    """References of four words, one feature each; the first system copies them, the second writes "bad"."""
    features = sorted(FEATURES)[:count]
    references = [[f, "is", "really", "good"] for f in features]
    return references, [list(r) for r in references], [["bad"]] * count, features


@pytest.mark.parametrize("count", [2, 3, 4])
def test_exact_p_counts_the_two_assignments_that_reach_the_difference(count):
    # swapping no record or every record keeps |d|; any other assignment mixes both systems' sentences
    # into each side and lands nearer zero: p = 2 / 2^N. DIV is 0 for both (each feature in one record)
    references, first, second, features = _perfect_and_bad(count)
    result = randomization_test(references, first, second, features, FEATURES, trials=2 ** count)
    for metric in ("bleu1", "bleu4", "rouge1", "rouge2", "rougeL", "usr", "fmr", "fcr"):
        assert result[metric].p == pytest.approx(2 / 2 ** count), metric
    assert result["bleu4"].difference == pytest.approx(100.0)
    assert result["usr"].difference == pytest.approx(1 - 1 / count)
    assert result["fcr"].difference == pytest.approx(count / len(FEATURES))
    assert result["div"].difference == 0.0 and result["div"].p == 1.0


def test_identical_systems_have_p_one():
    references, first, _, features = _perfect_and_bad(4)
    result = randomization_test(references, first, [list(h) for h in first], features, FEATURES, trials=50)
    assert all(r.difference == 0.0 and r.p == 1.0 for r in result.values())


def test_two_systems_are_identical_only_when_every_record_is_written_and_scored_alike():
    from whyrec.metrics.significance import PairedExplanations

    references, first, _, features = _perfect_and_bad(3)
    same = PairedExplanations(references, first, [list(h) for h in first], features)
    assert same.identical
    other_word = [list(h) for h in first]
    other_word[2][1] = "was"
    assert not PairedExplanations(references, first, other_word, features).identical
    assert not PairedExplanations(references, first, [list(h) for h in first], features,
                                  second_references=[["<unk>", *r[1:]] for r in references]).identical
    assert PairedExplanations(references, first, [list(h) for h in first], features,
                              second_references=[list(r) for r in references]).identical
    judged = {"acc5": ([100.0, 0.0, 100.0], [100.0, 0.0, 100.0])}
    assert PairedExplanations(references, first, [list(h) for h in first], record_means=judged).identical
    judged_apart = {"acc5": ([100.0, 0.0, 100.0], [100.0, 100.0, 100.0])}  # read against other predicted ratings
    assert not PairedExplanations(references, first, [list(h) for h in first], record_means=judged_apart).identical


def test_a_difference_in_one_record_is_not_significant():
    # the one differing record's swap flips the sign of d and nothing else: every trial reaches |d|
    references = [["w%d" % n, "x", "y"] for n in range(40)]
    first = [list(r) for r in references]
    second = [list(r) for r in references]
    second[7] = ["nothing", "alike"]
    result = randomization_test(references, first, second, trials=300, seed=3)
    assert result["rouge1"].difference > 0 and result["rouge1"].p == 1.0


def test_many_records_better_everywhere_reach_the_smallest_p():
    references, first, second, features = _perfect_and_bad(6)
    references, first, second = references * 10, first * 10, second * 10
    result = randomization_test(references, first, second, features * 10, FEATURES, trials=200, seed=1)
    assert result["rouge1"].p == pytest.approx(1 / 201)
    assert result["bleu4"].p == pytest.approx(1 / 201)


def _noisy_corpus(count: int, seed: int):
    rng = random.Random(seed)
    words = sorted(FEATURES) + ["good", "bad", "great", "the", "is", "a", "nice", "poor"]
    references = [rng.choices(words, k=rng.randint(3, 8)) for _ in range(count)]

    def system(keep: float):
        return [[w if rng.random() < keep else rng.choice(words) for w in ref[:rng.randint(1, len(ref))]]
                for ref in references]

    true = [next((w for w in ref if w in FEATURES), "") for ref in references]
    return references, system(0.7), system(0.5), true


def test_differences_are_those_of_explanation_quality():
    references, first, second, true = _noisy_corpus(60, seed=5)
    a = explanation_quality(references, first, true, FEATURES)
    b = explanation_quality(references, second, true, FEATURES)
    result = randomization_test(references, first, second, true, FEATURES, trials=10)
    assert set(result) == set(a)
    for metric, paired in result.items():
        assert paired.difference == pytest.approx(a[metric] - b[metric], abs=1e-9), metric


def test_random_trials_estimate_the_exact_p():
    references, first, second, true = _noisy_corpus(9, seed=11)
    exact = randomization_test(references, first, second, true, FEATURES, trials=2 ** 9)
    sampled = randomization_test(references, first, second, true, FEATURES, trials=20_000, seed=2)
    for metric in exact:
        assert sampled[metric].p == pytest.approx(exact[metric].p, abs=0.02), metric
    assert sampled == randomization_test(references, first, second, true, FEATURES, trials=20_000, seed=2)


def test_without_features_only_the_text_metrics_are_tested():
    references, first, second, _ = _noisy_corpus(5, seed=1)
    assert set(randomization_test(references, first, second)) == {"bleu1", "bleu4", "rouge1", "rouge2", "rougeL",
                                                                  "usr"}
    with_set = randomization_test(references, first, second, feature_set=FEATURES)
    assert "fmr" not in with_set and {"fcr", "div"} <= set(with_set)
    assert all(not math.isnan(r.p) for r in with_set.values())


@pytest.mark.parametrize("call", [
    lambda: randomization_test([], [], []),
    lambda: randomization_test([["a"]], [["a"]], []),
    lambda: randomization_test([["a"]], [["a"]], [["b"]], true_features=["a", "b"]),
    lambda: randomization_test([["a"]], [["a"]], [["b"]], trials=0),
])
def test_bad_arguments_are_refused(call):
    with pytest.raises(ValueError):
        call()


def test_record_means_are_tested_with_the_text_metrics():
    # the judge agrees with every one of the first system's explanations and none of the second's
    references, first, second, _ = _perfect_and_bad(4)
    result = randomization_test(references, first, second, trials=16, record_means={"acc5": ([100.0] * 4, [0.0] * 4)})
    assert result["acc5"].difference == 100.0 and result["acc5"].p == pytest.approx(2 / 16) and result["acc5"].exact
    with pytest.raises(ValueError, match="every record"):
        randomization_test(references, first, second, record_means={"acc5": ([1.0] * 3, [0.0] * 4)})


def test_over_several_parts_the_mean_difference_is_tested_with_swaps_within_each_part():
    from whyrec.metrics.significance import PairedExplanations, stratified_randomization_test

    references, first, second, features = _perfect_and_bad(3)
    parts = [PairedExplanations(references, first, second, features) for _ in range(2)]
    result = stratified_randomization_test(parts, FEATURES, trials=64)
    # |mean d| reaches 100 only when both parts are left whole, or both swapped whole: 2 of the 2^6 assignments
    assert result["rouge1"].difference == pytest.approx(100.0) and result["rouge1"].p == pytest.approx(2 / 64)
    assert result["rouge1"].exact and result["rouge1"].assignments == 64
    one = stratified_randomization_test(parts[:1], FEATURES, trials=200, seed=4)
    assert one == randomization_test(references, first, second, features, FEATURES, trials=200, seed=4)
    # a part of one record has no DIV, so the mean over the parts has none
    lone = PairedExplanations(references[:1], first[:1], second[:1], features[:1])
    assert "div" not in stratified_randomization_test([parts[0], lone], FEATURES, trials=10)
    with pytest.raises(ValueError):
        stratified_randomization_test([], FEATURES)


def test_bootstrap_intervals_hold_the_corpus_score_and_narrow_with_more_records():
    from whyrec.metrics.significance import bootstrap_intervals

    references, first, _, true = _noisy_corpus(60, seed=5)
    scores = explanation_quality(references, first, true, FEATURES)
    agree = [100.0 * (n % 3 == 0) for n in range(60)]
    intervals = bootstrap_intervals(references, first, true, FEATURES, resamples=400, record_means={"acc5": agree})
    assert set(intervals) == {"bleu1", "bleu4", "rouge1", "rouge2", "rougeL", "fmr", "acc5"}  # no USR, FCR, DIV
    for metric, (low, high) in intervals.items():
        point = 100.0 * sum(agree) / 6000 if metric == "acc5" else scores[metric]
        assert low <= point <= high and low < high, metric
    wider = bootstrap_intervals(references[:15], first[:15], true[:15], FEATURES, resamples=400)
    assert wider["rouge1"][1] - wider["rouge1"][0] > intervals["rouge1"][1] - intervals["rouge1"][0]
    assert bootstrap_intervals(references, first, true, FEATURES, resamples=400) == \
        {k: v for k, v in intervals.items() if k != "acc5"}  # seeded
    # every record alike: every resample scores the same
    same = bootstrap_intervals([["a", "b"]] * 10, [["a", "b"]] * 10, resamples=50)
    assert same["rouge1"] == pytest.approx((100.0, 100.0)) and same["bleu1"] == (100.0, 100.0)
    assert "fmr" not in same
    with pytest.raises(ValueError):
        bootstrap_intervals(references, first, resamples=0)
    with pytest.raises(ValueError):
        bootstrap_intervals(references, first[:3])


def test_bootstrap_scores_each_resample_as_explanation_quality_scores_its_records():
    """Each resample's BLEU-1/4, ROUGE-1/2/L and FMR are explanation_quality's over the drawn
    records written out one by one (the same seeded draws); the intervals are their quantiles."""
    from whyrec.metrics.significance import bootstrap_intervals

    references, first, _, true = _noisy_corpus(30, seed=8)
    intervals = bootstrap_intervals(references, first, true, FEATURES, resamples=60, level=0.8, seed=3)
    draws = np.random.default_rng(3).multinomial(30, np.full(30, 1 / 30), size=60)
    naive = {metric: [] for metric in intervals}
    for counts in draws:
        drawn = np.repeat(np.arange(30), counts)
        scores = explanation_quality([references[n] for n in drawn], [first[n] for n in drawn],
                                     [true[n] for n in drawn], FEATURES)
        for metric in naive:
            naive[metric].append(scores[metric])
    assert set(intervals) == {"bleu1", "bleu4", "rouge1", "rouge2", "rougeL", "fmr"}
    for metric, values in naive.items():
        assert intervals[metric] == pytest.approx(tuple(np.quantile(values, [0.1, 0.9])), rel=1e-9), metric


@pytest.mark.parametrize("settings, accepted", [
    (dict(resamples=1), True), (dict(resamples=0), False),
    (dict(level=0.0), False), (dict(level=1.0), False), (dict(level=1.5), False), (dict(level=0.01), True)])
def test_the_bootstraps_take_one_resample_or_more_and_a_level_inside_0_1(settings, accepted):
    from whyrec.metrics.significance import bootstrap_intervals, rating_error_intervals

    calls = (lambda: bootstrap_intervals([["a", "b"]] * 3, [["a"]] * 3, **settings),
             lambda: rating_error_intervals([1.0, 2.0], [1.5, 2.5], **settings))
    for call in calls:
        if accepted:
            assert set(call())
        else:
            with pytest.raises(ValueError, match="at least one resample and a level between 0 and 1"):
                call()


def test_the_records_must_pair_up_one_by_one():
    from whyrec.metrics.significance import PairedExplanations, bootstrap_intervals, stratified_randomization_test

    with pytest.raises(ValueError, match="one explanation per reference"):
        bootstrap_intervals([["a"], ["b"]], [["a"]])
    for first, second in (([["a"]], [["b"], ["c"]]), ([["a"], ["b"]], [["c"]])):
        with pytest.raises(ValueError, match="the two systems' explanations of the same records"):
            stratified_randomization_test([PairedExplanations([["a"], ["b"]], first, second)])
    # one trial is a test (p = 1/2 or 1); the smallest it can report
    assert randomization_test([["a"]] * 30, [["a"]] * 30, [["b"]] * 30, trials=1)["bleu1"].assignments == 1


def test_rating_error_intervals_score_each_resample_as_rmse_and_mae_score_it():
    """Each resample's RMSE and MAE, from the records it draws, are those of the metrics over the
    drawn records written out one by one; the intervals hold the test's own RMSE and MAE."""
    from whyrec.metrics.rating import mae, rmse
    from whyrec.metrics.significance import rating_error_intervals

    rng = np.random.default_rng(3)
    ratings = rng.integers(1, 6, size=80).astype(float)
    predicted = np.clip(ratings + rng.normal(0.0, 0.8, size=80), 1, 5)
    intervals = rating_error_intervals(predicted, ratings, resamples=300, seed=7)
    # the same draws, each resample's records listed and scored by the metrics themselves
    draws = np.random.default_rng(7).multinomial(80, np.full(80, 1 / 80), size=300)
    naive = {"rmse": [], "mae": []}
    for counts in draws:
        drawn = np.repeat(np.arange(80), counts)
        naive["rmse"].append(rmse(predicted[drawn], ratings[drawn]))
        naive["mae"].append(mae(predicted[drawn], ratings[drawn]))
    for metric, point in (("rmse", rmse(predicted, ratings)), ("mae", mae(predicted, ratings))):
        assert intervals[metric] == pytest.approx(tuple(np.quantile(naive[metric], [0.025, 0.975])), rel=1e-12)
        low, high = intervals[metric]
        assert low < point < high, metric
    narrower = rating_error_intervals(predicted, ratings, resamples=300, level=0.5, seed=7)
    assert intervals["rmse"][0] < narrower["rmse"][0] < narrower["rmse"][1] < intervals["rmse"][1]
    # every error alike (0.5): every resample scores 0.5
    assert rating_error_intervals([3.5] * 6, [3.0] * 6, resamples=20) == {"rmse": (0.5, 0.5), "mae": (0.5, 0.5)}
    for bad in (dict(predictions=[], references=[]), dict(predictions=[1, 2], references=[1]),
                dict(predictions=[1.0], references=[2.0], resamples=0), dict(predictions=[1.0], references=[2.0],
                                                                             level=1.0)):
        with pytest.raises(ValueError):
            rating_error_intervals(**bad)


def test_holm_adjusts_hand_computed_p_values_in_their_own_places():
    # sorted: 0.005 × 4 = 0.02, 0.01 × 3 = 0.03, 0.03 × 2 = 0.06, 0.04 × 1 = 0.04 → raised to 0.06 (step-down)
    assert holm_adjusted([0.01, 0.04, 0.03, 0.005]).tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm_adjusted([0.02, 0.5, 0.02]).tolist() == pytest.approx([0.06, 0.5, 0.06])  # ties: one value
    assert holm_adjusted([0.3, 0.6]).tolist() == [0.6, 0.6]  # 0.3 × 2; then max(0.6, 0.6)
    assert holm_adjusted([0.9, 0.8]).tolist() == [1.0, 1.0]  # capped at 1
    assert holm_adjusted([0.04]).tolist() == [0.04]  # one test: its own p
    assert holm_adjusted([0.0, 1.0]).tolist() == [0.0, 1.0]  # both ends are p-values
    assert holm_adjusted([]).size == 0


def test_holm_is_never_below_the_raw_p_nor_above_bonferroni():
    p = np.random.default_rng(0).random(40) ** 3
    adjusted = holm_adjusted(p)
    assert np.all(adjusted >= p) and np.all(adjusted <= np.minimum(1.0, 40 * p) + 1e-12)
    order = np.argsort(p)
    assert np.all(np.diff(adjusted[order]) >= 0)  # the adjustment keeps the p-values' order


@pytest.mark.parametrize("bad", [[0.1, float("nan")], [1.5], [-0.01], [[0.1, 0.2]]])
def test_holm_refuses_what_is_not_a_p_value(bad):
    with pytest.raises(ValueError):
        holm_adjusted(bad)


def test_holm_by_test_reads_every_row_and_metric_as_one_family():
    rows = [{"bleu1": 0.01, "usr": 0.04}, {}, {"bleu1": 0.03, "fcr": 0.005}]
    assert holm_by_test(rows) == [pytest.approx({"bleu1": 0.03, "usr": 0.06}), {},
                                  pytest.approx({"bleu1": 0.06, "fcr": 0.02})]


def test_the_smallest_p_of_randomization_tests_is_their_trials_floor():
    assert smallest_p([PairedDifference(1.0, 0.2, 1000), PairedDifference(1.0, 0.3, 99)]) == (1 / 1001, False)
    assert smallest_p([PairedDifference(1.0, 0.5, 8, exact=True)]) == (0.25, True)  # 3 records: 2 of 8 swaps
    references, first, second, features = _perfect_and_bad(3)
    reached = randomization_test(references, first, second, features, FEATURES, trials=8)["bleu1"]
    assert reached.exact and reached.p == smallest_p([reached])[0]  # the floor is reached


def test_holm_by_test_leaves_a_nan_p_out_of_the_family():
    # a ranking metric over a split without a user to rank has no p: two tests remain, 0.01 × 2 and 0.04 × 1
    assert holm_by_test([{"ndcg@5": 0.01, "mrr@5": float("nan")}, {"ndcg@5": 0.04}]) == [
        {"ndcg@5": pytest.approx(0.02), "mrr@5": None}, {"ndcg@5": pytest.approx(0.04)}]


def test_paired_explanations_with_the_same_records_give_the_same_tests():
    from whyrec.metrics.significance import PairedExplanations, stratified_randomization_test

    refs, mine, theirs = [["a", "good", "strap"], ["the", "tone"]], [["good", "strap"], ["tone"]], [["a"], ["the"]]
    means = {"acc5": (np.array([100.0, 0.0]), np.array([0.0, 0.0]))}
    part = PairedExplanations(refs, mine, theirs, ["strap", "tone"], record_means=means)
    same = PairedExplanations([tuple(t) for t in refs], list(mine), list(theirs), ("strap", "tone"),
                              record_means={"acc5": ([100.0, 0.0], [0.0, 0.0])})
    assert part.same_tests_as(same) and same.same_tests_as(part)
    assert stratified_randomization_test([part], trials=8) == stratified_randomization_test([same], trials=8)
    for other in (PairedExplanations(refs, [["good"], ["tone"]], theirs, ["strap", "tone"], record_means=means),
                  PairedExplanations(refs, mine, theirs, ["strap", "neck"], record_means=means),
                  PairedExplanations(refs, mine, theirs, ["strap", "tone"], record_means={}),
                  PairedExplanations(refs, mine, theirs, ["strap", "tone"], record_means=means, feature_set={"strap"})):
        assert not part.same_tests_as(other)


@pytest.mark.parametrize("chunk_cells", [1 << 22, 4, 1])
def test_assignments_and_resamples_come_whole_whatever_the_chunks(monkeypatch, chunk_cells):
    """The exact test enumerates each of the 2^N assignments once; the random test and the
    bootstrap give as many rows as asked, chunked however :data:`_CHUNK_CELLS` cuts them."""
    from whyrec.metrics import significance

    monkeypatch.setattr(significance, "_CHUNK_CELLS", chunk_cells)
    rows = np.concatenate(list(significance._all_assignments(3)))
    assert sorted(map(tuple, rows.tolist())) == sorted((a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1))
    swaps = np.concatenate(list(significance._random_assignments(2, 51, seed=1)))  # an odd count: a short last chunk
    assert swaps.shape == (51, 2) and 0.3 < swaps.mean() < 0.7  # each record swapped with probability ½
    weights = np.concatenate(list(significance._resample_weights(2, 31, seed=1)))
    assert weights.shape == (31, 2) and (weights.sum(axis=1) == 2).all()


def test_the_test_is_exact_only_when_the_trials_cover_every_assignment():
    references, first, second, _ = _noisy_corpus(10, seed=2)
    sampled = randomization_test(references, first, second, trials=100)["bleu1"]
    assert not sampled.exact and sampled.assignments == 100  # 2^10 = 1,024 assignments > 100 trials
    exact = randomization_test(references, first, second, trials=1024)["bleu1"]
    assert exact.exact and exact.assignments == 1024


@pytest.mark.parametrize("count, exact", [(20, True), (21, False)])
def test_up_to_twenty_records_are_enumerated_and_more_are_sampled_whatever_the_trials(monkeypatch, count, exact):
    """2^20 assignments are the most counted one by one; with 21 records even 2^21 trials are drawn
    at random. (Each kind of assignment is stubbed to a single row here: only the choice is tested.)"""
    from whyrec.metrics import significance

    def one_row(kind):
        def assignments(records, *rest, **settings):
            chosen.append(kind)
            yield np.zeros((1, records), dtype=bool)
        return assignments

    chosen = []
    monkeypatch.setattr(significance, "_all_assignments", one_row("all"))
    monkeypatch.setattr(significance, "_random_assignments", one_row("random"))
    references, first, second, _ = _noisy_corpus(count, seed=3)
    result = randomization_test(references, first, second, trials=2 ** count)["bleu1"]
    assert chosen == ["all" if exact else "random"] and result.exact is exact and result.assignments == 2 ** count
