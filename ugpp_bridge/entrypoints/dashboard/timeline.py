"""The deadline timeline: one row per request from its receipt to its deadline, a marker for
the due date and a line for today — as HTML (links, text and positions in %), so it reads on
a phone and to a screen reader, and its colours always come with words.

The span starts at the earliest receipt or due date shown, so the most overdue request is on
the chart; rows are labelled by radicado, as the table is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ugpp_bridge.domain.filing import BOGOTA
from ugpp_bridge.domain.labels import deadline_text
from ugpp_bridge.entrypoints.dashboard.texts import deadline_class, deadline_symbol
from ugpp_bridge.service.overview import RequestOverview

MAX_ROWS = 40


@dataclass(frozen=True)
class Row:
    filing_number: str
    left: float  # % of the span where the bar starts (receipt)
    width: float  # % the bar spans (to the due date)
    due: float  # % where the due date is
    css: str
    symbol: str
    words: str  # the deadline in words, beside the colour


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Timeline:
    rows: list[Row]
    ticks: list[Tick]
    today: float
    start: date
    end: date


def timeline(items: list[RequestOverview], today: date) -> Timeline | None:
    """The chart of the most urgent requests (open ones first), or None when there are none."""
    chosen = items[:MAX_ROWS]  # the overview's order: open and most urgent first
    if not chosen:
        return None
    received = [i.request.received_at.astimezone(BOGOTA).date() for i in chosen]
    dues = [i.request.due_date for i in chosen]
    start = min([*received, *dues, today]) - timedelta(days=2)
    end = max([*dues, today]) + timedelta(days=3)
    span = max((end - start).days, 1)

    def at(day: date) -> float:
        return round(100 * (day - start).days / span, 2)

    rows = [
        Row(
            filing_number=item.request.filing_number,
            left=at(got),
            width=max(at(item.request.due_date) - at(got), 0.6),
            due=at(item.request.due_date),
            css=deadline_class(item.status),
            symbol=deadline_symbol(item.status),
            words=deadline_text(item.status),
        )
        for item, got in zip(chosen, received, strict=True)
    ]
    step = max(span // 6, 1)
    ticks = [
        Tick(at(start + timedelta(days=d)), f"{start + timedelta(days=d):%d/%m}")
        for d in range(0, span + 1, step)
    ]
    return Timeline(rows, ticks, at(today), start, end)
