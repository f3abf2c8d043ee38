"""PETER / PETER+ on a planted corpus: losses fall, cached decoding equals re-running the prefix."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

from whyrec.data import Corpus, ratio_split
from whyrec.data.features import FeatureExtractor
from whyrec.data.synthetic import make_planted_corpus
from whyrec.errors import ConfigError, UnknownIdError, WhyrecError
from whyrec.explain.peter_model import PeterModel, PeterShape, peter_mask
from whyrec.metrics.rating import rmse
from whyrec.systems.peter import Peter, context_nll

TINY = dict(emsize=32, heads=2, ffn=64, layers=2, dropout=0.1, max_words=8, batch_size=32, epochs=6, patience=3)


@pytest.fixture(scope="module")
def planted():
    split = ratio_split(make_planted_corpus(n_users=50, n_items=20, reviews_per_user=10, seed=3).corpus, seed=0)
    features = FeatureExtractor(min_df=2).extract(Corpus.concat([split.train, split.valid, split.test]))
    return split, features


@pytest.fixture(scope="module", params=[False, True], ids=["PETER", "PETER+"])
def trained(request, planted):
    split, features = planted
    return Peter(use_feature=request.param, **TINY).fit(split.train, split.valid, features)


def test_training_lowers_losses_and_beats_the_mean(trained, planted):
    split, _ = planted
    h = trained.history
    assert h[-1]["text_nll"] < h[0]["text_nll"] and h[-1]["context_nll"] < h[0]["context_nll"]
    pred = trained.predict_corpus(split.test)
    assert pred.min() >= 1 and pred.max() <= 5
    assert rmse(pred, split.test.ratings) < rmse(np.full(len(pred), split.train.ratings.mean()), split.test.ratings)
    texts = trained.explain(split.test.users[:4], split.test.items[:4], features=["strap"] * 4)
    assert len(texts) == 4 and all(len(t.split()) <= TINY["max_words"] + 1 for t in texts)
    assert trained.predict(["nobody"], [split.test.items[0]])[0] == pytest.approx(split.train.ratings.mean())
    with pytest.raises(UnknownIdError, match="no embedding for: unknown user 'nobody'$"):
        trained.explain(["nobody"], [split.test.items[0]])
    with pytest.raises(WhyrecError, match="unknown decoding method 'topk' \\(greedy, sample, beam\\)"):
        trained.explain(split.test.users[:1], split.test.items[:1], method="topk")


def test_cached_greedy_decoding_equals_rerunning_the_prefix(trained, planted):
    split, _ = planted
    u = torch.as_tensor(trained.user_map.lookup(split.test.users[:12]))
    i = torch.as_tensor(trained.item_map.lookup(split.test.items[:12]))
    f = torch.full((12,), trained.vocab.id("strap"))
    cached = trained.generate(u, i, f, use_cache=True)
    plain = trained.generate(u, i, f, use_cache=False)
    assert torch.equal(cached.tokens, plain.tokens)
    torch.testing.assert_close(cached.log_probs, plain.log_probs, atol=1e-4, rtol=1e-4)


def test_unscored_decoding_writes_the_same_tokens_without_log_probs(trained, planted):
    """What ``explain`` asks for (``scored=False``): greedy then skips renormalising after the
    held-back words and the repeat block, and writes the scored decoding's tokens; sampling draws
    the same words from the same stream."""
    split, _ = planted
    u = torch.as_tensor(trained.user_map.lookup(split.test.users[:16]))
    i = torch.as_tensor(trained.item_map.lookup(split.test.items[:16]))
    f = torch.full((16,), trained.vocab.id("strap"))
    held = {"banned": (trained.vocab.unk,), "no_repeat": True, "min_words": 3}
    for settings in ({}, held, {**held, "greedy": False, "top_p": 0.9}):
        made = {}
        for scored in (True, False):
            made[scored] = trained.generate(u, i, f, scored=scored, generator=torch.Generator().manual_seed(2),
                                            **settings)
        assert torch.equal(made[True].tokens, made[False].tokens), settings
        assert made[False].log_probs is None and made[True].log_probs.shape == made[True].tokens.shape


def test_beam_search_through_the_caches_equals_rerunning_each_hypothesis(trained, planted):
    """Beam search keeps each hypothesis's key/value caches in step with it: it gives what the
    same search gives re-running every hypothesis's whole prefix at each step, and a beam of one
    is the greedy decoding."""
    from whyrec.explain.seq2seq import beam_decode

    split, _ = planted
    u = torch.as_tensor(trained.user_map.lookup(split.test.users[:12]))
    i = torch.as_tensor(trained.item_map.lookup(split.test.items[:12]))
    f = torch.full((12,), trained.vocab.id("strap"))
    v, beam = trained.vocab, 5
    assert torch.equal(trained.beam_search(u, i, f, beam=1), trained.generate(u, i, f).tokens)
    wide = trained.beam_search(u, i, f, beam=beam)
    rows = [x.repeat_interleave(beam, dim=0) for x in (u, i, f)]
    held = {"words": torch.full((12 * beam, 1), v.bos)}  # each hypothesis's words so far, <bos> first

    def rerun(last, t):
        if t:
            held["words"] = torch.cat([held["words"], last[:, None]], dim=1)
        with torch.no_grad():
            return trained.model(rows[0], rows[1], held["words"], rows[2])[2][:, -1]

    def reorder(origin):
        held["words"] = held["words"][origin]

    reference = beam_decode(rerun, reorder, 12, v.bos, v.eos, v.pad, trained.config.max_words + 1, beam)
    assert torch.equal(wide, reference)
    texts = trained.explain(split.test.users[:12], split.test.items[:12], ["strap"] * 12, method="beam", beam=beam)
    assert texts == [" ".join(v.decode(row.tolist())) for row in wide]
    with pytest.raises(WhyrecError, match="top_p must be in"):
        trained.explain(split.test.users[:1], split.test.items[:1], ["strap"], method="sample", top_p=0.0)


def test_no_unk_never_shows_the_unknown_word_even_when_it_is_the_likeliest(trained, planted):
    split, _ = planted
    peter = copy.copy(trained)
    peter.model = copy.deepcopy(trained.model)
    with torch.no_grad():
        peter.model.to_token.bias[peter.vocab.unk] += 100.0  # <unk> now wins every step
    users, items = split.test.users[:6], split.test.items[:6]
    assert all("<unk>" in t for t in peter.explain(users, items))
    for method in ("greedy", "sample"):
        texts = peter.explain(users, items, method=method, no_unk=True)
        assert not any("<unk>" in t.split() for t in texts)
    u = torch.as_tensor(peter.user_map.lookup(users))
    i = torch.as_tensor(peter.item_map.lookup(items))
    f = torch.full((6,), peter.vocab.unk)
    banned = [peter.generate(u, i, f, use_cache=c, banned=(peter.vocab.unk,)) for c in (True, False)]
    assert torch.equal(banned[0].tokens, banned[1].tokens)
    assert (banned[0].log_probs <= 0).all()  # renormalised without <unk>


def test_min_words_holds_eos_back_in_every_decoding(trained, planted):
    """With <eos> made the likeliest word, PETER writes nothing, unless asked for min_words."""
    split, _ = planted
    peter = copy.copy(trained)
    peter.model = copy.deepcopy(trained.model)
    with torch.no_grad():
        peter.model.to_token.bias[peter.vocab.eos] += 100.0
    users, items = split.test.users[:4], split.test.items[:4]
    assert peter.explain(users, items) == [""] * 4
    for method in ("greedy", "sample", "beam"):
        texts = peter.explain(users, items, method=method, min_words=3)
        assert [len(t.split()) for t in texts] == [3] * 4, (method, texts)
    u, i = (torch.as_tensor(m.lookup(x)) for m, x in ((peter.user_map, users), (peter.item_map, items)))
    f = torch.full((4,), peter.vocab.unk)
    cached, rerun = (peter.generate(u, i, f, use_cache=c, min_words=2) for c in (True, False))
    assert torch.equal(cached.tokens, rerun.tokens) and (cached.lengths == 3).all()  # two words and <eos>
    with pytest.raises(ConfigError, match="min_words"):
        peter.explain(users, items, min_words=peter.config.max_words + 1)


def test_an_explanation_that_never_ends_is_cut_at_max_words(trained, planted):
    """As the reference, which decodes `words` steps: at most max_words words, never max_words + 1."""
    split, _ = planted
    peter = copy.copy(trained)
    peter.model = copy.deepcopy(trained.model)
    with torch.no_grad():
        peter.model.to_token.bias[peter.vocab.eos] -= 100.0
    users, items = split.test.users[:4], split.test.items[:4]
    for method in ("greedy", "sample", "beam"):
        texts = peter.explain(users, items, method=method)
        assert [len(t.split()) for t in texts] == [peter.config.max_words] * 4, (method, texts)


def test_no_repeat_blocks_the_loops_a_small_decoder_falls_into(trained, planted):
    split, _ = planted
    peter = copy.copy(trained)
    peter.model = copy.deepcopy(trained.model)
    word = peter.vocab.id("strap")
    with torch.no_grad():
        peter.model.to_token.bias[word] += 100.0  # "strap strap strap …" without the block
    users, items = split.test.users[:4], split.test.items[:4]
    assert all(t.split().count("strap") > 2 for t in peter.explain(users, items))
    for method in ("greedy", "sample"):
        for text in peter.explain(users, items, method=method, no_repeat=True):
            words = text.split()
            bigrams = list(zip(words, words[1:]))
            assert all(a != b for a, b in bigrams) and len(set(bigrams)) == len(bigrams), text


def test_teacher_forcing_matches_incremental_steps():
    torch.manual_seed(0)
    model = PeterModel(PeterShape(5, 4, 20, emsize=16, heads=2, ffn=32, layers=2, dropout=0.0, use_feature=True), pad=2).eval()
    user, item, feature = torch.tensor([1, 3]), torch.tensor([0, 2]), torch.tensor([7, 9])
    text = torch.tensor([[0, 5, 6, 8], [0, 11, 4, 13]])  # <bos> w1 w2 w3
    _, _, words = model(user, item, text, feature)
    _, first, caches = model.start(user, item, 0, feature)
    steps = [first] + [model.step(text[:, t], model.src_len + t, caches) for t in range(1, 4)]
    torch.testing.assert_close(torch.stack(steps, 1), words, atol=1e-5, rtol=1e-5)


def test_context_loss_scores_every_word_of_the_explanation_with_the_one_distribution():
    """L_c = −(1/N) Σ log p_b(w) over the words, <eos> and <pad> left out; hand-computed, and equal
    to the reference's form (the distribution repeated per position, NLL ignoring pad)."""
    eos, pad = 1, 2
    context = torch.log_softmax(torch.tensor([[0.0, 1.0, 0.0, 2.0, 0.5], [1.0, 0.0, 0.0, 0.0, 3.0]]), dim=-1)
    target = torch.tensor([[3, 4, 3, eos], [4, eos, pad, pad]])
    by_hand = -(2 * context[0, 3] + context[0, 4] + context[1, 4]) / 4
    torch.testing.assert_close(context_nll(context, target, eos, pad), by_hand)
    bag = target.masked_fill(target == eos, pad)
    repeated = torch.nn.functional.nll_loss(context[:, None, :].expand(-1, 4, -1).reshape(-1, 5), bag.reshape(-1),
                                            ignore_index=pad)
    torch.testing.assert_close(context_nll(context, target, eos, pad), repeated)
    logits = torch.zeros(2, 5, requires_grad=True)  # no word at all: 0 and a zero gradient, not NaN
    empty = context_nll(torch.log_softmax(logits, -1), torch.tensor([[eos, pad], [eos, pad]]), eos, pad)
    empty.backward()
    assert float(empty.detach()) == 0.0 and torch.equal(logits.grad, torch.zeros(2, 5))


