"""Data-parallel training under ``torchrun``: the same command on one process or many.

``torchrun --nproc_per_node N -m whyrec.cli train mt ...`` starts N copies of a command; each
reads the launcher's environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``...)
and :func:`join` connects them (gloo on the CPU, nccl on CUDA GPUs). A training step then runs
as in ``DistributedDataParallel``: every process draws the same mini-batch, works on its own
slice of it (:meth:`Cluster.shard`), and the gradients are averaged over the processes
(:meth:`Cluster.average_gradients`) before the optimiser step, so the weights stay identical
everywhere. Only the main process writes checkpoints, bundles and progress.

whyrec's systems call several sub-networks per step (MT's encoders, three decoders and the
discriminators), which ``DistributedDataParallel``'s wrapper, built around one ``forward``,
does not fit; averaging the gradients explicitly is what it does underneath. Without
``torchrun`` (``WORLD_SIZE`` unset or 1) the cluster is a single process and nothing changes:
no slice is taken and no communication happens.
"""

from __future__ import annotations

import atexit
import collections
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import numpy as np

from whyrec.errors import ERROR_EXIT, INTERRUPTED_EXIT, ConfigError

if TYPE_CHECKING:
    import torch

# torch is imported by the functions that talk to other processes, not here: the command line
# reads WORLD_SIZE (launched_world) before every command, and `whyrec --help` must stay instant

# The tensors of the latest collectives, each one private to its collective (the caller gets
# copies). gloo's worker thread lets go of a collective's tensors a moment *after* the caller
# has its result. Were Python to drop a tensor first, that late release would free its Python
# object from the worker thread, which must then take the GIL; during interpreter shutdown
# that ends the thread, and the C++ runtime aborts the process: "terminate called without an
# active exception" (seen in 2 of ~240 test launches; a core dump showed the worker freeing an
# all-gather's tensors, kept by the at-exit barrier, while Py_FinalizeEx ran). Holding them
# here until the workers have let go (:func:`leave`) keeps every such release off the GIL.
_IN_FLIGHT: collections.deque = collections.deque(maxlen=4)


@dataclass(frozen=True)
class Cluster:
    """The processes training one model together: this one is ``rank`` of ``world``."""

    rank: int = 0
    world: int = 1

    @property
    def is_main(self) -> bool:
        """The process that writes files and prints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1

    def shard(self, rows):
        """This process's slice of a mini-batch every process drew alike (every ``world``-th row).
        A batch smaller than the cluster is repeated first, so that no process is left without rows."""
        if not self.distributed:
            return rows
        if len(rows) < self.world:
            rows = np.resize(rows, self.world) if isinstance(rows, np.ndarray) else rows.repeat(self.world)[:self.world]
        return rows[self.rank::self.world]

    def average_gradients(self, parameters: Iterable[torch.nn.Parameter]) -> None:
        """Replace every gradient by its mean over the processes (one all-reduce).

        A parameter that got no gradient here (an encoder this slice did not use) counts as
        zero; it keeps no gradient only if no process gave it one, so the optimiser then
        skips it everywhere alike."""
        if not self.distributed:
            return
        import torch
        import torch.distributed as dist

        params = [p for p in parameters if p.requires_grad]
        if not params:
            return
        # one message: every gradient (zeros where there is none), then a 0/1 flag per parameter
        grads = [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params]
        flags = torch.tensor([p.grad is not None for p in params], dtype=grads[0].dtype, device=grads[0].device)
        flat = torch.cat(grads + [flags])
        _IN_FLIGHT.append((flat,))
        dist.all_reduce(flat)
        offset, given = 0, flat[-len(params):].tolist()
        for p, present in zip(params, given):
            n = p.numel()
            if present:
                p.grad = (flat[offset:offset + n] / self.world).view_as(p).clone()
            offset += n

    def broadcast_module(self, module: torch.nn.Module) -> None:
        """Give every process the main process's weights and buffers (done once, before training)."""
        if not self.distributed:
            return
        import torch.distributed as dist

        for tensor in list(module.parameters()) + list(module.buffers()):
            data = tensor.data  # a tensor of its own (sharing the storage), kept until gloo lets go
            _IN_FLIGHT.append((data,))
            dist.broadcast(data, src=0)

    def gather(self, tensor: torch.Tensor) -> list[torch.Tensor]:
        """Every process's copy of ``tensor`` (same shape and type everywhere), in rank order, on the CPU."""
        if not self.distributed:
            return [tensor]
        import torch
        import torch.distributed as dist

        mine = (tensor.cuda() if dist.get_backend() == "nccl" else tensor).clone()
        parts = [torch.empty_like(mine) for _ in range(self.world)]
        _IN_FLIGHT.append((mine, *parts))
        dist.all_gather(parts, mine)
        return [part.cpu().clone() for part in parts]

    def mean_of(self, values: dict[str, float]) -> dict[str, float]:
        """``values`` (the same keys on every process) averaged over the processes."""
        if not self.distributed or not values:
            return values
        import torch
        import torch.distributed as dist

        keys = list(values)  # every process built ``values`` by the same code, in the same order
        vector = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64)
        if dist.get_backend() == "nccl":
            vector = vector.cuda()
        _IN_FLIGHT.append((vector,))
        dist.all_reduce(vector)
        return {k: float(v) / self.world for k, v in zip(keys, vector.tolist())}


