"""How one MT epoch reads in a progress line (the command line's status and the MT comparison's
log), from the record :meth:`whyrec.systems.mt.MultiTask.fit` passes to ``on_epoch``. No torch
import, so the command line can use it before any training starts."""

from __future__ import annotations

from whyrec.systems.mt_config import VARIANTS


def mt_epoch_text(record: dict) -> str:
    """An MT epoch for a status line: its validation RMSE (a split may have no validation part),
    the generators' NLL (on validation when there is one, else on training) and the
    discriminators' accuracy, each the mean over MT's decoders, and whether the epoch was adversarial."""
    value = record.get("valid_rmse")
    parts = ["no validation part" if value is None else f"valid RMSE {value:.4f}"]
    valid_nll = _mean_over_decoders(record, "valid_nll_")
    nll = valid_nll if valid_nll is not None else _mean_over_decoders(record, "nll_")
    if nll is not None:
        parts.append(f"{'valid' if valid_nll is not None else 'train'} NLL {nll:.3f}")
    d_acc = _mean_over_decoders(record, "d_acc_")
    if d_acc is not None:
        parts.append(f"D acc {d_acc:.2f}")
    if record.get("adversarial"):
        parts.append("adversarial")
    return ", ".join(parts)


def _mean_over_decoders(record: dict, prefix: str) -> float | None:
    values = [record[prefix + v] for v in VARIANTS if prefix + v in record]
    return sum(values) / len(values) if values else None
