"""Text and explainability metrics, defined exactly as the published benchmarks define them.

Inputs are token lists (use ``whyrec.data.text.tokenize`` on raw text). Sources:

* BLEU, ROUGE, USR, FMR, FCR, DIV: the PETER benchmark code (Li, Zhang & Chen, ACL 2021,
  ``utils.py``, ``bleu.py``, ``rouge.py``, themselves from tensorflow/nmt) — see
  ``../shared/spec/METHODS.md`` §P.4. BLEU and ROUGE are returned ×100, as tables report them.
* perplexity and tf-idf similarity: Lu, Dong & Smyth, "Why I like it" (RecSys 2018), §4.2.

These definitions differ from sacrebleu/rouge-score (tokenisation, smoothing, n-gram *sets*
in ROUGE-N), which is why whyrec implements them itself; tests pin them to hand-computed values.
Corpus BLEU equals NLTK's unsmoothed ``corpus_bleu`` whenever every hypothesis has at least N
words; NLTK counts a shorter one as offering one n-gram, the benchmark none
(``tests/metrics/test_bleu_against_nltk.py``).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, Sequence

import numpy as np

Tokens = Sequence[str]


# --- BLEU ------------------------------------------------------------------------------------
def _ngram_counts(tokens: Tokens, max_order: int) -> Counter:
    counts: Counter = Counter()
    for order in range(1, max_order + 1):
        for i in range(len(tokens) - order + 1):
            counts[tuple(tokens[i:i + order])] += 1
    return counts


def corpus_bleu(references: Sequence[Tokens], hypotheses: Sequence[Tokens], max_order: int = 4) -> float:
    """Corpus BLEU-N ×100, unsmoothed, one reference per hypothesis (Papineni et al. 2002).

    ``p_n = Σ clipped n-gram matches / Σ hypothesis n-grams`` over the whole corpus;
    ``BLEU = BP · exp((1/N) Σ log p_n)``, 0 if any ``p_n`` is 0;
    ``BP = 1`` if the total hypothesis length ``c`` exceeds the reference length ``r``, else
    ``exp(1 − r/c)`` (0 when ``c = 0``). BLEU-1 is ``max_order=1``, BLEU-4 ``max_order=4``.
    An empty corpus has no BLEU (ValueError), as it has no ROUGE.
    """
    matches, possible, hyp_len, ref_len = bleu_statistics(references, hypotheses, max_order)
    return bleu_from_totals(matches.sum(axis=0), possible.sum(axis=0), int(hyp_len.sum()), int(ref_len.sum()))


def bleu_statistics(references: Sequence[Tokens], hypotheses: Sequence[Tokens], max_order: int = 4
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What corpus BLEU sums over the pairs, per pair: clipped n-gram matches and hypothesis
    n-grams of each order (two ``(pairs, max_order)`` integer arrays), hypothesis and reference
    lengths. Summed over any choice of pairs and given to :func:`bleu_from_totals`, they give
    that choice's :func:`corpus_bleu` (what a significance test resamples)."""
    if len(references) != len(hypotheses) or not references:
        raise ValueError("need one reference per hypothesis, and at least one")
    matches = np.zeros((len(hypotheses), max_order), dtype=np.int64)
    possible = np.zeros((len(hypotheses), max_order), dtype=np.int64)
    for row, (ref, hyp) in enumerate(zip(references, hypotheses)):
        overlap = _ngram_counts(hyp, max_order) & _ngram_counts(ref, max_order)
        for ngram, count in overlap.items():
            matches[row, len(ngram) - 1] += count
        for order in range(1, max_order + 1):
            possible[row, order - 1] = max(len(hyp) - order + 1, 0)
    hyp_len = np.fromiter((len(h) for h in hypotheses), dtype=np.int64, count=len(hypotheses))
    ref_len = np.fromiter((len(r) for r in references), dtype=np.int64, count=len(references))
    return matches, possible, hyp_len, ref_len


def bleu_from_totals(matches: Sequence[float], possible: Sequence[float], hyp_len: float, ref_len: float) -> float:
    """:func:`corpus_bleu` ×100 from its totals: clipped matches and hypothesis n-grams of each
    order 1..N, and the total hypothesis and reference lengths."""
    precisions = [m / p if p > 0 else 0.0 for m, p in zip(matches, possible)]
    if min(precisions) <= 0:
        return 0.0
    geo_mean = math.exp(sum(math.log(p) for p in precisions) / len(precisions))  # hyp_len > 0 from here on
    ratio = hyp_len / ref_len if ref_len else math.inf
    bp = 1.0 if ratio > 1.0 else math.exp(1 - 1.0 / ratio)
    return 100.0 * geo_mean * bp


