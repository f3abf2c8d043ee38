"""Properties the text metrics must have on any explanations, drawn by Hypothesis (the
hand-computed cases are in test_text_metrics.py): each within its range, a corpus scored against
itself at the top of it, corpus BLEU equal to its summed per-pair statistics on any part of the
corpus (what the significance tests resample), and the longest common subsequence under ROUGE-L
equal to a plain recursive one."""

import math
from functools import lru_cache

from hypothesis import given
from hypothesis import strategies as st

from tests.properties import fuzz
from whyrec.metrics.text import (_lcs_length, bleu_from_totals, bleu_statistics, corpus_bleu, perplexity, rouge,
                                 tfidf_similarity, unique_sentence_ratio)

FUZZ = fuzz(300)
tokens = st.lists(st.sampled_from(["great", "price", "the", "it", "is", ",", "not", "good", "strap", "a"]), max_size=12)
corpora = st.lists(st.tuples(tokens, tokens), min_size=1, max_size=8)


@FUZZ
@given(pairs=corpora)
def test_each_metric_is_within_its_range(pairs):
    references, hypotheses = [r for r, _ in pairs], [h for _, h in pairs]
    for order in (1, 2, 4):
        assert 0.0 <= corpus_bleu(references, hypotheses, order) <= 100.0 + 1e-9
    assert all(0.0 <= value <= 100.0 + 1e-9 for value in rouge(references, hypotheses).values())
    assert 0.0 < unique_sentence_ratio(hypotheses) <= 1.0
    assert -1e-9 <= tfidf_similarity(references, hypotheses) <= 1.0 + 1e-9


@FUZZ
@given(texts=st.lists(st.lists(st.sampled_from(["great", "price", "strap", "fits"]), min_size=4, max_size=10),
                      min_size=1, max_size=6))
def test_a_corpus_scored_against_itself_is_at_the_top(texts):
    assert math.isclose(corpus_bleu(texts, texts, 4), 100.0)
    scores = rouge(texts, texts)
    assert math.isclose(scores["rouge_1/f_score"], 100.0, abs_tol=1e-5)  # F = 2PR / (P + R + 1e-8)
    assert math.isclose(scores["rouge_l/f_score"], 100.0, abs_tol=1e-5)


@FUZZ
@given(pairs=corpora, chosen=st.lists(st.integers(0, 7), min_size=1, max_size=10))
def test_corpus_bleu_of_any_resample_is_its_summed_statistics(pairs, chosen):
    references, hypotheses = [r for r, _ in pairs], [h for _, h in pairs]
    picked = [k % len(pairs) for k in chosen]  # with repeats, as a bootstrap draws
    matches, possible, hyp_len, ref_len = bleu_statistics(references, hypotheses, 4)
    summed = bleu_from_totals(matches[picked].sum(axis=0), possible[picked].sum(axis=0), int(hyp_len[picked].sum()),
                              int(ref_len[picked].sum()))
    assert math.isclose(summed, corpus_bleu([references[k] for k in picked], [hypotheses[k] for k in picked], 4),
                        rel_tol=1e-12, abs_tol=1e-12)


@FUZZ
@given(a=tokens, b=tokens)
def test_the_longest_common_subsequence_is_that_of_a_plain_recursion(a, b):
    @lru_cache(maxsize=None)
    def lcs(i: int, j: int) -> int:
        if i == len(a) or j == len(b):
            return 0
        return lcs(i + 1, j + 1) + 1 if a[i] == b[j] else max(lcs(i + 1, j), lcs(i, j + 1))

    assert _lcs_length(a, b) == lcs(0, 0) == _lcs_length(b, a)


@FUZZ
@given(log_probs=st.lists(st.lists(st.floats(-30, 0), max_size=6), min_size=1, max_size=5).filter(
    lambda texts: any(texts)))
def test_perplexity_of_log_probabilities_is_at_least_one(log_probs):
    assert perplexity(log_probs) >= 1.0
