"""Pages of other origins calling the API from a browser (``whyrec serve --cors-origin``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from tests.serve.conftest import hold_recommendations
from whyrec.errors import ConfigError
from whyrec.serve.app import create_app
from whyrec.serve.cross_origin import checked_origins
from whyrec.serve.systems import ServedSystem

FRONT_END = "http://localhost:3000"
ALLOWED = "access-control-allow-origin"


def test_origins_are_read_as_browsers_send_them_and_anything_else_is_refused():
    assert checked_origins([]) == []
    assert checked_origins(["http://localhost:3000/", " https://Lab.Example.org ", "http://[::1]:8080", "*",
                            "http://localhost:3000"]) == ["http://localhost:3000", "https://lab.example.org",
                                                          "http://[::1]:8080", "*"]
    for bad in ("localhost:3000", "http://lab.example.org/app", "ftp://lab.example.org", "http://", "",
                "http://x.org?a=1", "http://user:secret@x.org", "http://x.org:port"):
        with pytest.raises(ConfigError, match=r"--cors-origin .* is not an origin: give the scheme, host and port"):
            checked_origins([bad])


@pytest.fixture(scope="module")
def mt_system(served_bundles):
    return ServedSystem.from_folder(served_bundles[0])


def test_a_named_origin_may_read_answers_and_ask_before_posting(mt_system, served_bundles):
    split = served_bundles[2]
    user, item = split.train.users[0], split.train.items[0]
    c = TestClient(create_app([mt_system], cors_origins=[FRONT_END + "/"]))
    read = c.get(f"/users/{user}/recommendations", params={"k": 2}, headers={"Origin": FRONT_END})
    assert read.status_code == 200 and read.headers[ALLOWED] == FRONT_END
    asked = c.options("/explain", headers={"Origin": FRONT_END, "Access-Control-Request-Method": "POST",
                                           "Access-Control-Request-Headers": "content-type"})
    assert asked.status_code == 200 and asked.headers[ALLOWED] == FRONT_END
    assert "POST" in asked.headers["access-control-allow-methods"]
    posted = c.post("/explain", json={"user": user, "item": item}, headers={"Origin": FRONT_END})
    assert posted.status_code == 200 and posted.headers[ALLOWED] == FRONT_END
    refused = c.post("/explain", content=b"x" * 20000,
                     headers={"Origin": FRONT_END, "content-type": "application/json"})
    assert refused.status_code == 413 and refused.headers[ALLOWED] == FRONT_END  # the page can read why
    other = c.get("/health", headers={"Origin": "http://elsewhere.example"})
    assert other.status_code == 200 and ALLOWED not in other.headers  # the browser hides it from that page
    routes = c.get("/metrics").json()["routes"]
    assert routes["POST /explain"]["requests"] == 1  # the one answered; the preflight was no request to it
    assert not [route for route in routes if route.startswith("OPTIONS")]


def test_no_origin_is_allowed_unless_named_and_any_with_a_star(mt_system):
    plain = TestClient(create_app([mt_system]))
    assert ALLOWED not in plain.get("/health", headers={"Origin": FRONT_END}).headers
    assert plain.options("/explain", headers={"Origin": FRONT_END, "Access-Control-Request-Method": "POST"}
                         ).status_code == 405
    anyone = TestClient(create_app([mt_system], cors_origins=["*"]))
    assert anyone.get("/health", headers={"Origin": "http://elsewhere.example"}).headers[ALLOWED] == "*"
    with pytest.raises(ConfigError, match="is not an origin"):
        create_app([mt_system], cors_origins=["localhost:3000"])


def test_a_busy_servers_refusal_and_its_retry_after_are_readable_cross_origin(mt_system, served_bundles, monkeypatch):
    user = served_bundles[2].train.users[0]
    entered, release = hold_recommendations(mt_system, monkeypatch)
    app = create_app([mt_system], max_in_flight=1, cors_origins=[FRONT_END])
    with TestClient(app) as c, ThreadPoolExecutor(1) as pool:
        held = pool.submit(c.get, f"/users/{user}/recommendations")
        assert entered.wait(30)
        try:
            busy = c.get(f"/users/{user}/recommendations", headers={"Origin": FRONT_END})
        finally:
            release.set()
        assert held.result(30).status_code == 200
    assert busy.status_code == 503 and busy.headers[ALLOWED] == FRONT_END
    assert busy.headers["retry-after"] == "1" and "retry-after" in busy.headers["access-control-expose-headers"]
