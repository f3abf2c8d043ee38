"""What one MMI run did to a system, as the system keeps it (``alignments``) and its bundle saves
it: the target, the decoder (MT), the data and its size, every setting, and the epochs run and
kept. :meth:`whyrec.align.mmi.MMITrainer.fit` appends one to the system whose explainer it
tuned, whether the fit came from ``whyrec align`` or from a user's own script."""

from __future__ import annotations

import json
from dataclasses import asdict

from whyrec.strict_json import strict_dumps


def rating_reward_encoder(trainer) -> dict | None:
    """What read the rating reward: ``{"kind": "rating-tuned", ...its settings}``, ``{"kind":
    "generic"}``, or None when the target reads no rating reward."""
    from whyrec.explain.sentence import RatingTunedEncoder

    if trainer.config.target == "feature":
        return None
    encoder = trainer.encoders["rating"]
    if not isinstance(encoder, RatingTunedEncoder):
        return {"kind": "generic"}
    return {"kind": "rating-tuned", "members": len(encoder.members), "hidden": encoder.hidden,
            "epochs": encoder.epochs, "seed": encoder.seed, "balanced": encoder.balanced}


def alignment_record(trainer, records: int, data_name: str | None, epochs_run: int) -> dict:
    """The record of ``trainer``'s finished fit on ``records`` training records of the data named
    ``data_name`` (None: not told), which ran ``epochs_run`` epochs (the last ones of
    ``trainer.history``, which a second fit of the same trainer adds to), in plain JSON values, as
    the bundle header writes them. The rating input is recorded as the explainer used it (one kept
    from an earlier alignment is used whether or not this run asked for one)."""
    from whyrec import __version__

    explainer = trainer.explainer
    selection = getattr(trainer, "selection", None) or {}
    return json.loads(strict_dumps({
        "method": "MMI", "target": trainer.config.target, "variant": getattr(explainer, "variant", None),
        "rating_input": getattr(explainer, "rating_input", None) is not None,
        "data": data_name, "train_records": int(records), "epochs_run": int(epochs_run),
        "kept_epoch": selection.get("kept_epoch"), "settings": asdict(trainer.config),
        "rating_reward_encoder": rating_reward_encoder(trainer),
        "whyrec_version": __version__}))