def launched_world() -> int:
    """How many processes the launcher started (``WORLD_SIZE``; 1 without ``torchrun``)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        raise ConfigError(f"WORLD_SIZE={os.environ['WORLD_SIZE']!r} is not a number") from None


def launched_main() -> bool:
    """Whether this is the main process of those the launcher started (``RANK`` 0; always, without
    ``torchrun``): the one that says what all of them would say alike, before any group is joined."""
    return os.environ.get("RANK", "0") == "0"


def join(device: str = "cpu") -> Cluster:
    """The cluster this process belongs to, joining the process group on first use.

    Under ``torchrun`` the group uses nccl when ``device`` is a CUDA device and gloo otherwise;
    each process's CUDA device is then ``cuda:LOCAL_RANK`` (see :func:`process_device`)."""
    world = launched_world()
    if world <= 1:
        return Cluster()
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        missing = [v for v in ("RANK", "MASTER_ADDR", "MASTER_PORT") if v not in os.environ]
        if missing:  # WORLD_SIZE set by hand, or left over from another launcher
            raise ConfigError(f"WORLD_SIZE={world} but {', '.join(missing)} not set: start the command with "
                              "torchrun (or unset WORLD_SIZE to train in one process)")
        dist.init_process_group(backend=backend)
        # a process that exits with the group still open can abort in gloo's teardown
        # ("terminate called without an active exception"): leave it first, also in users' own scripts
        atexit.register(_leave_at_exit)
    return Cluster(rank=dist.get_rank(), world=dist.get_world_size())


def process_device(device: str) -> str:
    """``device`` for this process: under ``torchrun`` a bare ``cuda`` becomes ``cuda:LOCAL_RANK``,
    one GPU per process; anything else is kept."""
    if device == "cuda" and launched_world() > 1:
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    return device


def leave(finished: bool = True) -> None:
    """Leave the process group (at the end of a command run under ``torchrun``), if one was joined.

    After a normal end (``finished``) every process first waits at a barrier, so that none tears the
    group down while another still has a message in flight. After an error there is no barrier: the
    others may be inside a collective that the barrier would hang or corrupt. Then the tensors of
    the latest collectives are dropped once gloo's threads have let go of them (see ``_IN_FLIGHT``)."""
    if "torch.distributed" not in sys.modules:
        return  # nothing imported torch's distributed package, so no group was joined
    import torch.distributed as dist

    if dist.is_initialized():
        if finished and dist.get_world_size() > 1:
            dist.barrier()
        release_collective_tensors()
        dist.destroy_process_group()


def release_collective_tensors(timeout: float = 2.0) -> bool:
    """Wait (at most ``timeout`` seconds) until the communication threads hold none of the tensors of
    the latest collectives, then drop them: whether they were all let go in time.

    A tensor is let go when only this module's reference is left (a use count of 1). The polling
    sleeps, so a worker that waits for the GIL gets it."""
    deadline = time.monotonic() + timeout
    held = [t for entry in _IN_FLIGHT for t in entry if _maybe_held(t)]
    while held and time.monotonic() < deadline:
        time.sleep(0.001)
        held = [t for t in held if _maybe_held(t)]
    _IN_FLIGHT.clear()
    return not held


def _maybe_held(tensor) -> bool:
    """Whether something besides ``_IN_FLIGHT`` may still hold ``tensor``: its use count (a private
    torch API, present in the pinned torch) is above 1, or, in a torch without it, always (so
    the full timeout is waited, the safe side)."""
    use_count = getattr(tensor, "_use_count", None)
    return use_count is None or use_count() > 1


def _leave_at_exit() -> None:
    # sys.last_value is set when the script ended with an uncaught exception
    leave(finished=getattr(sys, "last_value", None) is None)


# exit statuses whose process has already said why it stopped (whyrec's one-line error; Ctrl-C)
_REPORTED_EXITS = (ERROR_EXIT, INTERRUPTED_EXIT)

