"""The explanation metrics of a trained system on a test set (what `whyrec evaluate` adds):
plain greedy explanations unless a decoding is given, scores per explainer, MMI's mutual
information, empty explanations counted apart."""

from __future__ import annotations

import numpy as np
import pytest

from tests.cli.invoke import assert_one_line_error, run_cli
from whyrec.data import Corpus
from whyrec.explain.decoding import Decoding
from whyrec.rating import BiasBaseline


def test_scored_explanations_are_the_plain_greedy_ones_unless_a_decoding_is_given(tiny_mt, tiny_split, tmp_path):
    """The metrics are defined on the PETER benchmark's plain greedy decoding; a decoding given
    (evaluate --method) scores what `whyrec explain` would show with it."""
    from whyrec.align.pipeline import explain_records
    from whyrec.explanation_scores import write_explanations
    from whyrec.explanations import generate

    mt, split = tiny_mt, tiny_split
    plain = write_explanations(mt, split.test, None)
    assert plain.texts["pair"] == explain_records(mt, plain.known, None, "pair")
    beam = Decoding.of("beam", {"beam": 3, "length_penalty": 1.0})
    decoded = write_explanations(mt, split.test, None, beam)
    users, items = list(decoded.known.users), list(decoded.known.items)
    for name in ("user", "item", "pair"):
        assert decoded.texts[name] == generate(mt, name, users, items, beam)
    assert decoded.references == plain.references
    assert beam.describe() == "beam search (beam 3, length_penalty 1)"
    assert Decoding.of("sample", {"seed": 4, "top_p": 0.5}).describe() == "sampling (top_p 0.5, seed 4)"
    assert Decoding().describe() == "greedy search"
    # the command line: said in the report, and refused where it cannot apply
    mt.save(tmp_path / "mt")
    data = tmp_path / "reviews.csv"
    Corpus.concat([split.train, split.valid, split.test]).reviews.to_csv(data, index=False)
    shown = run_cli("evaluate", str(tmp_path / "mt"), "--data", str(data), "--method", "sample", "--decode", "seed=1")
    assert shown.returncode == 0, shown.stderr
    assert "explanations decoded by sampling (seed 1), as `whyrec explain` shows them" in shown.stdout
    assert_one_line_error(run_cli("evaluate", str(tmp_path / "mt"), "--data", str(data), "--decode", "beam=2"),
                          "decoding: beam is a setting of beam decoding, not of greedy; choose method beam to set it")
    from whyrec.bundle import save_bundle

    save_bundle(BiasBaseline().fit(split.train), tmp_path / "bias")
    assert_one_line_error(run_cli("evaluate", str(tmp_path / "bias"), "--data", str(data), "--method", "beam"),
                          "is a rating model and writes none")


def test_test_explanations_are_scored_per_explainer(tiny_mt, tiny_split):
    from whyrec.data.features import FeatureExtractor
    from whyrec.explain.targets import explanation_targets
    from whyrec.explanation_scores import score_explanations
    from whyrec.metrics.text import explanation_quality

    from whyrec.metrics.alignment import SentimentJudge, sentiment_accuracy, sentiment_base_rate

    mt, split = tiny_mt, tiny_split
    features = FeatureExtractor(min_df=2).extract(split.train)
    scored, scores = score_explanations(mt, split.test, features, split.train)
    known = [n for n, (u, i) in enumerate(zip(split.test.users, split.test.items))
             if u in mt.user_map and i in mt.item_map]
    assert scored == len(known) > 0 and sorted(scores) == ["item", "pair", "user"]
    part = split.test.take(known)
    at = dict(zip(features["position"], features["feature"]))
    references = explanation_targets(part, features, mt.config.max_words)
    texts = mt.explain(part.users, part.items, variant="user")
    expected = explanation_quality(references, [t.split() for t in texts],
                                   [at.get(p, "") for p in part.positions.tolist()], set(features["feature"]))
    assert {k: scores["user"][k] for k in expected} == pytest.approx(expected, nan_ok=True)
    assert scores["user"]["empty"] == pytest.approx(100 * sum(not t.strip() for t in texts) / len(texts))
    # perplexity: exp of the explainer's own mean teacher-forced NLL of the reference sentences
    nll = mt._mean_nll("user", references, mt.user_map.lookup(part.users), mt.item_map.lookup(part.items))
    assert scores["user"]["ppl"] == pytest.approx(np.exp(nll))
    assert scores["user"]["ppl"] != pytest.approx(scores["pair"]["ppl"])
    judged = SentimentJudge().fit(list(split.train.texts), split.train.ratings).predict(texts)
    accuracy = sentiment_accuracy(judged, mt.predict(part.users, part.items))
    assert (scores["user"]["acc5"], scores["user"]["acc3"]) == pytest.approx((accuracy["acc5"], accuracy["acc3"]))
    base = sentiment_base_rate(mt.predict(part.users, part.items))  # the system's, not the explainer's: one for all
    assert all((s["base5"], s["base3"]) == pytest.approx((base["acc5"], base["acc3"])) for s in scores.values())
    no_judge = score_explanations(mt, split.test, features)[1]["user"]  # no train part, no judge
    assert "acc5" not in no_judge and "base5" not in no_judge


