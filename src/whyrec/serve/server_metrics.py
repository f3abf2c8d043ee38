"""What ``GET /metrics`` counts, for the whole server: every worker's requests, latencies and counters.

``whyrec serve --workers N`` forks N processes after loading (:mod:`whyrec.serve.workers`), and the
kernel hands each connection to one of them; a count kept in one process's objects would tell only
the part of the traffic that process happened to get. So the counts live in one block of anonymous
shared memory (``mmap``, ``MAP_SHARED``), made before the fork and inherited by every worker. Each
worker writes only its own slot (its number, :meth:`ServerMetrics.take_slot`), under a lock of its
own threads; the answer to ``/metrics`` reads every slot:

* per route, requests, errors (status >= 400), the time spent and a latency histogram (``BUCKETS``,
  since the start) summed over the workers, and the p50/p95/p99 latency over the union of each
  worker's last ``LATENCIES`` requests to it;
* the loaded systems' counters (cache hits and misses, decoding batches), summed. A worker's slot
  holds its counters as of its last finished request (:meth:`ServerMetrics.record`); the answering
  worker's, as they are;
* each worker's requests in flight (:meth:`ServerMetrics.add_in_flight`), the connections it held
  when it last took a request, and how many it closed to balance them
  (:mod:`whyrec.serve.connection_balance`, which writes ``connections`` and ``balanced``).

A worker that dies and is replaced keeps its slot: the new process starts its counters from the
slot's (its predecessor's traffic stays in the totals) and writes on after its latencies.
A read taken while another worker is writing may miss that worker's latest request; no count goes
backwards. Routes are the app's own (method and path); any other request (an unknown path or
method) is counted under ``OTHER``, so a client inventing methods cannot grow the table.
"""

from __future__ import annotations

import bisect
import mmap
import os
import threading
from typing import Sequence

import numpy as np

LATENCIES = 10_000  # recent latencies kept per route and worker
# upper bounds (s) of the latency histogram's buckets, counted since the start (Prometheus' le)
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
OTHER = "other"  # every request no route of the table names