# --- ROUGE -----------------------------------------------------------------------------------
def _ngram_set(tokens: Tokens, n: int) -> set:
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def rouge_n(reference: Tokens, hypothesis: Tokens, n: int) -> tuple[float, float, float]:
    """Sentence ROUGE-N over *sets* of n-grams: (F, P, R).

    ``P = |H ∩ R| / |H|``, ``R = |H ∩ R| / |R|`` (0 for an empty set), ``F = 2PR / (P + R + 1e-8)``.
    """
    hyp, ref = _ngram_set(hypothesis, n), _ngram_set(reference, n)
    overlap = len(hyp & ref)
    p = overlap / len(hyp) if hyp else 0.0
    r = overlap / len(ref) if ref else 0.0
    return 2.0 * p * r / (p + r + 1e-8), p, r


def _lcs_length(a: Tokens, b: Tokens) -> int:
    """Length of the longest common subsequence (dynamic programming, one row at a time)."""
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(reference: Tokens, hypothesis: Tokens) -> tuple[float, float, float]:
    """Sentence ROUGE-L (Lin 2004): (F, P, R) with ``R = LCS/|ref|``, ``P = LCS/|hyp|``,
    ``β = P / (R + 1e-12)``, ``F = (1 + β²) R P / (R + β² P + 1e-12)``; 0 for an empty side."""
    if not reference or not hypothesis:
        return 0.0, 0.0, 0.0
    lcs = _lcs_length(hypothesis, reference)
    r, p = lcs / len(reference), lcs / len(hypothesis)
    beta = p / (r + 1e-12)
    f = (1 + beta ** 2) * r * p / (r + beta ** 2 * p + 1e-12)
    return f, p, r


def rouge(references: Sequence[Tokens], hypotheses: Sequence[Tokens]) -> dict[str, float]:
    """ROUGE-1/2/L F, P and R ×100, each the mean of sentence-level scores over the pairs.

    Keys: ``rouge_1/f_score``, ``rouge_1/p_score``, ``rouge_1/r_score``, likewise ``rouge_2``
    and ``rouge_l`` — the names of the PETER benchmark's output.
    """
    if len(references) != len(hypotheses) or not references:
        raise ValueError("need the same, non-zero number of references and hypotheses")
    scores = {"rouge_1": [], "rouge_2": [], "rouge_l": []}
    for ref, hyp in zip(references, hypotheses):
        scores["rouge_1"].append(rouge_n(ref, hyp, 1))
        scores["rouge_2"].append(rouge_n(ref, hyp, 2))
        scores["rouge_l"].append(rouge_l(ref, hyp))
    out = {}
    for name, triples in scores.items():
        arr = np.asarray(triples)
        for col, part in enumerate(("f", "p", "r")):
            out[f"{name}/{part}_score"] = 100.0 * float(arr[:, col].mean())
    return out


# --- diversity and features --------------------------------------------------------------------
def unique_sentence_ratio(hypotheses: Sequence[Tokens]) -> float:
    """USR = number of distinct generated token sequences / number of samples."""
    if not hypotheses:
        raise ValueError("no hypotheses")
    return len({tuple(h) for h in hypotheses}) / len(hypotheses)


def detect_features(hypotheses: Iterable[Tokens], feature_set: set[str]) -> list[set[str]]:
    """For each generated token list, the set of its tokens that are features."""
    return [{t for t in h if t in feature_set} for h in hypotheses]


def feature_matching_ratio(detected: Sequence[set[str]], true_features: Sequence[str]) -> float:
    """FMR = (1/N) Σ 1[f_n ∈ F_n]: the share of samples whose explanation contains their
    ground-truth feature ``f_n`` (``F_n`` = detected features of sample n)."""
    if len(detected) != len(true_features) or not detected:
        raise ValueError("need one true feature per sample")
    return sum(f in found for found, f in zip(detected, true_features)) / len(detected)


def feature_coverage_ratio(detected: Sequence[set[str]], feature_set: set[str]) -> float:
    """FCR = |∪_n F_n| / |feature set|: how many distinct features the explanations use."""
    if not feature_set:
        raise ValueError("empty feature set")
    return len(set().union(*detected)) / len(feature_set) if detected else 0.0


