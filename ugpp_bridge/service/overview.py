"""Use case: where every request stands — deadline, days left, progress, delivery and the
estimated exposure (SPEC §6) — for `requests`, `deadlines` and, later, the dashboard."""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass
from datetime import date

from ugpp_bridge.domain.deadlines import business_days_until
from ugpp_bridge.domain.exposure import ExposureEstimate, estimate_exposure
from ugpp_bridge.domain.filing import (
    BOGOTA,
    Attempt,
    LoteSummary,
    RequestKey,
    RequestSummary,
    StoredRequest,
)
from ugpp_bridge.domain.lifecycle import LoteState, RequestState
from ugpp_bridge.service.ports import LoteStore, RequestStore

DELIVERED = frozenset({RequestState.SENT, RequestState.CONFIRMED})


@dataclass(frozen=True)
class RequestOverview:
    request: RequestSummary
    business_days_left: int
    lotes: int
    lotes_acknowledged: int
    attempts: int
    delivered_on: date | None
    exposure: ExposureEstimate

    @property
    def open(self) -> bool:
        return self.request.state not in DELIVERED


def overview(
    requests: RequestStore,
    lotes: LoteStore,
    *,
    today: date,
    holidays: Container[date],
    uvt_values: Mapping[int, int],
) -> list[RequestOverview]:
    """Every request, most urgent deadline first, with its exposure as of delivery or today.

    A request counts as delivered on the day UGPP acknowledged its last lote.
    """
    return [
        _overview_of(stored, lotes, today, holidays, uvt_values)
        for stored in requests.list_requests()
    ]


@dataclass(frozen=True)
class RequestDetail:
    """One request in full for the dashboard: its overview, periods, lotes and attempts
    (without their bytes)."""

    overview: RequestOverview
    stored: StoredRequest
    lotes: list[LoteSummary]
    attempts: list[Attempt]

    @property
    def durations_ms(self) -> list[int]:
        return [attempt.duration_ms for attempt in self.attempts]


def request_detail(
    key: RequestKey,
    requests: RequestStore,
    lotes: LoteStore,
    *,
    today: date,
    holidays: Container[date],
    uvt_values: Mapping[int, int],
) -> RequestDetail:
    stored = requests.get(key)
    summary = RequestSummary.of(stored)
    return RequestDetail(
        overview=_overview_of(summary, lotes, today, holidays, uvt_values),
        stored=stored,
        lotes=lotes.summaries(key) if stored.generation else [],
        attempts=lotes.attempts(key, with_bytes=False),
    )


def _overview_of(
    stored: RequestSummary,
    lotes: LoteStore,
    today: date,
    holidays: Container[date],
    uvt_values: Mapping[int, int],
) -> RequestOverview:
    summaries = lotes.summaries(stored.key) if stored.generation else []
    acknowledged = [s for s in summaries if s.state is LoteState.ACKNOWLEDGED]
    moments = [s.acknowledged_at for s in acknowledged if s.acknowledged_at is not None]
    delivered = None
    if stored.state in DELIVERED and moments:
        delivered = max(moments).astimezone(BOGOTA).date()
    return RequestOverview(
        request=stored,
        business_days_left=business_days_until(today, stored.due_date, holidays),
        lotes=len(summaries),
        lotes_acknowledged=len(acknowledged),
        attempts=lotes.attempt_count(stored.key),
        delivered_on=delivered,
        exposure=estimate_exposure(stored.due_date, delivered or today, uvt_values),
    )
