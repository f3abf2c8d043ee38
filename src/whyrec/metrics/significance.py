"""Is one explainer's score above another's by more than chance? A paired significance test of the
PETER benchmark's explanation metrics (:func:`whyrec.metrics.text.explanation_quality`);
bootstrap intervals of one system's scores (:func:`bootstrap_intervals`); and Holm's adjustment of
a table's p-values, read together (:func:`holm_adjusted`, :func:`holm_by_test`).

The test is approximate randomization (Noreen 1989, *Computer-Intensive Methods for Testing
Hypotheses*; for text-generation metrics, Riezler & Maxwell 2005, "On some pitfalls in automatic
evaluation and significance testing for MT"). Two systems A and B explained the same N records.
If they were alike, which of a record's two explanations is A's would not matter, so

* the statistic is ``d = m(A) − m(B)``, for a metric ``m`` computed over the whole corpus;
* each trial swaps every record's two explanations with probability ½, giving A′ and B′, and
  computes ``d′ = m(A′) − m(B′)``;
* ``p = (1 + #{trials with |d′| ≥ |d|}) / (1 + trials)`` (two-sided). With ``2^N`` at most the
  trials asked for (and N ≤ 20), every assignment is enumerated and
  ``p = #{assignments with |d′| ≥ |d|} / 2^N``, the exact permutation p (the identity
  assignment is one of them).

Unlike a t-test on per-record scores it needs no per-record form of the metric, so it tests the
corpus-level ones as they are defined: corpus BLEU (whose matches and lengths are summed before
the ratio), USR (distinct sentences over the corpus), FCR and DIV (features over the corpus) as
well as the per-record means ROUGE and FMR. Each trial is computed from per-record statistics,
not by scoring texts again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Mapping, Sequence

import numpy as np
from scipy import sparse

from whyrec.metrics.text import Tokens, bleu_from_totals, bleu_statistics, detect_features, rouge_l, rouge_n

# within this of |d|, a trial's |d′| counts as reaching it: sums taken in another order differ in the last bits
_TIE = 1e-9
_CHUNK_CELLS = 1 << 22  # trials × records held at once
_MOST_EXACT = 20  # records whose 2^N assignments are all counted when the trials asked for reach 2^N


@dataclass
class _Explanations:
    """One system's explanations of the N records as per-record statistics, the sums each metric
    is made of (:func:`whyrec.metrics.text.explanation_quality`)."""

    bleu: np.ndarray  # (N, 10): clipped matches of orders 1–4, hypothesis n-grams of orders 1–4, lengths
    rouge: np.ndarray  # (N, 3): sentence ROUGE-1, ROUGE-2, ROUGE-L F
    sentence: np.ndarray  # (N,): an id per distinct token sequence, shared by the two systems
    matched: np.ndarray | None  # (N,): 1 where the record's true feature is in its explanation (FMR)
    detected: sparse.csr_matrix | None  # (N, features either system uses): those in each explanation


@dataclass(frozen=True)
class PairedDifference:
    """``difference``: a metric of the first system minus the second's; ``p``: its approximate
    randomization p (two-sided); ``assignments``: how many assignments of the records' explanations
    were counted, all ``2^N`` of them when ``exact`` (few records), else the random trials."""

    difference: float
    p: float
    assignments: int
    exact: bool = False


def smallest_p(tests: Sequence[PairedDifference]) -> tuple[float, bool]:
    """The smallest p any of ``tests`` could have given, and whether it is an exact test's: a test of
    random swaps never gives less than ``1 / (trials + 1)``, one counting the ``2^N`` swaps of N
    records less than ``2 / 2^N`` (swapping none and swapping all reach the same |d|)."""
    return min((2 / t.assignments, True) if t.exact else (1 / (t.assignments + 1), False) for t in tests)


@dataclass
class PairedExplanations:
    """Two systems' explanations of the same records (one split's test part): the records'
    ``references``, the ``first`` and ``second`` system's explanations, optionally the records'
    ``true_features`` (for FMR), the second system's own ``second_references`` and
    ``record_means`` (see :func:`randomization_test`), and the ``feature_set`` FCR, DIV and FMR
    look for in this part when it is its own (each split's extracted features)."""

    references: Sequence[Tokens]
    first: Sequence[Tokens]
    second: Sequence[Tokens]
    true_features: Sequence[str] | None = None
    second_references: Sequence[Tokens] | None = None
    record_means: Mapping[str, tuple[Sequence[float], Sequence[float]]] | None = None
    feature_set: set[str] | None = None

    @property
    def identical(self) -> bool:
        """Whether the two systems wrote the same explanation of every record, scored against the
        same references and with the same record means: every swap then leaves every metric as it
        is (difference 0, p 1), so its tests test nothing (an aligned bundle's MT-U, which the
        alignment of MT-P left as it was, against the bundle it came from)."""
        same_references = self.second_references is None or all(
            list(a) == list(b) for a, b in zip(self.references, self.second_references))
        same_means = all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in (self.record_means or {}).values())
        return same_references and same_means and all(list(a) == list(b) for a, b in zip(self.first, self.second))

    def same_tests_as(self, other: "PairedExplanations") -> bool:
        """Whether ``other`` holds the same records, field for field (references, both systems'
        explanations, true features, the second's references, record means, feature set): every
        test of the two then gives the same difference and p, so one repeats the other's (two
        outputs or explainers writing alike, each tested against one first)."""
        def tokens(texts):
            return None if texts is None else [list(t) for t in texts]

        def means(record_means):
            return {k: [np.asarray(v).tolist() for v in pair] for k, pair in (record_means or {}).items()}

        return (tokens(self.references) == tokens(other.references) and tokens(self.first) == tokens(other.first)
                and tokens(self.second) == tokens(other.second)
                and tokens(self.second_references) == tokens(other.second_references)
                and (None if self.true_features is None else list(self.true_features))
                == (None if other.true_features is None else list(other.true_features))
                and means(self.record_means) == means(other.record_means) and self.feature_set == other.feature_set)


