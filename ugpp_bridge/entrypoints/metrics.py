"""``/metrics`` in Prometheus's text format, counted from the state database at each scrape.

- ``ugpp_bridge_requests{state}`` — requests by lifecycle state;
- ``ugpp_bridge_lotes{state}`` — lotes of every build by state (``acknowledged``: sent and
  received by UGPP);
- ``ugpp_bridge_send_attempts_total{outcome}`` — Paso 2 attempts by outcome;
- ``ugpp_bridge_ugpp_call_duration_seconds`` — a histogram of those calls' durations;
- ``ugpp_bridge_nearest_deadline_business_days`` — business days to the nearest deadline of a
  request not yet delivered (negative when late; absent when nothing is open);
- ``ugpp_bridge_open_requests`` — requests not yet delivered.

No personal data and no request identifiers are exported.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator
from datetime import date
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from ugpp_bridge.domain.deadlines import business_days_until
from ugpp_bridge.domain.lifecycle import LoteState, RequestState
from ugpp_bridge.service.overview import DELIVERED
from ugpp_bridge.service.ports import MetricsReader, RequestStore

if TYPE_CHECKING:
    from ugpp_bridge.entrypoints.soap import WsgiApp

DURATION_BOUNDS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class StateCollector(Collector):
    def __init__(
        self,
        reader: MetricsReader,
        requests: RequestStore,
        today: Callable[[], date],
        holidays: Container[date],
    ) -> None:
        self.reader, self.requests, self.today, self.holidays = reader, requests, today, holidays

    def collect(self) -> Iterator[Metric]:
        counts = self.reader.counts(DURATION_BOUNDS)
        yield _by_label(
            GaugeMetricFamily("ugpp_bridge_requests", "Requests by state", labels=["state"]),
            counts.requests_by_state, [s.value for s in RequestState],
        )  # fmt: skip
        yield _by_label(
            GaugeMetricFamily("ugpp_bridge_lotes", "Lotes by state", labels=["state"]),
            counts.lotes_by_state, [s.value for s in LoteState],
        )  # fmt: skip
        yield _by_label(
            CounterMetricFamily(
                "ugpp_bridge_send_attempts", "Paso 2 send attempts by outcome", labels=["outcome"]
            ),
            counts.attempts_by_outcome, [],
        )  # fmt: skip
        histogram = HistogramMetricFamily(
            "ugpp_bridge_ugpp_call_duration_seconds", "Duration of the calls to UGPP's Paso 2"
        )
        buckets = [(_bound(b), float(n)) for b, n in counts.duration_buckets]
        histogram.add_metric(
            [], [*buckets, ("+Inf", float(counts.duration_count))], counts.duration_sum_seconds
        )
        yield histogram
        yield from self._deadlines()

    def _deadlines(self) -> Iterator[Metric]:
        today = self.today()
        open_requests = [r for r in self.requests.list_requests() if r.state not in DELIVERED]
        yield GaugeMetricFamily(
            "ugpp_bridge_open_requests", "Requests not yet delivered", value=len(open_requests)
        )
        if open_requests:
            nearest = min(r.due_date for r in open_requests)
            yield GaugeMetricFamily(
                "ugpp_bridge_nearest_deadline_business_days",
                "Business days to the nearest deadline of an open request (negative: late)",
                value=business_days_until(today, nearest, self.holidays),
            )


def _by_label(
    family: GaugeMetricFamily | CounterMetricFamily,
    counts: dict[str, int],
    always: Iterable[str],
) -> GaugeMetricFamily | CounterMetricFamily:
    for name in sorted({*always, *counts}):
        family.add_metric([name], counts.get(name, 0))
    return family


def _bound(value: float) -> str:
    return repr(float(value))


def metrics_app(collector: StateCollector) -> WsgiApp:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    app: WsgiApp = make_wsgi_app(registry)
    return app
