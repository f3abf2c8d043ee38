"""One contract for every system that writes explanations (MT, PETER, PETER+), as
``tests/rating/test_contract.py`` is for the rating models: ``fit`` returns the system, a seed
fixes everything, a bundle gives back the same ratings and explanations, ratings beat the
global mean, explanations are bounded text, and the explainer interface scores what it samples
and what perplexity scores alike."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.conftest import tiny_planted_split
from tests.systems.test_mt import TINY as MT_TINY
from tests.systems.test_peter import TINY as PETER_TINY
from whyrec.align.pipeline import explainer_for, feature_words
from whyrec.bundle import load_bundle
from whyrec.data import Corpus
from whyrec.data.features import FeatureExtractor
from whyrec.errors import ConfigError, UnknownIdError
from whyrec.explain.decoding import Decoding
from whyrec.explain.targets import explanation_targets, pad_batch
from whyrec.explanations import explain_pairs, generate
from whyrec.metrics.rating import rmse
from whyrec.systems.mt import MultiTask
from whyrec.systems.peter import Peter

SYSTEMS = {
    "mt": lambda: MultiTask(epochs=3, **MT_TINY),
    "peter": lambda: Peter(**{**PETER_TINY, "epochs": 4}),
    "peter+": lambda: Peter(**{**PETER_TINY, "epochs": 4, "use_feature": True}),
}
EXPLAINER = {"mt": "pair", "peter": "peter", "peter+": "peter+"}


@pytest.fixture(scope="module")
def data():
    split = tiny_planted_split()
    features = FeatureExtractor(min_df=2).extract(Corpus.concat([split.train, split.valid, split.test]))
    keep = [u in set(split.train.users) and i in set(split.train.items) for u, i in zip(split.test.users, split.test.items)]
    return split, features, split.test.take(np.flatnonzero(keep))


@pytest.fixture(scope="module", params=list(SYSTEMS))
def trained(request, data):
    split, features, _ = data
    system = SYSTEMS[request.param]()
    assert system.fit(split.train, split.valid, features) is system
    return request.param, system


def _explain(name, system, users, items, **how):
    """The system's explanations of the pairs, PETER+ fed each item's own feature word."""
    if name == "mt":
        return system.explain(users, items, **how)
    return system.explain(users, items, [system.item_feature[i] for i in items] if name == "peter+" else None, **how)


def _explanations(name, system, known):
    return generate(system, EXPLAINER[name], list(known.users), list(known.items))


def test_a_seed_fixes_ratings_and_explanations(trained, data):
    name, system = trained
    split, features, known = data
    again = SYSTEMS[name]().fit(split.train, split.valid, features)
    assert np.array_equal(again.predict_corpus(known), system.predict_corpus(known))
    assert _explanations(name, again, known) == _explanations(name, system, known)


def test_a_bundle_gives_back_the_same_ratings_and_explanations(trained, data, tmp_path):
    name, system = trained
    _, _, known = data
    system.save(tmp_path / name)
    loaded = load_bundle(tmp_path / name)
    assert np.allclose(loaded.predict_corpus(known), system.predict_corpus(known))
    assert _explanations(name, loaded, known) == _explanations(name, system, known)


def test_a_decoding_object_decodes_as_its_settings_say(trained, data):
    """``explain(method=Decoding(...))``, as :func:`whyrec.explanations.explain_pairs` takes it: it
    was refused as an unknown method name. A seeded one gives each pair its own draws."""
    name, system = trained
    _, _, known = data
    users, items = list(known.users[:3]), list(known.items[:3])
    beam = Decoding.of("beam", {"beam": 3, "min_words": 2})
    assert (_explain(name, system, users, items, method=beam)
            == _explain(name, system, users, items, method="beam", beam=3, min_words=2))
    seeded = Decoding.of("sample", {"seed": 5, "top_p": 0.9})
    assert (_explain(name, system, users, items, method=seeded)[1:]
            == _explain(name, system, users[1:], items[1:], method=seeded))
    with pytest.raises(ConfigError, match="temperature is given beside a Decoding"):
        _explain(name, system, users, items, method=seeded, temperature=0.5)


def test_a_wide_beam_decodes_fewer_pairs_at_once_and_the_same_explanations(trained, data, monkeypatch):
    """Beam search holds pairs × beam decoder rows, each with a vocabulary-wide score row: a beam
    four times the default (4) decodes a quarter of ``batch_size`` pairs at once, so that a batch
    holds as many rows as at the default width (a width of 10⁵ took 12 GB for one pair), and each
    pair's explanation is the one it gets alone."""
    name, system = trained
    _, _, known = data
    users, items = list(known.users[:6]), list(known.items[:6])
    pairs_searched = []
    if name == "mt":
        import whyrec.systems.mt as mt_module

        search = mt_module.beam_search

        def counted(decoder, context, *args, **kwargs):
            pairs_searched.append(context.shape[0])
            return search(decoder, context, *args, **kwargs)

        monkeypatch.setattr(mt_module, "beam_search", counted)
    else:
        search = system.beam_search

        def counted(user, *args):
            pairs_searched.append(user.shape[0])
            return search(user, *args)

        monkeypatch.setattr(system, "beam_search", counted)
    together = _explain(name, system, users, items, method="beam", beam=16, batch_size=8)
    assert pairs_searched == [2, 2, 2]
    assert together == [_explain(name, system, [u], [i], method="beam", beam=16)[0] for u, i in zip(users, items)]
    pairs_searched.clear()
    _explain(name, system, users, items, method="beam", beam=4, batch_size=8)
    assert pairs_searched == [6]  # the default width: batch_size pairs


