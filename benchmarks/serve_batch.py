"""Batch benchmark of `whyrec serve`: POST /explain/batch against as many POST /explain calls.

Starts `whyrec serve BUNDLE --cache 0` on 127.0.0.1 (every answer decodes: nothing is served
from the cache) and, for each batch size n of ``--sizes`` (1, 10, 100), draws n (user, item)
pairs of the bundle's data's test records and times, ``--repeats`` times over, one
``/explain/batch`` request of the n pairs against n ``/explain`` requests sent one after the
other on one keep-alive connection (every explainer, ``explainer=all``). It records the wall
time per pair of each and checks that both give the same answers, into
benchmarks/results/serve_batch.{json,md}.

    python benchmarks/serve_batch.py [--bundle FOLDER ...]

Without ``--bundle`` it measures the two bundles of `serve.py` (MT and PETER+ on
amazon-magazine-subscriptions, trained into benchmarks/.cache/ when missing).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from whyrec.bundle import read_bundle_header

from serve import MAGAZINES, default_bundles, free_port, wait_ready
from shared_data import machine, provenance

HERE = Path(__file__).resolve().parent


def post(conn: http.client.HTTPConnection, path: str, body: dict) -> dict:
    conn.request("POST", path, json.dumps(body), {"content-type": "application/json"})
    response = conn.getresponse()
    answer = json.loads(response.read())
    if response.status != 200:
        raise RuntimeError(f"{path}: {response.status} {answer}")
    return answer


def split_test_pairs(data: Path) -> list[tuple[str, str]]:
    """The (user, item) pairs of the data's split 1 test records, read as whyrec reads them."""
    from whyrec.cli.inputs import split_of

    test = split_of(data, None, None).test  # the data folder's split 1
    return list(zip(test.users, test.items))


def number_gap(first, second) -> float | None:
    """The largest difference between the numbers of two JSON values read alike (answers: their
    predicted ratings), 0.0 when they are equal; None when they differ in anything but a number (a
    text, a key, a length). A batch's ratings come out of matrix products of another shape than one
    pair's, whose float sums can differ in the last bit, and so, now and then, in the last of the four
    decimals the service rounds them to."""
    numbers = (int, float)
    if isinstance(first, numbers) and isinstance(second, numbers) and not isinstance(first, bool) \
            and not isinstance(second, bool):
        return abs(float(first) - float(second))
    if isinstance(first, dict) and isinstance(second, dict):
        if first.keys() != second.keys():
            return None
        gaps = [number_gap(first[k], second[k]) for k in first]
    elif isinstance(first, list) and isinstance(second, list):
        if len(first) != len(second):
            return None
        gaps = [number_gap(a, b) for a, b in zip(first, second)]
    else:
        return 0.0 if type(first) is type(second) and first == second else None  # true is not 1
    return None if None in gaps else max(gaps, default=0.0)


def time_sizes(port: int, pairs: list[tuple[str, str]], sizes: list[int], repeats: int, seed: int) -> list[dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    rng = random.Random(seed)
    rows = []
    for size in sizes:
        single_s, batch_s, gaps = [], [], []
        for _ in range(repeats):
            chosen = rng.sample(pairs, size)
            start = time.perf_counter()
            singles = [post(conn, "/explain", {"user": u, "item": i, "explainer": "all"}) for u, i in chosen]
            single_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            batch = post(conn, "/explain/batch", {"pairs": [{"user": u, "item": i} for u, i in chosen],
                                                 "explainer": "all"})
            batch_s.append(time.perf_counter() - start)
            gaps.append(number_gap(batch["answers"], singles))
        texts_same = None not in gaps
        rows.append({"pairs": size, "repeats": repeats, "same_answers": texts_same and max(gaps) == 0.0,
                     "same_texts": texts_same, "largest_number_gap": max(gaps) if texts_same else None,
                     "single_ms_per_pair": 1000 * statistics.median(single_s) / size,
                     "batch_ms_per_pair": 1000 * statistics.median(batch_s) / size})
    conn.close()
    return rows


def measure(bundle: Path, data: Path, args) -> tuple[list[str], list[dict]]:
    """The bundle's explainers (labels) and :func:`time_sizes`'s rows."""
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "whyrec.cli", "serve", str(bundle), "--port", str(port),
                             "--cache", "0", "--threads", "1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port)
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", "/api/bundles")
        labels = [e["label"] for e in json.loads(conn.getresponse().read())[0]["explainers"]]
        conn.close()
        pairs = split_test_pairs(data)
        time_sizes(port, pairs, [min(10, len(pairs))], 1, args.seed + 1000)  # warm-up, not counted
        return labels, time_sizes(port, pairs, [min(n, len(pairs)) for n in args.sizes], args.repeats, args.seed)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def same_answers_cell(row: dict) -> str:
    """The *same answers* cell: yes, or the same texts with ratings that differ by at most the gap
    (the last rounded digit; see :func:`number_gap`), or NO."""
    if row["same_answers"]:
        return "yes"
    if row.get("same_texts"):
        return f"same texts; ratings within {row['largest_number_gap']:.4f}"
    return "NO"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, nargs="*", default=None)
    parser.add_argument("--data", type=Path, default=MAGAZINES, help="the data the bundles were trained on")
    parser.add_argument("--sizes", type=int, nargs="*", default=[1, 10, 100])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    if not all(1 <= n <= 100 for n in args.sizes):
        parser.error("a batch holds 1 to 100 pairs")
    bundles = args.bundle or default_bundles()
    missing = [b for b in bundles if not (b / "bundle.json").exists()]
    if missing:
        parser.error(f"no bundle in {missing[0]}: train it first (python benchmarks/serve.py trains the default ones)")
    runs = {}
    for bundle in bundles:
        labels, rows = measure(bundle, args.data, args)
        epochs = len(read_bundle_header(bundle).get("history") or [])  # serve.py's 10 or mt.py's up to 30
        runs[f"{bundle.name} ({', '.join(labels)}; trained {epochs} epochs)"] = rows
    results = {"date": time.strftime("%Y-%m-%d"), "data": args.data.name, "machine": machine(),
               "provenance": provenance(), "runs": runs}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "serve_batch.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    lines = ["# Batch explanations benchmark", "",
             f"`POST /explain/batch` with n (user, item) pairs against n `POST /explain` requests sent one after "
             f"the other on one keep-alive connection, every explainer (`explainer=all`), pairs drawn from the test "
             f"records of {args.data.name} split 1; `whyrec serve --cache 0 --threads 1` on loopback, so every answer "
             f"decodes; wall time per pair, median of {args.repeats} draws. {results['machine']}. Measured "
             f"{results['date']}.", "",
             "| bundle (explainers) | pairs | one /explain per pair (ms per pair) | one /explain/batch (ms per pair) | speed-up "
             "| same answers |",
             "|---|---|---|---|---|---|"]
    for name, rows in runs.items():
        for r in rows:
            lines.append(f"| {name} | {r['pairs']} | {r['single_ms_per_pair']:.2f} | {r['batch_ms_per_pair']:.2f} | "
                         f"{r['single_ms_per_pair'] / r['batch_ms_per_pair']:.1f}× | "
                         f"{same_answers_cell(r)} |")
    (args.out / "serve_batch.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
