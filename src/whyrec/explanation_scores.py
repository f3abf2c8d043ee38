"""The explanation metrics of a trained system on a test set, what ``whyrec evaluate``, ``compare``
and ``experiment explain`` report for it: each explainer's explanations of the test records it
knows (:func:`write_explanations`), scored against the records' extracted sentences and feature
words (:func:`score_explanations`: BLEU, ROUGE, USR, FMR, FCR, DIV, perplexity, sentiment
accuracy against the system's own predicted rating, and MMI's mutual information)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from whyrec.data.corpus import Corpus
from whyrec.data.features import feature_set as quadruple_features
from whyrec.errors import ConfigError
from whyrec.explain.decoding import Decoding
from whyrec.explanations import check_decoding, explainers_of, generate, is_mt, steers_by_feature
from whyrec.metrics.text import explanation_quality


def sentiment_judge(train):
    """The alignment measure's judge: a :class:`~whyrec.metrics.alignment.SentimentJudge` trained
    on ``train``'s reviews and their ratings, read on the judge's 1..5 classes (``five_point``)."""
    from whyrec.data.scale import five_point
    from whyrec.metrics.alignment import SentimentJudge

    return SentimentJudge().fit(list(train.texts), five_point(train.ratings, train.rating_scale))


def judged_agreement(judge, texts: list[str], classes) -> dict[str, np.ndarray]:
    """Per explanation, 100 where ``judge`` reads it as its record's rating class (``classes``,
    1..5), else 0: ``acc5`` over 5 classes, ``acc3`` over 3 — the per-record values whose mean is
    the sentiment accuracy, as the significance tests and the bootstrap intervals take them
    (:func:`whyrec.metrics.alignment.sentiment_agreement`)."""
    from whyrec.metrics.alignment import sentiment_agreement

    return {name: 100.0 * agrees for name, agrees in sentiment_agreement(judge.predict(texts), classes).items()}


@dataclass
class WrittenExplanations:
    """What an evaluation scores: the test records whose user and item the system knows
    (``known``, a Corpus), each one's reference (its extracted explanation sentence, as tokens)
    and feature word ("" when it has none), and each explainer's greedy explanation of it
    (``texts[name]``, in the records' order)."""

    known: Corpus
    references: list[list[str]]
    feature_words: list[str]
    texts: dict[str, list[str]]


def write_explanations(model, test, features, decoding: Decoding | None = None) -> WrittenExplanations:
    """Every explainer's explanations of the ``test`` records whose user and item ``model``
    knows, with what they are scored against (``features``: the extracted quadruples; PETER+ is
    fed each record's extracted feature word, as in the PETER benchmark). By default the plain
    greedy decoding the PETER benchmark scores (repeats and ``<unk>`` allowed, as the reference
    code decodes); given a :class:`~whyrec.explain.decoding.Decoding`, the explanations as
    :func:`generate` writes them with it, as ``whyrec explain`` shows them."""
    from whyrec.align.pipeline import explain_records, feature_words, known_records
    from whyrec.explain.targets import explanation_targets

    names = explainers_of(model)
    if not names:
        raise ConfigError(f"{type(model).__name__} writes no explanations")
    check_decoding(model, decoding)
    known = known_records(model, test)
    if len(known) == 0:
        return WrittenExplanations(known, [], [], {name: [] for name in names})
    words = feature_words(known, features)
    if decoding is None:
        texts = {name: explain_records(model, known, features, _variant(name)) for name in names}
    else:
        fed = words if steers_by_feature(model) else None
        texts = {name: generate(model, name, list(known.users), list(known.items), decoding, fed) for name in names}
    return WrittenExplanations(known, explanation_targets(known, features, model.config.max_words), words, texts)


def _variant(name: str) -> str:
    """The MT decoder an explainer name stands for (PETER's own name: its one generator)."""
    return name if name in ("user", "item", "pair") else "pair"


def score_explanations(model, test, features, train=None, judge=None, encoder=None,
                       written: WrittenExplanations | None = None) -> tuple[int, dict[str, dict[str, float]]]:
    """(records scored, {explainer: scores}) on the ``test`` records whose user and item the
    system knows, against each record's extracted explanation sentence (``features``: the
    extracted quadruples; PETER+ is fed each record's extracted feature word, as in the PETER
    benchmark); ``written``: the explanations of :func:`write_explanations`, when the caller
    has them already:

    * the greedy explanations' :func:`whyrec.metrics.text.explanation_quality` (BLEU, ROUGE, USR,
      FMR, FCR, DIV), and ``empty``: the percentage of them with no words (an undertrained
      decoder's; the sentiment judge reads those by its prior alone);
    * ``ppl``: the perplexity of the reference sentences under the explainer, teacher-forced
      (:func:`whyrec.metrics.text.perplexity`; ``<eos>`` counted, as PETER does);
    * with ``train`` (a Corpus), ``acc5`` / ``acc3``: how often a sentiment judge trained on the
      train reviews reads the explanation as the system's own predicted rating
      (:func:`whyrec.metrics.alignment.sentiment_accuracy`, the alignment measure of MMI); or
      give the trained ``judge`` (a :class:`~whyrec.metrics.alignment.SentimentJudge`) itself;
      with them ``base5`` / ``base3``, the accuracy of explanations all read alike (the share of
      the commonest predicted class, :func:`whyrec.metrics.alignment.sentiment_base_rate`);
    * with a sentence ``encoder`` (:func:`whyrec.align.pipeline.sentence_encoder`), MMI's
      ``mi_rating`` = I(R;E)/H(R) between the explanations and the predicted ratings and
      ``mi_feature`` = I(F;E) in nats with the records' feature words (NaN with fewer than two),
      each from a fresh seeded MINE (:mod:`whyrec.metrics.alignment`).
    """
    from whyrec.data.scale import five_point
    from whyrec.metrics.alignment import sentiment_accuracy, sentiment_base_rate
    from whyrec.metrics.text import perplexity

    written = written or write_explanations(model, test, features)
    known, references, true_features = written.known, written.references, written.feature_words
    if len(known) == 0:
        return 0, {}
    feature_set = quadruple_features(features)
    predicted = five_point(model.predict_corpus(known), known.rating_scale)  # the classes are 1–5
    if judge is None and train is not None and len(train):
        judge = sentiment_judge(train)
    base = sentiment_base_rate(predicted) if judge is not None else None  # what one sentence for all would score
    scores = {}
    for name, texts in written.texts.items():
        scores[name] = explanation_quality(references, [t.split() for t in texts], true_features, feature_set)
        scores[name]["empty"] = 100.0 * sum(not t.strip() for t in texts) / len(texts)
        scores[name]["ppl"] = perplexity(_reference_log_probs(model, _variant(name), known, references, true_features))
        if judge is not None:
            accuracy = sentiment_accuracy(judge.predict(texts), predicted)
            scores[name].update(acc5=accuracy["acc5"], acc3=accuracy["acc3"], base5=base["acc5"], base3=base["acc3"])
        if encoder is not None:
            scores[name].update(_mutual_information(encoder, texts, predicted, true_features))
    return len(known), scores


def _mutual_information(encoder, texts: list[str], predicted, words: list[str]) -> dict[str, float]:
    """MMI's I(R;E)/H(R) and I(F;E) of explanations, by the metrics' own seeded MINE settings
    (those of the alignment benchmark)."""
    from whyrec.metrics.alignment import feature_mi, normalised_rating_mi

    embedded = encoder.encode(texts)
    has = [n for n, word in enumerate(words) if word]
    return {"mi_rating": normalised_rating_mi(embedded, predicted),
            "mi_feature": feature_mi(embedded[has], encoder.encode([words[n] for n in has]))
            if len(has) >= 2 else float("nan")}


def _reference_log_probs(model, variant: str, known, references, true_features) -> list[np.ndarray]:
    """Teacher-forced token log-probabilities of the reference sentences under one explainer."""
    if is_mt(model):
        return model.token_log_probs(variant, references, model.user_map.lookup(known.users),
                                     model.item_map.lookup(known.items))
    fed = true_features if model.config.use_feature else None  # as explain_records feeds PETER+
    return model.token_log_probs(list(known.users), list(known.items), references, fed)


def tested_change(known: Corpus, features, max_words: int, before: list[str], after: list[str],
                  agreement: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
                  trials: int = 1000) -> dict:
    """How an explainer's explanations of the ``known`` test records changed (``whyrec align``: the
    aligned explainer's ``after`` against the one it was, ``before``): each explanation metric's
    difference, after minus before, and its approximate randomization p
    (:func:`whyrec.metrics.significance.randomization_test`), scored against the records'
    extracted sentences cut at ``max_words`` and their feature words (``features``: the extracted
    quadruples); ``agreement``: per sentiment-accuracy name, each record's
    :func:`judged_agreement` after and before."""
    from whyrec.align.pipeline import feature_words
    from whyrec.explain.targets import explanation_targets
    from whyrec.metrics.significance import randomization_test

    feature_set = quadruple_features(features)
    return randomization_test(explanation_targets(known, features, max_words), [t.split() for t in after],
                              [t.split() for t in before], feature_words(known, features), feature_set, trials,
                              record_means=agreement)


def explanation_intervals(model, written: WrittenExplanations, features, judge=None,
                          resamples: int = 1000) -> dict[str, dict[str, tuple[float, float]]]:
    """Each explainer's 95% percentile bootstrap intervals of the scores :func:`score_explanations`
    gives it on ``written``'s records (:func:`whyrec.metrics.significance.bootstrap_intervals`:
    BLEU-1/4, ROUGE-1/2/L, FMR, and with a sentiment ``judge`` the accuracies ``acc5``/``acc3``
    against the system's own predicted rating)."""
    from whyrec.data.scale import five_point
    from whyrec.metrics.significance import bootstrap_intervals

    if len(written.known) == 0:
        return {}
    feature_set = quadruple_features(features)
    classes = five_point(model.predict_corpus(written.known), written.known.rating_scale) if judge is not None else None
    out = {}
    for name, texts in written.texts.items():
        agreement = {} if judge is None else judged_agreement(judge, texts, classes)
        out[name] = bootstrap_intervals(written.references, [t.split() for t in texts], written.feature_words,
                                        feature_set, resamples, record_means=agreement)
    return out