def feature_diversity(detected: Sequence[set[str]]) -> float:
    """DIV = (2 / (N(N−1))) Σ_{i<j} |F_i ∩ F_j| (lower = more diverse; PETER, Li et al., ACL 2021).
    Explanations that name no feature score 0, its best: read it with FCR.

    Vectorised: Σ_{i<j} |F_i ∩ F_j| = Σ_f c_f (c_f − 1) / 2 where c_f is the number of
    samples whose explanation contains feature f — O(total features) instead of O(N²).
    """
    n = len(detected)
    if n < 2:
        raise ValueError("DIV needs at least two samples")
    counts = np.fromiter(Counter(f for found in detected for f in found).values(), dtype=np.float64)
    return float((counts * (counts - 1) / 2).sum() / (n * (n - 1) / 2))


def explanation_quality(references: Sequence[Tokens], hypotheses: Sequence[Tokens], true_features: Sequence[str],
                        feature_set: set[str]) -> dict[str, float]:
    """The PETER benchmark's table of explanation metrics for one system's test explanations
    (METHODS.md §P.4): ``bleu1``, ``bleu4`` (:func:`corpus_bleu`), ``rouge1``, ``rouge2``,
    ``rougeL`` (F-scores, :func:`rouge`), ``usr``, and over the features found in the
    hypotheses ``fmr`` (against each sample's ground-truth feature, "" for none), ``fcr`` and
    ``div`` (:func:`feature_diversity`). The three feature metrics are NaN without a feature set,
    DIV also with fewer than two samples."""
    r = rouge(references, hypotheses)
    out = {"bleu1": corpus_bleu(references, hypotheses, 1), "bleu4": corpus_bleu(references, hypotheses, 4),
           "rouge1": r["rouge_1/f_score"], "rouge2": r["rouge_2/f_score"], "rougeL": r["rouge_l/f_score"],
           "usr": unique_sentence_ratio(hypotheses), "fmr": math.nan, "fcr": math.nan, "div": math.nan}
    if feature_set:
        detected = detect_features(hypotheses, feature_set)
        out.update(fmr=feature_matching_ratio(detected, true_features),
                   fcr=feature_coverage_ratio(detected, feature_set),
                   div=feature_diversity(detected) if len(detected) >= 2 else math.nan)
    return out


# --- language-model quality ----------------------------------------------------------------------
def perplexity(token_log_probs: Iterable[Sequence[float]]) -> float:
    """``exp(−(1/T) Σ_t log p(w_t | w_<t))`` over all T scored tokens of all texts (natural log)
    — "the exponent of the average negative log-likelihood per word" (MT paper §4.2).

    Every value is a log-probability, so at most 0 (``-inf``, a word given probability 0, makes
    the perplexity infinite); a positive value — a negative log-likelihood or a probability
    passed by mistake — or NaN is refused rather than turned into a perplexity below 1."""
    total, count = 0.0, 0
    for seq in token_log_probs:
        arr = np.asarray(seq, dtype=np.float64)
        if arr.size and (np.isnan(arr).any() or arr.max() > 1e-4):  # float32 log_softmax rounds to +1e-7
            bad = arr[np.isnan(arr) | (arr > 1e-4)][0]
            raise ValueError(f"log-probabilities must be at most 0, got {bad:g}: pass log p, not −log p or p")
        total += float(arr.sum())
        count += arr.size
    if count == 0:
        raise ValueError("no tokens to score")
    return math.exp(-total / count)


def tfidf_similarity(references: Sequence[Tokens], hypotheses: Sequence[Tokens],
                     idf_corpus: Sequence[Tokens] | None = None) -> float:
    """Mean cosine similarity of tf-idf vectors of each (generated, ground-truth) pair.

    Weight of term t in review d (MT paper §4.2): ``(1 + log tf_{t,d}) · log(N / df_t)``,
    with ``N`` and ``df`` counted over ``idf_corpus`` (default: the references). Terms absent
    from that corpus get weight 0; a pair with a zero vector scores 0.
    """
    if len(references) != len(hypotheses) or not references:
        raise ValueError("need the same, non-zero number of references and hypotheses")
    docs = idf_corpus if idf_corpus is not None else references
    df = Counter(t for d in docs for t in set(d))
    n_docs = len(docs)

    def vector(tokens: Tokens) -> dict[str, float]:
        tf = Counter(tokens)
        return {t: (1 + math.log(c)) * math.log(n_docs / df[t]) for t, c in tf.items() if df.get(t)}

    sims = []
    for ref, hyp in zip(references, hypotheses):
        a, b = vector(ref), vector(hyp)
        dot = sum(w * b.get(t, 0.0) for t, w in a.items())
        norm = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
        sims.append(dot / norm if norm > 0 else 0.0)
    return float(np.mean(sims))
