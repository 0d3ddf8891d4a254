"""R1 — account movements, median daily balance and end balance (Resolución 1707 art. 2).

For each requested person P, each account whose principal holder is P, and each requested
month in which the account was open at least one day, one ``AccountMonthRecord``.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ugpp_bridge.domain.codes import AccountType, TransactionKind
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.money import to_pesos
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.domain.source import Account, DailyBalance, Transaction, group_by
from ugpp_bridge.errors import InvalidInputError, SourceDataError, SourceProblem

DEFAULT_ACCOUNT_NUMBER_DIGITS = 4
EXCLUDED_KINDS = frozenset({TransactionKind.RETURNED_CHEQUE, TransactionKind.OWN_TRANSFER})


@dataclass(frozen=True)
class AccountMonthRecord:
    """One ``cuenta`` of the report: amounts already in whole pesos."""

    person: PersonId
    period: Period
    account_type: AccountType
    account_number: str
    credits_value: int
    credits_count: int
    debits_value: int
    debits_count: int
    median_daily_balance: int
    end_balance: int
    account_id: str  # source key, kept for ordering and diagnostics; never sent


ASCII_DIGITS = frozenset("0123456789")  # only these are sent: the XSD allows no others


def account_number_suffix(account_number: str, digits: int = DEFAULT_ACCOUNT_NUMBER_DIGITS) -> str:
    """The last ``digits`` digits of an account number (art. 2 asks for at least four)."""
    if digits < 4:
        raise InvalidInputError(
            "The resolution asks for at least the last four digits of the account number.",
            field="account_number_digits",
            value=digits,
        )
    only_digits = "".join(ch for ch in account_number if ch in ASCII_DIGITS)
    if not only_digits:
        raise InvalidInputError("An account number must hold digits (0-9).", field="account_number")
    return only_digits[-digits:]


def upper_median(values: Sequence[Decimal]) -> Decimal:
    """Position (n+1)/2 for n odd, (n+2)/2 for n even (1-based): ``sorted(values)[n // 2]``.

    Not ``statistics.median`` (which averages) and not ``percentile_disc(0.5)`` (the lower one).
    """
    if not values:
        raise ValueError("upper_median of no values")
    return sorted(values)[len(values) // 2]


def daily_balances_for(days: Sequence[date], rows: Sequence[DailyBalance]) -> list[Decimal]:
    """The balance of each day: the latest row on or before it, carried forward; 0 before any.

    ``rows`` must be sorted by date with at most one row per date.
    """
    dates = [row.balance_date for row in rows]
    balances: list[Decimal] = []
    for day in days:
        position = bisect.bisect_right(dates, day)
        balances.append(rows[position - 1].balance if position else Decimal(0))
    return balances


def is_excluded(movement: Transaction, own_accounts: frozenset[str]) -> bool:
    """Returned cheques, own transfers, and transfers to or from the holder's own accounts."""
    if movement.kind in EXCLUDED_KINDS:
        return True
    return movement.counterparty_account_id in own_accounts


def account_month_records(
    accounts: Iterable[Account],
    transactions: Iterable[Transaction],
    daily_balances: Iterable[DailyBalance],
    periods: Iterable[Period],
    account_number_digits: int = DEFAULT_ACCOUNT_NUMBER_DIGITS,
) -> list[AccountMonthRecord]:
    """R1 for every account given and every period, ordered by account then period."""
    accounts = list(accounts)
    periods = sorted(set(periods))
    movements = group_by(transactions, lambda movement: movement.account_id)
    balances = _sorted_balances(daily_balances)
    own_by_holder: dict[PersonId, set[str]] = defaultdict(set)
    for account in accounts:
        own_by_holder[account.holder].add(account.account_id)
    records = []
    for account in accounts:
        own = frozenset(own_by_holder[account.holder])
        for period in periods:
            record = _account_month(
                account,
                period,
                movements.get(account.account_id, []),
                balances.get(account.account_id, []),
                own,
                account_number_digits,
            )
            if record is not None:
                records.append(record)
    return records


def _account_month(
    account: Account,
    period: Period,
    movements: Sequence[Transaction],
    balances: Sequence[DailyBalance],
    own_accounts: frozenset[str],
    digits: int,
) -> AccountMonthRecord | None:
    days = account.open_days(period)
    if not days:
        return None
    counted = [
        movement
        for movement in movements
        if period.contains(movement.booked_on) and not is_excluded(movement, own_accounts)
    ]
    credits = [movement.amount for movement in counted if movement.amount > 0]
    debits = [-movement.amount for movement in counted if movement.amount < 0]
    day_balances = daily_balances_for(days, balances)
    return AccountMonthRecord(
        person=account.holder,
        period=period,
        account_type=account.account_type,
        account_number=account_number_suffix(account.account_number, digits),
        credits_value=to_pesos(sum(credits, Decimal(0))),
        credits_count=len(credits),
        debits_value=to_pesos(sum(debits, Decimal(0))),
        debits_count=len(debits),
        median_daily_balance=to_pesos(upper_median(day_balances)),
        end_balance=to_pesos(day_balances[-1]),
        account_id=account.account_id,
    )


def _sorted_balances(rows: Iterable[DailyBalance]) -> dict[str, list[DailyBalance]]:
    """Balance rows per account, by date; two rows for one account and date are bad data."""
    grouped = group_by(rows, lambda row: row.account_id)
    duplicates: list[str] = []
    for account_id, account_rows in grouped.items():
        account_rows.sort(key=lambda row: row.balance_date)
        for before, after in zip(account_rows, account_rows[1:], strict=False):
            if before.balance_date == after.balance_date:
                duplicates.append(f"{account_id}@{after.balance_date.isoformat()}")
    if duplicates:
        raise SourceDataError(
            [
                SourceProblem(
                    "daily_balances",
                    "balance_date",
                    "more than one balance for the same account and date",
                    tuple(sorted(duplicates)[:5]),
                )
            ]
        )
    return grouped
