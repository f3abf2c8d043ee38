"""Forked server workers (``whyrec serve --workers``): started, replaced, stopped, refused."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests.conftest import child_pids
from whyrec.errors import ConfigError
from whyrec.serve.workers import check_workers, exit_text, run_workers

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="forked workers need os.fork")


def _status_of_child(body) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            body()
        finally:
            os._exit(0)
    return os.waitpid(pid, 0)[1]


def test_exit_text_names_the_exit_code_or_the_signal():
    assert exit_text(_status_of_child(lambda: os._exit(3))) == "exit code 3"
    assert exit_text(_status_of_child(lambda: os.kill(os.getpid(), signal.SIGKILL))) == "signal SIGKILL"


def test_workers_are_refused_on_a_gpu_and_one_worker_is_always_fine():
    check_workers(1, "cuda")
    check_workers(4, "cpu")
    with pytest.raises(ConfigError, match="a cuda:0 context does not survive a fork: use --workers 1"):
        check_workers(2, "cuda:0")


def test_a_worker_that_fails_as_it_starts_stops_the_server():
    with pytest.raises(ConfigError, match=r"worker \d ended with exit code 3 as it started; stopping the others"):
        run_workers(lambda number: sys.exit(3), 2, say=lambda text: None)


SUPERVISOR = textwrap.dedent("""
    import os, sys, time
    from whyrec.serve import workers
    from whyrec.serve.workers import run_workers

    workers.STARTUP_SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else workers.STARTUP_SECONDS

    def serve_one(number):  # a worker that serves until told to stop
        os.write(1, f"worker {os.getpid()} {number}\\n".encode())  # one write: workers share the pipe
        while True:
            time.sleep(0.05)

    try:
        run_workers(serve_one, 2, say=lambda text: print(text, flush=True))
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
    print("stopped", flush=True)
""")


def _kill_all(parent: subprocess.Popen) -> None:
    """A test that failed half-way leaves no process behind."""
    if parent.poll() is None:
        workers = child_pids(parent.pid)
        parent.kill()
        parent.wait(10)
        for pid in workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads a process's children from /proc")
@pytest.mark.parametrize("stop, code, last", [(signal.SIGTERM, 0, "stopped"), (signal.SIGINT, 130, "interrupted")])
def test_a_dead_worker_is_replaced_and_a_signal_stops_them_all(stop, code, last):
    # STARTUP_SECONDS 0: the worker killed below had been serving (one killed as it started: the next test)
    parent = subprocess.Popen([sys.executable, "-c", SUPERVISOR, "0"], stdout=subprocess.PIPE, text=True)
    try:
        numbers = dict(map(int, parent.stdout.readline().split()[1:]) for _ in range(2))  # pid -> worker number
        started = set(numbers)
        assert child_pids(parent.pid) == started and sorted(numbers.values()) == [0, 1]
        dead = min(started)
        os.kill(dead, signal.SIGKILL)  # killed, not failing to start: replaced
        told = parent.stdout.readline().strip()
        assert told == f"worker {numbers[dead]} (pid {dead}) ended with signal SIGKILL; starting another", told
        new, number = map(int, parent.stdout.readline().split()[1:])  # the new worker says its pid and number
        assert number == numbers[dead]  # it takes the dead one's place (and its slot of /metrics)
        assert child_pids(parent.pid) == started - {dead} | {new}
        parent.send_signal(stop)
        out, _ = parent.communicate(timeout=30)
    finally:
        _kill_all(parent)
    assert parent.returncode == code and out.splitlines()[-1] == last, out
    assert all(_gone(pid) for pid in started - {dead} | {new})  # every worker ended with the parent


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_workers_end_when_their_parent_is_killed_outright():
    parent = subprocess.Popen([sys.executable, "-c", SUPERVISOR], stdout=subprocess.PIPE, text=True)
    try:
        workers = {int(parent.stdout.readline().split()[1]) for _ in range(2)}
        parent.kill()  # SIGKILL: it cannot stop them itself
        parent.wait(10)
        assert all(_gone(pid) for pid in workers)
    finally:
        _kill_all(parent)


KILLED_AT_START = textwrap.dedent("""
    import os, signal, sys, time
    from whyrec.serve.workers import run_workers

    def serve_one(number):  # worker 1 is killed as it starts, every time (as the OOM killer might)
        os.write(1, f"worker {os.getpid()} {number}\\n".encode())
        if number == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        while True:
            time.sleep(0.05)

    run_workers(serve_one, 2, say=lambda text: print(f"{time.monotonic():.3f} {text}", flush=True))
    print("stopped", flush=True)
""")


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads a process's children from /proc")
def test_a_worker_killed_as_it_starts_is_replaced_after_a_pause_that_doubles():
    parent = subprocess.Popen([sys.executable, "-c", KILLED_AT_START], stdout=subprocess.PIPE, text=True)
    try:
        told = []  # (time, message) of the parent's first four messages about worker 1
        stray = []  # any other line (none is expected; once, in a CI run, a line without a space came)
        while len(told) < 4:
            line = parent.stdout.readline()
            assert line, f"the supervisor ended; other lines: {stray}"
            message = re.fullmatch(r"(\d+\.\d+) (.+)\n?", line)
            if message:  # the parent's: "TIME TEXT"
                told.append((float(message[1]), message[2].strip()))
            elif not re.fullmatch(r"worker \d+ \d\n?", line):  # nor a worker's own "worker PID NUMBER"
                stray.append(line)
        for n, (_, text) in enumerate(told):
            assert re.fullmatch(rf"worker 1 \(pid \d+\) ended with signal SIGKILL as it started \({n + 1} in a row\); "
                                rf"starting another in {0.5 * 2 ** n:g} s", text), (text, stray)
        assert told[3][0] - told[2][0] >= 2.0  # it waited its pause before starting the next
        healthy = sorted(child_pids(parent.pid))
        assert len(healthy) == 1  # worker 0, serving on; worker 1 not yet restarted: the parent is pausing
        stopped_at = time.monotonic()
        parent.send_signal(signal.SIGTERM)  # during the 4 s pause: heard at once
        out, _ = parent.communicate(timeout=30)
        assert time.monotonic() - stopped_at < 3.0 and out.splitlines()[-1] == "stopped", out
    finally:
        _kill_all(parent)
    assert parent.returncode == 0 and _gone(healthy[0])
