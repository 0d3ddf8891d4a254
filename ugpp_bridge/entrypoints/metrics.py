"""``/metrics`` in Prometheus's text format, counted from the state database at each scrape.

- ``ugpp_bridge_requests{state}`` — requests by lifecycle state;
- ``ugpp_bridge_lotes{state}`` — lotes of every build by state (``acknowledged``: sent and
  received by UGPP);
- ``ugpp_bridge_send_attempts_total{outcome}`` — Paso 2 attempts by outcome;
- ``ugpp_bridge_ugpp_call_duration_seconds`` — a histogram of those calls' durations;
- ``ugpp_bridge_nearest_deadline_business_days`` — business days to the nearest deadline of a
  request not yet delivered (0 on the day; negative: calendar days late; absent when nothing
  is open);
- ``ugpp_bridge_open_requests`` — requests not yet delivered;
- ``ugpp_bridge_overdue_requests`` — open requests past their due date (calendar days: a
  weekend after a Friday deadline is overdue);
- ``ugpp_bridge_awaiting_approval_requests`` — builds waiting for an officer;
- ``ugpp_bridge_exposure_estimate_cop`` — the estimated sanction over every late request (an
  estimate, never a liquidation);
- ``ugpp_bridge_scheduler_last_heartbeat_timestamp_seconds`` — when any scheduler last ran a
  job (absent when none ever did).

No personal data and no request identifiers are exported.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from ugpp_bridge.domain.alerts import days_for_alerts
from ugpp_bridge.domain.deadlines import deadline_status
from ugpp_bridge.domain.lifecycle import LoteState, RequestState
from ugpp_bridge.service.overview import DELIVERED, DeskSummary, RequestOverview
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
        overview: Callable[[], list[RequestOverview]],
        last_beat: Callable[[], datetime | None],
    ) -> None:
        self.reader, self.requests, self.today, self.holidays = reader, requests, today, holidays
        self.overview, self.last_beat = overview, last_beat

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
        yield from self._desk()

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
                "Business days to the nearest deadline of an open request "
                "(0: due today; negative: calendar days late)",
                value=days_for_alerts(deadline_status(nearest, today, self.holidays)),
            )

    def _desk(self) -> Iterator[Metric]:
        items = self.overview()
        summary = DeskSummary.of(items)
        yield GaugeMetricFamily(
            "ugpp_bridge_overdue_requests", "Open requests past their due date",
            value=summary.overdue,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "ugpp_bridge_awaiting_approval_requests", "Builds waiting for an officer",
            value=summary.awaiting_approval,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "ugpp_bridge_exposure_estimate_cop",
            "Estimated sanction over every late request, in pesos (an estimate)",
            value=summary.exposure_cop,
        )
        beat = self.last_beat()
        if beat is not None:
            yield GaugeMetricFamily(
                "ugpp_bridge_scheduler_last_heartbeat_timestamp_seconds",
                "When any scheduler last ran a job (Unix time)",
                value=beat.timestamp(),
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
