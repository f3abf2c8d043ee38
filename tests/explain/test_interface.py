"""The explainer interface over MT's GRU decoder."""

from __future__ import annotations

import copy
import json

import pytest
import torch

from whyrec.data import ratio_split
from whyrec.data.synthetic import make_planted_corpus
import numpy as np

from whyrec.explain.interface import GRUExplainer, RatingInput
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


@pytest.mark.parametrize("training", [True, False])
def test_beam_explanations_are_mts_and_leave_the_decoder_in_the_mode_it_was_in(mt_and_split, training):
    """explain(method="beam") had left a decoder in training mode in eval mode (its dropout off), where
    sample() puts it back as it found it; and beam search through the interface is MT's own."""
    mt, split = mt_and_split
    explainer = GRUExplainer.from_mt(mt, "user")
    users, items = list(split.test.users[:5]), list(split.test.items[:5])
    explainer.decoder.train(training)
    assert explainer.explain(users, items, method="beam") == mt.explain(users, items, variant="user", method="beam")
    assert explainer.decoder.training is training
    explainer.seed_sampling(3)
    drawn = explainer.explain(users, items, method="sample")
    explainer.seed_sampling(3)
    assert explainer.explain(users, items, method="sample") == drawn and len(drawn) == 5
    assert explainer.decoder.training is training


def test_rating_input_starts_as_the_trained_explainer_and_learns_a_shift_per_class(mt_and_split):
    mt, split = mt_and_split
    plain, adapted = GRUExplainer.from_mt(mt, "pair"), GRUExplainer.from_mt(copy.deepcopy(mt), "pair", rating_input=True)
    users, items = list(split.test.users[:6]), list(split.test.items[:6])
    assert torch.equal(adapted.contexts(users, items), plain.contexts(users, items))  # zero shift at the start
    assert adapted.explain(users, items) == plain.explain(users, items)
    n_plain = sum(p.numel() for p in plain.parameters())
    assert sum(p.numel() for p in adapted.parameters()) == n_plain + 5 * adapted.decoder.context_dim
    # a gradient step moves the shift of the classes present only, and the reference stays put
    reference = adapted.frozen_copy()
    ctx = adapted.contexts(users, items)
    samples = adapted.sample(ctx)
    adapted.log_prob(ctx, samples.tokens).sum().backward()
    grad = adapted.rating_input.shift.weight.grad
    present = set(np.clip(np.rint(mt.predict(users, items)), 1, 5).astype(int) - 1)
    for c in range(5):
        assert (grad[c].abs().sum() > 0) == (c in present)
    with torch.no_grad():
        adapted.rating_input.shift.weight += 1.0
    assert not torch.equal(adapted.contexts(users, items), reference.contexts(users, items))
    assert torch.equal(reference.contexts(users, items), plain.contexts(users, items))


def test_rating_input_maps_ratings_to_rounded_clipped_classes():
    adapter = RatingInput(2)
    with torch.no_grad():
        adapter.shift.weight.copy_(torch.arange(10.0).reshape(5, 2))
    shifted = adapter(torch.zeros(5, 2), np.array([0.2, 1.6, 3.49, 4.5, 7.0]))
    # classes 1, 2, 3, 4 (4.5 rounds half to even), 5
    torch.testing.assert_close(shifted[:, 0], torch.tensor([0.0, 2.0, 4.0, 6.0, 8.0]))


def test_an_aligned_rating_input_stays_with_mt_through_explain_and_its_bundle(mt_and_split, tmp_path):
    from whyrec.bundle import load_bundle

    base, split = mt_and_split
    mt = copy.deepcopy(base)
    users, items = list(split.test.users), list(split.test.items)
    adapted = GRUExplainer.from_mt(mt, "pair", rating_input=True)
    assert mt.rating_inputs["pair"] is adapted.rating_input and "user" not in mt.rating_inputs
    with torch.no_grad():  # as if MMI had tuned it: a different shift per rating class
        adapted.rating_input.shift.weight.copy_(torch.randn(5, adapted.decoder.context_dim) * 3)
    assert mt.explain(users, items) == adapted.explain(users, items) != base.explain(users, items)
    rows = np.arange(4)
    targets = [["great", "strap"]] * 4
    assert not np.allclose(np.concatenate(mt.token_log_probs("pair", targets, rows, rows)),
                           np.concatenate(base.token_log_probs("pair", targets, rows, rows)))
    mt.save(tmp_path / "aligned")
    loaded = load_bundle(tmp_path / "aligned")
    assert list(loaded.rating_inputs) == ["pair"]
    assert torch.equal(loaded.rating_inputs["pair"].shift.weight, adapted.rating_input.shift.weight)
    assert loaded.explain(users, items) == mt.explain(users, items)
    # the loaded decoder was tuned with its rating input: the explainer uses it even unasked
    assert GRUExplainer.from_mt(loaded, "pair").explain(users, items) == mt.explain(users, items)
    base.save(tmp_path / "plain")
    assert len(load_bundle(tmp_path / "plain").rating_inputs) == 0