class ServerMetrics:
    """Requests, errors and recent latencies per route, and ``counters`` integers (counts of the
    caller's, as :meth:`record` is given them), for ``workers`` processes. ``routes``: the names
    requests are recorded under (``"GET /health"``). ``gauges``: the places among the counters of
    levels rather than counts (how many entries a cache holds): summed over the workers as the
    counts are, but a worker replacing a dead one starts them afresh, the dead one's having gone
    with it."""

    def __init__(self, routes: Sequence[str], counters: int, workers: int = 1, gauges: Sequence[int] = ()) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if any(not 0 <= g < counters for g in gauges):
            raise ValueError(f"gauges must be places among the {counters} counters, got {list(gauges)}")
        self.routes = list(dict.fromkeys([*routes, OTHER]))
        self.index = {route: n for n, route in enumerate(self.routes)}
        self.counter_count = counters
        self.workers = workers
        shapes = {"pid": ((workers,), np.int64), "in_flight": ((workers,), np.int64),
                  "connections": ((workers,), np.int64), "balanced": ((workers,), np.int64),
                  "requests": ((workers, len(self.routes)), np.int64),
                  "errors": ((workers, len(self.routes)), np.int64),
                  "seconds": ((workers, len(self.routes)), np.float64),  # time answering them, in all
                  "buckets": ((workers, len(self.routes), len(BUCKETS)), np.int64),  # requests in each, not summed
                  "counters": ((workers, counters), np.int64),
                  "latency": ((workers, len(self.routes), LATENCIES), np.float32)}  # seconds, a ring per route
        size = sum(int(np.prod(shape)) * np.dtype(dtype).itemsize for shape, dtype in shapes.values())
        self._memory = mmap.mmap(-1, max(size, 1))  # anonymous and shared: forked workers write the same pages
        offset = 0
        for name, (shape, dtype) in shapes.items():
            count = int(np.prod(shape))
            setattr(self, name, np.frombuffer(self._memory, dtype, count, offset).reshape(shape))
            offset += count * np.dtype(dtype).itemsize
        self.lock = threading.Lock()  # this process's threads; other processes write other slots
        self.slot = 0
        self.base = np.zeros(counters, np.int64)
        self.gauges = np.zeros(counters, bool)
        self.gauges[list(gauges)] = True
        self.pid[0] = os.getpid()

    def take_slot(self, number: int) -> None:
        """In worker ``number`` (from 0), after the fork: write to its slot from now on. A worker
        replacing a dead one carries on from that one's counters (and answers nothing yet), its
        gauges aside."""
        if not 0 <= number < self.workers:
            raise ValueError(f"worker {number} of {self.workers}: numbers run from 0 to {self.workers - 1}")
        with self.lock:
            self.slot = number
            self.base = self.counters[number].copy()
            self.base[self.gauges] = 0  # a level is this process's own: the dead one's cache died with it
            self.counters[number, self.gauges] = 0
            self.pid[number] = os.getpid()
            self.in_flight[number] = 0
            self.connections[number] = 0  # a replaced worker's connections closed with it

    def record(self, route: str, seconds: float, status: int, counters: Sequence[int]) -> None:
        """One finished request to ``route`` (counted under ``OTHER`` when the table has no such
        route), and this process's counters now (since it started)."""
        at = self.index.get(route, self.index[OTHER])
        with self.lock:
            slot = self.slot
            done = int(self.requests[slot, at])
            self.latency[slot, at, done % LATENCIES] = seconds
            self.seconds[slot, at] += seconds
            bucket = bisect.bisect_left(BUCKETS, seconds)  # the first bound >= seconds
            if bucket < len(BUCKETS):
                self.buckets[slot, at, bucket] += 1
            self.requests[slot, at] = done + 1  # after the latency: a reader never counts an unwritten one
            if status >= 400:
                self.errors[slot, at] += 1
            self._publish(counters)

    def _publish(self, counters: Sequence[int]) -> None:
        if len(counters) != self.counter_count:
            raise ValueError(f"{len(counters)} counters given; the table holds {self.counter_count}")
        self.counters[self.slot] = self.base + np.asarray(counters, np.int64)

    def routes_summary(self) -> dict:
        """``{route: {"requests", "errors", "seconds", "histogram", "latency_ms": {"p50", "p95", "p99"}}}``
        over every worker, for the routes that had requests. ``seconds``: the time answering them, in
        all; ``histogram``: ``{bound: requests answered within it}`` for each of ``BUCKETS`` and
        ``"+Inf"``, cumulative as Prometheus' ``le`` buckets."""
        requests, errors, seconds = self.requests.copy(), self.errors.copy(), self.seconds.copy()
        within = np.cumsum(self.buckets.sum(axis=0), axis=1)  # (routes, buckets)
        out = {}
        for at, route in enumerate(self.routes):
            total = int(requests[:, at].sum())
            if not total:
                continue
            kept = [self.latency[w, at, :min(int(requests[w, at]), LATENCIES)] for w in range(self.workers)]
            latencies = np.concatenate(kept).astype(np.float64) * 1000
            histogram = {f"{bound:g}": int(n) for bound, n in zip(BUCKETS, within[at])} | {"+Inf": total}
            out[route] = {"requests": total, "errors": int(errors[:, at].sum()), "seconds": float(seconds[:, at].sum()),
                          "histogram": histogram,
                          "latency_ms": {f"p{q}": float(np.percentile(latencies, q)) for q in (50, 95, 99)}}
        return out

    def counters_summary(self, counters: Sequence[int]) -> list[int]:
        """Each counter summed over the workers, this process's (``counters``, now) included."""
        with self.lock:
            self._publish(counters)
        return [int(total) for total in self.counters.sum(axis=0)]

    def add_in_flight(self, change: int) -> int:
        """Count ``change`` more requests (those its caller counts) as being answered by this worker
        now, and return how many that makes (``add_in_flight(0)`` reads it). Its caller's event loop
        is the slot's one writer."""
        self.in_flight[self.slot] += change
        return int(self.in_flight[self.slot])

    def per_worker(self) -> list[dict]:
        """``[{"number", "pid", "requests", "in_flight", "connections", "balanced"}]``: each worker's
        process (the latest to hold the slot; 0 before it started), the requests it answered, all
        routes together, those it is answering now (:meth:`add_in_flight`), the connections it held
        when it last took a request, and those it closed to balance the workers' connections
        (:mod:`whyrec.serve.connection_balance`; its predecessors' in the slot included)."""
        requests = self.requests.sum(axis=1)
        return [{"number": w, "pid": int(self.pid[w]), "requests": int(requests[w]),
                 "in_flight": int(self.in_flight[w]), "connections": int(self.connections[w]),
                 "balanced": int(self.balanced[w])} for w in range(self.workers)]
