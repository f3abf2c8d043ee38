"""The record an MMI fit leaves on the system it tuned: what each field says, read off the trainer."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np

from whyrec.align.alignment_records import alignment_record, rating_reward_encoder
from whyrec.align.mmi import MMIConfig
from whyrec.data.text import Vocabulary
from whyrec.explain.sentence import MeanWordVectorEncoder, RatingTunedEncoder


def _trainer(target: str, explainer, encoders: dict, epochs_run: int = 3, kept: int | None = 1):
    """What alignment_record reads of an MMITrainer after its fit, without running one."""
    return SimpleNamespace(config=MMIConfig(target=target, samples=4), explainer=explainer, encoders=encoders,
                           history=[{"epoch": e} for e in range(1, epochs_run + 1)],
                           selection={"kept_epoch": kept} if kept is not None else None)


def _generic() -> MeanWordVectorEncoder:
    vocab = Vocabulary.build([["good", "bad"]], max_size=10)
    return MeanWordVectorEncoder(vocab, np.random.default_rng(0).standard_normal((len(vocab), 6)))


def test_the_record_reads_the_trainer_and_the_explainer_as_used():
    generic = _generic()
    mt_decoder = SimpleNamespace(variant="item", rating_input=object())  # an adapter an earlier run left
    record = alignment_record(_trainer("rating", mt_decoder, {"rating": generic}), 120, "music/train", 3)
    assert {k: record[k] for k in ("method", "target", "variant", "rating_input", "data", "train_records",
                                   "epochs_run", "kept_epoch", "rating_reward_encoder")} == {
        "method": "MMI", "target": "rating", "variant": "item", "rating_input": True, "data": "music/train",
        "train_records": 120, "epochs_run": 3, "kept_epoch": 1, "rating_reward_encoder": {"kind": "generic"}}
    assert record["settings"]["samples"] == 4 and record["whyrec_version"]
    assert json.loads(json.dumps(record)) == record  # plain JSON values, as the bundle header writes them
    # PETER's explainer has no variant and, here, no rating input; a fit stopped before choosing keeps None
    peter = SimpleNamespace(variant=None, rating_input=None)
    stopped = _trainer("feature", peter, {"feature": generic}, epochs_run=0, kept=None)
    record = alignment_record(stopped, 5, None, 0)
    assert [record[k] for k in ("variant", "rating_input", "data", "kept_epoch")] == [None, False, None, None]


def test_the_rating_reward_encoder_is_named_with_its_settings():
    generic = _generic()
    explainer = SimpleNamespace(variant="pair", rating_input=None)
    assert rating_reward_encoder(_trainer("feature", explainer, {"feature": generic})) is None  # no rating reward
    assert rating_reward_encoder(_trainer("joint", explainer, {"rating": generic, "feature": generic})) == {
        "kind": "generic"}
    tuned = RatingTunedEncoder(generic, hidden=8, epochs=20, members=3, seed=5)
    assert rating_reward_encoder(_trainer("rating", explainer, {"rating": tuned})) == {
        "kind": "rating-tuned", "members": 3, "hidden": 8, "epochs": 20, "seed": 5, "balanced": tuned.balanced}
