"""`whyrec serve` as a user starts it: a process that listens, answers, and stops on Ctrl-C."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter

import pytest

from tests.cli.invoke import assert_one_line_error, run_cli
from tests.conftest import child_pids, free_port, request_json


def start_server(*args: str) -> tuple[subprocess.Popen, str, str]:
    """``whyrec serve ARGS --port 0`` in a process, its URL once it answers /health, and its first
    line (port 0: a free port, which the first line names; it had said "127.0.0.1:0")."""
    server = subprocess.Popen([sys.executable, "-m", "whyrec.cli", "serve", *args, "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "COLUMNS": "200"})
    first = server.stdout.readline()
    listening = re.search(r"serving \S+ on http://127\.0\.0\.1:(\d+)/", first)
    assert listening and int(listening.group(1)) > 0, (first, server.stderr.read() if not first else "")
    base = f"http://127.0.0.1:{listening.group(1)}"
    deadline = time.time() + 120
    while True:
        try:
            if request_json(base, "GET", "/health")[1]["status"] == "ok":
                return server, base, first
        except OSError:
            assert server.poll() is None, server.communicate()[1]
            assert time.time() < deadline, "the server did not start listening"
            time.sleep(0.2)


def interrupt(server: subprocess.Popen) -> str:
    """Ctrl-C (SIGINT) ends the server as it ends any command: "interrupted", 130. Returns its stderr."""
    server.send_signal(signal.SIGINT)
    out, err = server.communicate(timeout=60)
    assert server.returncode == 130 and err.strip().splitlines()[-1] == "interrupted", err
    assert "Traceback" not in out + err
    return err


def trained_bias_bundle(tmp_path, planted) -> tuple:
    data = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(data, index=False)
    bundle = tmp_path / "bias"
    trained = run_cli("train", "bias-baseline", "--data", str(data), "--out", str(bundle))
    assert trained.returncode == 0, trained.stderr
    return bundle, data


def test_serve_answers_over_http_until_interrupted(tmp_path, planted):
    """A rating bundle served with its data: its users' rated items are left out of their
    recommendations. Served for a proxy that passes /lab/whyrec/... on as /... (``--root-path``):
    the API docs ask for their schema under the proxy's path. A page of the --cors-origin may read
    the answers."""
    bundle, data = trained_bias_bundle(tmp_path, planted)
    server, base, _ = start_server(str(bundle), "--data", str(data), "--max-in-flight", "3", "--access-log",
                                   "--root-path", "/lab/whyrec/", "--cors-origin", "http://localhost:3000")

    def get(path: str):  # the answer of a GET that must succeed
        status, body = request_json(base, "GET", path)
        assert status == 200, body
        return body

    try:
        assert [b["name"] for b in get("/api/bundles")] == ["bias"]
        user = planted.corpus.users[0]
        answer = get(f"/users/{user}/recommendations?k=3")
        rated = set(planted.corpus.reviews.loc[planted.corpus.reviews["user"] == user, "item"])
        assert len(answer["items"]) == 3 and not {i["item"] for i in answer["items"]} & rated
        # one process answers; it answered /health (start_server), /api/bundles and the recommendations
        only = {"number": 0, "pid": server.pid, "requests": 3, "in_flight": 0, "balanced": 0}  # one never balances
        worker = get("/metrics")["worker"]
        held = worker["per_worker"][0].pop("connections")  # this request's own, and earlier ones still closing
        assert worker == {"pid": server.pid, "number": 0, "workers": 1, "max_in_flight": 3, "per_worker": [only]}
        assert 1 <= held <= 4  # its own, and at most the three answered before it
        with urllib.request.urlopen(f"{base}/docs", timeout=30) as docs:
            assert "url: '/lab/whyrec/openapi.json'" in docs.read().decode()
        assert get("/openapi.json")["servers"] == [{"url": "/lab/whyrec"}]
        asked = urllib.request.Request(f"{base}/health", headers={"Origin": "http://localhost:3000"})
        with urllib.request.urlopen(asked, timeout=30) as answered:  # --cors-origin: readable by that page
            assert answered.headers["access-control-allow-origin"] == "http://localhost:3000"
    finally:
        err = interrupt(server)
    # --access-log: a line per request on stderr, with the time and the process
    line = rf"^\S+ \S+ \[{server.pid}\] GET /lab/whyrec/users/{user}/recommendations\?k=3 200 \d+\.\d ms$"
    assert re.search(line, err, re.M), err


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads the server's worker processes from /proc")
def test_serve_with_workers_answers_from_forked_processes_and_stops_them_all(tmp_path, planted):
    bundle, data = trained_bias_bundle(tmp_path, planted)
    server, base, first = start_server(str(bundle), "--data", str(data), "--workers", "2")
    assert first.strip().endswith("(API docs at /docs, 2 worker processes)"), first
    try:
        workers = child_pids(server.pid)
        assert len(workers) == 2
        for _ in range(12):  # a connection each: the kernel hands them to either worker
            assert request_json(base, "GET", "/health")[0] == 200
        answers = [request_json(base, "GET", "/metrics")[1] for _ in range(10)]
        assert all(a["worker"]["workers"] == 2 and a["worker"]["pid"] in workers for a in answers)
        # whichever answers counts the whole server's requests, both workers' together
        assert all(a["routes"]["GET /health"]["requests"] == 1 + 12 for a in answers)  # start_server's too
        last = answers[-1]["worker"]
        assert {w["pid"] for w in last["per_worker"]} == workers and [w["number"] for w in last["per_worker"]] == [0, 1]
        assert sum(w["requests"] for w in last["per_worker"]) == 13 + 9  # the /metrics reads before this one
        scraped = urllib.request.urlopen(f"{base}/metrics/prometheus", timeout=30).read().decode()
        assert 'whyrec_requests_total{route="GET /health"} 13.0' in scraped.splitlines()  # as Prometheus sees it
        user = planted.corpus.users[0]
        status, answer = request_json(base, "GET", f"/users/{user}/recommendations?k=3")
        assert status == 200 and len(answer["items"]) == 3
    finally:
        interrupt(server)
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def _answered_by(connection: http.client.HTTPConnection) -> tuple[int, bool, dict]:
    """GET /metrics on a keep-alive ``connection`` (opened again by http.client if the server closed
    it): the answering worker's pid, whether the answer closes the connection, and the answer."""
    connection.request("GET", "/metrics")
    response = connection.getresponse()
    answer = json.loads(response.read())
    return answer["worker"]["pid"], response.getheader("connection") == "close", answer


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads the server's worker processes from /proc")
def test_two_workers_even_out_the_keep_alive_connections_they_hold(tmp_path, planted):
    """12 keep-alive clients that connect at once are split as the kernel hands them out (6/6 about
    one time in four); the worker holding two or more than the other closes one after an answer
    until each holds 6, and then none is closed."""
    bundle, data = trained_bias_bundle(tmp_path, planted)
    server, base, _ = start_server(str(bundle), "--data", str(data), "--workers", "2")
    connections = [http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]), timeout=30)
                   for _ in range(12)]
    try:
        workers = child_pids(server.pid)
        for connection in connections:  # all connected before the first request, as a pool of clients
            connection.connect()  # starting at once: a worker's accepting takes several at a time
        closes, splits = 0, []
        deadline = time.time() + 60
        while True:
            rounds = [_answered_by(c) for c in connections]
            split = Counter(pid for pid, _, _ in rounds)
            splits.append(sorted(split.values()))
            closes += sum(closed for _, closed, _ in rounds)
            if sorted(split.values()) == [6, 6] and not any(closed for _, closed, _ in rounds):
                break
            assert time.time() < deadline, f"still split {dict(split)} after a minute (rounds: {splits})"
            time.sleep(0.15)  # past a worker's pause between two closes
        assert set(split) == workers
        per_worker = rounds[-1][2]["worker"]["per_worker"]
        # the answering worker's count as it is now, the other's as at its last answer
        assert [w["connections"] for w in per_worker] == [6, 6]
        assert sum(w["balanced"] for w in per_worker) == closes  # each counted close is one the client saw
    finally:
        for connection in connections:
            connection.close()
        interrupt(server)


def test_a_root_path_or_an_origin_that_is_none_is_refused_before_loading(tmp_path):
    assert_one_line_error(run_cli("serve", str(tmp_path / "no-bundle-read"), "--root-path", "whyrec"),
                          "--root-path is a path that starts with /, as /whyrec; not 'whyrec'")
    assert_one_line_error(run_cli("serve", str(tmp_path / "no-bundle-read"), "--cors-origin", "localhost:3000"),
                          "--cors-origin 'localhost:3000' is not an origin")


def test_two_bundles_of_one_name_are_refused(tmp_path, planted):
    data = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(data, index=False)
    assert run_cli("train", "bias-baseline", "--data", str(data), "--out", str(tmp_path / "a" / "model")).returncode == 0
    shutil.copytree(tmp_path / "a" / "model", tmp_path / "b" / "model")
    assert_one_line_error(run_cli("serve", str(tmp_path / "a" / "model"), str(tmp_path / "b" / "model"),
                                  "--port", str(free_port())), "two bundles share a name")
