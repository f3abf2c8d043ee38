"""``GET /metrics/prometheus``: /metrics' numbers, as a Prometheus server parses them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from whyrec.serve.app import create_app
from whyrec.serve.prometheus import CONTENT_TYPE, prometheus_text
from whyrec.serve.systems import ServedSystem


def _samples(text: str) -> dict:
    """``{(sample name, sorted labels): value}`` as Prometheus' own parser reads ``text``."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


ANSWER = {
    "worker": {"pid": 11, "number": 1, "workers": 2,
               "per_worker": [{"number": 0, "pid": 10, "requests": 5, "in_flight": 2, "connections": 7, "balanced": 4},
                              {"number": 1, "pid": 11, "requests": 3, "in_flight": 0, "connections": 6,
                               "balanced": 0}]},
    "routes": {"GET /health": {"requests": 8, "errors": 1, "seconds": 0.04,
                               "histogram": {"0.005": 5, "0.01": 7, "1": 8, "+Inf": 8},
                               "latency_ms": {"p50": 4.0, "p95": 9.0, "p99": 12.5}}},
    "explanation_cache": {"mags": {"hits": 7, "misses": 2, "entries": 2}},
    "score_cache": {"mags": {"hits": 3, "misses": 4, "entries": 1}},
    "explanation_batches": {"mags": {"batches": 2, "requests": 9}},
    "score_batches": {"mags": {"batches": 4, "requests": 6}},
    "garbage_collector": {"frozen_objects": 100, "collections": [1, 2, 3]},
}


def test_the_answer_is_written_as_prometheus_families():
    text = prometheus_text(ANSWER).decode()
    samples = _samples(text)
    route = (("route", "GET /health"),)
    assert samples[("whyrec_requests_total", route)] == 8
    assert samples[("whyrec_request_errors_total", route)] == 1
    assert samples[("whyrec_request_duration_seconds_count", route)] == 8
    assert samples[("whyrec_request_duration_seconds_sum", route)] == pytest.approx(0.04)
    bucket = {le: samples[("whyrec_request_duration_seconds_bucket", (("le", le), *route))]
              for le in ("0.005", "0.01", "1.0", "+Inf")}  # le as Prometheus' own clients write it
    assert bucket == {"0.005": 5, "0.01": 7, "1.0": 8, "+Inf": 8}
    mags = (("bundle", "mags"),)
    assert samples[("whyrec_explanation_cache_hits_total", mags)] == 7
    assert samples[("whyrec_score_cache_misses_total", mags)] == 4
    assert samples[("whyrec_explanation_cache_entries", mags)] == 2  # a gauge: no _total
    assert samples[("whyrec_score_cache_entries", mags)] == 1
    assert "# TYPE whyrec_explanation_cache_entries gauge" in text
    assert samples[("whyrec_explanation_batch_requests_total", mags)] == 9
    assert samples[("whyrec_score_batches_total", mags)] == 4
    assert samples[("whyrec_score_batch_requests_total", mags)] == 6
    assert samples[("whyrec_worker_requests_total", (("worker", "1"),))] == 3
    assert samples[("whyrec_workers", ())] == 2
    assert samples[("whyrec_requests_in_flight", (("worker", "0"),))] == 2
    assert samples[("whyrec_worker_connections", (("worker", "1"),))] == 6
    assert samples[("whyrec_connections_balanced_total", (("worker", "0"),))] == 4
    assert "collections" not in text and "gc" not in text  # one process's own: would jump between workers


def test_the_route_agrees_with_metrics(served_bundles):
    mt_folder, _, split = served_bundles
    c = TestClient(create_app([ServedSystem.from_folder(mt_folder)]))
    for user in split.train.users[:3]:
        assert c.get(f"/users/{user}/recommendations", params={"k": 2}).status_code == 200
    c.get("/nowhere")
    scraped = c.get("/metrics/prometheus", params={"_": "1"})  # no query parameters: a cache-buster is let be
    assert scraped.status_code == 200 and scraped.headers["content-type"] == CONTENT_TYPE
    samples = _samples(scraped.text)
    answer = c.get("/metrics").json()  # after the scrape, which it counts: the rest is as scraped
    recommendations = (("route", "GET /users/{user}/recommendations"),)
    assert samples[("whyrec_requests_total", recommendations)] == 3
    assert samples[("whyrec_request_errors_total", (("route", "other"),))] == 1
    assert samples[("whyrec_explanation_cache_misses_total", (("bundle", "planted"),))] == \
        answer["explanation_cache"]["planted"]["misses"] > 0
    assert samples[("whyrec_request_duration_seconds_sum", recommendations)] == pytest.approx(
        answer["routes"]["GET /users/{user}/recommendations"]["seconds"])
    assert samples[("whyrec_request_duration_seconds_bucket", (("le", "+Inf"), *recommendations))] == 3
    assert samples[("whyrec_request_duration_seconds_bucket", (("le", "10.0"), *recommendations))] == \
        answer["routes"]["GET /users/{user}/recommendations"]["histogram"]["10"] == 3
    assert answer["routes"]["GET /metrics/prometheus"]["requests"] == 1
    # every user's scores the cache did not hold were scored in a pass, and counted
    scored = answer["score_batches"]["planted"]
    assert scored["requests"] == answer["score_cache"]["planted"]["misses"] > 0 and 0 < scored["batches"] <= 3
    assert samples[("whyrec_score_batch_requests_total", (("bundle", "planted"),))] == scored["requests"]
    # what the caches hold: each score and explanation they missed, computed and kept (none dropped yet)
    for cache in ("score_cache", "explanation_cache"):
        assert answer[cache]["planted"]["entries"] == answer[cache]["planted"]["misses"] > 0
        assert samples[(f"whyrec_{cache}_entries", (("bundle", "planted"),))] == answer[cache]["planted"]["entries"]