def test_ratings_beat_the_global_mean_and_explanations_are_bounded_text(trained, data):
    name, system = trained
    split, _, known = data
    predicted = system.predict_corpus(split.test)
    assert rmse(predicted, split.test.ratings) < rmse(np.full(len(predicted), split.train.ratings.mean()),
                                                       split.test.ratings)
    texts = _explanations(name, system, known)
    assert len(texts) == len(known) and all(isinstance(t, str) for t in texts)
    assert max(len(t.split()) for t in texts) <= system.config.max_words + 1
    assert sum(bool(t.strip()) for t in texts) > len(texts) // 2
    with pytest.raises(UnknownIdError, match="no-such-item"):  # what the CLI and the service explain
        explain_pairs(system, [known.users[0]], ["no-such-item"])


def test_the_explainer_scores_its_samples_and_the_references_as_perplexity_does(trained, data):
    name, system = trained
    _, features, known = data
    words = feature_words(known, features) if name == "peter+" else None
    explainer = explainer_for(system, "pair")
    ctx = explainer.contexts(list(known.users), list(known.items), words)
    samples = explainer.sample(ctx)
    with torch.no_grad():
        scored = explainer.log_prob(ctx, samples.tokens)
    assert torch.allclose(scored, samples.log_probs.sum(dim=1), atol=1e-4)
    references = explanation_targets(known, features, system.config.max_words)
    tokens = pad_batch([system.vocab.encode(t) + [system.vocab.eos] for t in references], system.vocab.pad)
    with torch.no_grad():
        whole = explainer.log_prob(ctx, tokens)
    if name == "mt":
        per_token = system.token_log_probs("pair", references, system.user_map.lookup(known.users),
                                           system.item_map.lookup(known.items))
    else:
        per_token = system.token_log_probs(list(known.users), list(known.items), references, words)
    assert np.allclose([row.sum() for row in per_token], whole.numpy(), atol=1e-4)


@pytest.mark.parametrize("name", list(SYSTEMS))
def test_empty_training_data_is_refused_before_any_work(name, data):
    from whyrec.errors import WhyrecError

    split, features, _ = data
    with pytest.raises(WhyrecError, match="the training data is empty"):
        SYSTEMS[name]().fit(split.train.take([]), split.valid, features)
