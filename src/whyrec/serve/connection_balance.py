"""Keep-alive connections spread over the workers of ``whyrec serve --workers N``.

The workers accept from one shared socket (:mod:`whyrec.serve.workers`), and a keep-alive
connection stays with the worker that accepted it. Clients that connect at once are split as the
kernel happens to hand them out, and stay split so: in a recorded run of ``benchmarks/serve.py``
(16 clients, PETER+ with the caches off, 2026-12-05) the two workers answered 10,402 and 6,640
requests, one worker loaded with more than the other could answer as fast.

So each worker publishes how many connections it holds (in :class:`ServerMetrics`' shared memory,
when a request comes in and again when it starts the answer), and while it holds more than one
more than the least loaded live worker, it answers a request with ``Connection: close``, at most
one every ``PAUSE`` seconds (its count falls only once that connection has closed). The client's
next request opens a new connection, which goes to whichever worker accepts it first; one that
comes back to the same worker is closed again after its next answer, so the counts end within one
of each other. An HTTP/1.1 client opens the new connection by itself; nothing is lost, as the
answer is complete. A worker holding no more than its share never closes one, and neither does a
single process.

In alternated runs of ``benchmarks/serve.py --workers 2`` (``docs/benchmarks.md``, *Speed*) the
busier worker answered 50.1–50.5% of the requests with the balancing and 50.3–55.7% without; the
p99 moved within the runs' spread: it removes uneven splits, it does not make a worker faster.
"""

from __future__ import annotations

import os
import time
from typing import Callable

PAUSE = 0.1  # seconds between two connections a worker closes to balance


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` is running (or not reaped yet); False for 0, a slot no worker took."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's: it exists
        return True
    return True


class ConnectionBalance:
    """One server process's side of the balancing: :meth:`publish` when a request comes in,
    :meth:`close_this_one` at the start of each answer.

    ``metrics``: the server's :class:`~whyrec.serve.server_metrics.ServerMetrics` (its ``connections``,
    ``pid`` and ``balanced`` arrays, this worker's ``slot``); ``open_connections``: how many
    connections this worker holds now (uvicorn's, :func:`uvicorn_connections`); ``closing``: False
    to only publish the count (``whyrec serve --no-balance``); ``clock`` and ``alive`` are there for
    the tests."""

    def __init__(self, metrics, open_connections: Callable[[], int], closing: bool = True, pause: float = PAUSE,
                 clock: Callable[[], float] = time.monotonic, alive: Callable[[int], bool] = process_alive) -> None:
        self.metrics, self.open_connections, self.closing, self.pause = metrics, open_connections, closing, pause
        self.clock, self.alive = clock, alive
        self.next_close = float("-inf")

    def publish(self) -> int:
        """Write how many connections this worker holds now into its slot, and return it. The guard
        calls it when a request comes in, so that ``/metrics`` gives the answering worker's count as
        it is, not as it was at its previous answer (a client that reconnected since is counted)."""
        mine = self.open_connections()
        self.metrics.connections[self.metrics.slot] = mine
        return mine

    def close_this_one(self) -> bool:
        """Publish this worker's connections, and say whether the answer being started should close
        its connection: this worker holds at least two more than another live worker, and closed
        none in the last ``pause`` seconds. Called from the worker's event loop only."""
        metrics = self.metrics
        mine = self.publish()
        if not self.closing or metrics.workers == 1 or mine < 2:
            return False
        now = self.clock()
        if now < self.next_close:
            return False
        others = [int(metrics.connections[w]) for w in range(metrics.workers)
                  if w != metrics.slot and self.alive(int(metrics.pid[w]))]
        if not others or mine <= min(others) + 1:
            return False
        self.next_close = now + self.pause
        metrics.balanced[metrics.slot] += 1
        return True


def uvicorn_connections(server) -> Callable[[], int]:
    """How many connections the uvicorn ``server`` holds now: its ``server_state.connections``, the
    set it keeps to close them on shutdown (uvicorn 0.x; not a documented attribute, so one it
    lacks makes the count 0 and the balancing never close anything)."""
    state = getattr(server, "server_state", None)
    connections = getattr(state, "connections", None)
    if connections is None:
        return lambda: 0
    return lambda: len(connections)


def with_connection_close(message: dict) -> dict:
    """An ``http.response.start`` message whose ``Connection`` header is ``close`` (any other taken out)."""
    headers = [(name, value) for name, value in message.get("headers", []) if bytes(name).lower() != b"connection"]
    return {**message, "headers": [*headers, (b"connection", b"close")]}
