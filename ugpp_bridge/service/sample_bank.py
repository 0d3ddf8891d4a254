"""Synthetic but realistic bank data, reproducible for a seed (``ugpp-bridge source sample``).

Each person gets a profile drawn from the seed: savings and current accounts (some opened
mid-year, some closed), movements with salaries, purchases, a few per cent of returned cheques
(deposit and reversal, both flagged) and own transfers (some flagged by ``kind``, some only
recognisable through ``counterparty_account_id``), transfers to other people, zero-amount
movements, sparse end-of-day balances that follow the movements (overdrafts on current
accounts), CDTs and other titles with renewals and cancellations, and fiduciary yield payments,
some from fideicomisos. About one person in ten has nothing in the sample year.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

from ugpp_bridge.domain.codes import AccountType, TitleEventKind, TitleType, TransactionKind
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.source import (
    Account,
    DailyBalance,
    SourceData,
    Title,
    TitleEvent,
    Transaction,
    TrustYieldPayment,
)

DEFAULT_SAMPLE_YEAR = 2025
V = TypeVar("V")
_DOC_TYPES = (("CC", 80), ("CE", 5), ("PT", 5), ("NI", 4), ("TI", 3), ("PA", 3))
_DOC_BASE = {"CC": 10_000_000, "CE": 300_000, "PT": 5_000_000, "NI": 900_000_000}
_ACCOUNT_TYPES = ((AccountType.SAVINGS, 70), (AccountType.CURRENT, 20), (AccountType.AFC, 4))
_OTHER_ACCOUNT_TYPES = (AccountType.SIMPLIFIED_SAVINGS, AccountType.ELECTRONIC_DEPOSIT)
_TITLE_TYPES = ((TitleType.CDT, 70), (TitleType.CDAT, 15), (TitleType.ORDINARY_BOND, 6))
_OTHER_TITLE_TYPES = (TitleType.SUBORDINATED_BOND, TitleType.OTHER, TitleType.PLEDGE_BOND)


def money(rng: random.Random, low_pesos: int, high_pesos: int) -> Decimal:
    """A random amount with centavos between the bounds, exact."""
    return Decimal(rng.randint(low_pesos * 100, high_pesos * 100)).scaleb(-2)


def _weighted(rng: random.Random, table: tuple[tuple[V, int], ...]) -> V:
    values = [value for value, _ in table]
    weights = [weight for _, weight in table]
    return rng.choices(values, weights=weights)[0]


@dataclass
class _Ledger:
    """One account's movements and balances while they are generated."""

    account: Account
    balance: Decimal
    overdraft: bool
    dense: bool
    movements: list[Transaction] = field(default_factory=list)
    balances: list[DailyBalance] = field(default_factory=list)

    def book(
        self, day: date, amount: Decimal, kind: TransactionKind, counterparty: str | None
    ) -> None:
        self.movements.append(Transaction(self.account.account_id, day, amount, kind, counterparty))
        self.balance += amount

    def can_pay(self, amount: Decimal) -> bool:
        return self.overdraft or self.balance >= amount


def sample_bank(persons: int, seed: int, year: int = DEFAULT_SAMPLE_YEAR) -> Iterator[SourceData]:
    """One ``SourceData`` per person, the same for the same arguments on every run."""
    rng = random.Random(f"ugpp-bridge-sample:{seed}:{year}")
    for index in range(persons):
        yield _person_data(rng, index, year)


def sample_person(index: int, rng: random.Random) -> PersonId:
    doc_type = _weighted(rng, _DOC_TYPES)
    if doc_type in ("TI",):
        return PersonId(doc_type, str(1_000_000_000 + index))
    if doc_type == "PA":
        return PersonId(doc_type, f"AX{index:07d}")
    return PersonId(doc_type, str(_DOC_BASE[doc_type] + index * 7))


