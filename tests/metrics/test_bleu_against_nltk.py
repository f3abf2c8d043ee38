"""Corpus BLEU against an implementation written by others: NLTK's unsmoothed ``corpus_bleu``.

whyrec's BLEU is the PETER benchmark's (tensorflow/nmt's ``compute_bleu``). The two agree on any
corpus whose hypotheses each have at least N words; otherwise NLTK counts a hypothesis shorter
than n as offering one n-gram (its ``max(1, ·)`` denominator), where the benchmark counts none.
These tests pin both: the agreement, and the one place they part, computed by hand."""

from __future__ import annotations

import math
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.properties import fuzz
from whyrec.metrics.text import corpus_bleu

nltk_bleu = pytest.importorskip("nltk.translate.bleu_score")

WORDS = ["great", "price", "the", "it", "is", ",", "not", "good", "strap", "a"]
sentences = st.lists(st.sampled_from(WORDS), min_size=1, max_size=12)


def _nltk(references, hypotheses, order: int) -> float:
    with warnings.catch_warnings():  # NLTK warns when a precision is 0 (and returns 0, as the benchmark does)
        warnings.simplefilter("ignore")
        return 100 * nltk_bleu.corpus_bleu([[r] for r in references], hypotheses, weights=(1 / order,) * order)


def _corpora_of_order(order: int):
    """(N, pairs of a reference and a hypothesis of at least N words)."""
    hypotheses = st.lists(st.sampled_from(WORDS), min_size=order, max_size=12)
    return st.tuples(st.just(order), st.lists(st.tuples(sentences, hypotheses), min_size=1, max_size=8))


@fuzz(200)
@given(drawn=st.sampled_from([1, 2, 4]).flatmap(_corpora_of_order))
def test_bleu_equals_nltks_when_every_hypothesis_has_n_words(drawn):
    order, pairs = drawn
    references, hypotheses = [r for r, _ in pairs], [h for _, h in pairs]
    assert corpus_bleu(references, hypotheses, order) == pytest.approx(_nltk(references, hypotheses, order),
                                                                       abs=1e-9)


def test_a_hypothesis_shorter_than_n_is_where_the_two_part():
    # BLEU-2 of ("a b" → "a b", "c d" → "c"): unigrams 3/3; bigrams 1 of 1 (the benchmark: "c" has
    # no bigram) or 1 of 2 (NLTK: max(1, 0)); BP = exp(1 − 4/3) for 3 words against 4
    references, hypotheses = [["a", "b"], ["c", "d"]], [["a", "b"], ["c"]]
    bp = math.exp(1 - 4 / 3)
    assert corpus_bleu(references, hypotheses, 2) == pytest.approx(100 * bp)
    assert _nltk(references, hypotheses, 2) == pytest.approx(100 * math.sqrt(0.5) * bp)