def test_the_tuned_decoder_has_word_embeddings_of_its_own_through_its_bundle(mt_and_split, tmp_path):
    """MT's encoders and decoders share one embedding table: tuning MT-P's decoder (its copy) leaves
    MT-U's explanations and the encoded contexts as they were, and the saved bundle explains as the
    tuned system did (before the copy, the table moved, and a reloaded MT-P read other contexts)."""
    from whyrec.bundle import load_bundle

    _, split = mt_and_split
    base = MultiTask(**TINY).fit(split.train, split.valid)  # the fixture's may have been tuned by a test before
    mt = copy.deepcopy(base)
    users, items = list(split.test.users), list(split.test.items)
    assert mt.own_embeddings == [] and mt.decoder("pair").embedding is mt.embedding
    tuned = GRUExplainer.from_mt(mt, "pair")
    assert mt.own_embeddings == ["pair"] and tuned.decoder.embedding is not mt.embedding
    assert torch.equal(tuned.decoder.embedding.weight, mt.embedding.weight)  # a copy: the same values at first
    assert mt.explain(users, items) == base.explain(users, items)
    optimizer = torch.optim.SGD(tuned.parameters(), lr=5.0)  # as if MMI had tuned it
    for _ in range(3):
        optimizer.zero_grad()
        ctx = tuned.contexts(users, items)
        (-tuned.log_prob(ctx, tuned.sample(ctx, greedy=True).tokens).mean()).backward()
        optimizer.step()
    assert not torch.equal(tuned.decoder.embedding.weight, base.embedding.weight)
    assert torch.equal(mt.embedding.weight, base.embedding.weight)  # the shared table did not move
    for variant in ("user", "item"):
        assert mt.explain(users, items, variant=variant) == base.explain(users, items, variant=variant)
    mt.save(tmp_path / "aligned")
    loaded = load_bundle(tmp_path / "aligned")
    assert loaded.own_embeddings == ["pair"]
    assert json.loads((tmp_path / "aligned" / "bundle.json").read_text())["own_embeddings"] == ["pair"]
    for variant in ("user", "item", "pair"):
        assert loaded.explain(users, items, variant=variant) == mt.explain(users, items, variant=variant)
    assert torch.equal(loaded.decoder("pair").embedding.weight, tuned.decoder.embedding.weight)
    assert GRUExplainer.from_mt(loaded, "pair").decoder is loaded.decoder("pair")  # no second copy


def test_a_bundle_naming_a_decoder_it_lacks_as_having_its_own_embeddings_is_refused(mt_and_split, tmp_path):
    from whyrec.bundle import load_bundle
    from whyrec.errors import BundleError

    base, _ = mt_and_split
    base.save(tmp_path / "mt")
    header = json.loads((tmp_path / "mt" / "bundle.json").read_text())
    (tmp_path / "mt" / "bundle.json").write_text(json.dumps({**header, "own_embeddings": ["pairs"]}))
    with pytest.raises(BundleError, match="'own_embeddings' names 'pairs', which is not one of its decoders"):
        load_bundle(tmp_path / "mt")


def test_show_says_when_an_mt_was_aligned_on_the_shared_word_embeddings(mt_and_split, tmp_path):
    from whyrec.bundle import describe_bundle
    from whyrec.cli.inspecting import bundle_text

    base, _ = mt_and_split
    mt = copy.deepcopy(base)
    mt.alignments.append({"method": "MMI", "target": "rating", "variant": "pair"})
    mt.save(tmp_path / "aligned")
    assert not describe_bundle(tmp_path / "aligned")["aligned_shared_embeddings"]
    header = json.loads((tmp_path / "aligned" / "bundle.json").read_text())
    del header["own_embeddings"]  # as an aligned bundle saved before the key was
    (tmp_path / "aligned" / "bundle.json").write_text(json.dumps(header))
    described = describe_bundle(tmp_path / "aligned")
    assert described["aligned_shared_embeddings"]
    assert "note: aligned before whyrec gave the aligned decoder word embeddings of its own" in bundle_text(described)
    base.save(tmp_path / "plain")  # never aligned: nothing to say
    assert not describe_bundle(tmp_path / "plain")["aligned_shared_embeddings"]
