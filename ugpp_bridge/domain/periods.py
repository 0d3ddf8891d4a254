"""Calendar periods (anio, mes) and month arithmetic."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from ugpp_bridge.errors import InvalidInputError

MIN_YEAR = 2000
MAX_YEAR = 2100


@dataclass(frozen=True, order=True)
class Period:
    """One requested (anio, mes); years 2000–2100 as the wire contract allows."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise InvalidInputError(
                f"The year {self.year} is outside {MIN_YEAR}–{MAX_YEAR}; send a year in range.",
                field="anio",
                value=self.year,
                reason="out_of_range",
            )
        if not 1 <= self.month <= 12:
            raise InvalidInputError(
                f"The month {self.month} is not between 1 and 12.",
                field="mes",
                value=self.month,
                reason="out_of_range",
            )

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def days(self) -> Iterator[date]:
        day = self.first_day
        while day.month == self.month:
            yield day
            day += timedelta(days=1)

    def contains(self, day: date) -> bool:
        return day.year == self.year and day.month == self.month

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def add_months(day: date, months: int) -> date:
    """The same day number ``months`` later; the last day of the month when it has none.

    2026-01-31 + 1 → 2026-02-28; 2028-01-31 + 1 → 2028-02-29.
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))
