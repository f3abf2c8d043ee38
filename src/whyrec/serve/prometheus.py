"""``GET /metrics/prometheus``: the numbers of ``GET /metrics`` in Prometheus' text format.

The same answer dict is written twice: as JSON at ``/metrics`` and here as the metric families a
Prometheus server scrapes (``prometheus_client`` writes the text format, version 0.0.4, which every
Prometheus reads). Every family is the whole server's, all workers of ``whyrec serve --workers``
together (:mod:`whyrec.serve.server_metrics`), so a scrape reaching any worker gives the same series
and ``rate()`` over them is sound. Left out: the garbage collector's counts, which are the answering
process's own and would jump between workers from one scrape to the next.

Families (labels in braces):

* ``whyrec_requests_total{route}``, ``whyrec_request_errors_total{route}`` (status >= 400);
* ``whyrec_request_duration_seconds{route}``: a histogram (buckets from 5 ms to 10 s,
  :data:`whyrec.serve.server_metrics.BUCKETS`), which, unlike quantiles, sums across servers:
  ``histogram_quantile(0.99, rate(whyrec_request_duration_seconds_bucket[5m]))``;
* ``whyrec_explanation_cache_hits_total{bundle}`` and ``_misses_total``, the same for
  ``whyrec_score_cache``; ``whyrec_explanation_batches_total{bundle}`` (decoding passes) and
  ``whyrec_explanation_batch_requests_total{bundle}`` (the jobs they decoded), the same for
  ``whyrec_score_batches`` (passes scoring every item for the users of queued requests); the
  gauges ``whyrec_explanation_cache_entries{bundle}`` and ``whyrec_score_cache_entries{bundle}``
  (what the caches hold now, every worker's together);
* ``whyrec_worker_requests_total{worker}``, ``whyrec_connections_balanced_total{worker}``
  (connections a worker closed to balance the workers', :mod:`whyrec.serve.connection_balance`),
  and the gauges ``whyrec_requests_in_flight{worker}`` (requests for recommendations or
  explanations being answered), ``whyrec_worker_connections{worker}`` (connections it held when it
  last took a request) and ``whyrec_workers``.
"""

from __future__ import annotations

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.utils import floatToGoString

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # what generate_latest writes for these names
# /metrics' counter sections: (section, field) -> (family name without _total, help)
COUNTERS = {
    ("explanation_cache", "hits"): ("whyrec_explanation_cache_hits", "Explanations answered from the cache."),
    ("explanation_cache", "misses"): ("whyrec_explanation_cache_misses", "Explanations the cache did not hold."),
    ("score_cache", "hits"): ("whyrec_score_cache_hits", "Users' item scores answered from the cache."),
    ("score_cache", "misses"): ("whyrec_score_cache_misses", "Users' item scores the cache did not hold."),
    ("explanation_batches", "batches"): ("whyrec_explanation_batches", "Decoding passes over queued explanations."),
    ("explanation_batches", "requests"): ("whyrec_explanation_batch_requests",
                                          "Explanation jobs those passes decoded."),
    ("score_batches", "batches"): ("whyrec_score_batches", "Passes scoring every item for queued users."),
    ("score_batches", "requests"): ("whyrec_score_batch_requests",
                                    "Requests for users' item scores those passes answered."),
}


# /metrics' levels in those sections: (section, field) -> (family name, help)
GAUGES = {
    ("explanation_cache", "entries"): ("whyrec_explanation_cache_entries",
                                       "Explanations the caches hold now, every worker's together."),
    ("score_cache", "entries"): ("whyrec_score_cache_entries", "Users' item scores the caches hold now, every "
                                 "worker's together."),
}


class _AnswerCollector:
    """A ``prometheus_client`` collector of one ``/metrics`` answer dict."""

    def __init__(self, answer: dict) -> None:
        self.answer = answer

    def collect(self):
        routes = self.answer["routes"]
        requests = CounterMetricFamily("whyrec_requests", "Requests answered, by route (method and path).",
                                       labels=["route"])
        errors = CounterMetricFamily("whyrec_request_errors", "Requests answered with a status of 400 or more.",
                                     labels=["route"])
        duration = HistogramMetricFamily("whyrec_request_duration_seconds", "Time to answer a request.",
                                         labels=["route"])
        for route, counts in routes.items():
            requests.add_metric([route], counts["requests"])
            errors.add_metric([route], counts["errors"])
            buckets = [(floatToGoString(float(bound)), n) for bound, n in counts["histogram"].items()]  # "1" as "1.0"
            duration.add_metric([route], buckets, sum_value=counts["seconds"])
        yield from (requests, errors, duration)
        for (section, field), (name, text) in COUNTERS.items():
            family = CounterMetricFamily(name, text, labels=["bundle"])
            for bundle, counts in self.answer[section].items():
                family.add_metric([bundle], counts[field])
            yield family
        for (section, field), (name, text) in GAUGES.items():
            level = GaugeMetricFamily(name, text, labels=["bundle"])
            for bundle, counts in self.answer[section].items():
                level.add_metric([bundle], counts[field])
            yield level
        worker = self.answer["worker"]
        per_worker = CounterMetricFamily("whyrec_worker_requests", "Requests each server process answered.",
                                         labels=["worker"])
        in_flight = GaugeMetricFamily("whyrec_requests_in_flight", "Requests for recommendations or explanations "
                                      "each server process is answering now.", labels=["worker"])
        connections = GaugeMetricFamily("whyrec_worker_connections", "Connections each server process held when "
                                        "it last took a request.", labels=["worker"])
        balanced = CounterMetricFamily("whyrec_connections_balanced", "Connections each server process closed "
                                       "after an answer to balance the processes' connections.", labels=["worker"])
        for entry in worker["per_worker"]:
            number = [str(entry["number"])]
            per_worker.add_metric(number, entry["requests"])
            in_flight.add_metric(number, entry["in_flight"])
            connections.add_metric(number, entry["connections"])
            balanced.add_metric(number, entry["balanced"])
        yield from (per_worker, in_flight, connections, balanced)
        yield GaugeMetricFamily("whyrec_workers", "Server processes sharing the port.", value=worker["workers"])


def prometheus_text(answer: dict) -> bytes:
    """The ``/metrics`` answer ``answer`` in Prometheus' text format 0.0.4."""
    return generate_latest(_AnswerCollector(answer))