def test_mutual_information_of_the_explanations_with_the_rating_and_the_feature(tiny_mt, tiny_split):
    from whyrec.align.mine import MINEConfig
    from whyrec.align.pipeline import sentence_encoder
    from whyrec.data.features import FeatureExtractor
    from whyrec.explanation_scores import score_explanations
    from whyrec.metrics.alignment import normalised_rating_mi

    mt, split = tiny_mt, tiny_split
    features = FeatureExtractor(min_df=2).extract(Corpus.concat([split.train, split.valid, split.test]))
    encoder = sentence_encoder("words", mt.vocab)
    _, scores = score_explanations(mt, split.test, features, encoder=encoder)
    known = split.test.take([n for n, (u, i) in enumerate(zip(split.test.users, split.test.items))
                             if u in mt.user_map and i in mt.item_map])
    texts = mt.explain(known.users, known.items, variant="pair")
    expected = normalised_rating_mi(encoder.encode(texts), mt.predict_corpus(known),
                                    MINEConfig(hidden=100, lr=1e-3, batch_size=256, epochs=100))
    assert scores["pair"]["mi_rating"] == pytest.approx(expected)
    assert np.isfinite(scores["pair"]["mi_feature"]) and "acc5" not in scores["pair"]


def test_empty_explanations_are_counted_apart(tiny_mt, tiny_split, monkeypatch):
    """A decoder that ends every explanation at once: the judge can only read its prior, so the
    share of empty explanations is reported beside the sentiment accuracy."""
    import whyrec.align.pipeline as pipeline
    from whyrec.data.features import FeatureExtractor
    from whyrec.explanation_scores import score_explanations

    mt, split = tiny_mt, tiny_split
    features = FeatureExtractor(min_df=2).extract(split.train)
    monkeypatch.setattr(pipeline, "explain_records", lambda model, known, feats, variant: [""] * len(known))
    _, scores = score_explanations(mt, split.test, features, split.train)
    assert all(s["empty"] == 100.0 for s in scores.values())


def test_a_change_of_explanations_is_tested_against_the_records_sentences(tiny_split):
    """align's test: the explanations after against those before, on the extracted sentences; an
    explainer that writes each record's own sentence beats one that writes nothing."""
    from whyrec.data.features import FeatureExtractor
    from whyrec.explain.targets import explanation_targets
    from whyrec.explanation_scores import tested_change
    from whyrec.metrics.text import explanation_quality

    test = tiny_split.test
    features = FeatureExtractor(min_df=2).extract(Corpus.concat([tiny_split.train, tiny_split.valid, test]))
    sentences = [" ".join(tokens) for tokens in explanation_targets(test, features, 15)]
    before = ["the"] * len(test)
    agreement = {"acc5": (np.full(len(test), 100.0), np.zeros(len(test)))}  # the judge agrees after, not before
    change = tested_change(test, features, 15, before, sentences, agreement, trials=200)
    quality = [explanation_quality([t.split() for t in sentences], [t.split() for t in texts], [""] * len(test), set())
               for texts in (sentences, before)]
    assert change["bleu1"].difference == pytest.approx(quality[0]["bleu1"] - quality[1]["bleu1"])
    assert change["bleu1"].difference > 50 and change["bleu1"].p == pytest.approx(1 / 201)
    assert change["acc5"].difference == 100.0 and change["acc5"].p == pytest.approx(1 / 201)
    assert {"fmr", "fcr", "div"} <= set(change)
    unchanged = tested_change(test, features, 15, sentences, sentences, trials=50)
    assert all(t.difference == 0.0 and t.p == 1.0 for t in unchanged.values())


