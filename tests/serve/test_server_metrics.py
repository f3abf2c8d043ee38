"""The whole server's /metrics counts: summed over forked workers, kept across a replaced one."""

from __future__ import annotations

import os

import numpy as np
import pytest

from whyrec.serve import server_metrics
from whyrec.serve.server_metrics import OTHER, ServerMetrics

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="forked workers need os.fork")


def _fork_worker(metrics: ServerMetrics, number: int, body) -> int:
    """Run ``body(metrics)`` in a forked child that took slot ``number``; its pid (not waited for)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            metrics.take_slot(number)
            body(metrics)
            code = 0
        finally:
            os._exit(code)
    return pid


def _ended_well(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    return pid


def _in_worker(metrics: ServerMetrics, number: int, body) -> int:
    """Run ``body(metrics)`` in a forked child that took slot ``number``; its pid once it ended."""
    return _ended_well(_fork_worker(metrics, number, body))


def test_one_process_counts_requests_errors_and_the_latency_percentiles():
    metrics = ServerMetrics(["GET /health", "POST /explain"], counters=2)
    seconds = [0.001 * n for n in range(1, 101)]
    for n, s in enumerate(seconds):
        metrics.record("GET /health", s, 404 if n % 10 == 0 else 200, [n, 2 * n])
    metrics.record("PUT /health", 0.5, 405, [100, 200])  # not a route of the table
    metrics.record("GET /nowhere", 0.25, 404, [100, 200])
    routes = metrics.routes_summary()
    assert set(routes) == {"GET /health", OTHER}  # POST /explain had no requests
    health = routes["GET /health"]
    assert health["requests"] == 100 and health["errors"] == 10
    kept_ms = np.array(seconds, np.float32).astype(np.float64) * 1000  # as kept: float32 seconds
    expected = {f"p{q}": np.percentile(kept_ms, q) for q in (50, 95, 99)}
    assert health["latency_ms"] == pytest.approx(expected) and health["latency_ms"]["p50"] == pytest.approx(50.5)
    assert routes[OTHER]["requests"] == 2 and routes[OTHER]["errors"] == 2
    # 1..100 ms: 5 within 5 ms, 10 within 10 ms, 25, 50, and all 100 within 100 ms (le: at most)
    assert health["histogram"] == {"0.005": 5, "0.01": 10, "0.025": 25, "0.05": 50, "0.1": 100, "0.25": 100,
                                   "0.5": 100, "1": 100, "2.5": 100, "5": 100, "10": 100, "+Inf": 100}
    assert routes[OTHER]["histogram"]["0.25"] == 1 and routes[OTHER]["histogram"]["0.5"] == 2
    assert routes[OTHER]["latency_ms"]["p50"] == pytest.approx(375.0)
    assert metrics.counters_summary([7, 9]) == [7, 9]  # the answering process's counters as they are now
    assert metrics.per_worker() == [{"number": 0, "pid": os.getpid(), "requests": 102, "in_flight": 0,
                                     "connections": 0, "balanced": 0}]


def test_the_latency_ring_keeps_each_routes_latest(monkeypatch):
    monkeypatch.setattr(server_metrics, "LATENCIES", 4)
    metrics = ServerMetrics(["GET /a"], counters=0)
    for s in (9.0, 9.0, 0.001, 0.002, 0.003, 0.004):  # the two slow ones are overwritten
        metrics.record("GET /a", s, 200, [])
    route = metrics.routes_summary()["GET /a"]
    assert route["requests"] == 6 and route["latency_ms"]["p99"] < 5


def test_wrong_counters_and_slots_are_refused():
    metrics = ServerMetrics(["GET /a"], counters=2, workers=2)
    with pytest.raises(ValueError, match="1 counters given; the table holds 2"):
        metrics.record("GET /a", 0.1, 200, [1])
    with pytest.raises(ValueError, match="worker 2 of 2"):
        metrics.take_slot(2)
    with pytest.raises(ValueError, match="at least 1"):
        ServerMetrics([], counters=0, workers=0)


@needs_fork
def test_forked_workers_counts_are_summed_wherever_they_are_read():
    metrics = ServerMetrics(["GET /health"], counters=2, workers=2)

    def first(m):
        for _ in range(3):
            m.record("GET /health", 0.010, 200, [1, 0])
        m.record("GET /health", 0.010, 500, [4, 1])  # its counters now: 4 hits, 1 miss

    def second(m):
        m.record("GET /health", 0.030, 200, [2, 5])
        m.add_in_flight(3)  # as if it were still answering three
        m.connections[m.slot], m.balanced[m.slot] = 4, 2  # as whyrec.serve.connection_balance writes them

    pids = [_in_worker(metrics, 0, first), _in_worker(metrics, 1, second)]
    health = metrics.routes_summary()["GET /health"]
    assert health["requests"] == 5 and health["errors"] == 1
    assert health["histogram"]["0.01"] == 4 and health["histogram"]["0.05"] == 5  # both workers' buckets
    assert health["latency_ms"]["p50"] == pytest.approx(10.0) and health["latency_ms"]["p99"] > 10.0
    assert metrics.per_worker() == [
        {"number": 0, "pid": pids[0], "requests": 4, "in_flight": 0, "connections": 0, "balanced": 0},
        {"number": 1, "pid": pids[1], "requests": 1, "in_flight": 3, "connections": 4, "balanced": 2}]
    # each worker's counters as of its last request: read here in a process that replaces worker 1
    metrics.take_slot(1)
    replaced = metrics.per_worker()[1]
    assert replaced["in_flight"] == replaced["connections"] == 0  # the dead one's requests and connections died with it
    assert replaced["balanced"] == 2  # a count since the start, as its requests are
    assert metrics.counters_summary([0, 0]) == [6, 6]
    assert metrics.counters_summary([1, 0]) == [7, 6]  # and its own, as they are when it reads


@needs_fork
def test_a_replaced_worker_carries_on_from_the_dead_ones_counts():
    metrics = ServerMetrics(["GET /health"], counters=1, workers=1)
    _in_worker(metrics, 0, lambda m: [m.record("GET /health", 0.01, 200, [n + 1]) for n in range(5)])
    new = _in_worker(metrics, 0, lambda m: m.record("GET /health", 0.02, 200, [2]))  # a fresh process counts from 0
    assert metrics.routes_summary()["GET /health"]["requests"] == 6
    assert metrics.per_worker() == [{"number": 0, "pid": new, "requests": 6, "in_flight": 0, "connections": 0,
                                     "balanced": 0}]
    # the new process's 2 on top of the dead one's 5; the reading process (slot 0 here) adds its own 0
    metrics.take_slot(0)
    assert metrics.counters_summary([0]) == [7]


@needs_fork
def test_a_replaced_worker_starts_its_gauges_afresh_and_gauges_are_summed_over_the_workers():
    """A gauge (what a cache holds now) is the process's own: a worker replacing a dead one does not
    carry the dead one's on, as it carries its counts on."""
    metrics = ServerMetrics(["GET /health"], counters=2, workers=2, gauges=[1])
    _in_worker(metrics, 0, lambda m: m.record("GET /health", 0.01, 200, [5, 9]))  # 5 hits so far, 9 entries
    _in_worker(metrics, 1, lambda m: m.record("GET /health", 0.01, 200, [1, 4]))
    _in_worker(metrics, 0, lambda m: m.record("GET /health", 0.01, 200, [2, 3]))  # worker 0 replaced
    metrics.take_slot(1)  # reading as a worker replacing worker 1: its hit carried on, its 4 entries not
    assert metrics.counters_summary([0, 6]) == [5 + 2 + 1, 3 + 6]
    with pytest.raises(ValueError, match="gauges must be places among the 2 counters"):
        ServerMetrics(["GET /health"], counters=2, gauges=[2])