@pytest.mark.parametrize("use_feature", [False, True])
def test_rating_alone_equals_the_full_forward(use_feature):
    torch.manual_seed(0)
    model = PeterModel(PeterShape(5, 4, 20, emsize=16, heads=2, ffn=32, layers=2, dropout=0.0,
                                  use_feature=use_feature), pad=2).eval()
    user, item, feature = torch.tensor([1, 3, 0]), torch.tensor([0, 2, 2]), torch.tensor([7, 9, 4])
    text = torch.tensor([[0, 5, 6, 8], [0, 11, 4, 13], [0, 2, 2, 2]])
    full, _, _ = model(user, item, text, feature if use_feature else None)
    torch.testing.assert_close(model.rate(user, item), full, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(model.rate(user, item.flip(0)), full)  # it does depend on the item


def test_a_layer_on_the_user_and_item_alone_equals_the_general_layer_under_the_peter_mask():
    torch.manual_seed(0)
    model = PeterModel(PeterShape(5, 4, 20, emsize=16, heads=2, ffn=32, layers=1, dropout=0.0), pad=2).eval()
    layer, x = model.layers[0], torch.randn(6, 2, 16)
    general = layer(x, peter_mask(2)[None, None])
    torch.testing.assert_close(layer.pair(x), general)
    torch.testing.assert_close(layer.pair(x, user_only=True), general[:, :1])
    assert not torch.allclose(layer.pair(x.flip(1))[:, :1], general[:, :1])  # the user position sees the item
    with pytest.raises(RuntimeError, match="eval mode only"):
        layer.train().pair(x)


@pytest.mark.parametrize("hooked", ["ff", "attn", "every module"])
def test_a_forward_hook_is_run_by_the_eval_mode_shortcuts(hooked):
    """The eval-mode paths call the parts of ``ff`` and ``attn``; a hook on the module (to read
    its activations) must still run, with the same numbers as without it."""
    torch.manual_seed(0)
    model = PeterModel(PeterShape(5, 4, 20, emsize=16, heads=2, ffn=32, layers=2, dropout=0.0), pad=2).eval()
    user, item = torch.tensor([1, 3, 0]), torch.tensor([0, 2, 2])
    text = torch.tensor([[0, 5, 6, 8], [0, 11, 4, 13], [0, 2, 2, 2]])
    plain_rating, plain_forward = model.rate(user, item), model(user, item, text)
    seen = []
    record = lambda module, inputs, output: seen.append(output.shape)  # noqa: E731
    if hooked == "every module":
        handle = torch.nn.modules.module.register_module_forward_hook(
            lambda module, inputs, output: seen.append(output.shape) if module is model.layers[0].ff else None)
    else:
        handle = getattr(model.layers[0], hooked).register_forward_hook(record)
    try:
        rating, forward = model.rate(user, item), model(user, item, text)
    finally:
        handle.remove()
    assert len(seen) == 2  # once by the rating's pair path, once by the full forward
    torch.testing.assert_close(rating, plain_rating)
    torch.testing.assert_close(forward, plain_forward)


def test_the_rating_in_training_mode_goes_through_the_general_layers_with_their_dropout():
    torch.manual_seed(0)
    model = PeterModel(PeterShape(5, 4, 20, emsize=16, heads=2, ffn=32, layers=2, dropout=0.5), pad=2)
    user, item = torch.tensor([1, 3, 0]), torch.tensor([0, 2, 2])
    evaluated = model.eval().rate(user, item)
    model.train()
    torch.manual_seed(1)
    x = model._embed([model.users(user)[:, None], model.items(item)[:, None]], 0)
    for layer in model.layers:
        x = layer(x, peter_mask(2)[None, None])
    general = model.rating_mlp(x[:, 0])[:, 0]
    torch.manual_seed(1)  # the same dropout draws
    torch.testing.assert_close(model.rate(user, item), general)
    assert not torch.allclose(general, evaluated)  # dropout is on


def test_a_word_shift_leaves_the_rating_and_keeps_cached_and_teacher_forced_decoding_equal():
    torch.manual_seed(0)
    model = PeterModel(PeterShape(5, 4, 20, emsize=16, heads=2, ffn=32, layers=2, dropout=0.0), pad=2).eval()
    user, item = torch.tensor([1, 3]), torch.tensor([0, 2])
    text = torch.tensor([[0, 5, 6, 8], [0, 11, 4, 13]])
    shift = torch.randn(2, 16)
    rating, _, words = model(user, item, text, None, shift)
    torch.testing.assert_close(rating, model.rate(user, item))  # the PETER mask keeps words out of the rating
    assert not torch.allclose(words, model(user, item, text)[2])
    _, first, caches = model.start(user, item, 0, None, shift)
    steps = [first] + [model.step(text[:, t], model.src_len + t, caches, shift) for t in range(1, 4)]
    torch.testing.assert_close(torch.stack(steps, 1), words, atol=1e-5, rtol=1e-5)


def test_explainer_rating_input_starts_unchanged_and_feeds_the_predicted_rating(trained, planted):
    from whyrec.systems.peter import PeterExplainer

    split, _ = planted
    plain = PeterExplainer(trained)
    adapted = PeterExplainer(copy.deepcopy(trained), rating_input=True)  # the adapter becomes the copy's
    assert trained.rating_input is None and adapted.rating_input is adapted.peter.rating_input
    users, items = list(split.test.users[:10]), list(split.test.items[:10])
    features = ["strap"] * 10
    assert adapted.explain(users, items, features=features) == plain.explain(users, items, features=features)
    ctx = adapted.contexts(users, items, features)
    torch.testing.assert_close(ctx["predicted"], trained.model.rate(ctx["user"], ctx["item"]))
    samples = adapted.sample(ctx)
    adapted.log_prob(ctx, samples.tokens).sum().backward()
    assert adapted.rating_input.shift.weight.grad.abs().sum() > 0
    with torch.no_grad():
        adapted.rating_input.shift.weight.normal_()
    u, i = ctx["user"], ctx["item"]
    f = ctx["feature"]
    shift = adapted.rating_input.offsets(ctx["predicted"].numpy())
    cached = trained.generate(u, i, f, use_cache=True, word_shift=shift)
    assert torch.equal(cached.tokens, trained.generate(u, i, f, use_cache=False, word_shift=shift).tokens)
    assert adapted.texts(cached.tokens) == adapted.explain(users, items, features=features)
    assert adapted.peter.explain(users, items, features) == adapted.explain(users, items, features=features)
    reference = adapted.frozen_copy()  # a copy of the adapter too, frozen
    assert all(not p.requires_grad for p in reference.parameters())
    assert torch.equal(reference.rating_input.shift.weight, adapted.rating_input.shift.weight)


def test_config_is_strict():
    with pytest.raises(ConfigError, match="unknown setting"):
        Peter(layerz=3)


def test_explainer_interface_and_mmi_keep_the_backbone_loss(trained, planted):
    from whyrec.align.mmi import MMIConfig, MMIData, MMITrainer
    from whyrec.explain.sentence import MeanWordVectorEncoder
    from whyrec.explain.targets import explanation_targets
    from whyrec.systems.peter import PeterExplainer

    split, features = planted
    trained = copy.deepcopy(trained)  # MMI tunes it in place, and records that it did: other tests share it
    explainer = PeterExplainer(trained)
    users, items = list(split.train.users[:5]), list(split.train.items[:5])
    ctx = explainer.repeat(explainer.contexts(users, items, ["strap"] * 5), 2)
    assert not torch.isnan(ctx["rating"]).any()  # train pairs carry their observed rating
    samples = explainer.sample(ctx)
    scored = explainer.log_prob(ctx, samples.tokens)
    torch.testing.assert_close(scored.detach(), samples.log_probs.sum(1), atol=1e-4, rtol=1e-4)
    reference = explainer.frozen_copy()
    torch.testing.assert_close(reference.log_prob(ctx, samples.tokens), scored.detach())
    targets = explanation_targets(split.train, features, 8)
    assert float(explainer.nll(explainer.contexts(users, items), targets[:5]).detach()) > 0
    with pytest.raises(UnknownIdError, match="^PETER cannot explain a pair it has no embedding for: unknown item "
                                             "'no such item'$"):  # MMI's data: known pairs only
        explainer.contexts(users[:1], ["no such item"])
    encoder = MeanWordVectorEncoder(trained.vocab, np.random.default_rng(0).standard_normal((len(trained.vocab), 16)))
    data = MMIData(list(split.train.users), list(split.train.items), trained.predict_corpus(split.train), targets,
                   ["strap"] * len(split.train))
    before = trained.predict_corpus(split.test)
    mmi = MMITrainer(explainer, encoder, MMIConfig(samples=2, epochs=2, batch_size=32, lr=1e-3, mine_hidden=16,
                                                   mine_lr=3e-3, mine_batch_size=128, mine_pretrain_epochs=5,
                                                   max_batches_per_epoch=3))
    mmi.pretrain(list(split.train.texts), data)
    mmi.fit(data, data)
    assert [h["phase"] for h in mmi.history] == ["generator", "estimator"]
    # what MMI did is kept with the PETER it tuned, as after `whyrec align`
    assert len(trained.alignments) == 1
    assert trained.alignments[-1]["variant"] is None and trained.alignments[-1]["train_records"] == len(data)
    assert np.isfinite(trained.predict_corpus(split.test)).all() and len(before) == len(split.test)


def test_peter_plus_fitted_without_any_feature_word_says_it_trains_as_peter(planted):
    """PETER+ fitted without its features had trained silently on <unk> feature inputs alone."""
    import warnings

    from whyrec.errors import DataWarning

    split, features = planted
    small = dict(TINY, epochs=1, layers=1)
    for given, words in (("no features", None), ("features of none of its records", features.assign(position=-1))):
        told = f"^PETER\\+: no train record has a feature word \\(fit was given {given}\\), so every feature input"
        with pytest.warns(DataWarning, match=told + " is <unk> and it trains as PETER does") as caught:
            Peter(use_feature=True, **small).fit(split.train, None, words)
        assert caught[0].filename == __file__  # shown under the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        Peter(use_feature=True, **small).fit(split.train, None, features)
        Peter(**small).fit(split.train, None)  # PETER reads no feature word


def test_a_fitted_system_shows_what_it_was_fitted_on_and_an_alignment_is_counted(trained, planted):
    split, _ = planted
    name = "Peter(use_feature=True, " if trained.config.use_feature else "Peter("
    shown = repr(trained)
    assert shown.startswith(f"<{name}emsize=32, ") and ", fitted on 'planted': 50 users, 20 items, " in shown
    assert f", {len(trained.train_ratings):,} ratings, a vocabulary of {len(trained.vocab):,} words, " in shown
    assert shown.endswith(f", {len(trained.history)} epochs trained>") and "aligned" not in shown
    aligned = copy.copy(trained)
    aligned.alignments = [{}, {}]
    assert repr(aligned).endswith(" epochs trained, aligned by MMI 2 times>")


def test_bundle_round_trip_gives_same_predictions_and_explanations(trained, planted, tmp_path):
    from whyrec.bundle import load_bundle

    split, _ = planted
    trained.save(tmp_path / "peter")
    again = load_bundle(tmp_path / "peter")
    users, items = split.test.users[:6], split.test.items[:6]
    assert np.allclose(again.predict(users, items), trained.predict(users, items))
    feats = [trained.item_feature.get(i, "<unk>") for i in items]
    assert again.explain(users, items, feats) == trained.explain(users, items, feats)
    assert again.train_ratings == trained.train_ratings and again.item_feature == trained.item_feature
    assert not any(p.suffix == ".pkl" for p in (tmp_path / "peter").iterdir())
    assert again.rating_scale == trained.rating_scale == split.train.rating_scale  # the data's, not the train range


def test_a_bundle_from_before_the_scale_was_kept_loads_without_one(trained, tmp_path):
    from whyrec.bundle import load_bundle
    from whyrec.explanations import check_rating_scale

    trained.save(tmp_path / "peter")
    header_file = tmp_path / "peter" / "bundle.json"
    header = json.loads(header_file.read_text())
    del header["rating_scale"]
    header_file.write_text(json.dumps(header))
    old = load_bundle(tmp_path / "peter")
    assert old.rating_scale is None and old.rating_range == trained.rating_range
    check_rating_scale(old, (1, 5))  # judged by its train ratings' range alone, as before
    with pytest.raises(ConfigError, match="give --min-rating 1 --max-rating 5"):
        check_rating_scale(trained, (0, 10))
    header["rating_scale"], header["rating_range"] = [5, 1], [3, 3]  # an edited scale; a range may be one rating
    header_file.write_text(json.dumps(header))
    with pytest.raises(WhyrecError, match="PETER: saved rating_scale must be two finite numbers"):
        load_bundle(tmp_path / "peter")
    header["rating_scale"] = [1, 5]
    header_file.write_text(json.dumps(header))
    assert load_bundle(tmp_path / "peter").rating_range == (3.0, 3.0)


def test_a_bundle_trained_on_a_gpu_loads_on_the_cpu(trained, planted, tmp_path):
    import json

    from whyrec.bundle import load_bundle

    split, _ = planted
    trained.save(tmp_path / "peter")
    header_file = tmp_path / "peter" / "bundle.json"
    header = json.loads(header_file.read_text())
    header["config"]["device"] = "cuda"  # as written on a GPU machine
    header_file.write_text(json.dumps(header))
    again = load_bundle(tmp_path / "peter")
    assert again.config.device == "cpu" and next(again.model.parameters()).device.type == "cpu"
    users, items = split.test.users[:6], split.test.items[:6]
    assert np.allclose(again.predict(users, items), trained.predict(users, items))


def test_moving_needs_a_trained_model_and_a_device_this_machine_has(trained):
    with pytest.raises(WhyrecError, match="before moving"):
        Peter(**TINY).to("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(WhyrecError, match="no CUDA GPU"):
            copy.deepcopy(trained).to("cuda")
    assert copy.deepcopy(trained).to("cpu").config.device == "cpu"


def test_an_aligned_rating_input_is_saved_and_used_after_loading(trained, planted, tmp_path):
    from whyrec.bundle import load_bundle
    from whyrec.systems.peter import PeterExplainer

    split, _ = planted
    aligned = copy.deepcopy(trained)
    adapted = PeterExplainer(aligned, rating_input=True)
    with torch.no_grad():  # as if MMI had tuned it
        adapted.rating_input.shift.weight.copy_(torch.randn(5, aligned.config.emsize))
    users, items = list(split.test.users[:12]), list(split.test.items[:12])
    feats = [trained.item_feature.get(i, "<unk>") for i in items]
    assert aligned.explain(users, items, feats) != trained.explain(users, items, feats)
    aligned.save(tmp_path / "aligned")
    again = load_bundle(tmp_path / "aligned")
    assert torch.equal(again.rating_input.shift.weight, aligned.rating_input.shift.weight)
    assert again.explain(users, items, feats) == aligned.explain(users, items, feats)
    assert PeterExplainer(again).explain(users, items, features=feats) == aligned.explain(users, items, feats)
    assert np.allclose(again.predict(users, items), trained.predict(users, items))  # the rating never sees it


def test_a_damaged_bundle_is_refused_in_one_line(trained, tmp_path):
    from tests.conftest import forget_arrays_digest
    from safetensors.torch import load_file, save_file

    from whyrec.bundle import load_bundle
    from whyrec.errors import BundleError

    trained.save(tmp_path / "peter")
    arrays = tmp_path / "peter" / "arrays.safetensors"
    tensors = load_file(str(arrays))
    tensors["model.users.weight"] = tensors["model.users.weight"][:-1].contiguous()  # one user short
    save_file(tensors, str(arrays))
    with pytest.raises(BundleError, match="arrays.safetensors is damaged or was replaced"):
        load_bundle(tmp_path / "peter")
    forget_arrays_digest(tmp_path / "peter")  # as a bundle saved before whyrec recorded one: the deeper checks speak
    with pytest.raises(BundleError, match="size mismatch for users.weight") as caught:
        load_bundle(tmp_path / "peter")
    assert "\n" not in str(caught.value)
    trained.save(tmp_path / "short")  # an array missing: named as MT's and a rating model's loaders name it
    tensors = load_file(str(tmp_path / "short" / "arrays.safetensors"))
    del tensors["records.user"]
    save_file(tensors, str(tmp_path / "short" / "arrays.safetensors"))
    forget_arrays_digest(tmp_path / "short")
    with pytest.raises(BundleError, match=r"bundle lacks 'records.user'$"):  # was "broken PETER bundle (…)"
        load_bundle(tmp_path / "short")
    trained.save(tmp_path / "edited")
    header_file = tmp_path / "edited" / "bundle.json"
    header = json.loads(header_file.read_text())
    for key, value, message in (("item_feature", {"i": 3}, "'item_feature' must be an object of strings"),
                                ("global_mean", "x", "'global_mean' must be a finite number"),
                                ("name", None, "bundle lacks 'name'"),
                                ("config", None, r"bundle lacks 'config'$"),  # was "broken PETER bundle ('config')"
                                # was a TypeError's
                                ("vocab", 5, "'vocab' must be an array of strings, not a JSON number: 5$"),
                                ("user_ids", {"u": 1},
                                 r"'user_ids' must be an array of strings, not a JSON object: \{\"u\": 1\}$"),
                                ("unicode_folded", "no", "'unicode_folded' must be true or false")):
        edited = {k: v for k, v in header.items() if k != key or value is not None}
        if value is not None:
            edited[key] = value
        header_file.write_text(json.dumps(edited))
        with pytest.raises(BundleError, match=message):
            load_bundle(tmp_path / "edited")


@pytest.mark.parametrize("setting, value, message", [
    ("heads", 3, "multiple of heads"),
    ("dropout", 1.0, "dropout must be in"),
    ("patience", -1, "patience must be at least 0"),
    ("anneal", 0.0, "anneal must be in"),
    ("lr", "high", "lr must be a finite number"),
])
def test_bad_settings_are_refused_by_name(setting, value, message):
    from whyrec.systems.peter import PeterConfig

    with pytest.raises(ConfigError, match=message):
        PeterConfig.from_dict({setting: value})


def test_a_resumed_run_ends_as_the_uninterrupted_one(planted, tmp_path):
    """Killed after epoch 4 of 6 (here: a run given 4 epochs), the rerun with the same folder
    continues from the checkpoint (weights, best state, annealed rate, random states) and ends with
    the weights and history of a run that was never interrupted."""
    split, features = planted
    settings = {**TINY, "epochs": 6, "patience": 6, "use_feature": True}
    whole = Peter(**settings).fit(split.train, split.valid, features)
    first = Peter(**{**settings, "epochs": 4}).fit(split.train, split.valid, features, checkpoint_dir=str(tmp_path))
    assert len(first.history) == 4 and sorted(p.name for p in tmp_path.iterdir()) == [".lock", "epoch-0004"]
    resumed = Peter(**settings).fit(split.train, split.valid, features, checkpoint_dir=str(tmp_path))
    def without_time(history):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in history]
    assert without_time(resumed.history) == without_time(whole.history)
    assert whole.history[4]["lr"] < whole.config.lr  # the first resumed epoch runs at the annealed rate
    for key, value in whole.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[key], value), key
    with pytest.raises(WhyrecError, match=r"other settings or data \(emsize: \d+ in the checkpoint, 16 now\)"):
        Peter(**{**settings, "emsize": 16}).fit(split.train, split.valid, features, checkpoint_dir=str(tmp_path))


