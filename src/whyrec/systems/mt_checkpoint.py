"""Resumable MT training: the state after each epoch, written and read without pickle.

A checkpoint holds everything the next epoch needs — generator and discriminator weights, the
ALS arrays, the kept best rating/text states, both optimisers, the random states and the epoch
history — so a run killed at any point resumes after its last completed epoch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from whyrec.checkpoint import (check_same_run, latest_checkpoint, load_module_state, load_optimizer_state,
                               module_state, optimizer_state, random_states, restore_random_states, restoring,
                               save_checkpoint)

if TYPE_CHECKING:
    from whyrec.systems.mt import MultiTask


@dataclass
class TrainingState:
    """What MT's epoch loop keeps besides the networks: the best validation states so far (the
    ALS arrays at the lowest validation RMSE, the generator at the lowest mean validation NLL),
    which the fit restores at its end."""

    best_rmse: float = float("inf")
    best_als: dict | None = None
    best_nll: float = float("inf")
    best_generator: dict | None = None


def save_training_state(model: "MultiTask", run: TrainingState, root: str, epoch: int) -> None:
    """Write ``model``'s state after ``epoch`` (networks, ALS arrays, the kept best states of ``run``,
    optimisers, random states, history) as checkpoint ``epoch`` under ``root``. Under ``torchrun``
    every process calls it (each one's random states are gathered) and the main process writes."""
    states = random_states(model._cluster, model.config.device, **_generators(model))
    if not model._cluster.is_main:
        return
    tensors = {**module_state("generator", model.generator), **module_state("discriminators", model.discriminators)}
    tensors.update({f"als.{k}": v for k, v in model._als_arrays().items()})
    if run.best_als is not None:
        tensors.update({f"best_als.{k}": v for k, v in run.best_als.items()})
    if run.best_generator is not None:
        tensors.update({f"best_gen.{k}": v.detach().cpu().clone() for k, v in run.best_generator.items()})
    g_tensors, g_meta = optimizer_state("g_opt", model.g_opt)
    tensors.update(g_tensors)
    d_meta = None
    if model.d_opt is not None:
        d_tensors, d_meta = optimizer_state("d_opt", model.d_opt)
        tensors.update(d_tensors)
    tensors.update(states)
    state = {"config": model.config.to_dict(), "history": model.history, "g_opt": g_meta, "d_opt": d_meta,
             "best_als_rmse": run.best_rmse if run.best_als is not None else None,
             "best_text_nll": run.best_nll if run.best_generator is not None else None,
             "vocab": model.vocab.words}
    save_checkpoint(root, epoch, tensors, state)


def resume_training_state(model: "MultiTask", run: TrainingState, root: str) -> int:
    """Load the latest checkpoint under ``root`` into a freshly built ``model`` and ``run``; return its epoch
    (0 when there is none). Refuses one written with other settings or data (``epochs`` and
    ``patience`` may differ: a resumed run may be given more of either; so may ``device``: the
    state is saved on the CPU, so a run begun on a GPU may go on without one)."""
    found = latest_checkpoint(root)
    if found is None:
        return 0
    tensors, state = found
    with restoring(root):
        return _restore(model, run, root, tensors, state)


def _restore(model: "MultiTask", run: TrainingState, root: str, tensors: dict, state: dict) -> int:
    schedule = ("epochs", "patience", "device")  # a resumed run may get more epochs or patience, another device
    saved = {k: v for k, v in state["config"].items() if k not in schedule}
    now = {k: v for k, v in model.config.to_dict().items() if k not in schedule}
    check_same_run(root, {**saved, "vocabulary": state["vocab"]}, {**now, "vocabulary": model.vocab.words}, "MT",
                   written_by_system="g_opt" in state)
    load_module_state("generator", model.generator, tensors)
    load_module_state("discriminators", model.discriminators, tensors)
    model._restore_als({k[4:]: v for k, v in tensors.items() if k.startswith("als.")})
    best = {k[9:]: v for k, v in tensors.items() if k.startswith("best_als.")}
    if best:
        run.best_rmse, run.best_als = state["best_als_rmse"], best
    best_gen = {k[9:]: v for k, v in tensors.items() if k.startswith("best_gen.")}
    if best_gen:
        run.best_nll, run.best_generator = state["best_text_nll"], best_gen
    load_optimizer_state("g_opt", model.g_opt, tensors, state["g_opt"])
    if model.d_opt is not None and state["d_opt"]:
        load_optimizer_state("d_opt", model.d_opt, tensors, state["d_opt"])
    generators = _generators(model)
    if "rng.sample" not in tensors:  # written by one process: each process samples afresh from its seed
        generators.pop("sample", None)
    restore_random_states(tensors, model._cluster, model.config.device, **generators)
    model.history = state["history"]
    model.resumed_from = int(state["epoch"])
    return model.resumed_from


def _generators(model: "MultiTask") -> dict:
    """MT's random generators: ``gen`` draws the mini-batches (alike in every process); under
    ``torchrun``, ``sample`` draws what each process samples from its own slice."""
    own = {"sample": model._sample_gen} if model._cluster.distributed else {}
    return {"gen": model._gen, **own}
