"""SPEC §6: the deadline (art. 10; Ley 4 de 1913 art. 62) and the exposure estimate (art. 11)."""

from __future__ import annotations

from datetime import date

import pytest

from ugpp_bridge.adapters.calendar import colombian_holidays
from ugpp_bridge.domain.deadlines import business_days_until, due_date, next_business_day
from ugpp_bridge.domain.exposure import estimate_exposure, months_late, uvt_for_months_late
from ugpp_bridge.domain.periods import add_months
from ugpp_bridge.errors import ConfigurationError

CO = colombian_holidays()


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2026-01-31", 1, "2026-02-28"),
        ("2028-01-31", 1, "2028-02-29"),
        ("2026-03-31", 1, "2026-04-30"),
        ("2026-12-15", 1, "2027-01-15"),
        ("2026-11-30", 3, "2027-02-28"),
    ],
)
def test_adding_months_clamps_to_the_last_day_of_the_month(
    start: str, months: int, expected: str
) -> None:
    assert add_months(d(start), months) == d(expected)


@pytest.mark.parametrize(
    ("term_starts", "expected", "why"),
    [
        ("2026-11-05", "2026-12-07", "Dec 5 is a Saturday"),
        ("2026-11-04", "2026-12-04", "a Friday, business day"),
        ("2025-01-31", "2025-02-28", "clamped to Feb 28, a Friday"),
        ("2028-01-31", "2028-02-29", "clamped to Feb 29 in a leap year, a Tuesday"),
        ("2027-01-31", "2027-03-01", "clamped to Feb 28, a Sunday → Monday"),
        ("2026-11-08", "2026-12-09", "Dec 8 (Immaculate Conception) is a holiday"),
        ("2025-12-12", "2026-01-13", "Jan 12 is Epiphany moved to Monday"),
        ("2026-11-25", "2026-12-28", "Christmas Friday, then the weekend"),
        ("2026-03-02", "2026-04-06", "Maundy Thursday and Good Friday, then the weekend"),
        ("2026-05-18", "2026-06-18", "an ordinary Thursday"),
        ("2026-05-08", "2026-06-09", "June 8 is Corpus Christi moved to Monday"),
    ],
)
def test_due_date_is_one_month_later_on_the_next_business_day(
    term_starts: str, expected: str, why: str
) -> None:
    assert due_date(d(term_starts), CO) == d(expected), why


def test_the_next_day_option_starts_the_count_a_day_later() -> None:
    assert due_date(d("2026-11-04"), CO) == d("2026-12-04")
    assert due_date(d("2026-11-04"), CO, starts_next_day=True) == d("2026-12-07")


def test_the_calendar_is_passed_in_so_any_holiday_set_can_be_used() -> None:
    assert next_business_day(d("2026-12-04"), {d("2026-12-04")}) == d("2026-12-07")
    assert next_business_day(d("2026-12-04"), set()) == d("2026-12-04")


@pytest.mark.parametrize(
    ("today", "due", "expected"),
    [
        ("2026-12-04", "2026-12-07", 1),  # Saturday and Sunday do not count
        ("2026-12-07", "2026-12-10", 2),  # Dec 8 is a holiday
        ("2026-12-07", "2026-12-07", 0),
        ("2026-12-07", "2026-12-04", -1),
    ],
)
def test_business_days_until_the_deadline(today: str, due: str, expected: int) -> None:
    assert business_days_until(d(today), d(due), CO) == expected


@pytest.mark.parametrize(
    ("due", "delivered", "months"),
    [
        ("2026-12-07", "2026-12-07", 0),
        ("2026-12-07", "2026-12-01", 0),
        ("2026-12-07", "2026-12-08", 1),  # one day late is a whole month
        ("2026-12-07", "2027-01-07", 1),
        ("2026-12-07", "2027-01-08", 2),
        ("2026-01-31", "2026-02-28", 1),
        ("2026-01-31", "2026-03-01", 2),
        ("2026-12-07", "2028-12-08", 25),
    ],
)
def test_months_late_counts_months_or_fractions(due: str, delivered: str, months: int) -> None:
    assert months_late(d(due), d(delivered)) == months


@pytest.mark.parametrize(
    ("months", "uvt"),
    [(0, 0), (1, 30), (2, 90), (3, 240), (6, 1200), (11, 10500), (12, 15000), (40, 15000)],
)
def test_uvt_by_months_late_is_capped_at_15000(months: int, uvt: int) -> None:
    assert uvt_for_months_late(months) == uvt


def test_one_day_late_is_30_uvt_at_the_year_value() -> None:
    estimate = estimate_exposure(d("2026-12-07"), d("2026-12-08"))
    assert (estimate.months_late, estimate.uvt, estimate.cop) == (1, 30, 30 * 52_374)
    assert estimate.is_late


def test_the_cap_applies_after_a_year_late() -> None:
    estimate = estimate_exposure(d("2025-01-10"), d("2026-06-01"))
    assert (estimate.uvt, estimate.cop, estimate.uvt_year) == (15_000, 15_000 * 52_374, 2026)


def test_on_time_costs_nothing() -> None:
    estimate = estimate_exposure(d("2026-12-07"), d("2026-12-07"))
    assert (estimate.months_late, estimate.cop, estimate.is_late) == (0, 0, False)


def test_a_year_without_a_uvt_value_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="UGPP_BRIDGE_UVT_VALUES"):
        estimate_exposure(d("2029-12-07"), d("2030-01-05"))
    estimate = estimate_exposure(d("2029-12-07"), d("2030-01-05"), {2030: 60_000})
    assert estimate.cop == 30 * 60_000
