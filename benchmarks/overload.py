"""Overload benchmark of `whyrec serve --max-in-flight`: more clients than the server answers in time.

Starts `whyrec serve BUNDLE --cache 0` (every request scores all items and decodes its
explanations) on 127.0.0.1, once per ``--limits`` value (0: no limit, the default server), and
for ``--seconds`` (30, after ``--warmup`` seconds of the same load, not counted) ``--clients``
(64) keep-alive clients send ``GET /users/{u}/recommendations?k=10`` back to back. A client
refused with 503 waits the answer's ``Retry-After`` (1 s) before its next request, as a polite
client does. For each limit it records the answered requests per second and their latency
percentiles, and the refused requests and theirs, into benchmarks/results/overload.{json,md}.

    python benchmarks/overload.py [--bundle FOLDER] [--limits 0 8 16]

Without ``--bundle`` it measures serve.py's PETER+ bundle of amazon-magazine-subscriptions, the
slower of its two with the caches off. The load generator shares the server's 2 cores.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from serve import free_port, latency_summary, load, served_users, start_server
from shared_data import SERVE_PETER_BUNDLE, machine, provenance

from whyrec.bundle import BundleError, read_bundle_header

HERE = Path(__file__).resolve().parent


def overload_run(bundle: Path, limit: int, args) -> dict:
    """One server with ``--max-in-flight limit``, loaded as the module says."""
    port = free_port()
    proc = start_server(bundle, port, "--cache", "0", "--max-in-flight", str(limit))
    try:
        users = served_users(port)
        if args.warmup > 0:
            load(port, users, args.warmup, args.clients, args.k, args.seed + 1000, polite=True)
        latencies, statuses, wall = load(port, users, args.seconds, args.clients, args.k, args.seed, polite=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    answered = [s for s, code in zip(latencies, statuses) if code == 200]
    refused = [s for s, code in zip(latencies, statuses) if code == 503]
    return {"max_in_flight": limit, "seconds": wall, "answered": len(answered), "refused": len(refused),
            "errors": len(statuses) - len(answered) - len(refused), "answered_rps": len(answered) / wall,
            "answered_latency_ms": latency_summary(answered), "refused_latency_ms": latency_summary(refused)}


def cell(value, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=SERVE_PETER_BUNDLE)
    parser.add_argument("--limits", type=int, nargs="+", default=[0, 8, 16])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    if args.seconds > 600 or args.clients > 64:
        parser.error("the load is bounded: at most 600 s and 64 clients")
    if any(limit < 0 for limit in args.limits):
        parser.error("--limits are 0 (no limit) or more")
    try:
        kind = read_bundle_header(args.bundle).get("kind")
    except BundleError as exc:
        parser.error(str(exc))
    runs = [overload_run(args.bundle, limit, args) for limit in args.limits]
    results = {"date": time.strftime("%Y-%m-%d"), "bundle": args.bundle.name, "kind": kind, "clients": args.clients,
               "seconds": args.seconds, "warmup_seconds": args.warmup, "k": args.k, "machine": machine(),
               "provenance": provenance(), "runs": runs}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "overload.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    lines = ["# Overload benchmark: `whyrec serve --max-in-flight`", "",
             f"`GET /users/{{u}}/recommendations?k={args.k}` against `whyrec serve {args.bundle.name} --cache 0` "
             f"(one process, 1 torch thread), {args.clients} keep-alive clients back to back for "
             f"{args.seconds:.0f} s after {args.warmup:.0f} s of the same load; a client refused with 503 waits "
             f"its Retry-After (1 s). Loopback only; the load generator runs on the same 2 cores. "
             f"{results['machine']}. Measured {results['date']}.", "",
             "| --max-in-flight | answered | answered/s | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) "
             "| refused (503) | refused p99 (ms) | errors |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        lat = r["answered_latency_ms"]
        lines.append(f"| {r['max_in_flight'] or 'no limit'} | {r['answered']:,} | {r['answered_rps']:.1f} | "
                     f"{cell(lat['p50'])} | {cell(lat['p95'])} | {cell(lat['p99'])} | {cell(lat['max'])} | "
                     f"{r['refused']:,} | {cell(r['refused_latency_ms']['p99'])} | {r['errors']} |")
    (args.out / "overload.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
