"""Small builders for source records, so that each rule test shows only what matters."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ugpp_bridge.domain.codes import AccountType, TitleEventKind, TitleType, TransactionKind
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.source import (
    Account,
    DailyBalance,
    Title,
    TitleEvent,
    Transaction,
    TrustYieldPayment,
)

ANA = PersonId("CC", "52123456")
BETO = PersonId("PA", "A1234567")


def d(text: str) -> date:
    return date.fromisoformat(text)


def account(
    account_id: str = "A1",
    holder: PersonId = ANA,
    opened: str = "2020-01-01",
    closed: str | None = None,
    number: str = "001-234567-89",
    kind: AccountType = AccountType.SAVINGS,
) -> Account:
    return Account(account_id, holder, kind, number, d(opened), d(closed) if closed else None)


def move(
    day: str,
    amount: str,
    kind: TransactionKind = TransactionKind.REGULAR,
    counterparty: str | None = None,
    account_id: str = "A1",
) -> Transaction:
    return Transaction(account_id, d(day), Decimal(amount), kind, counterparty)


def balance(day: str, amount: str, account_id: str = "A1") -> DailyBalance:
    return DailyBalance(account_id, d(day), Decimal(amount))


def title(title_id: str = "T1", holder: PersonId = ANA, number: str = "CDT-0001") -> Title:
    return Title(title_id, holder, TitleType.CDT, number)


def event(day: str, kind: TitleEventKind, amount: str, title_id: str = "T1") -> TitleEvent:
    return TitleEvent(title_id, d(day), kind, Decimal(amount))


def payment(
    day: str, amount: str, fideicomiso: bool = False, holder: PersonId = ANA
) -> TrustYieldPayment:
    return TrustYieldPayment(holder, d(day), Decimal(amount), fideicomiso)
