"""The estimated sanction when a request is answered late (art. 11; SPEC §6).

Months late ``m`` is the smallest m ≥ 1 with delivery ≤ deadline + m months; each m maps to a
number of UVT, capped at 15,000 UVT. Pesos = UVT × the UVT value of the year. This is always an
estimate: UGPP's sanction procedure decides the real figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from ugpp_bridge.domain.periods import add_months
from ugpp_bridge.errors import ConfigurationError

UVT_BY_MONTHS_LATE: tuple[int, ...] = (
    30, 90, 240, 450, 750, 1_200, 1_950, 3_150, 4_800, 7_200, 10_500, 15_000,
)  # fmt: skip
MAX_UVT = UVT_BY_MONTHS_LATE[-1]
UVT_VALUE_COP: Mapping[int, int] = {
    2019: 34_270,
    2020: 35_607,
    2021: 36_308,
    2022: 38_004,
    2023: 42_412,
    2024: 47_065,
    2025: 49_799,
    2026: 52_374,
}


@dataclass(frozen=True)
class ExposureEstimate:
    """An estimate, never a liquidation: months late, UVT and pesos at the year's UVT value."""

    months_late: int
    uvt: int
    cop: int
    uvt_year: int

    @property
    def is_late(self) -> bool:
        return self.months_late > 0


def months_late(due: date, delivered_on: date) -> int:
    """0 when delivered by the deadline; else the smallest m ≥ 1 with delivery ≤ due + m months."""
    if delivered_on <= due:
        return 0
    months = 1
    while delivered_on > add_months(due, months):
        months += 1
    return months


def uvt_for_months_late(months: int) -> int:
    if months <= 0:
        return 0
    return UVT_BY_MONTHS_LATE[min(months, len(UVT_BY_MONTHS_LATE)) - 1]


def estimate_exposure(
    due: date, delivered_on: date, uvt_values: Mapping[int, int] = UVT_VALUE_COP
) -> ExposureEstimate:
    """Exposure if delivered on ``delivered_on`` (today, for a request still open).

    The UVT value is that of the delivery year; a year with no value configured is an error
    that names the setting, because a silent zero would hide the risk.
    """
    months = months_late(due, delivered_on)
    uvt = uvt_for_months_late(months)
    year = delivered_on.year
    if months and year not in uvt_values:
        raise ConfigurationError(
            f"No UVT value is configured for {year}; set UGPP_BRIDGE_UVT_VALUES "
            f"(for example '{year}=52374').",
            setting="UGPP_BRIDGE_UVT_VALUES",
        )
    return ExposureEstimate(months, uvt, uvt * uvt_values.get(year, 0), year)
