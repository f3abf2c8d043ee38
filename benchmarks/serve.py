"""Load benchmark of `whyrec serve`: bounded, loopback only.

Starts `whyrec serve BUNDLE` on 127.0.0.1 in a child process, then for ``--seconds`` (60 by
default, after a warm-up that is not counted: one request per user, then ``--warmup`` seconds of
the same load) ``--clients`` (16)
client threads each send ``GET /users/{u}/recommendations?k=10`` back to back over a keep-alive
connection, ``u`` drawn at random from the bundle's users. It
records throughput, latency percentiles and errors, once with the explanation cache on
(the default) and once with it off, into benchmarks/results/serve.{json,md} (with ``--workers N``,
N > 1, the server runs N processes, and the files are serve_N_workers.{json,md}).

    python benchmarks/serve.py [--bundle FOLDER ...]

Without ``--bundle`` it measures two bundles of amazon-magazine-subscriptions, kept in
benchmarks/.cache/: the MT system (MT-P GRU explanations) and PETER+ (`whyrec train peter+`).
The MT is the one benchmarks/mt.py saved; when mt.py has not left one, a shorter one (`whyrec
train mt ... --param epochs=10`) is trained into a folder of its own, so that the scripts reading
mt.py's bundle never find this one in its place.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from whyrec.bundle import BundleError, read_bundle_header

from shared_data import DATA, SERVE_PETER_BUNDLE, SERVE_SHORT_MT_BUNDLE, machine, mt_bundle_dir, provenance

HERE = Path(__file__).resolve().parent
MAGAZINES = DATA / "amazon-magazine-subscriptions"
MT_BUNDLE = mt_bundle_dir("amazon-magazine-subscriptions")
EXPLAINER_OF = {"mt": "MT-P (GRU)", "peter": "PETER (transformer, KV cache)"}


def default_bundles(train_missing: bool = False) -> list[Path]:
    """The MT and PETER+ bundles measured without ``--bundle``: mt.py's MT of magazines when it is
    there, else serve.py's shorter one; with ``train_missing``, those not there yet are trained
    (``whyrec train``, the magazines data)."""
    mt = MT_BUNDLE if (MT_BUNDLE / "bundle.json").exists() else SERVE_SHORT_MT_BUNDLE
    bundles = {"mt": mt, "peter+": SERVE_PETER_BUNDLE}
    for model, folder in bundles.items():
        if train_missing and not (folder / "bundle.json").exists():
            extra = ["--param", "epochs=10"] if model == "mt" else []
            subprocess.run([sys.executable, "-m", "whyrec.cli", "train", model, "--data", str(MAGAZINES), "--out",
                            str(folder), *extra], check=True)
    return list(bundles.values())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not become ready")


def load(port: int, users: list[str], seconds: float, clients: int, k: int, seed: int,
         polite: bool = False) -> tuple[list[float], list[int], float]:
    """``clients`` threads, each sending ``GET /users/{u}/recommendations?k=K`` back to back over a
    keep-alive connection for ``seconds`` (``u`` drawn at random from ``users``). With ``polite``, a
    client refused with 503 waits its ``Retry-After`` before its next request. Returns every
    request's latency (s) and status (0: no answer, or a 200 without items) and the wall time."""
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client(n: int) -> None:
        rng = random.Random(seed + n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, codes = [], []
        while time.perf_counter() < stop_at:
            user = rng.choice(users)
            start = time.perf_counter()
            wait = 0.0
            try:
                conn.request("GET", f"/users/{user}/recommendations?k={k}")
                response = conn.getresponse()
                body = response.read()
                code = response.status if response.status != 200 or b'"items"' in body else 0
                if code == 503 and polite:
                    wait = float(response.getheader("Retry-After", "1"))
            except (OSError, http.client.HTTPException):
                code = 0
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - start)
            codes.append(code)
            if wait:
                time.sleep(min(wait, max(0.0, stop_at - time.perf_counter())))
        with lock:
            latencies.extend(mine)
            statuses.extend(codes)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, statuses, time.perf_counter() - began


