"""Use case: where every request stands — deadline in words, progress, delivery, approval and
the estimated exposure (SPEC §6, §9) — for ``requests``, ``deadlines``, the dashboard, the API,
the alerts and ``/metrics``, so they all say the same.

The deadline rule is ``domain.deadlines.deadline_status``: business days before the due date,
calendar days after it ("Vencida hace 2 días" on the Sunday after a Friday deadline), and a
delivery after the due date is "Entregada tarde", never on time.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from ugpp_bridge.domain.deadlines import DeadlineKind, DeadlineStatus, deadline_status
from ugpp_bridge.domain.exposure import ExposureEstimate, estimate_exposure
from ugpp_bridge.domain.filing import (
    BOGOTA,
    Approval,
    Attempt,
    LoteSummary,
    RequestKey,
    RequestSummary,
    StoredRequest,
)
from ugpp_bridge.domain.lifecycle import LoteState, RequestState
from ugpp_bridge.service.ports import BuildStore, LoteStore, RequestStore

DELIVERED = frozenset({RequestState.SENT, RequestState.CONFIRMED})
SOON = 5  # business days: "at risk"


@dataclass(frozen=True)
class RequestOverview:
    request: RequestSummary
    status: DeadlineStatus
    lotes: int
    lotes_acknowledged: int
    attempts: int
    delivered_on: date | None
    exposure: ExposureEstimate

    @property
    def open(self) -> bool:
        return self.request.state not in DELIVERED

    @property
    def at_risk(self) -> bool:
        """Overdue, due today, or at most five business days away."""
        kind = self.status.kind
        return kind in (DeadlineKind.OVERDUE, DeadlineKind.TODAY) or (
            kind is DeadlineKind.AHEAD and self.status.days <= SOON
        )

    @property
    def awaiting_approval(self) -> bool:
        return self.request.state is RequestState.BUILT


@dataclass(frozen=True)
class DeskSummary:
    """The tiles on top of the desk."""

    overdue: int
    at_risk: int  # due within five business days (today included), not yet overdue
    awaiting_approval: int
    exposure_cop: int  # estimated, over every late request (overdue or delivered late)

    @classmethod
    def of(cls, items: Iterable[RequestOverview]) -> DeskSummary:
        listed = list(items)
        return cls(
            overdue=sum(i.status.kind is DeadlineKind.OVERDUE for i in listed),
            at_risk=sum(i.at_risk and i.status.kind is not DeadlineKind.OVERDUE for i in listed),
            awaiting_approval=sum(i.awaiting_approval for i in listed),
            exposure_cop=sum(i.exposure.cop for i in listed if i.exposure.is_late),
        )


def overview(
    requests: RequestStore,
    lotes: LoteStore,
    *,
    today: date,
    holidays: Container[date],
    uvt_values: Mapping[int, int],
) -> list[RequestOverview]:
    """Every request: open ones first, the most urgent first (overdue, due today, then by
    business days left), then the delivered ones, the latest due first. Exposure is estimated
    as of delivery, or today for an open request."""
    items = [
        _overview_of(stored, lotes, today, holidays, uvt_values)
        for stored in requests.list_requests()
    ]
    return sorted(items, key=_urgency)


def _urgency(item: RequestOverview) -> tuple[object, ...]:
    if item.open:
        return (0, item.request.due_date, item.request.filing_number)
    return (1, -item.request.due_date.toordinal(), item.request.filing_number)


@dataclass(frozen=True)
class RequestDetail:
    """One request in full for the dashboard: its overview, periods, lotes, attempts (without
    their bytes) and the officers' decisions."""

    overview: RequestOverview
    stored: StoredRequest
    lotes: list[LoteSummary]
    attempts: list[Attempt]
    approvals: list[Approval]

    @property
    def durations_ms(self) -> list[int]:
        return [attempt.duration_ms for attempt in self.attempts]


def request_detail(
    key: RequestKey,
    requests: RequestStore,
    lotes: LoteStore,
    *,
    builds: BuildStore,
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
        approvals=builds.approvals(key),
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
    delivered = None
    if stored.state in DELIVERED:
        moments = [s.acknowledged_at for s in acknowledged if s.acknowledged_at is not None]
        delivered = max(moments, default=stored.updated_at).astimezone(BOGOTA).date()
    return RequestOverview(
        request=stored,
        status=deadline_status(stored.due_date, today, holidays, delivered),
        lotes=len(summaries),
        lotes_acknowledged=len(acknowledged),
        attempts=lotes.attempt_count(stored.key),
        delivered_on=delivered,
        exposure=estimate_exposure(stored.due_date, delivered or today, uvt_values),
    )
