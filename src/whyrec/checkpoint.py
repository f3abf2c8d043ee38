"""Training checkpoints without pickle: tensors in safetensors, everything else in JSON.

A checkpoint is a folder ``<root>/epoch-NNNN/`` holding ``tensors.safetensors`` and
``state.json``. It is written as ``epoch-NNNN.tmp`` and renamed when complete, so a run killed
at any moment (SIGKILL included) leaves either the new checkpoint or none — never half of one;
:func:`latest_checkpoint` only sees complete folders. Optimizer states are flattened into
named tensors plus JSON for their hyper-parameters. ``state.json`` records the SHA-256 of the
tensors file and of its own content, so that resuming refuses a checkpoint either of whose files
changed since (damaged, or edited: a learning rate made a string would otherwise stop training
with a traceback an epoch later).
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import torch

from whyrec.distributed import Cluster, launched_main
from whyrec.errors import WhyrecError, one_line
from whyrec.provenance import file_digest
from whyrec.strict_json import content_digest
from whyrec.tensor_files import write_tensors_with_record
from whyrec.wording import differences

TENSORS_DIGEST = "tensors_sha256"  # state.json's record of tensors.safetensors' SHA-256
STATE_DIGEST = "state_sha256"  # and of its own content, the two records aside (state_digest)
_EPOCH_DIR = re.compile(r"^epoch-(\d{4,})$")
_EPOCH_PART = re.compile(r"^epoch-\d{4,}(\.tmp)?$")  # what a checkpoint folder may hold


def module_state(prefix: str, module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Named tensors of a module; tensors shared between submodules (tied embeddings) are
    copied so each name owns its storage — safetensors refuses aliases, and loading writes
    the same values into the shared parameter from every name."""
    out, seen = {}, set()
    for key, value in module.state_dict().items():
        tensor = value.detach().cpu()
        ptr = tensor.untyped_storage().data_ptr()
        out[f"{prefix}.{key}"] = tensor.clone() if ptr in seen else tensor.contiguous()
        seen.add(ptr)
    return out


