"""The request guard (``GuardAndTime``) as plain ASGI: when it counts a request, and what it
answers when the app fails."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from whyrec.serve.app import BUSY, GuardAndTime


class Counting:
    """What the guard reads and writes of the server's metrics, kept in lists."""

    def __init__(self) -> None:
        self.in_flight, self.records = 0, []

    def add_in_flight(self, change: int) -> int:
        self.in_flight += change
        return self.in_flight

    def record(self, route, seconds, status, counters) -> None:
        self.records.append((route, status))


def _call(guard: GuardAndTime, server: Counting, path: str = "/users/u1/recommendations") -> list:
    """Run one GET through ``guard``; every message it sends, with what was counted when it was sent."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "raw_path": path.encode(),
             "query_string": b"", "headers": [],
             "app": SimpleNamespace(state=SimpleNamespace(server_metrics=server, connection_balance=None))}
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append((message["type"], message.get("status"), list(server.records), server.in_flight))

    asyncio.run(guard(scope, receive, send))
    return sent


def _app(body_parts: int = 2, fail: bool = False):
    async def app(scope, receive, send):
        scope["route"] = SimpleNamespace(path="/users/{user:id}/recommendations")
        if fail:
            raise RuntimeError("a bug")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for n in range(body_parts):
            await send({"type": "http.response.body", "body": b"x", "more_body": n < body_parts - 1})
    return app


def test_a_request_is_counted_and_its_place_freed_before_the_last_of_its_answer_is_sent():
    """A client that asks again as soon as it has its answer (another worker's /metrics, or the
    same bounded worker) must find this request counted and its place free."""
    server = Counting()
    sent = _call(GuardAndTime(_app(), max_in_flight=1, counted=SimpleNamespace(now=list), access_log=False), server)
    start, first_part, last_part = sent
    assert start[:2] == ("http.response.start", 200) and start[2:] == ([], 1)  # still answering
    assert first_part[2:] == ([], 1)
    assert last_part[2:] == ([("GET /users/{user}/recommendations", 200)], 0)
    assert server.records == [("GET /users/{user}/recommendations", 200)]  # once


def test_a_bug_is_a_json_500_counted_under_its_route_and_a_busy_refusal_is_counted_before_it_is_sent(caplog):
    server = Counting()
    guard = GuardAndTime(_app(fail=True), max_in_flight=1, counted=SimpleNamespace(now=list), access_log=False)
    sent = _call(guard, server)
    assert sent[0][:2] == ("http.response.start", 500) and server.in_flight == 0
    assert server.records == [("GET /users/{user}/recommendations", 500)] and "a bug" in caplog.text
    server.in_flight = 1  # another request holds the one place
    sent = _call(GuardAndTime(_app(), max_in_flight=1, counted=SimpleNamespace(now=list), access_log=False), server)
    assert sent[0][:3] == ("http.response.start", 503, [("GET /users/{user}/recommendations", 500), (BUSY, 503)])
    assert server.in_flight == 1  # the refused request never took a place


def test_what_the_app_raises_after_answering_began_is_raised_and_the_request_still_counted():
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("mid-answer")

    server = Counting()
    with pytest.raises(RuntimeError, match="mid-answer"):
        _call(GuardAndTime(app, max_in_flight=0, counted=SimpleNamespace(now=list), access_log=False), server,
              "/health")
    assert server.records == [("GET other", 200)] and server.in_flight == 0
