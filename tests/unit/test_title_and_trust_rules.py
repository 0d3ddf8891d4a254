"""R2 — CDTs and other titles (art. 3); R3 — fiduciary yields (art. 4)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit.builders import ANA, BETO, event, payment, title
from ugpp_bridge.domain.codes import MovementType, TitleEventKind
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.domain.titles import title_month_records
from ugpp_bridge.domain.trust import trust_yield_records
from ugpp_bridge.errors import InvalidInputError, SourceDataError

ISSUE, RENEWAL, CANCEL = TitleEventKind.ISSUE, TitleEventKind.RENEWAL, TitleEventKind.CANCELLATION
YEAR_2025 = [Period(2025, month) for month in range(1, 13)]


def rows(records: list) -> list[tuple[str, int, int, int]]:  # type: ignore[type-arg]
    return [(str(r.period), int(r.movement_type), r.value, r.balance) for r in records]


def test_cdt_issued_renewed_and_cancelled_in_three_different_months() -> None:
    events = [
        event("2025-01-15", ISSUE, "1000000.00"),
        event("2025-04-15", RENEWAL, "25000.40"),  # capitalised yields only, not a new deposit
        event("2025-07-15", CANCEL, "1025000.40"),
    ]
    records = title_month_records([title()], events, YEAR_2025[:8])
    assert rows(records) == [
        ("2025-01", 1, 1_000_000, 1_000_000),
        ("2025-02", 4, 1_000_000, 1_000_000),
        ("2025-03", 4, 1_000_000, 1_000_000),
        ("2025-04", 2, 25_000, 1_025_000),
        ("2025-05", 4, 1_025_000, 1_025_000),
        ("2025-06", 4, 1_025_000, 1_025_000),
        ("2025-07", 3, 1_025_000, 0),
    ]


def test_a_title_issued_before_the_period_is_reported_as_vigente_each_month() -> None:
    records = title_month_records([title()], [event("2023-03-01", ISSUE, "500.50")], YEAR_2025[:3])
    assert rows(records) == [
        ("2025-01", 4, 501, 501),
        ("2025-02", 4, 501, 501),
        ("2025-03", 4, 501, 501),
    ]


def test_a_title_issued_after_the_period_is_not_reported() -> None:
    assert title_month_records([title()], [event("2025-06-01", ISSUE, "1")], YEAR_2025[:5]) == []


def test_issue_and_cancellation_in_one_month_give_two_records_in_date_order() -> None:
    events = [event("2025-03-20", CANCEL, "800"), event("2025-03-02", ISSUE, "800")]
    records = title_month_records([title()], events, [Period(2025, 3)])
    assert rows(records) == [("2025-03", 1, 800, 0), ("2025-03", 3, 800, 0)]


def test_on_the_same_day_an_issue_comes_before_its_cancellation() -> None:
    events = [event("2025-03-02", CANCEL, "800"), event("2025-03-02", ISSUE, "800")]
    records = title_month_records([title()], events, [Period(2025, 3)])
    assert [r.movement_type for r in records] == [MovementType.ISSUE, MovementType.CANCELLATION]


def test_saldo_is_the_principal_at_month_end_even_on_an_early_event() -> None:
    events = [event("2024-01-01", ISSUE, "1000"), event("2025-02-01", RENEWAL, "10")]
    events.append(event("2025-02-27", RENEWAL, "5"))
    records = title_month_records([title()], events, [Period(2025, 2)])
    assert rows(records) == [("2025-02", 2, 10, 1015), ("2025-02", 2, 5, 1015)]


def test_negative_title_amounts_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="cannot be negative"):
        event("2025-01-01", ISSUE, "-1")


def test_title_records_carry_number_and_type() -> None:
    record = title_month_records(
        [title(number="CDT-77")], [event("2025-01-02", ISSUE, "1")], [Period(2025, 1)]
    )[0]
    assert (record.title_number, int(record.title_type), record.person) == ("CDT-77", 4, ANA)


def test_fiduciary_payments_from_fideicomisos_are_excluded() -> None:
    payments = [
        payment("2025-02-01", "100.25"),
        payment("2025-06-01", "200.25"),
        payment("2025-07-01", "999", fideicomiso=True),
    ]
    records = trust_yield_records(payments, YEAR_2025)
    assert [(r.person, r.year, r.amount_paid) for r in records] == [(ANA, 2025, 301)]


def test_a_person_with_only_fideicomiso_payments_gets_no_yield_record() -> None:
    assert trust_yield_records([payment("2025-07-01", "999", fideicomiso=True)], YEAR_2025) == []


def test_fiduciary_yields_are_one_record_per_requested_year() -> None:
    payments = [
        payment("2024-12-31", "10"),
        payment("2025-01-01", "20"),
        payment("2023-05-05", "40"),
    ]
    periods = [Period(2024, 12), Period(2025, 1)]
    records = trust_yield_records(payments, periods)
    assert [(r.year, r.amount_paid) for r in records] == [(2024, 10), (2025, 20)]


def test_a_year_whose_payments_add_to_zero_still_has_a_record() -> None:
    records = trust_yield_records([payment("2025-01-01", "0")], YEAR_2025)
    assert [(r.year, r.amount_paid) for r in records] == [(2025, 0)]


def test_payments_adding_up_to_a_negative_amount_are_bad_source_data() -> None:
    payments = [payment("2025-01-01", "10"), payment("2025-01-02", "-30", holder=ANA)]
    with pytest.raises(SourceDataError, match="trust_yield_payments.amount"):
        trust_yield_records(payments, YEAR_2025)


def test_fiduciary_yields_of_two_persons_stay_apart() -> None:
    payments = [payment("2025-01-01", "10"), payment("2025-01-01", "7", holder=BETO)]
    totals = {r.person: r.amount_paid for r in trust_yield_records(payments, YEAR_2025)}
    assert totals == {ANA: 10, BETO: 7}
    assert Decimal(totals[ANA]) == Decimal(10)
