"""Checks the source database against the contract of SPEC §3, inside the database.

First the shape (every relation and column present), then the values: each check is one query
that returns up to five example keys of the offending rows, so that a bank-sized source is
checked where it lives and the operator gets something to search for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    case,
    func,
    inspect,
    not_,
    or_,
    select,
)

from ugpp_bridge.adapters import source_schema as schema
from ugpp_bridge.adapters.source_records import row_key
from ugpp_bridge.domain.codes import AccountType, TitleEventKind, TitleType, TransactionKind
from ugpp_bridge.domain.identifiers import DOCUMENT_TYPES, NUMERIC_DOCUMENT_TYPES
from ugpp_bridge.errors import SourceProblem

EXAMPLES = 5
ROW_LIMIT = 500
DOC_NUMBER_REGEX = "^[A-Za-z0-9]{1,16}$"
DIGITS_REGEX = "^[0-9]+$"


@dataclass(frozen=True)
class ValueCheck:
    """A rule over one relation: rows matching ``bad`` break it."""

    relation: str
    column: str
    message: str
    bad: Callable[[Table], ColumnElement[bool]]


Scope = Callable[[Table], Select[Any]] | None  # the rows to check: ``select(table)`` + joins


def check_relations(connection: Connection) -> list[SourceProblem]:
    """Every breach found; shape problems first, and value checks only when the shape is right."""
    return shape_problems(connection) or value_problems(connection)


def value_problems(
    connection: Connection, scopes: dict[str, Callable[[Table], Select[Any]]] | None = None
) -> list[SourceProblem]:
    """The value checks over whole relations, or only the rows ``scopes`` selects per relation
    (the build checks just the rows of the persons it is about to report)."""
    problems: list[SourceProblem] = []
    for relation in schema.RELATION_ORDER:
        checks = [check for check in VALUE_CHECKS if check.relation == relation]
        if checks:
            problems.extend(_run_relation(connection, checks, (scopes or {}).get(relation)))
    problems.extend(_duplicates(connection, scopes))
    return problems


def _run_relation(
    connection: Connection, checks: list[ValueCheck], scope: Scope
) -> list[SourceProblem]:
    """Every check of one relation in a single pass over its (scoped) rows.

    The rows breaking any check are read up to ``ROW_LIMIT``; should that many be found, the
    checks still without an example are run one by one, so no kind of problem goes unnamed.
    """
    table = schema.RELATIONS[checks[0].relation]
    flags = [case((c.bad(table), 1), else_=0).label(f"check_{n}") for n, c in enumerate(checks)]
    rows_of = scope(table) if scope is not None else select(table)
    query = rows_of.add_columns(*flags).where(or_(*(check.bad(table) for check in checks)))
    rows = connection.execute(query.limit(ROW_LIMIT)).mappings().all()
    examples: dict[int, list[str]] = {}
    for row in rows:
        for n in range(len(checks)):
            if row[f"check_{n}"] and len(examples.setdefault(n, [])) < EXAMPLES:
                examples[n].append(row_key(table.name, row))
    problems = [
        SourceProblem(table.name, checks[n].column, checks[n].message, tuple(keys))
        for n, keys in sorted(examples.items())
    ]
    if len(rows) == ROW_LIMIT:
        for n, check in enumerate(checks):
            if n not in examples:
                problems.extend(_run(connection, check, scope))
    return problems


def shape_problems(connection: Connection) -> list[SourceProblem]:
    inspector = inspect(connection)
    present = set(inspector.get_table_names()) | set(inspector.get_view_names())
    problems = []
    for name in schema.RELATION_ORDER:
        if name not in present:
            problems.append(SourceProblem(name, None, "the relation (table or view) is missing"))
            continue
        columns = {column["name"] for column in inspector.get_columns(name)}
        for column in schema.RELATIONS[name].columns:
            if column.name not in columns:
                problems.append(SourceProblem(name, column.name, "the column is missing"))
    return problems


def _run(connection: Connection, check: ValueCheck, scope: Scope) -> list[SourceProblem]:
    table = schema.RELATIONS[check.relation]
    query = (scope(table) if scope is not None else select(table)).where(check.bad(table))
    rows = connection.execute(query.limit(EXAMPLES)).mappings()
    keys = tuple(row_key(check.relation, row) for row in rows)
    if not keys:
        return []
    return [SourceProblem(check.relation, check.column, check.message, keys)]


_UNIQUE = (
    (
        "daily_balances",
        ("account_id", "balance_date"),
        "more than one balance for the same account and date",
    ),
    ("accounts", ("account_id",), "the same account_id on more than one row"),
    ("titles", ("title_id",), "the same title_id on more than one row"),
)


def _duplicates(connection: Connection, scopes: dict[str, Any] | None) -> list[SourceProblem]:
    """Keys the contract makes unique; a repeated one would multiply the rows joined to it."""
    problems: list[SourceProblem] = []
    for relation, columns, message in _UNIQUE:
        keys = _repeated(connection, relation, columns, (scopes or {}).get(relation))
        if keys:
            problems.append(SourceProblem(relation, columns[-1], message, keys))
    return problems


def _repeated(
    connection: Connection, relation: str, columns: tuple[str, ...], scope: Scope
) -> tuple[str, ...]:
    table = schema.RELATIONS[relation]
    if scope is None:
        rows_of = select(table)
    elif len(columns) > 1:
        rows_of = scope(table)
    else:  # every row with a key of the scoped rows: a copy may sit under another holder
        key = table.c[columns[0]]
        rows_of = select(table).where(key.in_(scope(table).with_only_columns(key)))
    # Materialised first, so the engines gather the scoped rows through their indexes instead
    # of walking a whole index in group order; and no LIMIT, for the same reason: planned to
    # stop early, PostgreSQL walks the whole index on a clean source.
    scoped = (
        rows_of.cte(f"scoped_{relation}")
        .prefix_with("MATERIALIZED", dialect="sqlite")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    grouped = [scoped.c[name] for name in columns]
    query = select(*grouped).group_by(*grouped).having(func.count() > 1)
    rows = connection.execute(query).mappings().fetchmany(EXAMPLES)
    return tuple(row_key(relation, row) for row in rows)


def _not_in(values: Sequence[object]) -> Callable[[Table, str], ColumnElement[bool]]:
    def bad(table: Table, column: str) -> ColumnElement[bool]:
        col = table.c[column]
        return or_(col.is_(None), col.not_in(list(values)))

    return bad


def _codes(relation: str, column: str, values: Sequence[object]) -> ValueCheck:
    shown = ", ".join(str(value) for value in values)
    return ValueCheck(
        relation, column, f"unknown code (allowed: {shown})", lambda t: _not_in(values)(t, column)
    )


def _required(relation: str, column: str) -> ValueCheck:
    return ValueCheck(relation, column, "a value is required", lambda t: t.c[column].is_(None))


def _doc_number(relation: str) -> ValueCheck:
    def bad(table: Table) -> ColumnElement[bool]:
        number = table.c.holder_doc_number
        numeric_type = table.c.holder_doc_type.in_(sorted(NUMERIC_DOCUMENT_TYPES))
        return or_(
            number.is_(None),
            not_(number.regexp_match(DOC_NUMBER_REGEX)),
            and_(numeric_type, not_(number.regexp_match(DIGITS_REGEX))),
        )

    message = "not 1–16 letters or digits (CC, CE, NI, TI and RC: digits only)"
    return ValueCheck(relation, "holder_doc_number", message, bad)


_HOLDER_RELATIONS = ("accounts", "titles", "trust_yield_payments")

VALUE_CHECKS: tuple[ValueCheck, ...] = (
    *(_codes(name, "holder_doc_type", list(DOCUMENT_TYPES)) for name in _HOLDER_RELATIONS),
    *(_doc_number(name) for name in _HOLDER_RELATIONS),
    _codes("accounts", "account_type", [int(code) for code in AccountType]),
    _required("accounts", "account_number"),
    _required("accounts", "opened_on"),
    ValueCheck(
        "accounts",
        "closed_on",
        "closes before it opens",
        lambda t: t.c.closed_on < t.c.opened_on,
    ),
    _codes("transactions", "kind", [kind.value for kind in TransactionKind]),
    _required("transactions", "booked_on"),
    _required("transactions", "amount"),
    _required("daily_balances", "balance_date"),
    _required("daily_balances", "balance"),
    _codes("titles", "title_type", [int(code) for code in TitleType]),
    _required("titles", "title_number"),
    _codes("title_events", "event", [event.value for event in TitleEventKind]),
    _required("title_events", "event_date"),
    ValueCheck(
        "title_events",
        "amount",
        "missing or negative amount",
        lambda t: or_(t.c.amount.is_(None), t.c.amount < 0),
    ),
    _required("trust_yield_payments", "paid_on"),
    _required("trust_yield_payments", "amount"),
    _required("trust_yield_payments", "from_fideicomiso"),
)
