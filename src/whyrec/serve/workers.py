"""Several server processes on one listening socket: ``whyrec serve --workers N``.

One Python process answers its requests on threads that share one interpreter lock, and every
torch call hands that lock over: on 2 cores, 16 concurrent clients of PETER+ with the caches off
got 182–198 requests/s and a p99 of 107–118 ms from one process, and 331 requests/s with a p99 of
89 ms from two workers, in runs one after the other (``docs/benchmarks.md``, *Speed*). So the
bundles are loaded once, then the process forks: each worker inherits the loaded app and the bound
socket (copy-on-write: the weights are not copied until written) and runs its own uvicorn server
on it; the kernel hands each new connection to one of them. Each worker keeps its own caches;
``/metrics`` counts them all together, in memory they share (:mod:`whyrec.serve.server_metrics`).

The parent only watches: a worker that dies is replaced by a fresh fork (one that exits within
``STARTUP_SECONDS`` of starting stops them all, as a crash at start would repeat forever; one
killed by a signal that soon, as the kernel's out-of-memory killer does, is replaced after a pause
that doubles each time it happens again in a row, from ``FIRST_PAUSE`` up to ``LONGEST_PAUSE``
seconds, so that the parent does not fork in a tight loop while its siblings keep serving), and
SIGTERM or SIGINT stops every worker before the parent returns (SIGINT then raises
KeyboardInterrupt, as an interrupted command does). POSIX only (``os.fork``), and CPU only: a
CUDA context does not survive a fork.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from typing import Callable

from whyrec.errors import ConfigError

STARTUP_SECONDS = 5.0  # a worker ending sooner than this after its start is a failure to start
FIRST_PAUSE = 0.5  # seconds before replacing a worker killed as it started; doubled for each such death in a row
LONGEST_PAUSE = 30.0


def check_workers(workers: int, device: str) -> None:
    """Refuse what forked workers cannot do, before anything is loaded."""
    if workers <= 1:
        return
    if not hasattr(os, "fork"):
        raise ConfigError("--workers needs os.fork (Linux, macOS); this platform has none: use --workers 1")
    if device != "cpu":
        raise ConfigError(f"--workers {workers} forks the server, and a {device} context does not survive a fork: "
                          "use --workers 1 on a GPU")


def end_with_parent(parent: int) -> None:
    """In a worker: on Linux, ask for SIGTERM when the parent dies (``PR_SET_PDEATHSIG``), so that a
    parent killed outright (SIGKILL, which it cannot pass on) leaves no worker serving on; and end
    now if it is already gone. Elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):  # no prctl to be had: the parent's own stop still reaches the workers
        return
    if os.getppid() != parent:  # it died before the request took hold
        os._exit(0)


def exit_text(status: int) -> str:
    """How a child ended, from its ``os.waitpid`` status: "exit code 3" or "signal SIGKILL"."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            return f"signal {signal.Signals(number).name}"
        except ValueError:
            return f"signal {number}"
    return f"exit code {os.WEXITSTATUS(status)}"


def run_workers(serve_one: Callable[[int], None], workers: int, say: Callable[[str], None] = print) -> None:
    """Fork ``workers`` children that each call ``serve_one(number)`` (which serves until stopped;
    ``number`` from 0, kept by the worker that replaces one), replace any that dies, and return
    when SIGTERM or SIGINT has stopped them all (SIGINT: raising KeyboardInterrupt). Raises
    :class:`ConfigError` when a worker fails to start."""
    children: dict[int, tuple[int, float]] = {}  # pid -> (worker number, start time)
    stopping: list[int] = []  # the signal that stops the workers, once one came
    killed_early: dict[int, int] = {}  # worker number -> deaths in a row within STARTUP_SECONDS of starting

    def start(number: int) -> None:
        if stopping:  # a signal came while the workers were being started
            return
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the worker: uvicorn installs its own handlers for these
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            end_with_parent(parent)
            code = 0
            try:
                serve_one(number)
            except SystemExit as exc:  # uvicorn's own way out, e.g. when it could not start
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:  # noqa: BLE001 - told, and the parent learns it from the exit code
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)  # never back into the parent's code
        children[pid] = (number, time.monotonic())

    def stop_all() -> None:
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def on_signal(signum, frame) -> None:
        if not stopping:
            stopping.append(signum)
        stop_all()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    failure = None
    try:
        for number in range(workers):
            start(number)
        while children:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            number, started = children.pop(pid, (None, 0.0))
            if stopping or failure:
                stop_all()  # again: one forked while the signal was handled was not told
                continue
            if number is None:
                continue
            ended = exit_text(status)
            early = time.monotonic() - started < STARTUP_SECONDS
            if early and not os.WIFSIGNALED(status):
                failure = f"worker {number} ended with {ended} as it started; stopping the others"
                stop_all()
                continue
            killed_early[number] = killed_early.get(number, 0) + 1 if early else 0
            if not killed_early[number]:
                say(f"worker {number} (pid {pid}) ended with {ended}; starting another")
            else:
                wait = min(LONGEST_PAUSE, FIRST_PAUSE * 2 ** (killed_early[number] - 1))
                say(f"worker {number} (pid {pid}) ended with {ended} as it started ({killed_early[number]} in a row); "
                    f"starting another in {wait:g} s")
                pause(wait, stopping)
            start(number)
    finally:
        stop_all()
        reap(children)
        for s, handler in previous.items():
            signal.signal(s, handler)
    if failure:
        raise ConfigError(failure)
    if stopping and stopping[0] == signal.SIGINT:
        raise KeyboardInterrupt


def pause(seconds: float, stopping: list) -> None:
    """Sleep ``seconds``, or until ``stopping`` (filled by the signal handler) is not empty."""
    deadline = time.monotonic() + seconds
    while not stopping and time.monotonic() < deadline:
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))


def reap(children: dict, grace: float = 10.0) -> None:
    """Wait for the ``children`` (pids) told to stop; after ``grace`` seconds, kill those left."""
    deadline = time.monotonic() + grace
    while children:
        for pid in list(children):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                children.pop(pid)
        if children and time.monotonic() > deadline:
            for pid in children:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            deadline = float("inf")
        elif children:
            time.sleep(0.05)
