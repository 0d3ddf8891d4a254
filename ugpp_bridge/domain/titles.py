"""R2 — CDTs and other titles (Resolución 1707 art. 3).

For each title whose principal holder is a requested person and each requested month:
every issue, renewal or cancellation in the month is one record (tipoMovimiento 1, 2, 3) in
date order, ``valor`` = the event amount; a title with no event in the month that was
outstanding during it is one record with tipoMovimiento 4 (Vigente), ``valor`` = the outstanding
principal at month end. ``saldo`` on every record is the outstanding principal at month end:
issues + renewals − cancellations up to that day.

"Outstanding during a month without events" is read as: the outstanding principal (constant
through such a month) is greater than zero. A title whose cancellations brought the principal
to zero is no longer outstanding; one issued after the month is not yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ugpp_bridge.domain.codes import MovementType, TitleEventKind, TitleType
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.money import to_pesos
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.domain.source import Title, TitleEvent, group_by

_EVENT_ORDER = {TitleEventKind.ISSUE: 0, TitleEventKind.RENEWAL: 1, TitleEventKind.CANCELLATION: 2}


@dataclass(frozen=True)
class TitleMonthRecord:
    """One ``inversion`` of the report: amounts in whole pesos."""

    person: PersonId
    period: Period
    title_number: str
    title_type: TitleType
    movement_type: MovementType
    value: int
    balance: int
    title_id: str  # source key, kept for ordering and diagnostics; never sent


def event_sort_key(event: TitleEvent) -> tuple[object, ...]:
    """Date order; on one date an issue comes before a renewal before a cancellation."""
    return (event.event_date, _EVENT_ORDER[event.event], event.amount)


def outstanding_principal(events: Sequence[TitleEvent], period: Period) -> Decimal:
    """Issues + renewals − cancellations dated on or before the last day of ``period``."""
    end = period.last_day
    return sum((e.principal_change for e in events if e.event_date <= end), Decimal(0))


def title_month_records(
    titles: Iterable[Title], events: Iterable[TitleEvent], periods: Iterable[Period]
) -> list[TitleMonthRecord]:
    """R2 for every title given and every period, ordered by title, period, event."""
    by_title = group_by(events, lambda event: event.title_id)
    periods = sorted(set(periods))
    records: list[TitleMonthRecord] = []
    for title in titles:
        title_events = sorted(by_title.get(title.title_id, []), key=event_sort_key)
        for period in periods:
            records.extend(_title_month(title, title_events, period))
    return records


def _title_month(
    title: Title, events: Sequence[TitleEvent], period: Period
) -> list[TitleMonthRecord]:
    balance = outstanding_principal(events, period)
    in_month = [event for event in events if period.contains(event.event_date)]
    if in_month:
        movements = [(event.event.movement_type, event.amount) for event in in_month]
    elif balance > 0:
        movements = [(MovementType.OUTSTANDING, balance)]
    else:
        return []
    return [
        TitleMonthRecord(
            person=title.holder,
            period=period,
            title_number=title.title_number,
            title_type=title.title_type,
            movement_type=movement_type,
            value=to_pesos(value),
            balance=to_pesos(balance),
            title_id=title.title_id,
        )
        for movement_type, value in movements
    ]