@needs_fork
def test_workers_recording_at_once_from_many_threads_lose_no_count():
    import threading

    metrics = ServerMetrics(["GET /a", "POST /b"], counters=1, workers=2)

    def busy(m):  # four threads per worker, all recording at once
        def many():
            for n in range(2000):
                m.record("GET /a" if n % 2 else "POST /b", 0.001, 500 if n % 10 == 0 else 200, [n])

        threads = [threading.Thread(target=many) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    pids = [_fork_worker(metrics, number, busy) for number in range(2)]  # side by side: neither waited for yet
    for pid in pids:
        _ended_well(pid)
    routes = metrics.routes_summary()
    assert routes["GET /a"]["requests"] == routes["POST /b"]["requests"] == 2 * 4 * 1000
    assert routes["GET /a"]["errors"] + routes["POST /b"]["errors"] == 2 * 4 * 200
    assert routes["GET /a"]["seconds"] == pytest.approx(2 * 4 * 1000 * 0.001)
    assert [w["requests"] for w in metrics.per_worker()] == [8000, 8000]


def test_a_400_is_an_error_and_a_request_slower_than_every_bucket_counts_under_inf_alone():
    metrics = ServerMetrics(["POST /explain"], counters=1)
    metrics.record("POST /explain", 0.01, 399, [0])
    metrics.record("POST /explain", 0.01, 400, [0])  # the first client error
    metrics.record("POST /explain", 60.0, 200, [0])  # past the last bound, 10 s
    explain = metrics.routes_summary()["POST /explain"]
    assert explain["errors"] == 1 and explain["requests"] == 3
    assert explain["histogram"]["10"] == 2 and explain["histogram"]["+Inf"] == 3


def test_a_worker_number_outside_the_servers_is_refused_by_its_range():
    metrics = ServerMetrics(["GET /health"], counters=1, workers=2)
    for number in (-1, 2):
        with pytest.raises(ValueError, match=f"worker {number} of 2: numbers run from 0 to 1"):
            metrics.take_slot(number)
