"""The deadline timeline chart: one bar per request from its receipt to its deadline, a line
for today, drawn as SVG on the server (no script, nothing fetched)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ugpp_bridge.domain.filing import BOGOTA
from ugpp_bridge.entrypoints.dashboard.texts import urgency
from ugpp_bridge.service.overview import RequestOverview

WIDTH, LABEL, ROW, TOP = 900, 190, 22, 28
MAX_ROWS = 40


@dataclass(frozen=True)
class Bar:
    label: str
    filing_number: str
    y: int
    x: float
    width: float
    due_x: float
    css: str
    title: str


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    today_x: float
    label_width: int = LABEL


def timeline(items: list[RequestOverview], today: date) -> Timeline | None:
    """The chart of the most urgent requests (open ones first), or None when there are none."""
    chosen = sorted(items, key=lambda i: (not i.open, i.request.due_date))[:MAX_ROWS]
    if not chosen:
        return None
    received = [i.request.received_at.astimezone(BOGOTA).date() for i in chosen]
    start = min([*received, today]) - timedelta(days=2)
    end = max([*(i.request.due_date for i in chosen), today]) + timedelta(days=3)
    span = max((end - start).days, 1)

    def x(day: date) -> float:
        return round(LABEL + (WIDTH - LABEL - 10) * (day - start).days / span, 1)

    bars = [
        Bar(
            label=item.request.request_id[:26],
            filing_number=item.request.filing_number,
            y=TOP + n * ROW,
            x=x(day),
            width=max(x(item.request.due_date) - x(day), 2.0),
            due_x=x(item.request.due_date),
            css=urgency(item.business_days_left, item.open),
            title=f"{item.request.filing_number}: recibida {day}, vence {item.request.due_date}",
        )
        for n, (item, day) in enumerate(zip(chosen, received, strict=True))
    ]
    step = max(span // 8, 1)
    ticks = [
        Tick(x(start + timedelta(days=d)), f"{start + timedelta(days=d):%d/%m}")
        for d in range(0, span + 1, step)
    ]
    return Timeline(WIDTH, TOP + len(bars) * ROW + 10, bars, ticks, x(today))
