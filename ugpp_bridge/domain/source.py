"""The entity's data as the source contract (SPEC §3) describes it, one dataclass per relation.

These are the inputs of the pure rules. Adapters build them from SQL rows or CSV lines; each
record checks what a single row can break (codes, signs, date order) when it is created.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from ugpp_bridge.domain.codes import AccountType, TitleEventKind, TitleType, TransactionKind
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.errors import InvalidInputError

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


def group_by(rows: Iterable[T], key: Callable[[T], K]) -> dict[K, list[T]]:
    """Rows grouped by ``key``, each group in the rows' original order."""
    grouped: dict[K, list[T]] = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return dict(grouped)


@dataclass(frozen=True)
class Account:
    """A current or savings account (``accounts``); ``holder`` is its principal holder."""

    account_id: str
    holder: PersonId
    account_type: AccountType
    account_number: str
    opened_on: date
    closed_on: date | None = None

    def __post_init__(self) -> None:
        if self.closed_on is not None and self.closed_on < self.opened_on:
            raise InvalidInputError(
                "An account cannot close before it opens (closed_on < opened_on).",
                field="closed_on",
                value=self.closed_on,
            )

    def is_open_on(self, day: date) -> bool:
        return self.opened_on <= day and (self.closed_on is None or day <= self.closed_on)

    def open_days(self, period: Period) -> list[date]:
        """Calendar days of ``period`` with ``opened_on <= day <= closed_on`` (R1)."""
        return [day for day in period.days() if self.is_open_on(day)]


@dataclass(frozen=True)
class Transaction:
    """One booked movement (``transactions``): + credit, − debit."""

    account_id: str
    booked_on: date
    amount: Decimal
    kind: TransactionKind = TransactionKind.REGULAR
    counterparty_account_id: str | None = None


@dataclass(frozen=True)
class DailyBalance:
    """End-of-day balance (``daily_balances``); rows may be sparse."""

    account_id: str
    balance_date: date
    balance: Decimal


@dataclass(frozen=True)
class Title:
    """A CDT or other title (``titles``)."""

    title_id: str
    holder: PersonId
    title_type: TitleType
    title_number: str


@dataclass(frozen=True)
class TitleEvent:
    """An issue, renewal or cancellation of a title (``title_events``); amounts are ≥ 0."""

    title_id: str
    event_date: date
    event: TitleEventKind
    amount: Decimal

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise InvalidInputError(
                "A title event amount cannot be negative.", field="amount", value=self.amount
            )

    @property
    def principal_change(self) -> Decimal:
        """Issues and renewals add to the outstanding principal; cancellations subtract."""
        return -self.amount if self.event is TitleEventKind.CANCELLATION else self.amount


@dataclass(frozen=True)
class TrustYieldPayment:
    """A fiduciary yield paid to a person (``trust_yield_payments``)."""

    holder: PersonId
    paid_on: date
    amount: Decimal
    from_fideicomiso: bool


@dataclass(frozen=True)
class SourceData:
    """Everything the rules need about some persons: the six relations, filtered to them.

    Own-transfer detection (R1) needs every account of the same holder, which is always among
    the accounts of the requested persons, so filtering by person loses nothing.
    """

    accounts: tuple[Account, ...] = ()
    transactions: tuple[Transaction, ...] = ()
    daily_balances: tuple[DailyBalance, ...] = ()
    titles: tuple[Title, ...] = ()
    title_events: tuple[TitleEvent, ...] = ()
    trust_yield_payments: tuple[TrustYieldPayment, ...] = ()

    @classmethod
    def merge(cls, parts: Iterable[SourceData]) -> SourceData:
        buckets: dict[str, list[object]] = {name: [] for name in _RELATIONS}
        for part in parts:
            for name in _RELATIONS:
                buckets[name].extend(getattr(part, name))
        return cls(**{name: tuple(rows) for name, rows in buckets.items()})  # type: ignore[arg-type]


_RELATIONS = (
    "accounts",
    "transactions",
    "daily_balances",
    "titles",
    "title_events",
    "trust_yield_payments",
)
