"""R1 — account movements, upper median of daily balances, end balance (art. 2)."""

from __future__ import annotations

import statistics
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.builders import ANA, BETO, account, balance, move
from ugpp_bridge.domain.accounts import (
    AccountMonthRecord,
    account_month_records,
    account_number_suffix,
    upper_median,
)
from ugpp_bridge.domain.codes import TransactionKind
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.errors import InvalidInputError, SourceDataError

JAN = Period(2025, 1)
FEB = Period(2025, 2)
MAR = Period(2025, 3)


def one(records: list[AccountMonthRecord]) -> AccountMonthRecord:
    assert len(records) == 1, records
    return records[0]


def dec(*values: int) -> list[Decimal]:
    return [Decimal(v) for v in values]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([7], 7, id="n=1"),
        pytest.param([3, 1, 2], 2, id="n odd: position (n+1)/2"),
        pytest.param([1, 2, 3, 4], 3, id="n even: position (n+2)/2, not the average 2.5"),
        pytest.param([10, 40, 20, 30, 50, 60], 40, id="n even, unsorted input"),
        pytest.param([-5, -1, -3, -2], -2, id="all negative, n even"),
        pytest.param([-5, -1, -3], -3, id="all negative, n odd"),
        pytest.param([-100, 0, 100, 200], 100, id="negatives mixed with positives"),
        pytest.param([5, 5, 1, 1], 5, id="ties"),
    ],
)
def test_upper_median_takes_sorted_values_at_n_div_2(values: list[int], expected: int) -> None:
    assert upper_median(dec(*values)) == Decimal(expected)


def test_upper_median_is_neither_the_average_nor_the_lower_median() -> None:
    values = dec(1, 2, 3, 4)
    assert upper_median(values) != statistics.median(values)
    assert upper_median(values) != statistics.median_low(values)
    assert upper_median(values) == statistics.median_high(values)


@given(st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=40))
def test_upper_median_agrees_with_median_high_on_any_list(values: list[int]) -> None:
    assert upper_median(dec(*values)) == statistics.median_high(dec(*values))


def test_account_open_from_the_20th_counts_only_its_open_days() -> None:
    # Open 12 days (20..31): 5 days at 100 then 7 at 300 → sorted[6] = 300.
    records = account_month_records(
        [account(opened="2025-01-20")],
        [],
        [balance("2025-01-20", "100"), balance("2025-01-25", "300")],
        [JAN],
    )
    record = one(records)
    assert (record.median_daily_balance, record.end_balance) == (300, 300)


def test_account_closed_on_the_3rd_reports_three_days_and_nothing_after() -> None:
    records = account_month_records(
        [account(opened="2024-06-01", closed="2025-02-03")],
        [move("2025-02-01", "40")],
        [balance("2025-01-31", "500"), balance("2025-02-02", "50")],
        [FEB, MAR],
    )
    record = one(records)
    assert record.period == FEB
    # Days 1, 2, 3 → 500, 50, 50 → sorted [50, 50, 500] → 50; end = day 3 = 50.
    assert (record.median_daily_balance, record.end_balance) == (50, 50)
    assert (record.credits_value, record.credits_count) == (40, 1)


def test_sparse_balances_carry_forward_across_the_month_boundary() -> None:
    # 20 days at 1,000 carried from December, then 11 days at 2,000 → sorted[15] = 1,000.
    # Treating the days without a row as 0 would give 0 instead.
    records = account_month_records(
        [account()],
        [],
        [balance("2024-12-28", "1000"), balance("2025-01-21", "2000")],
        [JAN],
    )
    record = one(records)
    assert (record.median_daily_balance, record.end_balance) == (1000, 2000)


def test_days_before_any_balance_row_count_as_zero() -> None:
    # 30 days at 0, 1 day at 900 → median 0, end 900.
    records = account_month_records([account()], [], [balance("2025-01-31", "900")], [JAN])
    assert (one(records).median_daily_balance, one(records).end_balance) == (0, 900)


def test_an_account_with_no_balance_rows_reports_zero_balances() -> None:
    record = one(account_month_records([account()], [], [], [JAN]))
    assert (record.median_daily_balance, record.end_balance, record.credits_count) == (0, 0, 0)


def test_negative_end_balance_keeps_its_sign() -> None:
    records = account_month_records(
        [account()],
        [],
        [balance("2025-01-01", "-10"), balance("2025-01-31", "-250.50")],
        [JAN],
    )
    assert (one(records).median_daily_balance, one(records).end_balance) == (-10, -251)