def _person_data(rng: random.Random, index: int, year: int) -> SourceData:
    person = sample_person(index, rng)
    if rng.random() < 0.10:
        return _dormant(rng, index, person, year)
    ledgers = [_open_account(rng, index, k, person, year) for k in range(_account_count(rng))]
    _simulate(rng, ledgers, index, year)
    titles, events = _titles(rng, index, person, year)
    return SourceData(
        accounts=tuple(ledger.account for ledger in ledgers),
        transactions=tuple(m for ledger in ledgers for m in ledger.movements),
        daily_balances=tuple(b for ledger in ledgers for b in ledger.balances),
        titles=titles,
        title_events=events,
        trust_yield_payments=_trust_payments(rng, person, year),
    )


def _account_count(rng: random.Random) -> int:
    return _weighted(rng, ((1, 60), (2, 30), (3, 10)))


def _dormant(rng: random.Random, index: int, person: PersonId, year: int) -> SourceData:
    """A person whose only account closed before the sample year: nothing to report."""
    opened = date(year - 3, rng.randint(1, 12), rng.randint(1, 28))
    closed = date(year - 1, rng.randint(1, 11), rng.randint(1, 28))
    account = Account(
        f"A{index:07d}-0", person, AccountType.SAVINGS, _number(rng, index, 0), opened, closed
    )
    balance = DailyBalance(account.account_id, closed, Decimal(0))
    return SourceData(accounts=(account,), daily_balances=(balance,))


def _number(rng: random.Random, index: int, k: int) -> str:
    return f"{rng.randint(100, 999)}-{index:07d}{k}-{rng.randint(10, 99)}"


def _open_account(rng: random.Random, index: int, k: int, person: PersonId, year: int) -> _Ledger:
    account_type = (
        rng.choice(_OTHER_ACCOUNT_TYPES) if rng.random() < 0.06 else _weighted(rng, _ACCOUNT_TYPES)
    )
    if rng.random() < 0.3:
        opened = date(year, 1, 1) + timedelta(days=rng.randint(0, 330))
    else:
        opened = date(year - 3, 1, 1) + timedelta(days=rng.randint(0, 3 * 365 - 1))
    closed = None
    if rng.random() < 0.1:
        closed = max(opened, date(year, 1, 1)) + timedelta(days=rng.randint(1, 200))
        closed = min(closed, date(year, 12, 31))
    account = Account(
        f"A{index:07d}-{k}", person, account_type, _number(rng, index, k), opened, closed
    )
    start = money(rng, 0, 5_000_000) if opened < date(year, 1, 1) else Decimal(0)
    return _Ledger(account, start, account_type is AccountType.CURRENT, rng.random() < 0.05)


def _simulate(rng: random.Random, ledgers: list[_Ledger], index: int, year: int) -> None:
    """Movements day by day from two months before the year to its end."""
    first = date(year - 1, 11, 1)
    salaried = rng.random() < 0.6
    for ledger in ledgers:
        begin = max(first, ledger.account.opened_on)
        if ledger.balance and ledger.account.opened_on < begin:
            ledger.balances.append(
                DailyBalance(ledger.account.account_id, begin - timedelta(days=1), ledger.balance)
            )
    day = first
    while day <= date(year, 12, 31):
        booked = [len(ledger.movements) for ledger in ledgers]
        for ledger in ledgers:
            if ledger.account.is_open_on(day):
                _day_movements(rng, ledger, ledgers, index, day, salaried)
        for ledger, before in zip(ledgers, booked, strict=True):
            moved = len(ledger.movements) > before
            if ledger.account.is_open_on(day) and (moved or ledger.dense):
                ledger.balances.append(DailyBalance(ledger.account.account_id, day, ledger.balance))
        day += timedelta(days=1)


