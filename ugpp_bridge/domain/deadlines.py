"""The legal deadline of a request (art. 10; SPEC §6).

``fechaVencimiento`` = the start of the term plus one calendar month (same day number, or the
last day of the month when it has none), moved to the next business day when it falls on a
Saturday, Sunday or Colombian holiday (Ley 4 de 1913 art. 62). The calendar of holidays is
passed in, so these functions stay pure; ``holidays.CO`` provides it in production.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import date, timedelta

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