def latency_summary(seconds: list[float]) -> dict:
    """p50, p95, p99 and max of latencies given in seconds, in ms (None each when there are none)."""
    if not seconds:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    ms = np.array(seconds) * 1000
    return {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
            "p99": float(np.percentile(ms, 99)), "max": float(ms.max())}


def run_load(port: int, users: list[str], seconds: float, clients: int, k: int, seed: int) -> dict:
    """:func:`load`, summed up: requests, errors (anything but a 200 with items), requests/s and
    latency percentiles over every request."""
    latencies, statuses, wall = load(port, users, seconds, clients, k, seed)
    return {"requests": len(latencies), "errors": sum(code != 200 for code in statuses), "seconds": wall,
            "throughput_rps": len(latencies) / wall, "latency_ms": latency_summary(latencies)}


def request_each_once(port: int, users: list[str], clients: int, k: int) -> None:
    """One request per user, ``clients`` at a time: with the cache on, every user's recommendations
    and explanations are then cached before anything is measured (a timed warm-up alone left
    PETER's slower first decodes inside the measured window, where every client waited on them)."""
    todo = list(users)
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if not todo:
                    break
                user = todo.pop()
            conn.request("GET", f"/users/{user}/recommendations?k={k}")
            conn.getresponse().read()
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def server_metrics(port: int) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/metrics")
    metrics = json.loads(conn.getresponse().read())
    conn.close()
    return metrics


def start_server(bundle: Path, port: int, *options: str) -> subprocess.Popen:
    """``whyrec serve BUNDLE`` on 127.0.0.1:``port`` in a child process, 1 torch thread, with
    ``options``; ready (answering /health) when this returns."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "whyrec.cli", "serve", str(bundle), "--port", str(port),
                             "--threads", "1", *options], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port)
    except BaseException:
        proc.terminate()
        raise
    return proc


def served_users(port: int) -> list[str]:
    """Up to 200 users the served (first) bundle knows."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/api/bundles")
    name = json.loads(conn.getresponse().read())[0]["name"]
    conn.request("GET", f"/api/bundles/{name}/users?limit=200")
    users = [u["user"] for u in json.loads(conn.getresponse().read())]
    conn.close()
    return users


def serve_and_load(bundle: Path, cache: int, args) -> dict:
    port = free_port()
    balance = [] if args.balance else ["--no-balance"]
    proc = start_server(bundle, port, "--cache", str(cache), "--workers", str(args.workers), *balance)
    try:
        users = served_users(port) + [f"new-user-{n}" for n in range(10)]  # a few cold-start requests too
        if args.warmup > 0:  # not counted: every user once (filling the caches), then the load warms the allocator
            request_each_once(port, users, args.clients, args.k)
            run_load(port, users, args.warmup, args.clients, args.k, args.seed + 1000)
        before = server_metrics(port)
        result = run_load(port, users, args.seconds, args.clients, args.k, args.seed)
        result["server_metrics"] = server_metrics(port)
        result["server_metrics_before"] = before
        result["cache"] = cache
        result["distinct_users"] = len(users)
        return result
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def hit_rate(run: dict) -> str:
    """Share of explanation lookups the cache answered in the measured window (server counters
    after it minus before it; runs recorded before that split count the warm-up too). With several
    worker processes, the whole server's (every worker's together); runs recorded before /metrics
    summed the workers (no ``per_worker`` in its answer) give none: each read could reach either one."""
    worker = run.get("server_metrics", {}).get("worker", {})
    if worker.get("workers", 1) > 1 and "per_worker" not in worker:
        return "– (per worker)"
    after = next(iter(run.get("server_metrics", {}).get("explanation_cache", {}).values()), None)
    before = next(iter(run.get("server_metrics_before", {}).get("explanation_cache", {}).values()),
                  {"hits": 0, "misses": 0})
    if not after:
        return "–"
    hits, misses = after["hits"] - before["hits"], after["misses"] - before["misses"]
    return f"{100 * hits / (hits + misses):.1f}%" if hits + misses else "–"


