"""The legal deadline of a request (art. 10; SPEC §6).

``fechaVencimiento`` = the start of the term plus one calendar month (same day number, or the
last day of the month when it has none), moved to the next business day when it falls on a
Saturday, Sunday or Colombian holiday (Ley 4 de 1913 art. 62). The calendar of holidays is
passed in, so these functions stay pure; ``holidays.CO`` provides it in production.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from ugpp_bridge.domain.periods import add_months

SATURDAY = 5


def is_business_day(day: date, holidays: Container[date]) -> bool:
    return day.weekday() < SATURDAY and day not in holidays


def next_business_day(day: date, holidays: Container[date]) -> date:
    """``day`` itself when it is a business day, else the first business day after it."""
    while not is_business_day(day, holidays):
        day += timedelta(days=1)
    return day


def due_date(
    term_starts_on: date, holidays: Container[date], *, starts_next_day: bool = False
) -> date:
    """The last day to deliver; ``starts_next_day`` counts the month from the day after."""
    start = term_starts_on + timedelta(days=1) if starts_next_day else term_starts_on
    return next_business_day(add_months(start, 1), holidays)


def business_days_until(today: date, due: date, holidays: Container[date]) -> int:
    """Business days d with today < d ≤ due; when overdue, minus those with due < d ≤ today."""
    if due < today:
        return -business_days_until(due, today, holidays)
    span = (due - today).days
    return sum(
        1 for n in range(1, span + 1) if is_business_day(today + timedelta(days=n), holidays)
    )


class DeadlineKind(StrEnum):
    AHEAD = "ahead"  # before the due date
    TODAY = "today"  # the due date is today
    OVERDUE = "overdue"  # past the due date, not delivered
    ON_TIME = "on_time"  # delivered by the due date
    LATE = "late"  # delivered after the due date


@dataclass(frozen=True)
class DeadlineStatus:
    """Where a request stands against its deadline (SPEC §9, "Deadline display").

    ``days``: business days left when ahead; calendar days past the due date when overdue or
    delivered late; 0 otherwise. A request is overdue as soon as today (Bogotá) is after its due
    date, whatever the weekday: a weekend after a Friday deadline is two days overdue, never
    "due today".
    """

    kind: DeadlineKind
    days: int
    due: date

    @property
    def open(self) -> bool:
        return self.kind in (DeadlineKind.AHEAD, DeadlineKind.TODAY, DeadlineKind.OVERDUE)

    @property
    def late(self) -> bool:
        return self.kind in (DeadlineKind.OVERDUE, DeadlineKind.LATE)


def deadline_status(
    due: date, today: date, holidays: Container[date], delivered_on: date | None = None
) -> DeadlineStatus:
    """The status of a deadline ``due`` on ``today``, or of a delivery on ``delivered_on``."""
    if delivered_on is not None:
        late = (delivered_on - due).days
        if late > 0:
            return DeadlineStatus(DeadlineKind.LATE, late, due)
        return DeadlineStatus(DeadlineKind.ON_TIME, 0, due)
    if today > due:
        return DeadlineStatus(DeadlineKind.OVERDUE, (today - due).days, due)
    if today == due:
        return DeadlineStatus(DeadlineKind.TODAY, 0, due)
    return DeadlineStatus(DeadlineKind.AHEAD, business_days_until(today, due, holidays), due)