# set by launch() for the processes it starts: the folder where each leaves its error message
ERRORS_FOLDER = "WHYREC_ERRORS_FOLDER"


def leave_error(message: str) -> bool:
    """Under :func:`launch`, hand this process's one-line error to the launcher instead of printing
    it: the processes check the same data alike and would all print the same line. Whether it
    was handed over (not under ``launch``, or the folder cannot be written: print it yourself)."""
    folder = os.environ.get(ERRORS_FOLDER)
    if not folder or launched_world() <= 1:
        return False
    try:
        (Path(folder) / f"{os.environ.get('RANK', '0')}.txt").write_text(message, encoding="utf-8")
    except OSError:
        return False
    return True


def process_prefix() -> str:
    """What an error printed by one of several processes of plain ``torchrun`` starts with
    (``process 1: ``, as :func:`errors_left` names them), so that the same line printed by each
    process reads as one error met by all; empty in a single process."""
    return f"process {os.environ.get('RANK', '0')}: " if launched_world() > 1 else ""


def errors_left(folder: Path) -> list[str]:
    """The errors the processes left in ``folder`` (:func:`leave_error`), each distinct one once:
    the common message alone when they agree, else each prefixed with its process."""
    by_rank = {}
    for path in folder.glob("*.txt"):
        if path.stem.isdigit():
            by_rank[int(path.stem)] = path.read_text(encoding="utf-8", errors="replace")
    first_rank: dict[str, int] = {}  # each message, by the first process that left it
    for rank in sorted(by_rank):
        first_rank.setdefault(by_rank[rank], rank)
    if len(first_rank) == 1:
        return list(first_rank)
    return [f"process {rank}: {message}" for message, rank in first_rank.items()]


def launch(processes: int, args: list[str], report=print, program: tuple[str, ...] | None = None) -> int:
    """Run ``python -m whyrec.cli ARGS`` as ``processes`` data-parallel processes on this machine,
    as ``torchrun --standalone --nproc_per_node PROCESSES -m whyrec.cli ARGS`` does (torch's own
    launcher, in this process), and return the exit status for the command (``program``: another
    command line to start instead of ``python -m whyrec.cli``).

    The processes print their own progress; the launcher's log lines are kept quiet. Their errors
    come back here (:func:`leave_error`) and each distinct one is reported once through ``report``,
    not once per process. Ctrl-C stops them all (the main one says "interrupted") and gives 130,
    where torchrun would end in a traceback of its own. A process that failed without saying why
    (killed by the system, say) is reported through ``report`` as one line."""
    import logging
    import tempfile
    import uuid

    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    if launched_world() > 1:
        raise ConfigError("--processes starts the processes itself; under torchrun leave it out")
    # "Received 2 death signal", "Sending process N closing signal", "failed (exitcode: 2)": each of the
    # launcher's modules sets its own logger's level, so each is quietened (and restored after)
    quiet = [logging.getLogger(name) for name in list(logging.Logger.manager.loggerDict)
             if name.startswith("torch.distributed.elastic")]
    levels = [log.level for log in quiet]
    for log in quiet:
        log.setLevel(logging.CRITICAL)
    folder = tempfile.TemporaryDirectory(prefix="whyrec-errors-")
    os.environ[ERRORS_FOLDER] = folder.name  # the processes inherit the launcher's environment
    try:
        # the launcher's own logs (each process's error.json) go in that folder too, removed with it:
        # by default they made a /tmp/torchelastic_* folder per run that nothing removed
        config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=processes,
                              run_id=f"whyrec-{uuid.uuid4().hex}", rdzv_backend="c10d", rdzv_endpoint="localhost:0",
                              max_restarts=0, monitor_interval=0.1,
                              logs_specs=DefaultLogsSpecs(log_dir=str(Path(folder.name) / "launcher")))
        program = program or (sys.executable, "-m", "whyrec.cli")
        elastic_launch(config, program[0])(*program[1:], *args)
        return 0
    except SignalException:
        return INTERRUPTED_EXIT
    except ChildFailedError as failed:
        for message in errors_left(Path(folder.name)):
            report(message)
        said = [f.exitcode for f in failed.failures.values() if f.exitcode in _REPORTED_EXITS]
        if said:  # a process said why (here or itself); the others were stopped because of it
            return said[0]
        rank, failure = failed.get_first_failure()
        how = f"by signal {-failure.exitcode}" if failure.exitcode < 0 else f"with status {failure.exitcode}"
        report(f"training process {rank} of {processes} ended {how} without an error message "
               "(out of memory, or killed?)")
        return 1
    finally:
        os.environ.pop(ERRORS_FOLDER, None)
        folder.cleanup()
        for log, level in zip(quiet, levels):
            log.setLevel(level)