def _day_movements(
    rng: random.Random,
    ledger: _Ledger,
    ledgers: list[_Ledger],
    index: int,
    day: date,
    salaried: bool,
) -> None:
    if salaried and ledger is ledgers[0] and day.day in (15, 30):
        ledger.book(day, money(rng, 650_000, 4_000_000), TransactionKind.REGULAR, None)
    roll = rng.random()
    if roll < 0.12:
        amount = money(rng, 20_000, 800_000)
        if ledger.can_pay(amount):
            ledger.book(day, -amount, TransactionKind.REGULAR, None)
    elif roll < 0.15:
        ledger.book(day, money(rng, 50_000, 2_000_000), TransactionKind.REGULAR, None)
    elif roll < 0.153:
        cheque = money(rng, 100_000, 3_000_000)
        ledger.book(day, cheque, TransactionKind.RETURNED_CHEQUE, None)
        ledger.book(day, -cheque, TransactionKind.RETURNED_CHEQUE, None)
    elif roll < 0.158 and len(ledgers) > 1:
        _own_transfer(rng, ledger, ledgers, day)
    elif roll < 0.162 and index > 0:
        amount = money(rng, 10_000, 500_000)
        if ledger.can_pay(amount):
            ledger.book(day, -amount, TransactionKind.REGULAR, f"A{index - 1:07d}-0")
    elif roll < 0.164:
        ledger.book(day, Decimal("0.00"), TransactionKind.REGULAR, None)


def _own_transfer(rng: random.Random, ledger: _Ledger, ledgers: list[_Ledger], day: date) -> None:
    """Between two accounts of the same holder; half of them only recognisable by counterparty."""
    other = rng.choice([candidate for candidate in ledgers if candidate is not ledger])
    if not other.account.is_open_on(day):
        return
    amount = money(rng, 10_000, 1_000_000)
    if not ledger.can_pay(amount):
        return
    kind = TransactionKind.OWN_TRANSFER if rng.random() < 0.5 else TransactionKind.REGULAR
    ledger.book(day, -amount, kind, other.account.account_id)
    other.book(day, amount, kind, ledger.account.account_id)


def _titles(
    rng: random.Random, index: int, person: PersonId, year: int
) -> tuple[tuple[Title, ...], tuple[TitleEvent, ...]]:
    if rng.random() >= 0.25:
        return (), ()
    titles, events = [], []
    for k in range(rng.randint(1, 2)):
        title_type = (
            rng.choice(_OTHER_TITLE_TYPES) if rng.random() < 0.09 else _weighted(rng, _TITLE_TYPES)
        )
        title = Title(
            f"T{index:07d}-{k}", person, title_type, f"{index:07d}{k}{rng.randint(10, 99)}"
        )
        titles.append(title)
        events.extend(_title_events(rng, title.title_id, year))
    return tuple(titles), tuple(events)


def _title_events(rng: random.Random, title_id: str, year: int) -> list[TitleEvent]:
    """Issue, then at each maturity a renewal (capitalised yields) or a cancellation."""
    day = date(year - 1, 1, 1) + timedelta(days=rng.randint(0, 700))
    principal = money(rng, 1_000_000, 200_000_000)
    events = [TitleEvent(title_id, day, TitleEventKind.ISSUE, principal)]
    term = rng.choice((90, 180, 360))
    while (day := day + timedelta(days=term)) <= date(year, 12, 31):
        if rng.random() < 0.55:
            yields = (principal * Decimal(rng.randint(8, 12)) / 100 * term / 360).quantize(
                Decimal("0.01")
            )
            principal += yields
            events.append(TitleEvent(title_id, day, TitleEventKind.RENEWAL, yields))
        else:
            events.append(TitleEvent(title_id, day, TitleEventKind.CANCELLATION, principal))
            break
    return events


def _trust_payments(
    rng: random.Random, person: PersonId, year: int
) -> tuple[TrustYieldPayment, ...]:
    if rng.random() >= 0.15:
        return ()
    from_fideicomiso = rng.random() < 0.3
    return tuple(
        TrustYieldPayment(
            person,
            date(rng.choice((year - 1, year, year)), rng.randint(1, 12), rng.randint(1, 28)),
            money(rng, 5_000, 3_000_000),
            from_fideicomiso or rng.random() < 0.2,
        )
        for _ in range(rng.randint(1, 6))
    )
