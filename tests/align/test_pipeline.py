"""MMI alignment end to end on a trained system (what `whyrec align` runs)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from whyrec.align import pipeline
from whyrec.align.mmi import MMIConfig
from whyrec.bundle import load_bundle
from whyrec.data import Corpus, ratio_split
from whyrec.data.features import FeatureExtractor
from whyrec.data.synthetic import make_planted_corpus
from whyrec.data.text import Vocabulary, tokenize
from whyrec.errors import BundleError, ConfigError
from whyrec.explain.sentence import MeanWordVectorEncoder
from whyrec.rating.als import ContextAwareALS
from whyrec.systems.mt import MultiTask

TINY_MT = dict(factors=3, vocab_size=300, max_words=8, doc_words=12, doc_reviews=3, word_dim=16, word_vectors="random",
               encoder_hidden=12, decoder_hidden=24, batch_size=32, pg_batch=8, rollouts=2, d_samples=8,
               pg_steps=1, d_steps=2, adversarial_from=9, d_filters=4, d_widths=(1, 2), lr=1e-2, decoder_lr=1e-2,
               epochs=1, variants=("item", "pair"))
SMALL_MMI = dict(samples=2, epochs=2, batch_size=32, mine_hidden=8, mine_pretrain_epochs=3, max_batches_per_epoch=2)


@pytest.fixture(scope="module")
def setting():
    split = ratio_split(make_planted_corpus(n_users=40, n_items=15, reviews_per_user=8, seed=2).corpus, seed=0)
    features = FeatureExtractor(min_df=2).extract(Corpus.concat([split.train, split.valid, split.test]))
    vocab = Vocabulary.build([tokenize(t) for t in split.train.texts], max_size=400)
    encoder = MeanWordVectorEncoder(vocab, np.random.default_rng(0).standard_normal((len(vocab), 16)).astype(np.float32))
    return split, features, encoder


def test_mmi_data_uses_predicted_ratings_and_keeps_featured_records_for_the_feature_target(setting):
    split, features, _ = setting
    mt = MultiTask(**TINY_MT).fit(split.train, split.valid, features)
    data = pipeline.mmi_data(mt, split.train, features, 8)
    assert len(data) == len(split.train) and np.allclose(data.ratings, mt.predict_corpus(split.train))
    featured = pipeline.mmi_data(mt, split.train, features, 8, with_feature=True)
    words = pipeline.feature_words(split.train, features)
    assert len(featured) == sum(bool(w) for w in words) > 0 and all(featured.features)
    assert pipeline.feature_words(split.train, None) == [""] * len(split.train)


def test_align_tunes_the_chosen_mt_decoder_in_place_and_keeps_its_rating_input(setting, tmp_path):
    split, features, encoder = setting
    mt = MultiTask(**TINY_MT).fit(split.train, split.valid, features)
    item_decoder = {k: v.clone() for k, v in mt.generator["decoder_item"].state_dict().items()}
    encoders = pipeline.reward_encoders("generic", encoder, split.train)
    trainer = pipeline.align(mt, split.train, split.valid, features, encoders, MMIConfig(**SMALL_MMI),
                             variant="pair", rating_input=True)
    assert [h["phase"] for h in trainer.history] == ["generator", "estimator"]
    assert list(mt.rating_inputs) == ["pair"] and trainer.explainer.rating_input is mt.rating_inputs["pair"]
    # the other decoder is untouched
    assert all(np.array_equal(v.numpy(), item_decoder[k].numpy())
               for k, v in mt.generator["decoder_item"].state_dict().items())
    assert pipeline.explain_records(mt, split.test, features, "item") == mt.explain(
        split.test.users, split.test.items, variant="item")
    with pytest.raises(ConfigError, match="0 usable training records .records need an extracted feature word"):
        pipeline.align(mt, split.train, split.valid, None, encoders, MMIConfig(target="feature", **SMALL_MMI))
    # what MMI did is kept with the system, and in its bundle
    assert len(mt.alignments) == 1  # the refused feature run above added nothing
    run = mt.alignments[0]
    assert {k: run[k] for k in ("method", "target", "variant", "rating_input", "data", "epochs_run")} == \
        {"method": "MMI", "target": "rating", "variant": "pair", "rating_input": True, "data": split.train.name,
         "epochs_run": 2}
    assert run["kept_epoch"] == trainer.selection["kept_epoch"] and run["settings"]["samples"] == SMALL_MMI["samples"]
    assert run["rating_reward_encoder"] == {"kind": "generic"}  # what read the rating reward
    mt.save(tmp_path / "aligned")
    again = load_bundle(tmp_path / "aligned")
    assert again.explain(split.test.users, split.test.items) == mt.explain(split.test.users, split.test.items)
    assert again.alignments == mt.alignments
    header = json.loads((tmp_path / "aligned" / "bundle.json").read_text())
    del header["alignments"]  # a bundle saved before alignments were kept
    (tmp_path / "aligned" / "bundle.json").write_text(json.dumps(header))
    assert load_bundle(tmp_path / "aligned").alignments == []
    (tmp_path / "aligned" / "bundle.json").write_text(json.dumps({**header, "alignments": ["MMI"]}))
    with pytest.raises(BundleError, match="'alignments' must be an array of objects; its element 1 is a JSON "
                                          "string: \"MMI\"$"):
        load_bundle(tmp_path / "aligned")
    # without validation records (the train records choose the epoch kept)
    alone = pipeline.align(mt, split.train, None, features, encoders, MMIConfig(**SMALL_MMI))
    assert alone.selection["epochs"] == [0, 1] and len(mt.alignments) == 2


def test_reward_encoders_and_what_cannot_be_aligned(setting):
    split, features, encoder = setting
    tuned = pipeline.reward_encoders("rating-tuned", encoder, split.train)
    assert tuned["feature"] is encoder and tuned["rating"] is not encoder
    # MMI(feature) reads no rating reward: nothing is tuned for it
    assert all(e is encoder for e in pipeline.reward_encoders("rating-tuned", encoder, split.train, "feature").values())
    assert pipeline.reward_encoders("rating-tuned", encoder, split.train, "joint")["rating"] is not encoder
    ensemble = pipeline.reward_encoders("rating-tuned", encoder, split.train, members=2, seed=3)["rating"]
    assert len(ensemble.members) == 2 and ensemble.dim == 2 * tuned["rating"].dim and ensemble.seed == 3
    with pytest.raises(ConfigError, match="at least one member, not 0"):
        pipeline.reward_encoders("rating-tuned", encoder, split.train, members=0)
    with pytest.raises(ConfigError, match="at most 64 members, not 65"):  # refused before any is trained
        pipeline.check_reward_members(65)
    pipeline.check_reward_members(64)  # the most
    with pytest.raises(ConfigError, match="rating-tuned"):
        pipeline.reward_encoders("bert", encoder, split.train)
    words = pipeline.sentence_encoder("words", encoder.vocab)
    assert words.encode(["great strap"]).shape == (1, 50)
    with pytest.raises(ConfigError, match="'minilm' or 'words'"):
        pipeline.sentence_encoder("bert")
    with pytest.raises(ConfigError, match="explanation generator"):
        pipeline.check_alignable(ContextAwareALS(factors=2).fit(split.train))
    mt = MultiTask(**{**TINY_MT, "variants": ("pair",)})
    with pytest.raises(ConfigError, match=r"^MT: no 'user' decoder was trained: this MT has pair only"):
        pipeline.check_alignable(mt, "user")
    with pytest.raises(ConfigError, match=r"^MT: no variant 'pairs' \(did you mean 'pair'\?\)"):
        pipeline.check_alignable(mt, "pairs")  # mistyped, not untrained
    pipeline.check_alignable(mt, None)  # no variant given: MT-P (`whyrec align` without --variant)
    # a system that never saw one user: that user's records are left out, the rest kept
    absent = split.train.users[0]
    seen = split.train.take(np.flatnonzero(split.train.users != absent))
    mt_fit = MultiTask(**TINY_MT).fit(seen, split.valid, features)
    kept = pipeline.known_records(mt_fit, split.train)
    assert absent not in set(kept.users) and 0 < len(kept) < len(split.train)
    assert all(u in mt_fit.user_map and i in mt_fit.item_map for u, i in zip(kept.users, kept.items))
    assert pipeline.known_records(mt_fit, seen) is seen


def test_a_ten_point_scale_is_read_on_the_five_rating_classes(setting):
    """Ratings on 0–10: MMI's targets are the predictions mapped onto 1..5 (the rating classes);
    a rating input, which shifts by class 1–5, is refused."""
    from whyrec.data.scale import five_point

    split, features, encoder = setting

    def ten_point(part):
        return Corpus(part.reviews.assign(rating=(part.reviews["rating"] - 1) * 2.5), rating_scale=(0.0, 10.0),
                      name=part.name)

    train, valid = ten_point(split.train), ten_point(split.valid)
    mt = MultiTask(**TINY_MT).fit(train, valid, features)
    data = pipeline.mmi_data(mt, train, features, 8)
    assert np.allclose(data.ratings, five_point(mt.predict_corpus(train), (0.0, 10.0)))
    assert data.ratings.min() >= 1.0 and data.ratings.max() <= 5.0 and mt.predict_corpus(train).max() > 5.0
    with pytest.raises(ConfigError, match="rating class 1–5; this data's scale is 0–10"):
        pipeline.align(mt, train, valid, features, {"rating": encoder, "feature": encoder},
                       MMIConfig(**SMALL_MMI), rating_input=True)


def test_only_the_words_encoder_is_said_to_read_random_vectors_for_want_of_glove(monkeypatch):
    from whyrec.explain import embeddings

    for installed in (True, False):
        monkeypatch.setattr(embeddings, "glove_folder", lambda: "glove" if installed else None)
        assert [pipeline.words_without_glove(kind) for kind in ("words", "minilm", None)] == [not installed,
                                                                                             False, False]
