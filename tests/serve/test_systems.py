"""The request-batching explainer behind the service."""

from __future__ import annotations

import threading
import time

import pytest

from whyrec.serve.systems import BatchingExplainer


def test_concurrent_requests_share_batches_and_get_their_own_texts():
    calls = []

    def generate(explainer, users, items):
        calls.append(len(users))
        time.sleep(0.05)  # long enough for the other requests to queue up behind the first
        return [f"{explainer}:{u}:{i}" for u, i in zip(users, items)]

    batcher = BatchingExplainer(generate)
    results = {}

    def request(n):
        users, items = [f"u{n}"] * 3, [f"i{n}-{j}" for j in range(3)]
        results[n] = (batcher("pair", users, items), [f"pair:u{n}:i{n}-{j}" for j in range(3)])

    threads = [threading.Thread(target=request, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(got == expected for got, expected in results.values()) and len(results) == 12
    assert sum(calls) == 36 and len(calls) < 12  # fewer model calls than requests
    assert batcher.jobs == 12 and batcher.batches == len(calls)


def test_explainers_are_batched_separately_and_errors_reach_the_caller():
    def generate(explainer, users, items):
        if explainer == "broken":
            raise ValueError("decoder failed")
        return [explainer] * len(users)

    batcher = BatchingExplainer(generate)
    assert batcher("user", ["a", "b"], ["x", "y"]) == ["user", "user"]
    with pytest.raises(ValueError, match="decoder failed"):
        batcher("broken", ["a"], ["x"])
    assert batcher("item", ["a"], ["x"]) == ["item"]  # still serving after a failure
