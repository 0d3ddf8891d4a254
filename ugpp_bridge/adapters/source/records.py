"""Rows of the six relations ⇄ the domain's source records.

``record_from_row`` is where a bad value in the source becomes an error that names the
relation, the column and the row's key (SPEC §3); the CSV import and the SQL reader share it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from ugpp_bridge.domain.codes import (
    AccountType,
    TitleEventKind,
    TitleType,
    TransactionKind,
    parse_code,
)
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
from ugpp_bridge.errors import InvalidInputError

Row = Mapping[Any, Any]
SourceRecord = Account | Transaction | DailyBalance | Title | TitleEvent | TrustYieldPayment

# Domain field names (the wire's) → the source column that holds them.
_COLUMN_OF_FIELD = {"tipoDocumento": "holder_doc_type", "numeroDocumento": "holder_doc_number"}


class RowError(ValueError):
    """A row cannot become a record; ``column`` names the source column at fault."""

    def __init__(self, column: str | None, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


def record_from_row(relation: str, row: Row) -> SourceRecord:
    """The domain record of ``row``; a ``RowError`` naming the column when a value is bad."""
    try:
        return _FROM_ROW[relation](row)
    except InvalidInputError as exc:
        column = _COLUMN_OF_FIELD.get(exc.field or "", exc.field)
        raise RowError(column, str(exc)) from exc


def row_key(relation: str, row: Row) -> str:
    """A readable key of a row for error messages (never an amount)."""
    if relation == "accounts":
        return str(row.get("account_id"))
    if relation == "titles":
        return str(row.get("title_id"))
    if relation == "transactions":
        return f"{row.get('account_id')}@{row.get('booked_on')}"
    if relation == "daily_balances":
        return f"{row.get('account_id')}@{row.get('balance_date')}"
    if relation == "title_events":
        return f"{row.get('title_id')}@{row.get('event_date')}"
    return f"{row.get('holder_doc_type')}@{row.get('paid_on')}"


def rows_of(data: SourceData) -> dict[str, list[dict[str, object]]]:
    """Every record of ``data`` as insertable rows, by relation."""
    return {
        "accounts": [account_row(r) for r in data.accounts],
        "transactions": [transaction_row(r) for r in data.transactions],
        "daily_balances": [daily_balance_row(r) for r in data.daily_balances],
        "titles": [title_row(r) for r in data.titles],
        "title_events": [title_event_row(r) for r in data.title_events],
        "trust_yield_payments": [trust_yield_payment_row(r) for r in data.trust_yield_payments],
    }


def _person(row: Row) -> PersonId:
    return PersonId(_text(row, "holder_doc_type"), _text(row, "holder_doc_number"))


def _text(row: Row, column: str) -> str:
    value = row[column]
    if value is None or value == "":
        raise RowError(column, "a value is required")
    return str(value)


def _date(row: Row, column: str) -> date:
    value = row[column]
    if not isinstance(value, date):
        raise RowError(column, "a date is required")
    return value


def _amount(row: Row, column: str) -> Decimal:
    value = row[column]
    if not isinstance(value, Decimal):
        raise RowError(column, "an amount is required")
    return value


def _account(row: Row) -> Account:
    return Account(
        account_id=_text(row, "account_id"),
        holder=_person(row),
        account_type=parse_code(AccountType, row["account_type"], "account_type"),
        account_number=_text(row, "account_number"),
        opened_on=_date(row, "opened_on"),
        closed_on=None if row["closed_on"] is None else _date(row, "closed_on"),
    )


def _transaction(row: Row) -> Transaction:
    return Transaction(
        account_id=_text(row, "account_id"),
        booked_on=_date(row, "booked_on"),
        amount=_amount(row, "amount"),
        kind=parse_code(TransactionKind, row["kind"], "kind"),
        counterparty_account_id=row["counterparty_account_id"] or None,
    )


def _daily_balance(row: Row) -> DailyBalance:
    return DailyBalance(
        account_id=_text(row, "account_id"),
        balance_date=_date(row, "balance_date"),
        balance=_amount(row, "balance"),
    )


def _title(row: Row) -> Title:
    return Title(
        title_id=_text(row, "title_id"),
        holder=_person(row),
        title_type=parse_code(TitleType, row["title_type"], "title_type"),
        title_number=_text(row, "title_number"),
    )


def _title_event(row: Row) -> TitleEvent:
    return TitleEvent(
        title_id=_text(row, "title_id"),
        event_date=_date(row, "event_date"),
        event=parse_code(TitleEventKind, row["event"], "event"),
        amount=_amount(row, "amount"),
    )


def _trust_yield_payment(row: Row) -> TrustYieldPayment:
    flag = row["from_fideicomiso"]
    if not isinstance(flag, bool):
        raise RowError("from_fideicomiso", "true or false is required")
    return TrustYieldPayment(
        holder=_person(row),
        paid_on=_date(row, "paid_on"),
        amount=_amount(row, "amount"),
        from_fideicomiso=flag,
    )


_FROM_ROW: dict[str, Callable[[Row], SourceRecord]] = {
    "accounts": _account,
    "transactions": _transaction,
    "daily_balances": _daily_balance,
    "titles": _title,
    "title_events": _title_event,
    "trust_yield_payments": _trust_yield_payment,
}


def account_row(record: Account) -> dict[str, object]:
    return {
        "account_id": record.account_id,
        "holder_doc_type": record.holder.doc_type,
        "holder_doc_number": record.holder.doc_number,
        "account_type": int(record.account_type),
        "account_number": record.account_number,
        "opened_on": record.opened_on,
        "closed_on": record.closed_on,
    }


def transaction_row(record: Transaction) -> dict[str, object]:
    return {
        "account_id": record.account_id,
        "booked_on": record.booked_on,
        "amount": record.amount,
        "kind": record.kind.value,
        "counterparty_account_id": record.counterparty_account_id,
    }


def daily_balance_row(record: DailyBalance) -> dict[str, object]:
    return {
        "account_id": record.account_id,
        "balance_date": record.balance_date,
        "balance": record.balance,
    }


def title_row(record: Title) -> dict[str, object]:
    return {
        "title_id": record.title_id,
        "holder_doc_type": record.holder.doc_type,
        "holder_doc_number": record.holder.doc_number,
        "title_type": int(record.title_type),
        "title_number": record.title_number,
    }


def title_event_row(record: TitleEvent) -> dict[str, object]:
    return {
        "title_id": record.title_id,
        "event_date": record.event_date,
        "event": record.event.value,
        "amount": record.amount,
    }


def trust_yield_payment_row(record: TrustYieldPayment) -> dict[str, object]:
    return {
        "holder_doc_type": record.holder.doc_type,
        "holder_doc_number": record.holder.doc_number,
        "paid_on": record.paid_on,
        "amount": record.amount,
        "from_fideicomiso": record.from_fideicomiso,
    }