def load_module_state(prefix: str, module: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    own = {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
    module.load_state_dict(own)


def optimizer_state(prefix: str, optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """Flatten an optimizer's state dict: tensors by name, the rest as JSON-ready data."""
    sd = optimizer.state_dict()
    tensors, scalars = {}, {}
    for pid, values in sd["state"].items():
        for key, value in values.items():
            if torch.is_tensor(value):
                tensors[f"{prefix}.{pid}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{key}"] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def load_optimizer_state(prefix: str, optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict) -> None:
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        if name.startswith(prefix + "."):
            pid, key = name[len(prefix) + 1:].split(".", 1)
            state.setdefault(int(pid), {})[key] = value
    for name, value in meta.get("scalars", {}).items():
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def save_checkpoint(root: str | Path, epoch: int, tensors: dict[str, torch.Tensor], state: dict, keep: int = 1) -> Path:
    """Write checkpoint ``epoch`` under ``root`` atomically; keep the newest ``keep`` ones."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"epoch-{epoch:04d}"
    tmp = root / f"epoch-{epoch:04d}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:  # a failed write (a full disk) leaves no half folder behind, and the checkpoints before
        # safetensors keeps no checksum: the tensors' SHA-256 in state.json is checked on resuming
        record = {**state, "epoch": epoch}
        record[STATE_DIGEST] = state_digest(json.loads(json.dumps(record)))  # as it reads back
        write_tensors_with_record(tensors, tmp / "tensors.safetensors", record, tmp / "state.json",
                                  TENSORS_DIGEST, named=final / "tensors.safetensors")
        with open(tmp / "state.json", "rb") as handle:
            os.fsync(handle.fileno())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    for old in sorted(complete_checkpoints(root))[:-keep]:
        shutil.rmtree(root / f"epoch-{old:04d}", ignore_errors=True)
    return final


LOCK_FILE = ".lock"  # in a checkpoint folder: held by the run training with it (its process id inside)
_CLAIMED: dict[Path, int] = {}  # the folders this process holds, each with its lock file's descriptor


def claim_checkpoint_folder(root: str | Path, holds_epochs: bool = True) -> None:
    """Hold the checkpoint folder ``root`` for the rest of this process, so that a second run given
    it while this one trains (the same command typed in another terminal, or rerun "to resume"
    while the first still runs) is refused at once: both would write the same epochs, each removing
    the other's half-written one. An advisory lock (``flock``) on ``root/.lock``, which the system
    lets go when the process ends, however it ends (SIGKILL too): a killed run never leaves the
    folder held. With ``holds_epochs`` (the epochs are written in ``root`` itself, not in folders
    under it), a folder of other things is refused before the lock is written in it
    (:func:`complete_checkpoints`). Claiming a folder this process holds already does nothing;
    where there is no ``flock`` (Windows), nothing is held."""
    try:
        import fcntl
    except ImportError:
        return
    root = Path(root).resolve()
    if root in _CLAIMED:
        return
    if holds_epochs:
        complete_checkpoints(root)
    elif root.exists() and not root.is_dir():
        raise WhyrecError(f"{root}: a checkpoint folder was asked for, but this is a file")
    root.mkdir(parents=True, exist_ok=True)
    # a bare descriptor, open for the process' life: a file object left open would be warned of at exit
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode("ascii", errors="replace").strip()
        os.close(fd)
        by = f" (process {holder})" if holder.isdigit() else ""
        raise WhyrecError(f"{root}: another run is training with this checkpoint folder{by}; let it end (it "
                          "resumes from here when rerun), or give another folder") from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode("ascii"))
    _CLAIMED[root] = fd


def release_checkpoint_folder(root: str | Path) -> None:
    """Let go of a folder :func:`claim_checkpoint_folder` holds (nothing when this process holds
    none there). Its ``.lock`` file stays, held by nobody."""
    fd = _CLAIMED.pop(Path(root).resolve(), None)
    if fd is not None:
        os.close(fd)  # closing the descriptor lets go of its flock


@contextmanager
def checkpoint_folder_held(root: str | Path | None) -> Iterator[None]:
    """The checkpoint folder ``root`` held (:func:`claim_checkpoint_folder`) for the ``with`` block,
    and let go when it ends, however it ends (an error, Ctrl-C in a notebook), unless this process
    held it before: the command line holds its folder for the whole run. Of the processes a
    launcher started, the main one (``RANK`` 0) holds it, as it is the one the command line's
    claim is made in. Nothing when ``root`` is None or empty."""
    if not root or not launched_main():
        yield
        return
    held_before = Path(root).resolve() in _CLAIMED
    claim_checkpoint_folder(root)
    try:
        yield
    finally:
        if not held_before:
            release_checkpoint_folder(root)


def holding_checkpoint_folder(fit):
    """A ``fit(…, checkpoint_dir=…)`` method that holds its checkpoint folder while it trains
    (:func:`checkpoint_folder_held`): the library's callers are kept from training two models into
    one folder at once, as the command line's are, and the folder is free again once ``fit``
    returns. Arguments ``fit`` would refuse are left for it to refuse."""
    signature = inspect.signature(fit)

    @functools.wraps(fit)
    def holding(*args, **kwargs):
        try:
            root = signature.bind(*args, **kwargs).arguments.get("checkpoint_dir")
        except TypeError:  # fit's own error, raised by calling it
            return fit(*args, **kwargs)
        with checkpoint_folder_held(root):
            return fit(*args, **kwargs)

    return holding


def complete_checkpoints(root: str | Path) -> list[int]:
    root = Path(root)
    if not root.exists():
        return []
    if not root.is_dir():
        raise WhyrecError(f"{root}: a checkpoint folder was asked for, but this is a file")
    others = sorted(p.name for p in root.iterdir() if not _EPOCH_PART.match(p.name) and not p.name.startswith("."))
    if others:  # e.g. the data folder or a bundle: saving would write epochs among those files
        shown = ", ".join(others[:3]) + (", …" if len(others) > 3 else "")
        raise WhyrecError(f"{root}: not a checkpoint folder (it holds {shown}); a checkpoint folder holds only "
                          "epoch-NNNN folders: use a new or empty one")
    return sorted(int(m.group(1)) for p in root.iterdir() if p.is_dir() and (m := _EPOCH_DIR.match(p.name))
                  and (p / "state.json").exists() and (p / "tensors.safetensors").exists())


def state_digest(state: dict) -> str:
    """The SHA-256 of a checkpoint's ``state`` (parsed JSON) without its two digests
    (:func:`whyrec.strict_json.content_digest`)."""
    return content_digest({key: value for key, value in state.items() if key not in (TENSORS_DIGEST, STATE_DIGEST)})


def latest_checkpoint(root: str | Path) -> tuple[dict[str, torch.Tensor], dict] | None:
    """(tensors, state) of the newest complete checkpoint under ``root``, or None."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    epochs = complete_checkpoints(root)
    if not epochs:
        return None
    folder = Path(root) / f"epoch-{epochs[-1]:04d}"
    try:
        tensors = load_file(str(folder / "tensors.safetensors"))
        state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    except (SafetensorError, json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        raise WhyrecError(f"{folder}: unreadable checkpoint ({' '.join(str(exc).split())}); "
                          "delete it to start over, or use a new checkpoint folder") from None
    if not isinstance(state, dict):
        raise WhyrecError(f"{folder}: unreadable checkpoint (state.json is not an object)")
    own = state.pop(STATE_DIGEST, None)  # none in a checkpoint written before it was recorded
    if own is not None and own != state_digest(state):
        raise WhyrecError(f"{folder}: damaged checkpoint (state.json changed since it was written: its SHA-256 is "
                          "not the one it records); delete it to start over (or to resume from an earlier epoch "
                          "kept beside it), or use a new checkpoint folder")
    recorded = state.pop(TENSORS_DIGEST, None)  # none in a checkpoint written before it was recorded
    if recorded is not None and recorded != file_digest(folder / "tensors.safetensors"):
        raise WhyrecError(f"{folder}: damaged checkpoint (tensors.safetensors is not the file written with "
                          "state.json: their SHA-256 differ); delete it to start over (or to resume from an "
                          "earlier epoch kept beside it), or use a new checkpoint folder")
    return tensors, state


def random_states(cluster: Cluster, device: str, **generators: torch.Generator) -> dict[str, torch.Tensor]:
    """What a resumed run needs to draw what the uninterrupted one would have: torch's global CPU
    state (dropout on the CPU), the CUDA device's when ``device`` is one (dropout there) and each
    named generator's, as ``rng.<name>``. Under ``torchrun`` each process draws its own dropout
    masks and samples, so every process's states are kept too, as ``rng.<name>.rank<k>``: a
    collective, which every process must call."""
    states = {"torch": torch.get_rng_state()}
    if torch.device(device).type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    states.update({name: generator.get_state() for name, generator in generators.items()})
    out = {f"rng.{name}": state for name, state in states.items()}
    if cluster.distributed:
        for name, state in states.items():
            out.update({f"rng.{name}.rank{k}": each for k, each in enumerate(cluster.gather(state))})
    return out


def restore_random_states(tensors: dict[str, torch.Tensor], cluster: Cluster, device: str,
                          **generators: torch.Generator) -> None:
    """Set what :func:`random_states` saved: this process's own states when the checkpoint was
    written by as many processes, the main process's otherwise. A missing state is a KeyError
    (a damaged checkpoint), except the CUDA one of a run that was on the CPU."""
    def saved(name: str) -> torch.Tensor:
        own = tensors.get(f"rng.{name}.rank{cluster.rank}") if cluster.distributed else None
        return own if own is not None else tensors[f"rng.{name}"]

    torch.set_rng_state(saved("torch"))
    if torch.device(device).type == "cuda" and "rng.cuda" in tensors:
        torch.cuda.set_rng_state(saved("cuda"), device)
    for name, generator in generators.items():
        generator.set_state(saved(name))


def check_same_run(root, saved: dict, now: dict, system: str, written_by_system: bool) -> None:
    """Refuse to resume under ``root`` a run whose settings or data (``now``: name → value, such as
    the config's fields and the vocabulary) differ from those the checkpoint was written with
    (``saved``), naming the first differences (:func:`whyrec.wording.differences`), so the user
    sees which setting or what data changed; or a checkpoint another ``system`` wrote
    (``written_by_system`` False)."""
    if not written_by_system:
        raise WhyrecError(f"{root}: the checkpoint was written by another system's training, not {system}'s; "
                          "use a new checkpoint folder")
    differing = differences(saved, now, "in the checkpoint")
    if differing:
        raise WhyrecError(f"{root}: the checkpoint was written with other settings or data ({differing}); "
                          "use a new checkpoint folder")


@contextmanager
def restoring(root) -> Iterator[None]:
    """Around code that puts a checkpoint's state back into a model: what a damaged checkpoint (or
    one of another whyrec version) makes it raise becomes one :class:`WhyrecError` naming ``root``."""
    try:
        yield
    except WhyrecError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, RuntimeError, AttributeError) as exc:
        raise WhyrecError(f"{root}: the checkpoint is damaged or from another version of whyrec "
                          f"({type(exc).__name__}: {one_line(exc)}); use a new checkpoint folder") from None