def test_training_that_diverges_stops_with_what_to_lower(planted, tmp_path):
    """A learning rate far too large made the weights NaN, and the first NaN prediction was a
    ValueError of the RMSE; no checkpoint of the diverged epoch is written."""
    from whyrec.errors import DivergedError

    split, features = planted
    peter = Peter(**{**TINY, "epochs": 2, "lr": 1e6, "clip": 1e6})
    with pytest.raises(DivergedError, match=r"PETER: training diverged in epoch 1 \(the training loss became NaN or "
                                            r"infinite\); lower lr \(now 1e\+06\) or clip"):
        peter.fit(split.train, split.valid, features, checkpoint_dir=tmp_path / "ckpt")
    assert not any((tmp_path / "ckpt").glob("*epoch*"))


def test_training_again_starts_a_new_history(planted):
    split, features = planted
    peter = Peter(**{**TINY, "epochs": 2, "patience": 3})
    peter.fit(split.train, split.valid, features)
    peter.fit(split.train, split.valid, features)
    assert [r["epoch"] for r in peter.history] == [1, 2]


def test_token_log_probs_average_to_the_training_text_loss(trained, planted):
    from whyrec.align.pipeline import feature_words
    from whyrec.explain.targets import explanation_targets

    split, features = planted
    part = split.test.take(np.flatnonzero([u in trained.user_map and i in trained.item_map
                                           for u, i in zip(split.test.users, split.test.items)]))
    words = feature_words(part, features) if trained.config.use_feature else None
    logps = trained.token_log_probs(part.users, part.items, explanation_targets(part, features, TINY["max_words"]), words)
    assert len(logps) == len(part) and all(len(row) >= 1 and (row <= 0).all() for row in logps)
    with torch.no_grad():
        text_nll, _, _ = trained.losses(*trained._tensors(part, features))
    assert -np.concatenate(logps).mean() == pytest.approx(float(text_nll), rel=1e-5)
    with pytest.raises(UnknownIdError, match="^PETER cannot score the explanation of a pair it has no embedding for: "
                                             "unknown user 'nobody'$"):
        trained.token_log_probs(["nobody"], [part.items[0]], [["good"]])
    known = trained.item_map.ids[0]
    with pytest.raises(UnknownIdError, match=f"^PETER cannot explain a pair .*: unknown item '{known.upper()}'; "
                                             f"did you mean '{known}'\\? \\(1 other unknown item too\\)$"):
        trained.explain([part.users[0]] * 4, [known.upper(), known, "nothing", known.upper()])


