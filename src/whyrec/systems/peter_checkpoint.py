"""Resumable PETER training: the state after each epoch, written and read without pickle.

A checkpoint holds what the next epoch needs — the transformer's weights, the kept best state
and its validation score, the epochs waited without improvement, the annealed learning rate,
both random states and the history — so a run killed at any point resumes after its last
completed epoch and continues as the uninterrupted run would have (same weights, bit for bit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch

from whyrec.checkpoint import (check_same_run, latest_checkpoint, load_module_state, module_state, random_states,
                               restore_random_states, restoring, save_checkpoint)
from whyrec.distributed import Cluster

if TYPE_CHECKING:
    from whyrec.systems.peter import Peter

# a resumed run may be given more epochs or more patience; every other setting must match
_SCHEDULE = ("epochs", "patience", "device")


@dataclass
class TrainingState:
    """What PETER's epoch loop carries from one epoch to the next, besides the weights."""

    generator: torch.Generator  # draws each epoch's order of the training records
    best: float = float("inf")  # the best validation score so far (text NLL + rating MSE)
    best_state: dict | None = None  # the weights that scored it
    waited: int = 0  # epochs since it improved
    lr: float = 0.0  # the learning rate after annealing
    history: list = field(default_factory=list)


def save_training_state(model: "Peter", state: TrainingState, root: str, epoch: int, cluster: Cluster) -> None:
    """Write checkpoint ``epoch`` of ``model`` (being trained) and its loop ``state`` under ``root``.
    Under ``torchrun`` every process calls it (each one's random states are gathered) and the
    main process writes."""
    states = random_states(cluster, model.config.device, order=state.generator)
    if not cluster.is_main:
        return
    tensors = module_state("model", model.model)
    if state.best_state is not None:
        tensors.update({f"best.{k}": v.detach().cpu().clone() for k, v in state.best_state.items()})
    tensors.update(states)
    meta = {"config": _comparable(model.config), "vocab": model.vocab.words, "n_users": len(model.user_map),
            "n_items": len(model.item_map), "best": state.best if state.best_state is not None else None,
            "waited": state.waited, "lr": state.lr, "history": state.history}
    save_checkpoint(root, epoch, tensors, meta)


def resume_training_state(model: "Peter", state: TrainingState, root: str, cluster: Cluster) -> int:
    """Load the latest checkpoint under ``root`` into ``model`` (freshly built for the same data and
    settings) and ``state``; return its epoch (0 when there is none)."""
    found = latest_checkpoint(root)
    if found is None:
        return 0
    tensors, meta = found
    with restoring(root):
        check_same_run(root, {**meta["config"], "vocabulary": meta["vocab"], "users": meta.get("n_users"),
                              "items": meta.get("n_items")},
                       {**_comparable(model.config), "vocabulary": model.vocab.words, "users": len(model.user_map),
                        "items": len(model.item_map)}, "PETER", written_by_system="n_users" in meta)
        load_module_state("model", model.model, tensors)
        best = {k[len("best."):]: v for k, v in tensors.items() if k.startswith("best.")}
        state.best_state = best or None
        state.best = meta["best"] if best else float("inf")
        state.waited, state.lr, state.history = int(meta["waited"]), float(meta["lr"]), meta["history"]
        restore_random_states(tensors, cluster, model.config.device, order=state.generator)
        return int(meta["epoch"])


def _comparable(config) -> dict:
    return {k: v for k, v in vars(config).items() if k not in _SCHEDULE}
