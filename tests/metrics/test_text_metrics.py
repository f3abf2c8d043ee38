"""Text metrics pinned to hand-computed values (definitions of the PETER benchmark / MT paper)."""

import math
import random

import pytest

from whyrec.metrics.text import (bleu_statistics, corpus_bleu, detect_features, explanation_quality,
                                 feature_coverage_ratio, feature_diversity, feature_matching_ratio, perplexity, rouge,
                                 rouge_l, rouge_n, tfidf_similarity, unique_sentence_ratio)


def test_bleu_hand_computed():
    ref = ["the", "sound", "is", "great"]
    hyp = ["the", "sound", "is", "good"]
    # unigrams 3/4; bigrams 2/3; trigrams 1/2; 4-grams 0/1 → BLEU-4 = 0, BLEU-1 = 75
    assert corpus_bleu([ref], [hyp], max_order=1) == pytest.approx(75.0)
    assert corpus_bleu([ref], [hyp], max_order=4) == 0.0
    # BLEU-2 = sqrt(3/4 · 2/3) = sqrt(0.5), lengths equal → BP = 1
    assert corpus_bleu([ref], [hyp], max_order=2) == pytest.approx(100 * math.sqrt(0.5))
    # brevity penalty: hypothesis of 2 against reference of 4 → exp(1 − 4/2)
    assert corpus_bleu([ref], [["the", "sound"]], max_order=1) == pytest.approx(100 * math.exp(-1))
    # clipping: "the the the" against "the sound" matches one "the"
    assert corpus_bleu([["the", "sound"]], [["the", "the", "the"]], max_order=1) == pytest.approx(100 / 3)
    # corpus level: counts pooled before dividing
    assert corpus_bleu([ref, ref], [ref, hyp], max_order=1) == pytest.approx(100 * 7 / 8)
    # nothing to score is an error, not a BLEU of 0; empty hypotheses are scored (0: no n-grams)
    for refs, hyps in (([], []), ([ref], [])):
        with pytest.raises(ValueError, match="one reference per hypothesis"):
            corpus_bleu(refs, hyps)
    assert corpus_bleu([ref], [[]], max_order=1) == 0.0


def test_bleu_without_an_order_is_bleu_4():
    ref = ["the", "sound", "is", "warm", "and", "the", "strap", "is", "long"]
    hyp = ["the", "sound", "is", "warm", "and", "the", "strap", "is", "short"]
    # n-gram precisions 8/9, 7/8, 6/7, 5/6, 4/5: each order gives another BLEU
    scores = {n: corpus_bleu([ref], [hyp], max_order=n) for n in (3, 4, 5)}
    assert scores[4] == pytest.approx(100 * (8 / 9 * 7 / 8 * 6 / 7 * 5 / 6) ** (1 / 4))
    assert corpus_bleu([ref], [hyp]) == scores[4] != scores[3] and scores[4] != scores[5]
    matches, possible, _, _ = bleu_statistics([ref], [hyp])
    assert matches.shape[-1] == possible.shape[-1] == 4


def test_rouge_n_uses_sets():
    ref = ["good", "good", "sound"]
    hyp = ["good", "sound", "sound", "bad"]
    f, p, r = rouge_n(ref, hyp, 1)
    # sets: hyp {good, sound, bad}, ref {good, sound} → P = 2/3, R = 1
    assert (p, r) == (pytest.approx(2 / 3), pytest.approx(1.0))
    assert f == pytest.approx(2 * (2 / 3) / (2 / 3 + 1 + 1e-8))
    assert rouge_n(["a"], ["a"], 2) == (0.0, 0.0, 0.0)