def test_pairs_must_pair_and_an_id_is_not_a_list_of_characters(trained, planted):
    split, _ = planted
    user, item = split.train.users[0], split.train.items[0]
    for call in (trained.predict, trained.explain):
        with pytest.raises(WhyrecError, match="items must be a list of ids, not one string"):
            call([user], item)
        with pytest.raises(WhyrecError, match=r"as many users as items \(2 != 1\)"):  # was an IndexError
            call([user, user], [item])
    with pytest.raises(WhyrecError, match="one feature word per"):
        trained.explain([user, user], [item, item], features=["strap"])


def test_an_unfitted_peter_says_fit_first(tmp_path):
    from whyrec.rating import NotFittedError

    peter = Peter()
    for call in (lambda: peter.predict(["u"], ["i"]), lambda: peter.explain(["u"], ["i"]),
                 lambda: peter.token_log_probs(["u"], ["i"], [["good"]])):
        with pytest.raises(NotFittedError, match="PETER: call fit\\(\\) \\(or load a bundle\\) before predicting"):
            call()
    with pytest.raises(NotFittedError, match="before saving"):
        peter.save(tmp_path / "b")
    assert not (tmp_path / "b").exists()


def test_scores_in_several_passes_equal_one_pass_and_predict_clips_them(trained, planted):
    split, _ = planted
    users = list(split.test.users) + ["nobody"]
    items = list(split.test.items) + [split.test.items[0]]
    whole = trained.predict_unclipped(users, items, pairs_per_pass=len(users))
    np.testing.assert_allclose(trained.predict_unclipped(users, items, pairs_per_pass=3), whole, rtol=1e-6)
    assert whole[-1] == trained.global_mean  # an unknown user: the train mean
    np.testing.assert_array_equal(trained.predict(users, items), np.clip(whole, *trained.rating_range))