def randomization_test(references: Sequence[Tokens], first: Sequence[Tokens], second: Sequence[Tokens],
                       true_features: Sequence[str] | None = None, feature_set: set[str] | None = None,
                       trials: int = 1000, seed: int = 0,
                       second_references: Sequence[Tokens] | None = None,
                       record_means: Mapping[str, tuple[Sequence[float], Sequence[float]]] | None = None
                       ) -> dict[str, PairedDifference]:
    """The difference between two systems' explanations ``first`` and ``second`` of the same
    records (their ``references``), and its approximate randomization p (see the module
    docstring), for each metric of :func:`whyrec.metrics.text.explanation_quality`: ``bleu1``,
    ``bleu4``, ``rouge1``, ``rouge2``, ``rougeL``, ``usr``, and with a ``feature_set`` ``fcr`` and ``div``
    (``div`` with two records or more), and ``fmr`` when the records' ``true_features`` are given
    too. ``trials`` random assignments, drawn from ``seed`` (or all of them, when there are no
    more than ``trials``). ``second_references``: the second system's references of the same
    records, where its files hold them as it tokenized them (PETER's ``<unk>``s, PEPLER's own
    tokens); each system's explanation of a record is then scored against its own, and swapped
    with that score. ``record_means``: other metrics that are a mean over the records, by name,
    as each record's value for the first and for the second system (the sentiment alignment's
    ``acc5``: 100 where the judge reads the explanation as its predicted rating, else 0)."""
    part = PairedExplanations(references, first, second, true_features, second_references, record_means)
    return stratified_randomization_test([part], feature_set, trials, seed)