def test_rouge_l_and_average():
    ref = ["the", "guitar", "sound", "is", "warm"]
    hyp = ["guitar", "is", "warm", "and", "loud"]
    f, p, r = rouge_l(ref, hyp)
    # LCS = guitar is warm = 3 → R = 3/5, P = 3/5, β = 1 → F = 0.6
    assert (p, r) == (pytest.approx(0.6), pytest.approx(0.6))
    assert f == pytest.approx(0.6, abs=1e-9)
    # P ≠ R: β = P / R weighs them as the benchmark's ROUGE-L does, which is not their harmonic mean
    # ref of 4 words, hyp of 2 inside it: LCS 2 → R = 1/2, P = 1, β = 2 → F = 5 · 1/2 / (1/2 + 4) = 5/9
    f, p, r = rouge_l(["the", "strap", "is", "short"], ["strap", "short"])
    assert (f, p, r) == (pytest.approx(5 / 9), pytest.approx(1.0), pytest.approx(0.5))
    assert f != pytest.approx(2 * p * r / (p + r))  # F1 would be 2/3
    for empty_side in (([], hyp), (ref, [])):
        assert rouge_l(*empty_side) == (0.0, 0.0, 0.0)
    scores = rouge([ref, ["x"]], [hyp, ["y"]])
    assert scores["rouge_l/f_score"] == pytest.approx(100 * 0.6 / 2, abs=1e-6)
    assert set(scores) == {f"rouge_{n}/{k}_score" for n in ("1", "2", "l") for k in "fpr"}


def test_usr_fmr_fcr():
    hyps = [["great", "sound"], ["great", "sound"], ["cheap", "price"], ["nice"]]
    assert unique_sentence_ratio(hyps) == pytest.approx(3 / 4)
    features = {"sound", "price", "strap"}
    detected = detect_features(hyps, features)
    assert detected == [{"sound"}, {"sound"}, {"price"}, set()]
    assert feature_matching_ratio(detected, ["sound", "price", "price", "strap"]) == pytest.approx(2 / 4)
    assert feature_coverage_ratio(detected, features) == pytest.approx(2 / 3)


def _naive_div(detected):
    n, total = len(detected), 0
    for i in range(n):
        for j in range(i + 1, n):
            total += len(detected[i] & detected[j])
    return total / (n * (n - 1) / 2)


def test_div_hand_computed_and_matches_naive_loop():
    detected = [{"a", "b"}, {"a"}, {"b", "c"}, set()]
    # pairs sharing: (0,1) a; (0,2) b → 2 over 6 pairs
    assert feature_diversity(detected) == pytest.approx(2 / 6)
    rng = random.Random(0)
    vocab = [f"f{k}" for k in range(40)]
    big = [set(rng.sample(vocab, rng.randint(0, 3))) for _ in range(1500)]
    assert feature_diversity(big) == pytest.approx(_naive_div(big))
    # as the benchmark defines it, explanations that name no feature share none: DIV 0, its best
    assert feature_diversity([set(), set(), set()]) == 0.0 == _naive_div([set(), set(), set()])
    # two samples are the fewest with a pair: their one pair shares b
    assert feature_diversity([{"a", "b"}, {"b"}]) == 1.0 == _naive_div([{"a", "b"}, {"b"}])
    with pytest.raises(ValueError, match="at least two samples"):
        feature_diversity([{"a"}])


def test_perplexity():
    assert perplexity([[math.log(0.5), math.log(0.5)], [math.log(0.25)]]) == pytest.approx(
        math.exp(-(2 * math.log(0.5) + math.log(0.25)) / 3))
    assert perplexity([[0.0, 0.0]]) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        perplexity([[]])
    assert perplexity([[0.0, -math.inf]]) == math.inf  # a word given probability 0
    for wrong in ([[0.7]], [[-0.5, math.nan]]):  # −log p (or p) passed by mistake read as a perplexity < 1
        with pytest.raises(ValueError, match="log-probabilities must be at most 0"):
            perplexity(wrong)


