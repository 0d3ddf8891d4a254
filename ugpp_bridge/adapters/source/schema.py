"""The six relations of the source contract (SPEC §3) as SQLAlchemy Core tables.

Operators usually provide them as views; the bridge creates them as tables only for sample
data, CSV imports and tests. The recommended indexes are declared here so that ``source
sample`` and ``source import`` get them, and operators can read them off.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Dialect,
    Index,
    Integer,
    MetaData,
    Numeric,
    Table,
    TypeDecorator,
)
from sqlalchemy.types import TypeEngine

from ugpp_bridge.adapters.source.dialects import FLOAT_AMOUNTS, KeyText
from ugpp_bridge.adapters.source.dialects import byte_exact as byte_exact  # the keys' comparison
from ugpp_bridge.domain.money import CENTAVO


class Amount(TypeDecorator[Decimal]):
    """``numeric(20,2)`` read as an exact ``Decimal`` on every engine.

    PostgreSQL keeps numerics exact. SQLite stores them as REAL; every amount of the contract
    has two decimals, so a value read back is rounded to the centavo it was written as.
    """

    impl = Numeric(20, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in FLOAT_AMOUNTS:
            return dialect.type_descriptor(Numeric(20, 2, asdecimal=False))
        return dialect.type_descriptor(Numeric(20, 2))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None or dialect.name not in FLOAT_AMOUNTS:
            return value
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, float):
            return Decimal(repr(value)).quantize(CENTAVO)
        return Decimal(str(value))


Code = KeyText()

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", Code, primary_key=True),
    Column("holder_doc_type", Code, nullable=False),
    Column("holder_doc_number", Code, nullable=False),
    Column("account_type", Integer, nullable=False),
    Column("account_number", Code, nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("closed_on", Date, nullable=True),
    Index("ix_accounts_holder", "holder_doc_type", "holder_doc_number"),
)

transactions = Table(
    "transactions",
    metadata,
    Column("account_id", Code, nullable=False),
    Column("booked_on", Date, nullable=False),
    Column("amount", Amount, nullable=False),
    Column("kind", Code, nullable=False),
    Column("counterparty_account_id", Code, nullable=True),
    Index("ix_transactions_account_booked", "account_id", "booked_on"),
)

daily_balances = Table(
    "daily_balances",
    metadata,
    Column("account_id", Code, nullable=False),
    Column("balance_date", Date, nullable=False),
    Column("balance", Amount, nullable=False),
    Index("ix_daily_balances_account_date", "account_id", "balance_date"),
)

titles = Table(
    "titles",
    metadata,
    Column("title_id", Code, primary_key=True),
    Column("holder_doc_type", Code, nullable=False),
    Column("holder_doc_number", Code, nullable=False),
    Column("title_type", Integer, nullable=False),
    Column("title_number", Code, nullable=False),
    Index("ix_titles_holder", "holder_doc_type", "holder_doc_number"),
)

title_events = Table(
    "title_events",
    metadata,
    Column("title_id", Code, nullable=False),
    Column("event_date", Date, nullable=False),
    Column("event", Code, nullable=False),
    Column("amount", Amount, nullable=False),
    Index("ix_title_events_title_date", "title_id", "event_date"),
)

trust_yield_payments = Table(
    "trust_yield_payments",
    metadata,
    Column("holder_doc_type", Code, nullable=False),
    Column("holder_doc_number", Code, nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("amount", Amount, nullable=False),
    Column("from_fideicomiso", Boolean, nullable=False),
    Index("ix_trust_yield_payments_holder", "holder_doc_type", "holder_doc_number"),
)

RELATIONS: dict[str, Table] = {table.name: table for table in metadata.sorted_tables}
RELATION_ORDER = (
    "accounts",
    "transactions",
    "daily_balances",
    "titles",
    "title_events",
    "trust_yield_payments",
)


def columns_of_type(kind: type[TypeEngine[Any]]) -> tuple[tuple[str, str], ...]:
    """(relation, column) of every contract column declared ``kind``, in relation order."""
    return tuple(
        (relation, column.name)
        for relation in RELATION_ORDER
        for column in RELATIONS[relation].columns
        if isinstance(column.type, kind)
    )


AMOUNT_COLUMNS = columns_of_type(Amount)
DATE_COLUMNS = columns_of_type(Date)
