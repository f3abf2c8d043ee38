"""The explainer interface over MT's GRU decoder."""

from __future__ import annotations

import pytest
import torch

from whyrec.data import ratio_split
from whyrec.data.synthetic import make_planted_corpus
from whyrec.explain.interface import GRUExplainer
from whyrec.systems.mt import MultiTask

TINY = dict(factors=3, vocab_size=200, max_words=6, doc_words=10, doc_reviews=3, word_dim=12, word_vectors="random",
            encoder_hidden=8, decoder_hidden=16, batch_size=32, epochs=1, adversarial_from=5, lr=1e-2)


@pytest.fixture(scope="module")
def mt_and_split():
    split = ratio_split(make_planted_corpus(n_users=30, n_items=12, reviews_per_user=6, seed=1).corpus, seed=0)
    return MultiTask(**TINY).fit(split.train, split.valid), split


def test_sample_log_prob_and_reference_agree(mt_and_split):
    mt, split = mt_and_split
    explainer = GRUExplainer.from_mt(mt, "pair")
    users, items = list(split.test.users[:4]), list(split.test.items[:4])
    ctx = explainer.repeat(explainer.contexts(users, items), 3)
    assert ctx.shape[0] == 12 and torch.equal(ctx[0], ctx[2])  # input-major repetition
    samples = explainer.sample(ctx)
    scored = explainer.log_prob(ctx, samples.tokens)
    assert scored.requires_grad
    torch.testing.assert_close(scored.detach(), samples.log_probs.sum(1), atol=1e-4, rtol=1e-4)
    reference = explainer.frozen_copy()
    torch.testing.assert_close(reference.log_prob(ctx, samples.tokens), scored.detach())  # KL starts at 0
    assert explainer.explain(users, items) == mt.explain(users, items)  # greedy, as MT decodes
    nll = explainer.nll(explainer.contexts(users, items), [["great", "strap"], ["bad"], [], ["the", "screen"]])
    assert nll.requires_grad and float(nll.detach()) > 0