def stratified_randomization_test(parts: Sequence[PairedExplanations], feature_set: set[str] | None = None,
                                  trials: int = 1000, seed: int = 0) -> dict[str, PairedDifference]:
    """:func:`randomization_test` over several ``parts`` (the test parts of several splits, each
    explained by the two systems trained on that split): the statistic is the mean over the parts
    of each part's difference, ``d = (1/S) Σ_s (m(A_s) − m(B_s))``, as a table of several splits
    reports the mean of their scores, and each trial swaps records within their own part (a
    split's explanations come from that split's systems). A metric is tested when every part has
    it (``div``: two records or more; ``fmr``: true features; a record mean: given for each). A
    part's own ``feature_set`` is read in place of ``feature_set``."""
    if not parts:
        raise ValueError("need at least one part of records")
    if trials < 1:
        raise ValueError("trials must be at least 1")
    prepared = [_prepared(part, part.feature_set if part.feature_set is not None else feature_set)
                for part in parts]
    total = sum(a.sentence.size for a, _, _, _ in prepared)
    observed = _mean_differences(np.zeros((1, total), dtype=bool), prepared)
    exact = total <= _MOST_EXACT and 2 ** total <= trials
    reached = {metric: 0 for metric in observed}
    for swaps in (_all_assignments(total) if exact else _random_assignments(total, trials, seed)):
        for metric, differences in _mean_differences(swaps, prepared).items():
            bar = abs(observed[metric][0])
            reached[metric] += int((np.abs(differences) >= bar - _TIE * max(1.0, bar)).sum())
    return {metric: PairedDifference(float(observed[metric][0]),
                                     hits / 2 ** total if exact else (1 + hits) / (1 + trials),
                                     2 ** total if exact else trials, exact)
            for metric, hits in reached.items()}


def _prepared(part: PairedExplanations, feature_set) -> tuple:
    """One part's two systems as per-record statistics, its record means as (N, 2) arrays, and
    the ``feature_set`` read in it."""
    count = len(part.references)
    second_references = part.references if part.second_references is None else part.second_references
    if not count or len(part.first) != count or len(part.second) != count or len(second_references) != count:
        raise ValueError("need the two systems' explanations of the same records, at least one")
    if part.true_features is not None and len(part.true_features) != count:
        raise ValueError("need one true feature per record")
    means = {}
    for name, (a, b) in (part.record_means or {}).items():
        if len(a) != count or len(b) != count:
            raise ValueError(f"need {name}'s value for every record, for both systems")
        means[name] = np.column_stack([np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)])
    ids: dict[tuple, int] = {}
    # the features either system uses: the others count 0 on both sides of every trial
    columns = _feature_columns(feature_set, part.first, part.second)
    first, second = (_statistics(refs, hyps, part.true_features, feature_set, columns, ids)
                     for refs, hyps in ((part.references, part.first), (second_references, part.second)))
    return first, second, means, feature_set


def _feature_columns(feature_set, *systems: Sequence[Tokens]) -> dict[str, int]:
    """A column per feature of ``feature_set`` that any of ``systems``' explanations mentions."""
    if not feature_set:
        return {}
    used = sorted(set().union(*(found for hypotheses in systems for found in detect_features(hypotheses, feature_set))))
    return {feature: n for n, feature in enumerate(used)}


def _mean_differences(swaps: np.ndarray, prepared) -> dict[str, np.ndarray]:
    """The mean over the parts of :func:`_differences`, each part swapped by its own columns of
    ``swaps``; the metrics every part has."""
    sums: dict[str, np.ndarray] = {}
    start = 0
    for n, (a, b, means, feature_set) in enumerate(prepared):
        end = start + a.sentence.size
        part = _differences(swaps[:, start:end], a, b, feature_set, means)
        sums = part if n == 0 else {metric: sums[metric] + part[metric] for metric in sums if metric in part}
        start = end
    return {metric: total / len(prepared) for metric, total in sums.items()}


