"""The body bound alone, around an app that answers with the size of the body it read."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from whyrec.serve.body_limit import BodySizeLimit


async def _size(request: Request) -> JSONResponse:
    return JSONResponse({"read": len(await request.body())})


def _client(max_bytes: int) -> TestClient:
    app = Starlette(routes=[Route("/", _size, methods=["GET", "POST"])])
    return TestClient(BodySizeLimit(app, max_bytes=max_bytes))


def test_a_declared_length_over_the_bound_is_refused_before_the_body_is_read():
    c = _client(10)
    assert c.post("/", content=b"x" * 10).json() == {"read": 10}  # at the bound: read
    over = c.post("/", content=b"x" * 11)
    assert over.status_code == 413 and over.json() == {"error": "request body over 10 bytes"}
    assert c.get("/").json() == {"read": 0}  # no body: passed straight through


def test_a_chunked_body_is_counted_as_it_arrives_and_handed_on_whole():
    c = _client(100)
    assert c.post("/", content=iter([b"a" * 40, b"b" * 40, b"c" * 20])).json() == {"read": 100}
    over = c.post("/", content=iter([b"a" * 60, b"b" * 60]))
    assert over.status_code == 413 and over.json()["error"] == "request body over 100 bytes"


def test_a_length_that_is_not_a_number_is_refused():
    c = _client(100)
    response = c.post("/", content=b"xy", headers={"content-length": "2x"})
    assert response.status_code == 413


def _chunked(messages: list[dict]) -> tuple[list[dict], list[dict]]:
    """Run the bound (100 bytes) over a chunked POST whose client sends ``messages``: what the app
    was given to read, and what was sent back."""
    given, sent, incoming = [], [], iter(messages)

    async def app(scope, receive, send):
        given.append(await receive())
        given.append(await receive())  # past the body: what the server would say next

    async def receive():
        return next(incoming)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"transfer-encoding", b"chunked")]}
    asyncio.run(BodySizeLimit(app, max_bytes=100)(scope, receive, send))
    return given, sent


def test_a_client_gone_while_sending_reaches_no_app_and_one_after_its_body_is_told_on():
    gone = {"type": "http.disconnect"}
    given, sent = _chunked([{"type": "http.request", "body": b"a" * 40, "more_body": True}, gone])
    assert given == [] and sent == []  # half a body: nothing to answer, nobody to answer to
    given, sent = _chunked([{"type": "http.request", "body": b"a" * 40, "more_body": True},
                            {"type": "http.request", "body": b"b" * 20, "more_body": False}, gone])
    assert given == [{"type": "http.request", "body": b"a" * 40 + b"b" * 20, "more_body": False}, gone]
    assert sent == []
