"""The body bound alone, around an app that answers with the size of the body it read."""

from __future__ import annotations

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