def worker_split(run: dict) -> str:
    """Each worker's requests in the measured window (``/metrics``' ``per_worker`` after it minus
    before it) and, in brackets, the connections each closed in it to balance them; "–" for a run
    recorded before /metrics had them."""
    after = run.get("server_metrics", {}).get("worker", {}).get("per_worker", [])
    before = run.get("server_metrics_before", {}).get("worker", {}).get("per_worker", [])
    if len(after) != len(before) or not after or "balanced" not in after[0]:
        return "–"
    requests = " / ".join(f"{a['requests'] - b['requests']:,}" for a, b in zip(after, before))
    closed = " / ".join(str(a["balanced"] - b["balanced"]) for a, b in zip(after, before))
    return f"{requests} (closed {closed})"


def workers_text(workers: int, balance: bool = True) -> str:
    if workers == 1:
        return "one uvicorn worker"
    balancing = ("a worker holding two keep-alive connections more than the other closes one after its answer"
                 if balance else "no balancing of connections (`--no-balance`)")
    return (f"{workers} server processes (`whyrec serve --workers {workers}`), each with its own caches, sharing "
            f"the port (the cache hits are theirs together); {balancing}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, nargs="*", default=None)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before measuring (not counted)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (`whyrec serve --workers`); "
                        "more than one writes serve_<n>_workers.{json,md}")
    parser.add_argument("--caches", nargs="+", choices=["on", "off"], default=["on", "off"],
                        help="the runs: caches on (20,000 entries), off, or both (the default)")
    parser.add_argument("--no-balance", dest="balance", action="store_false",
                        help="with --workers: `whyrec serve --no-balance` (connections stay where accepted)")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    if args.seconds > 600 or args.clients > 64:
        parser.error("the load is bounded: at most 600 s and 64 clients")
    if not 1 <= args.workers <= 8:
        parser.error("--workers must be in 1..8")
    stem = "serve" if args.workers == 1 else f"serve_{args.workers}_workers"
    bundles = args.bundle or default_bundles(train_missing=True)
    try:  # every bundle checked before the first load, so a mistyped one fails at once
        kinds = [read_bundle_header(bundle).get("kind") for bundle in bundles]
    except BundleError as exc:
        parser.error(str(exc))
    runs = {}
    for bundle, kind in zip(bundles, kinds):
        label = f"{bundle.name} ({EXPLAINER_OF.get(kind, kind)})"
        for cache in args.caches:
            runs[f"{label}, cache {cache}"] = serve_and_load(bundle, 20000 if cache == "on" else 0, args)
    results = {"date": time.strftime("%Y-%m-%d"), "bundles": [b.name for b in bundles], "clients": args.clients,
               "seconds": args.seconds, "warmup_seconds": args.warmup, "k": args.k, "workers": args.workers,
               "balance": args.balance,
               "machine": machine(), "provenance": provenance(),
               "runs": runs}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    lines = ["# Serving load benchmark", "",
             f"`GET /users/{{u}}/recommendations?k={args.k}` against `whyrec serve`, one bundle per server, "
             f"{args.clients} concurrent keep-alive clients for {args.seconds:.0f} s each run after a warm-up that is not "
             f"counted: one request per user (with the cache on, this fills the caches: every user's first request "
             f"decodes), then {args.warmup:.0f} s of the same load; loopback only, "
             f"{workers_text(args.workers, args.balance)}, 1 torch thread; users drawn from 200 known + 10 unknown ids "
             f"(PETER answers unknown users without explanations). The load generator runs on the same 2 cores. "
             f"{results['machine']}. Measured {results['date']}. Target: p99 < 100 ms and no errors.", "",
             "| run | requests | errors | throughput (req/s) | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) "
             "| explanation cache hits (measured window) |" + (" requests per worker (connections closed) |"
                                                               if args.workers > 1 else ""),
             "|---|---|---|---|---|---|---|---|---|" + ("---|" if args.workers > 1 else "")]
    for name, r in runs.items():
        lat = r["latency_ms"]
        split = f" {worker_split(r)} |" if args.workers > 1 else ""
        lines.append(f"| {name} | {r['requests']:,} | {r['errors']} | {r['throughput_rps']:.1f} | {lat['p50']:.1f} | "
                     f"{lat['p95']:.1f} | {lat['p99']:.1f} | {lat['max']:.1f} | {hit_rate(r)} |{split}")
    (args.out / f"{stem}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