def test_validation_losses_in_several_passes_equal_one_pass(trained, planted):
    """Validation is scored a few hundred records at a time (one pass over a benchmark-scale
    validation part would hold records × words × vocabulary log-probabilities); the per-word and
    per-rating means must be those of one pass, also when the passes hold different counts."""
    split, features = planted
    data = trained._tensors(split.valid, features)
    with torch.no_grad():
        trained.model.eval()
        text_nll, _, rating_mse = trained.losses(*data)
    for size in (len(split.valid), 7, 1):
        assert trained.validation_losses(data, records_per_pass=size) == pytest.approx(
            (float(text_nll), float(rating_mse)), rel=1e-5)
    unrated = (*data[:2], torch.full_like(data[2], float("nan")), *data[3:])  # pairs without a rating
    assert trained.validation_losses(unrated, records_per_pass=7)[1] == 0.0


def test_the_epoch_line_shows_the_validation_scores_that_choose_the_epoch():
    from whyrec.systems.peter import peter_epoch_text

    assert peter_epoch_text({"text_nll": 5.9412}) == "train text NLL 5.941"
    assert peter_epoch_text({"text_nll": 5.9412, "valid_text_nll": 5.2, "valid_rating_mse": 0.25}) == \
        "train text NLL 5.941, valid unclipped RMSE 0.5000, valid text NLL 5.200"