def _statistics(references, hypotheses, true_features, feature_set, columns: dict[str, int],
                ids: dict[tuple, int]) -> _Explanations:
    """The per-record statistics of one system's ``hypotheses``; ``columns``: the features' columns
    in ``detected``; ``ids``: the sentence ids, shared by the two systems (new ones added)."""
    matches, possible, hyp_len, ref_len = bleu_statistics(references, hypotheses, 4)
    rouge = np.array([(rouge_n(r, h, 1)[0], rouge_n(r, h, 2)[0], rouge_l(r, h)[0])
                      for r, h in zip(references, hypotheses)], dtype=np.float64)
    sentence = np.array([ids.setdefault(tuple(h), len(ids)) for h in hypotheses], dtype=np.int64)
    matched = detected = None
    if feature_set:
        found = detect_features(hypotheses, feature_set)
        rows = [n for n, features in enumerate(found) for _ in features]
        cols = [columns[f] for features in found for f in features]
        detected = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(found), len(columns)))
        if true_features is not None:
            matched = np.array([f in features for features, f in zip(found, true_features)], dtype=np.float64)
    return _Explanations(np.column_stack([matches, possible, hyp_len, ref_len]).astype(np.float64), rouge,
                         sentence, matched, detected)


def _all_assignments(count: int) -> Iterator[np.ndarray]:
    """Every way of swapping some of ``count`` records (the bits of 0 … 2^count − 1), as rows of
    booleans, in chunks."""
    bits = np.arange(count, dtype=np.int64)
    per_chunk = max(1, _CHUNK_CELLS // count)
    for start in range(0, 2 ** count, per_chunk):
        numbers = np.arange(start, min(start + per_chunk, 2 ** count), dtype=np.int64)
        yield ((numbers[:, None] >> bits) & 1).astype(bool)


def _random_assignments(count: int, trials: int, seed: int) -> Iterator[np.ndarray]:
    """``trials`` random assignments, each record swapped with probability ½, in chunks."""
    rng = np.random.default_rng(seed)
    per_chunk = max(1, _CHUNK_CELLS // count)
    for start in range(0, trials, per_chunk):
        yield rng.random((min(per_chunk, trials - start), count)) < 0.5


def _differences(swaps: np.ndarray, a: _Explanations, b: _Explanations, feature_set,
                 means: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``m(A′) − m(B′)`` for each row of ``swaps`` (True: that record's explanations exchanged);
    ``means``: metrics averaged over records, an (N, 2) array of the two systems' values each."""
    count = swaps.shape[1]
    weights = swaps.astype(np.float64)

    def totals(values_a: np.ndarray, values_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        moved = weights @ (values_b - values_a)  # what the swapped records add to A′ and take from B′
        return values_a.sum(axis=0) + moved, values_b.sum(axis=0) - moved

    out = {}
    bleu_a, bleu_b = (np.rint(t) for t in totals(a.bleu, b.bleu))  # whole counts, summed exactly
    for name, order in (("bleu1", 1), ("bleu4", 4)):
        out[name] = np.array([_bleu(x, order) - _bleu(y, order) for x, y in zip(bleu_a, bleu_b)])
    rouge_a, rouge_b = totals(a.rouge, b.rouge)
    for column, name in enumerate(("rouge1", "rouge2", "rougeL")):
        out[name] = 100.0 * (rouge_a[:, column] - rouge_b[:, column]) / count
    sentences_a, sentences_b = np.where(swaps, b.sentence, a.sentence), np.where(swaps, a.sentence, b.sentence)
    out["usr"] = (_distinct(sentences_a) - _distinct(sentences_b)) / count
    if a.matched is not None:
        matched_a, matched_b = totals(a.matched, b.matched)
        out["fmr"] = (matched_a - matched_b) / count
    if a.detected is not None:
        shift = (b.detected - a.detected).T @ weights.T  # (features, trials)
        used_a = np.asarray(a.detected.sum(axis=0)).ravel()[:, None] + shift
        used_b = np.asarray(b.detected.sum(axis=0)).ravel()[:, None] - shift
        out["fcr"] = ((used_a > 0.5).sum(axis=0) - (used_b > 0.5).sum(axis=0)) / len(feature_set)
        if count >= 2:
            pairs = count * (count - 1) / 2
            out["div"] = ((used_a * (used_a - 1)).sum(axis=0) - (used_b * (used_b - 1)).sum(axis=0)) / 2 / pairs
    for name, values in means.items():
        mean_a, mean_b = totals(values[:, 0], values[:, 1])
        out[name] = (mean_a - mean_b) / count
    return out


def _bleu(totals: np.ndarray, order: int) -> float:
    """Corpus BLEU-``order`` from one row of summed :func:`bleu_statistics` (orders 1–4)."""
    return bleu_from_totals(totals[:order], totals[4:4 + order], totals[8], totals[9])


def _distinct(sentences: np.ndarray) -> np.ndarray:
    """The number of distinct ids in each row."""
    ordered = np.sort(sentences, axis=1)
    return 1 + (np.diff(ordered, axis=1) != 0).sum(axis=1)


def holm_adjusted(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (S. Holm 1979, "A simple sequentially rejective multiple
    test procedure", *Scandinavian Journal of Statistics* 6:65–70), for a family of ``m`` tests
    read together. With the p-values in increasing order ``p_(1) ≤ … ≤ p_(m)``,

        p̃_(i) = min(1, max_{j ≤ i} (m − j + 1) · p_(j)),

    and each adjusted value goes back to its test's place. Rejecting the tests whose ``p̃ ≤ α``
    keeps the chance of rejecting any true null hypothesis of the family at most ``α``, whatever
    the tests' dependence, as Bonferroni's ``m · p`` does; and it rejects every test Bonferroni
    rejects, sometimes more. Tied p-values get the same adjusted value. An empty family gives an
    empty array; a p outside [0, 1] or NaN is refused."""
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError("need a flat sequence of p-values")
    if not np.all((p >= 0.0) & (p <= 1.0)):  # False for NaN too
        raise ValueError("p-values must lie in [0, 1]")
    count = p.size
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((count - np.arange(count)) * p[order])
    adjusted = np.empty(count)
    adjusted[order] = np.minimum(1.0, stepped)
    return adjusted


def holm_by_test(rows: Sequence[Mapping[str, float]]) -> list[dict[str, float | None]]:
    """:func:`holm_adjusted` over every test of a table read together: ``rows`` hold each row's
    p-values by metric (one system's against the first), and the family is all of them, every
    row's every metric. The adjusted p of each, in the same shape; a NaN p (a test that could not
    be made, as a ranking metric over a split without a user to rank) is no test of the family,
    and gets None."""
    keys = [(n, metric) for n, tests in enumerate(rows) for metric, p in tests.items() if not math.isnan(p)]
    adjusted = holm_adjusted([rows[n][metric] for n, metric in keys])
    out: list[dict[str, float | None]] = [dict.fromkeys(tests) for tests in rows]
    for (n, metric), value in zip(keys, adjusted):
        out[n][metric] = float(value)
    return out


# the metrics a bootstrap resample can score: sums and means over records. USR, FCR and DIV count
# distinct sentences and features over the corpus, which a resample's repeated records would bias
BOOTSTRAPPED = ("bleu1", "bleu4", "rouge1", "rouge2", "rougeL", "fmr")


def bootstrap_intervals(references: Sequence[Tokens], hypotheses: Sequence[Tokens],
                        true_features: Sequence[str] | None = None, feature_set: set[str] | None = None,
                        resamples: int = 1000, level: float = 0.95, seed: int = 0,
                        record_means: Mapping[str, Sequence[float]] | None = None) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals (Efron & Tibshirani 1993, ch. 13) of one system's corpus
    scores: ``resamples`` test sets of N records drawn with replacement from the N records, each
    scored as :func:`whyrec.metrics.text.explanation_quality` scores a corpus (corpus BLEU from the
    resample's summed n-gram matches and lengths; ROUGE and FMR as means), and the interval
    between the ``(1 − level)/2`` and ``(1 + level)/2`` quantiles of the resamples' scores. For
    :data:`BOOTSTRAPPED` (FMR given the records' ``true_features`` and a ``feature_set``) and each
    of ``record_means`` (a metric that is a mean over records, by name: each record's value, such
    as the sentiment alignment's 100 or 0). USR, FCR and DIV have none: they count over the
    corpus, and a resample's repeated records would count as repeated sentences and features."""
    count = len(references)
    if not count or len(hypotheses) != count:
        raise ValueError("need one explanation per reference, and at least one")
    if resamples < 1 or not 0.0 < level < 1.0:
        raise ValueError("need at least one resample and a level between 0 and 1")
    if true_features is not None and len(true_features) != count:
        raise ValueError("need one true feature per record")
    means = {name: np.asarray(values, dtype=np.float64) for name, values in (record_means or {}).items()}
    if any(values.shape != (count,) for values in means.values()):
        raise ValueError("need each record mean's value for every record")
    stats = _statistics(references, hypotheses, true_features, feature_set, _feature_columns(feature_set, hypotheses),
                        {})
    scores: dict[str, list[np.ndarray]] = {}
    for weights in _resample_weights(count, resamples, seed):
        bleu = np.rint(weights @ stats.bleu)
        drawn = {"bleu1": np.array([_bleu(row, 1) for row in bleu]), "bleu4": np.array([_bleu(row, 4) for row in bleu])}
        rouge = weights @ stats.rouge
        drawn.update(rouge1=100.0 * rouge[:, 0] / count, rouge2=100.0 * rouge[:, 1] / count,
                     rougeL=100.0 * rouge[:, 2] / count)
        if stats.matched is not None:
            drawn["fmr"] = weights @ stats.matched / count
        drawn.update({name: weights @ values / count for name, values in means.items()})
        for name, values in drawn.items():
            scores.setdefault(name, []).append(values)
    return _percentile_intervals(scores, level)


def _resample_weights(count: int, resamples: int, seed: int) -> Iterator[np.ndarray]:
    """The bootstrap's ``resamples`` test sets of ``count`` records drawn with replacement, as
    weights: how often each record is drawn into each resample (a multinomial draw of ``count``
    over the records, seeded), in chunks of rows that keep :data:`_CHUNK_CELLS` cells at once."""
    rng = np.random.default_rng(seed)
    per_chunk = max(1, _CHUNK_CELLS // count)
    for start in range(0, resamples, per_chunk):
        weights = rng.multinomial(count, np.full(count, 1.0 / count), size=min(per_chunk, resamples - start))
        yield weights.astype(np.float64)


def _percentile_intervals(scores: Mapping[str, list[np.ndarray]], level: float) -> dict[str, tuple[float, float]]:
    """Each metric's percentile interval: the ``(1 − level)/2`` and ``(1 + level)/2`` quantiles of
    its resamples' scores (given in chunks)."""
    tail = (1.0 - level) / 2
    return {name: tuple(float(q) for q in np.quantile(np.concatenate(chunks), [tail, 1.0 - tail]))
            for name, chunks in scores.items()}


def rating_error_intervals(predictions, references, resamples: int = 1000, level: float = 0.95,
                           seed: int = 0) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals (Efron & Tibshirani 1993, ch. 13) of a rating model's test
    RMSE, ``√((1/N) Σ (r − r̂)²)``, and MAE, ``(1/N) Σ |r − r̂|``: ``resamples`` test sets of N
    records drawn with replacement from the N records (each a multinomial count of draws per
    record, as :func:`bootstrap_intervals` draws them), each scored, and the interval between the
    ``(1 − level)/2`` and ``(1 + level)/2`` quantiles of the resamples' scores:
    ``{"rmse": (low, high), "mae": (low, high)}``. Two models are compared by the paired test of
    their errors (:func:`whyrec.metrics.rating.paired_t_test`), not by whether these overlap."""
    predicted, rated = np.asarray(predictions, dtype=np.float64), np.asarray(references, dtype=np.float64)
    if predicted.ndim != 1 or predicted.shape != rated.shape or not predicted.size:
        raise ValueError("need one prediction per reference, and at least one")
    errors, count = predicted - rated, predicted.size
    if resamples < 1 or not 0.0 < level < 1.0:
        raise ValueError("need at least one resample and a level between 0 and 1")
    squared, absolute = errors ** 2, np.abs(errors)
    drawn: dict[str, list[np.ndarray]] = {"rmse": [], "mae": []}
    for weights in _resample_weights(count, resamples, seed):
        drawn["rmse"].append(np.sqrt(weights @ squared / count))
        drawn["mae"].append(weights @ absolute / count)
    return _percentile_intervals(drawn, level)