def test_tfidf_similarity_hand_computed():
    refs = [["good", "sound"], ["bad", "price"], ["good", "price", "price"]]
    hyps = [["good", "sound"], ["good", "strap"], ["price"]]
    # identical → 1; no shared weighted term → 0; third: ref vector (good: log(3/2), price: (1+log 2)·log(3/2))
    # hyp vector (price: log(3/2)) → cos = (1+log2) / sqrt(1 + (1+log2)^2)
    expected3 = (1 + math.log(2)) / math.sqrt(1 + (1 + math.log(2)) ** 2)
    assert tfidf_similarity(refs, hyps) == pytest.approx((1.0 + 0.0 + expected3) / 3)
    # a side with no weighted term (words the idf corpus lacks, or in every document of it) scores 0
    refs = [["good", "sound"], ["good", "price"]]
    hyps = [["unheard"], ["good", "price"]]  # good is in both references: idf log(2/2) = 0
    assert tfidf_similarity(refs, hyps) == pytest.approx((0.0 + 1.0) / 2)
    assert tfidf_similarity(refs, [["good"], ["good"]]) == 0.0
    # idf weighs a rare word over a common one: a (in 2 of 3 references) log(3/2); b, c, d log 3
    refs = [["a", "b"], ["a", "c"], ["d"]]
    shared_a = math.log(1.5) ** 2 / (math.log(1.5) ** 2 + math.log(3) ** 2)
    assert tfidf_similarity(refs[:1], [["a", "c"]], idf_corpus=refs) == pytest.approx(shared_a)
    # tf: a word twice weighs 1 + log 2 times its idf
    twice = (1 + math.log(2)) * math.log(1.5)
    both = twice * math.log(1.5) / math.hypot(twice, math.log(3)) / math.hypot(math.log(1.5), math.log(3))
    assert tfidf_similarity(refs[:1], [["a", "a", "c"]], idf_corpus=refs) == pytest.approx(both)


def test_explanation_quality_is_the_benchmark_table_of_the_single_metrics():
    refs = [["great", "sound", "and", "price"], ["the", "strap", "broke"], ["nice", "sound"]]
    hyps = [["great", "sound"], ["the", "strap", "is", "nice"], ["great", "sound"]]
    features = {"sound", "price", "strap"}
    table = explanation_quality(refs, hyps, ["sound", "strap", "price"], features)
    r = rouge(refs, hyps)
    detected = detect_features(hyps, features)
    assert table == pytest.approx({
        "bleu1": corpus_bleu(refs, hyps, 1), "bleu4": corpus_bleu(refs, hyps, 4), "rouge1": r["rouge_1/f_score"],
        "rouge2": r["rouge_2/f_score"], "rougeL": r["rouge_l/f_score"], "usr": 2 / 3, "fmr": 2 / 3,
        "fcr": 2 / 3, "div": feature_diversity(detected)})
    assert table["div"] == pytest.approx(1 / 3)  # only samples 1 and 3 share a feature ("sound")
    # DIV needs a pair: two explanations have one, a single explanation none (NaN, not an error)
    assert explanation_quality(refs[:2], hyps[:2], ["sound", "strap"], features)["div"] == 0.0
    assert math.isnan(explanation_quality(refs[:1], hyps[:1], ["sound"], features)["div"])
    without = explanation_quality(refs, hyps, ["", "", ""], set())
    assert all(math.isnan(without[k]) for k in ("fmr", "fcr", "div")) and without["usr"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("metric, message", [
    (lambda: rouge([["a"]], []), "same, non-zero number"),
    (lambda: rouge([], []), "same, non-zero number"),
    (lambda: tfidf_similarity([["a"], ["b"]], [["a"]]), "same, non-zero number"),
    (lambda: unique_sentence_ratio([]), "no hypotheses"),
    (lambda: feature_matching_ratio([{"sound"}], ["sound", "price"]), "one true feature per sample"),
    (lambda: feature_matching_ratio([], []), "one true feature per sample"),
    (lambda: feature_coverage_ratio([{"sound"}], set()), "empty feature set"),
    (lambda: feature_diversity([{"sound"}]), "at least two samples"),
])
def test_a_metric_of_mismatched_or_empty_inputs_is_an_error_not_a_number(metric, message):
    """No metric quietly scores what it cannot: unpaired lists, no samples, no features."""
    with pytest.raises(ValueError, match=message):
        metric()


def test_fcr_of_no_explanations_is_zero():
    assert feature_coverage_ratio([], {"sound"}) == 0.0