def test_work_within_each_epoch_is_reported_without_changing_the_run(planted):
    split, features = planted
    settings = dict(TINY, epochs=2)
    steps = []
    watched = Peter(**settings).fit(split.train, split.valid, features, on_step=lambda e, what: steps.append((e, what)))
    alone = Peter(**settings).fit(split.train, split.valid, features)
    assert watched.history[-1]["text_nll"] == alone.history[-1]["text_nll"]
    batches = -(-len(split.train) // TINY["batch_size"])
    assert [what for e, what in steps if e == 1] == [f"batch {k}/{batches}" for k in range(batches)] + ["validation"]
    assert {e for e, _ in steps} == {1, 2}


@pytest.mark.parametrize("rating_reg, kept", [(0.1, 2), (0.0, 3)])
def test_the_epoch_named_as_kept_is_the_one_whose_weights_are_held(planted, monkeypatch, rating_reg, kept):
    """Scripted validation losses (text NLL, rating MSE): with the rating loss the sums are 6, 4.5,
    4.9, 4.5 (the tie at epoch 4 is no improvement), without it the text NLLs 5, 4, 3.9, 4."""
    split, features = planted
    scripted = iter([(5.0, 1.0), (4.0, 0.5), (3.9, 1.0), (4.0, 0.5)])
    monkeypatch.setattr(Peter, "validation_losses", lambda self, data: next(scripted))
    states = {}
    model = Peter(**dict(TINY, epochs=4, patience=4, rating_reg=rating_reg))
    model.fit(split.train, split.valid, features,
              log=lambda r: states.__setitem__(r["epoch"], copy.deepcopy(model.model.state_dict())))
    by = "lowest validation text NLL" + (" + rating MSE" if rating_reg else "")
    assert model.kept_epochs() == [{"part": "transformer", "epoch": kept, "by": by}]
    held = model.model.state_dict()
    for epoch, state in states.items():
        same = all(torch.equal(held[k], state[k]) for k in held)
        assert same == (epoch == kept), epoch
    assert Peter(**TINY).kept_epochs() == []
    unvalidated = Peter(**dict(TINY, epochs=2)).fit(split.train, None, features)
    assert unvalidated.kept_epochs()[0]["epoch"] == 2 and "no validation" in unvalidated.kept_epochs()[0]["by"]


def test_validation_records_the_train_part_lacks_are_left_out_and_said(planted):
    """A validation user or item without a train record has no embedding: such records were an
    IndexError from inside the transformer; now the validation scores leave them out, saying so."""
    from whyrec.errors import DataWarning

    split, features = planted
    stranger = split.valid.users[0]
    train = split.train.take([k for k, u in enumerate(split.train.users) if u != stranger])
    left_out = sum(u == stranger for u in split.valid.users)
    with pytest.warns(DataWarning, match=f"PETER: {left_out} of {len(split.valid)} validation records have a user "
                                         "or an item the train part lacks; the validation scores .* leave them out$") \
            as caught:
        model = Peter(**dict(TINY, epochs=1)).fit(train, split.valid, features)
    assert caught[0].filename == __file__
    known = split.valid.take([k for k, u in enumerate(split.valid.users) if u != stranger])
    t, r = model.validation_losses(model._tensors(known, features))
    assert model.history[-1]["valid_text_nll"] == pytest.approx(t) and model.history[-1]["valid_rating_mse"] == r
    strangers = split.valid.take([k for k, u in enumerate(split.valid.users) if u == stranger])
    with pytest.warns(DataWarning, match="so there are none, and the last epoch is kept"):
        alone = Peter(**dict(TINY, epochs=2)).fit(train, strangers, features)
    assert "valid_text_nll" not in alone.history[-1] and alone.kept_epochs()[0]["epoch"] == 2


def test_patience_stops_after_that_many_epochs_without_improvement_and_zero_never_does(planted, monkeypatch):
    """Scripted validation losses that only rise after epoch 1: patience 1 stops after epoch 2;
    patience 0 (as MT's) runs every epoch, keeping epoch 1's transformer either way."""
    split, features = planted
    for patience, epochs_run in ((1, 2), (0, 4)):
        scripted = iter([(5.0, 1.0), (5.5, 1.0), (6.0, 1.0), (6.5, 1.0)])
        monkeypatch.setattr(Peter, "validation_losses", lambda self, data: next(scripted))
        model = Peter(**dict(TINY, epochs=4, patience=patience)).fit(split.train, split.valid, features)
        assert len(model.history) == epochs_run and model.kept_epochs()[0]["epoch"] == 1
