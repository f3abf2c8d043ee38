"""Interpolated n-gram language model (the N-gram baseline of the MT paper, Table 3).

``P(w | u, v) = λ₃ P_ML(w | u, v) + λ₂ P_ML(w | v) + λ₁ P_ML(w) + λ₀ / |V|``
(Jelinek & Mercer 1980): maximum-likelihood tri-, bi- and unigram estimates mixed with a
uniform floor so that no token has zero probability. The maximum-likelihood estimate of a
context never seen in training is undefined; the next lower order's stands in for it (P_ML(w | v)
for an unseen (u, v), P_ML(w) for an unseen v), so that every context's distribution sums to 1.
The weights are chosen on validation text from a grid over the simplex (step 0.1, λ₀ ≥ 0.01),
maximising log-likelihood.
Sentences are padded with two ``<bos>`` and end with ``<eos>``; out-of-vocabulary words are
``<unk>``, as for the neural models, so perplexities are comparable.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from typing import Sequence

from whyrec.data.text import BOS, EOS, UNK, Vocabulary


class InterpolatedNgramLM:
    """Trigram LM with linear interpolation of tri/bi/unigram and uniform."""

    name = "ngram"

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self.weights = (0.4, 0.3, 0.29, 0.01)  # λ₃, λ₂, λ₁, λ₀ until fit on validation

    def _norm(self, tokens: Sequence[str]) -> list[str]:
        return [t if t in self.vocab else UNK for t in tokens] + [EOS]

    def fit(self, train: Sequence[Sequence[str]], valid: Sequence[Sequence[str]] | None = None) -> "InterpolatedNgramLM":
        self.uni, self.bi, self.tri = Counter(), Counter(), Counter()
        self.bi_ctx, self.tri_ctx = Counter(), Counter()
        for tokens in train:
            seq = [BOS, BOS] + self._norm(tokens)
            for k in range(2, len(seq)):
                u, v, w = seq[k - 2], seq[k - 1], seq[k]
                self.uni[w] += 1
                self.bi[(v, w)] += 1
                self.bi_ctx[v] += 1
                self.tri[(u, v, w)] += 1
                self.tri_ctx[(u, v)] += 1
        self.total = sum(self.uni.values())
        if valid:
            grid = [x / 10 for x in range(11)]
            best = None
            for l3, l2 in itertools.product(grid, grid):
                l1 = 1.0 - l3 - l2 - 0.01
                if l1 < 0:
                    continue
                self.weights = (l3, l2, l1, 0.01)
                ll = sum(sum(self.token_log_probs(t)) for t in valid)
                if best is None or ll > best[0]:
                    best = (ll, self.weights)
            self.weights = best[1]
        return self

    def prob(self, u: str, v: str, w: str) -> float:
        """P(w | u, v), the estimate of a context never seen replaced by the order below's."""
        l3, l2, l1, l0 = self.weights
        p1 = self.uni[w] / self.total if self.total else 1.0 / len(self.vocab)
        p2 = self.bi[(v, w)] / self.bi_ctx[v] if self.bi_ctx[v] else p1
        p3 = self.tri[(u, v, w)] / self.tri_ctx[(u, v)] if self.tri_ctx[(u, v)] else p2
        return l3 * p3 + l2 * p2 + l1 * p1 + l0 / len(self.vocab)

    def token_log_probs(self, tokens: Sequence[str]) -> list[float]:
        """Natural-log probabilities of each token and the final ``<eos>``."""
        seq = [BOS, BOS] + self._norm(tokens)
        return [math.log(self.prob(seq[k - 2], seq[k - 1], seq[k])) for k in range(2, len(seq))]