def test_each_explainers_intervals_surround_its_scores(tiny_mt, tiny_split):
    from whyrec.data.features import FeatureExtractor
    from whyrec.explanation_scores import (explanation_intervals, score_explanations, sentiment_judge,
                                           write_explanations)

    test = tiny_split.test
    features = FeatureExtractor(min_df=2).extract(Corpus.concat([tiny_split.train, tiny_split.valid, test]))
    written = write_explanations(tiny_mt, test, features)
    judge = sentiment_judge(tiny_split.train)
    _, scores = score_explanations(tiny_mt, test, features, judge=judge, written=written)
    intervals = explanation_intervals(tiny_mt, written, features, judge, resamples=200)
    assert set(intervals) == {"user", "item", "pair"}
    for name, bounds in intervals.items():
        assert {"acc5", "acc3", "fmr", "bleu1"} <= set(bounds) and "usr" not in bounds
        for metric, (low, high) in bounds.items():
            assert low <= scores[name][metric] + 1e-9 and scores[name][metric] <= high + 1e-9, (name, metric)
    assert explanation_intervals(tiny_mt, written, features, resamples=50)["pair"].keys().isdisjoint({"acc5"})


def test_a_test_part_of_one_known_record_is_scored_and_two_feature_words_measured(tiny_mt, tiny_split):
    """One known record is a test part to score, not an empty one; I(F;E) needs two records with a
    feature word, and two are enough."""
    from whyrec.align.pipeline import sentence_encoder
    from whyrec.data.features import FeatureExtractor
    from whyrec.explanation_scores import explanation_intervals, score_explanations, write_explanations

    mt, test = tiny_mt, tiny_split.test
    features = FeatureExtractor(min_df=2).extract(Corpus.concat([tiny_split.train, tiny_split.valid, test]))
    with_feature = set(features["position"])
    known = [n for n, (u, i, p) in enumerate(zip(test.users, test.items, test.positions))
             if u in mt.user_map and i in mt.item_map and p in with_feature]
    one = test.take(known[:1])
    written = write_explanations(mt, one, features)
    assert len(written.known) == 1 and all(len(texts) == 1 for texts in written.texts.values())
    scored, scores = score_explanations(mt, one, features, written=written)
    assert scored == 1 and sorted(scores) == ["item", "pair", "user"]
    assert score_explanations(mt, test.take([]), features) == (0, {})
    assert set(explanation_intervals(mt, written, features, resamples=20)) == {"item", "pair", "user"}
    two = test.take(known[:2])
    _, scores = score_explanations(mt, two, features, encoder=sentence_encoder("words", mt.vocab))
    assert np.isfinite(scores["pair"]["mi_feature"])


def test_judged_agreement_is_100_where_the_judge_reads_the_records_class_and_0_elsewhere():
    from whyrec.explanation_scores import judged_agreement

    class ReadsAsGiven:
        def predict(self, texts):
            return np.array([int(t) for t in texts])

    agreement = judged_agreement(ReadsAsGiven(), ["5", "4", "1", "3"], np.array([5, 5, 2, 3]))
    assert agreement["acc5"].tolist() == [100.0, 0.0, 0.0, 100.0]
    assert agreement["acc3"].tolist() == [100.0, 100.0, 100.0, 100.0]  # 4 and 5 positive, 1 and 2 negative
