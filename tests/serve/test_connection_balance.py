"""Keep-alive connections balanced over forked workers: when a worker closes one, and how the
guard says so."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from types import SimpleNamespace

from whyrec.serve.app import GuardAndTime
from whyrec.serve.connection_balance import ConnectionBalance, process_alive, uvicorn_connections, with_connection_close
from whyrec.serve.server_metrics import ServerMetrics

LIVE, DEAD = 101, 102  # pids the tests' `alive` knows


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _balance(held: list[int], workers: int = 2, pids=None, closing: bool = True):
    """Worker 0's balance, which holds ``held[-1]`` connections when asked; the other workers'
    published counts are set by the caller."""
    metrics = ServerMetrics(["GET /a"], counters=0, workers=workers)
    metrics.pid[:] = pids or [LIVE] * workers
    clock = Clock()
    balance = ConnectionBalance(metrics, lambda: held[-1], closing=closing, pause=0.1, clock=clock,
                                alive=lambda pid: pid == LIVE)
    return balance, metrics, clock


def test_a_worker_two_connections_over_another_closes_one_at_most_every_pause():
    held = [10]
    balance, metrics, clock = _balance(held)
    metrics.connections[1] = 6
    assert balance.close_this_one() and metrics.connections[0] == 10 and metrics.balanced[0] == 1
    assert not balance.close_this_one()  # the one closing has not gone yet: none more within the pause
    clock.now = 0.1
    held.append(9)
    metrics.connections[1] = 7
    assert balance.close_this_one() and metrics.balanced[0] == 2
    clock.now = 0.2
    held.append(8)
    metrics.connections[1] = 7  # one over: closing it could only move the excess to the other worker
    assert not balance.close_this_one() and metrics.connections[0] == 8 and metrics.balanced[0] == 2


def test_publish_writes_the_count_held_now_and_closes_nothing():
    held = [10]
    balance, metrics, _ = _balance(held)
    metrics.connections[1] = 0
    assert balance.publish() == 10 and metrics.connections[0] == 10 and metrics.balanced[0] == 0
    held.append(11)  # a client connected since
    assert balance.publish() == 11 and metrics.connections[0] == 11


def test_no_close_for_a_single_process_for_no_balance_or_against_a_dead_or_unstarted_worker():
    held = [10]
    single, metrics, _ = _balance(held, workers=1)
    assert not single.close_this_one() and metrics.connections[0] == 10  # the count is still published
    off, metrics, _ = _balance(held, closing=False)
    metrics.connections[1] = 0
    assert not off.close_this_one() and metrics.connections[0] == 10
    dead, metrics, _ = _balance(held, workers=3, pids=[LIVE, DEAD, 0])  # worker 2 not started: pid 0
    metrics.connections[1:] = 0  # a dead one's count is stale, and nobody takes its connections
    assert not dead.close_this_one()
    metrics.pid[2] = LIVE  # worker 2 has started: the least loaded live one
    assert dead.close_this_one()


def test_process_alive_knows_this_process_and_not_slot_zero_or_an_ended_one(monkeypatch):
    assert process_alive(os.getpid())
    assert not process_alive(0) and not process_alive(-1)
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()  # reaped: no process has its pid now
    assert not process_alive(ended.pid)

    def refused(pid, signal):  # another user's process: it exists, but may not be signalled
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "kill", refused)
    assert process_alive(12345)


def test_uvicorn_connections_counts_the_servers_set_and_a_server_without_one_counts_none():
    connections = {object(), object()}
    count = uvicorn_connections(SimpleNamespace(server_state=SimpleNamespace(connections=connections)))
    assert count() == 2
    connections.add(object())
    assert count() == 3  # read each time, not copied
    assert uvicorn_connections(SimpleNamespace())() == 0


def test_connection_close_replaces_any_connection_header():
    start = {"type": "http.response.start", "status": 200,
             "headers": [(b"content-type", b"application/json"), (b"Connection", b"keep-alive")]}
    closing = with_connection_close(start)
    assert closing["headers"] == [(b"content-type", b"application/json"), (b"connection", b"close")]
    assert start["headers"][1] == (b"Connection", b"keep-alive")  # the app's own message is left as it was


def _answer_headers(balance) -> list:
    """The headers the guard sends for one GET /health of an app answering 200 with none."""
    async def app(scope, receive, send):
        if balance is not None:
            balance.events.append("app")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    metrics = ServerMetrics(["GET /health"], counters=0)
    state = SimpleNamespace(server_metrics=metrics, connection_balance=balance)
    scope = {"type": "http", "method": "GET", "path": "/health", "root_path": "", "raw_path": b"/health",
             "query_string": b"", "headers": [], "app": SimpleNamespace(state=state)}
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    guard = GuardAndTime(app, max_in_flight=0, counted=SimpleNamespace(now=list), access_log=False)
    asyncio.run(guard(scope, receive, send))
    return sent[0]["headers"]


class FakeBalance:
    """Says ``closing`` when asked, and notes when it was asked to publish or to decide."""

    def __init__(self, closing: bool) -> None:
        self.closing, self.events = closing, []

    def publish(self) -> int:
        self.events.append("publish")
        return 0

    def close_this_one(self) -> bool:
        self.events.append("close?")
        return self.closing


def test_the_guard_closes_the_connection_when_the_balance_says_so():
    closing, keeping = FakeBalance(True), FakeBalance(False)
    assert _answer_headers(closing) == [(b"connection", b"close")]
    assert _answer_headers(keeping) == []
    assert _answer_headers(None) == []  # an app not served by whyrec serve (a test client)
    # published before the app runs (so /metrics gives the count now), decided at the answer's start
    assert closing.events == keeping.events == ["publish", "app", "close?"]


def test_a_worker_of_two_connections_closes_one_when_another_holds_none():
    held = [2]
    balance, metrics, _ = _balance(held)
    metrics.connections[1] = 0
    assert balance.close_this_one()


def test_the_least_loaded_live_worker_is_the_one_compared_with():
    held = [3]
    balance, metrics, _ = _balance(held, workers=3)
    metrics.connections[1], metrics.connections[2] = 5, 0  # two over the idle one, under the busy one
    assert balance.close_this_one()


def test_pid_one_is_a_process():
    assert process_alive(1)  # the system's first process: only 0 and below are slots no worker took