def test_returned_cheques_are_not_counted_as_credits_or_debits() -> None:
    movements = [
        move("2025-01-05", "500000", TransactionKind.RETURNED_CHEQUE),
        move("2025-01-07", "-500000", TransactionKind.RETURNED_CHEQUE),
        move("2025-01-10", "100"),
    ]
    record = one(account_month_records([account()], movements, [], [JAN]))
    assert (record.credits_value, record.credits_count) == (100, 1)
    assert (record.debits_value, record.debits_count) == (0, 0)


def test_own_transfer_flagged_by_kind_is_excluded() -> None:
    movements = [move("2025-01-05", "-300", TransactionKind.OWN_TRANSFER), move("2025-01-06", "-7")]
    record = one(account_month_records([account()], movements, [], [JAN]))
    assert (record.debits_value, record.debits_count) == (7, 1)


def test_transfer_to_an_account_of_the_same_holder_is_excluded_by_counterparty() -> None:
    accounts = [account("A1"), account("A2", number="9999-8888"), account("B1", holder=BETO)]
    movements = [
        move("2025-01-05", "-200", counterparty="A2", account_id="A1"),
        move("2025-01-05", "200", counterparty="A1", account_id="A2"),
        move("2025-01-06", "-150", counterparty="B1", account_id="A1"),  # another person
        move("2025-01-07", "-30", counterparty="X-unknown", account_id="A1"),  # outside the bank
    ]
    records = account_month_records(accounts, movements, [], [JAN])
    by_account = {record.account_id: record for record in records}
    assert (by_account["A1"].debits_value, by_account["A1"].debits_count) == (180, 2)
    assert (by_account["A2"].credits_value, by_account["A2"].credits_count) == (0, 0)


def test_zero_amounts_are_neither_credits_nor_debits() -> None:
    record = one(account_month_records([account()], [move("2025-01-05", "0.00")], [], [JAN]))
    assert (record.credits_count, record.debits_count) == (0, 0)


def test_debits_are_reported_as_absolute_values() -> None:
    movements = [move("2025-01-02", "-10.25"), move("2025-01-03", "-20.25")]
    record = one(account_month_records([account()], movements, [], [JAN]))
    assert (record.debits_value, record.debits_count) == (31, 2)  # 30.50 → 31


def test_amounts_are_summed_in_centavos_before_rounding_to_pesos() -> None:
    # Three credits of 0.50: the sum 1.50 rounds to 2; rounding each first would give 3.
    movements = [move("2025-01-02", "0.50"), move("2025-01-03", "0.50"), move("2025-01-04", "0.50")]
    record = one(account_month_records([account()], movements, [], [JAN]))
    assert (record.credits_value, record.credits_count) == (2, 3)


def test_movements_booked_in_other_months_are_not_counted() -> None:
    movements = [move("2024-12-31", "5"), move("2025-01-15", "7"), move("2025-02-01", "11")]
    record = one(account_month_records([account()], movements, [], [JAN]))
    assert (record.credits_value, record.credits_count) == (7, 1)


def test_no_record_for_a_month_before_the_account_opens() -> None:
    assert account_month_records([account(opened="2025-02-01")], [], [], [JAN]) == []


def test_a_month_with_no_movements_still_gives_a_record_while_open() -> None:
    records = account_month_records([account()], [], [balance("2024-05-01", "10")], [JAN, FEB])
    assert [(r.period, r.median_daily_balance) for r in records] == [(JAN, 10), (FEB, 10)]


def test_two_balance_rows_for_one_day_are_bad_source_data() -> None:
    rows = [balance("2025-01-02", "1"), balance("2025-01-02", "2")]
    with pytest.raises(SourceDataError, match="A1@2025-01-02"):
        account_month_records([account()], [], rows, [JAN])


@pytest.mark.parametrize(
    ("number", "digits", "expected"),
    [
        ("001-234567-89", 4, "6789"),
        ("0012345678", 6, "345678"),
        ("12", 4, "12"),
        ("12\u0663\u0664-5678", 4, "5678"),  # Arabic-Indic digits are not sent (the XSD: 0-9)
        ("9\uff18\uff17-12", 4, "912"),  # nor full-width ones
    ],
)
def test_account_number_keeps_only_its_last_digits(number: str, digits: int, expected: str) -> None:
    assert account_number_suffix(number, digits) == expected


def test_an_account_number_without_an_ascii_digit_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="0-9"):
        account_number_suffix("CTA-\u0661\u0662\u0663\u0664", 4)


def test_fewer_than_four_account_digits_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="at least the last four"):
        account_number_suffix("12345678", 3)


def test_the_record_carries_holder_type_and_masked_number() -> None:
    record = one(account_month_records([account(number="123-456-7890")], [], [], [JAN]))
    assert (record.person, record.account_number, int(record.account_type)) == (ANA, "7890", 1)
