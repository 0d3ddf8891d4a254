"""Checks the source database against the contract of SPEC §3, inside the database.

First the shape (every relation and column present), then the values: each check is one query
that returns up to five example keys of the offending rows, so that a bank-sized source is
checked where it lives and the operator gets something to search for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Select,
    Table,
    Text,
    and_,
    case,
    cast,
    func,
    not_,
    or_,
    select,
    type_coerce,
)

from ugpp_bridge.adapters.source import engines
from ugpp_bridge.adapters.source import schema as schema
from ugpp_bridge.adapters.source.dialects import chars_in
from ugpp_bridge.adapters.source.engines import postgresql
from ugpp_bridge.adapters.source.engines.base import SourceEngine
from ugpp_bridge.adapters.source.records import row_key
from ugpp_bridge.adapters.source.shape import shape_problems
from ugpp_bridge.domain.codes import AccountType, TitleEventKind, TitleType, TransactionKind
from ugpp_bridge.domain.identifiers import DOCUMENT_TYPES, NUMERIC_DOCUMENT_TYPES, PersonId
from ugpp_bridge.errors import SourceProblem

EXAMPLES = 5
ROW_LIMIT = 500
DOC_NUMBER_CHARS, DOC_NUMBER_LONGEST = "A-Za-z0-9", 16
DIGITS = "0-9"


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
    return shape_problems(connection) or [
        *value_problems(connection),
        *orphan_problems(connection),
    ]


_ORPHANS = (  # relation, column, the relation whose key it must name
    ("transactions", "account_id", "accounts"),
    ("daily_balances", "account_id", "accounts"),
    ("title_events", "title_id", "titles"),
)


def orphan_problems(connection: Connection) -> list[SourceProblem]:
    """Rows that name an account or title the source does not have (referential integrity):
    no report can carry them, and they usually mean a relation was loaded incompletely."""
    problems = []
    for relation, column, target in _ORPHANS:
        table, parent = schema.RELATIONS[relation], schema.RELATIONS[target]
        key = parent.c[column]
        query = (
            select(*_raw(table))
            .where(~select(key).where(key == table.c[column]).exists())
            .limit(EXAMPLES)
        )
        keys = tuple(row_key(relation, row) for row in connection.execute(query).mappings())
        if keys:
            message = f"names a {column.removesuffix('_id')} that is not in {target}"
            problems.append(SourceProblem(relation, column, message, keys))
    return problems


def value_problems(
    connection: Connection, scopes: dict[str, Callable[[Table], Select[Any]]] | None = None
) -> list[SourceProblem]:
    """The value checks over whole relations, or only the rows ``scopes`` selects per relation
    (the build checks just the rows of the persons it is about to report)."""
    problems: list[SourceProblem] = []
    every = (*VALUE_CHECKS, *engine_checks(engines.of(connection)))
    for relation in schema.RELATION_ORDER:
        checks = [check for check in every if check.relation == relation]
        if checks:
            problems.extend(_run_relation(connection, checks, (scopes or {}).get(relation)))
    problems.extend(_duplicates(connection, scopes))
    return problems


HOLDER_SCAN_LIMIT = 10_000
_HOLDER_BREACHES = (
    ("holder_doc_type", f"a document type outside {', '.join(DOCUMENT_TYPES)}"),
    ("holder_doc_number", "a document number that is not letters and digits"),
)


def misfiled_holders(connection: Connection, persons: Iterable[PersonId]) -> list[SourceProblem]:
    """Rows whose holder document type or number is outside the contract (``cc``, ``C.C.``,
    ``NIT``, ``52.123.456``) and whose number, read leniently, is a requested person's.

    The build's scoped checks look at the rows that match a requested person exactly, so these
    rows would be left out and the person reported «sin información» — a false answer. One
    scan per holder relation per build finds them; more than ``HOLDER_SCAN_LIMIT`` such rows
    is a systematic mapping error that stops the build as well.
    """
    wanted = {_lenient(person.doc_number) for person in persons}
    problems = []
    for relation in _HOLDER_RELATIONS:
        table = schema.RELATIONS[relation]
        bad = or_(_not_in(list(DOCUMENT_TYPES))(table, "holder_doc_type"),
                  _doc_number(relation).bad(table))  # fmt: skip
        rows = connection.execute(select(*_raw(table)).where(bad).limit(HOLDER_SCAN_LIMIT + 1))
        found = rows.mappings().all()
        if len(found) > HOLDER_SCAN_LIMIT:
            keys = tuple(row_key(relation, row) for row in found[:EXAMPLES])
            message = (f"more than {HOLDER_SCAN_LIMIT:,} rows with a document type or number "
                       "outside the contract; fix the relation before building")  # fmt: skip
            problems.append(SourceProblem(relation, "holder_doc_type", message, keys))
            continue
        mine = [row for row in found if _lenient(str(row["holder_doc_number"] or "")) in wanted]
        for column, what in _HOLDER_BREACHES:
            keys = tuple(
                row_key(relation, row)
                for row in mine
                if (row["holder_doc_type"] in DOCUMENT_TYPES) == (column != "holder_doc_type")
            )
            if keys:
                message = (f"{what} on rows of a requested person: they would be left out and "
                           "the person reported «sin información»")  # fmt: skip
                problems.append(SourceProblem(relation, column, message, keys[:EXAMPLES]))
    return problems


def _raw(table: Table) -> list[ColumnElement[Any]]:
    """The relation's columns read as the driver gives them: a malformed date in a SQLite
    source must be reported, not break the reading."""
    return [type_coerce(column, Text).label(column.name) for column in table.c]


def _lenient(number: str) -> str:
    """A document number without punctuation, spaces, case or leading zeros."""
    return "".join(ch for ch in number.upper() if ch.isalnum()).lstrip("0")


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
    query = rows_of.with_only_columns(*_raw(table), *flags).where(
        or_(*(check.bad(table) for check in checks))
    )
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


def _run(connection: Connection, check: ValueCheck, scope: Scope) -> list[SourceProblem]:
    table = schema.RELATIONS[check.relation]
    rows_of = scope(table) if scope is not None else select(table)
    query = rows_of.with_only_columns(*_raw(table)).where(check.bad(table))
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
    # Materialised first on PostgreSQL, so that it gathers the scoped rows through its indexes
    # instead of walking a whole index in group order; and no LIMIT, for the same reason:
    # planned to stop early, PostgreSQL walks the whole index on a clean source. SQLite reads
    # the (account_id, balance_date) index account by account, already in group order
    # (materialised, it sorted them again: 1.75 s against 0.58 s for 10,000 persons).
    scoped = rows_of.cte(f"scoped_{relation}").prefix_with(
        postgresql.MATERIALIZED, dialect=postgresql.DIALECT
    )
    grouped = [scoped.c[name] for name in columns]
    query = select(*grouped).group_by(*grouped).having(func.count() > 1)
    rows = connection.execute(query).mappings().fetchmany(EXAMPLES)
    return tuple(row_key(relation, row) for row in rows)


def _not_in(values: Sequence[object]) -> Callable[[Table, str], ColumnElement[bool]]:
    def bad(table: Table, column: str) -> ColumnElement[bool]:
        col = table.c[column]
        compared = schema.byte_exact(col) if all(isinstance(v, str) for v in values) else col
        return or_(col.is_(None), compared.not_in(list(values)))

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
            not_(chars_in(number, DOC_NUMBER_CHARS, DOC_NUMBER_LONGEST)),
            and_(numeric_type, not_(chars_in(number, DIGITS))),
        )

    message = "not 1–16 letters or digits (CC, CE, NI, TI and RC: digits only)"
    return ValueCheck(relation, "holder_doc_number", message, bad)


_HOLDER_RELATIONS = ("accounts", "titles", "trust_yield_payments")
_AMOUNTS = schema.AMOUNT_COLUMNS
_DATES = schema.DATE_COLUMNS
# Amounts are summed as whole centavos in a BIGINT: 10^16 pesos (10^18 centavos) leaves room
# for the sums of a month. numeric(20,2) allows more; no real account holds it.
AMOUNT_LIMIT = 10**16
MAX_TITLE_NUMBER = 40


def _decimals(relation: str, column: str) -> ValueCheck:
    return ValueCheck(relation, column, "more than two decimals (dos decimales como máximo)",
                      lambda t: t.c[column] != func.round(t.c[column], 2))  # fmt: skip


def _in_range(relation: str, column: str) -> ValueCheck:
    message = "too large to report (10.000.000.000.000.000 pesos or more)"
    return ValueCheck(relation, column, message,
                      lambda t: func.abs(t.c[column]) >= AMOUNT_LIMIT)  # fmt: skip


def _sqlite_number(relation: str, column: str) -> ValueCheck:
    """SQLite keeps what it is given: an amount stored as text compares as text."""
    numeric = ["integer", "real", "null"]
    return ValueCheck(relation, column, "not a number (stored as text): write it as a number",
                      lambda t: func.typeof(t.c[column]).not_in(numeric))  # fmt: skip


def _sqlite_date(relation: str, column: str) -> ValueCheck:
    """A date with a time part, or in another format, falls out of its month on SQLite."""

    def bad(table: Table) -> ColumnElement[bool]:
        col = table.c[column]
        return and_(col.is_not(None), or_(func.typeof(col) != "text",
                                          func.coalesce(func.date(col), "") != col))  # fmt: skip

    return ValueCheck(relation, column, "not a date YYYY-MM-DD (a time part or another format)",
                      bad)  # fmt: skip


def _postgresql_date(relation: str, column: str) -> ValueCheck:
    """A view may expose a timestamp: a time part moves a row out of its day."""
    return ValueCheck(relation, column, "has a time part: the contract's dates are dates",
                      lambda t: cast(t.c[column], Date) != t.c[column])  # fmt: skip


def _account_number(table: Table) -> ColumnElement[bool]:
    return and_(table.c.account_number.is_not(None),
                not_(chars_in(table.c.account_number, DIGITS, anywhere=True)))  # fmt: skip


def _title_number(table: Table) -> ColumnElement[bool]:
    length = func.length(func.trim(table.c.title_number))
    return and_(table.c.title_number.is_not(None),
                or_(length == 0, func.length(table.c.title_number) > MAX_TITLE_NUMBER))  # fmt: skip


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
    ValueCheck(
        "accounts", "account_number", "no digit 0-9 (only ASCII digits are sent)", _account_number
    ),  # fmt: skip
    ValueCheck(
        "titles",
        "title_number",
        f"empty or longer than {MAX_TITLE_NUMBER} characters",
        _title_number,
    ),  # fmt: skip
    *(_decimals(relation, column) for relation, column in _AMOUNTS),
    *(_in_range(relation, column) for relation, column in _AMOUNTS),
)

_TIMESTAMP_DATES = tuple(_postgresql_date(relation, column) for relation, column in _DATES)

# What an engine lets through that others refuse: SQLite's dynamic types (text where a number,
# a date or a boolean belongs); views and datasets exposing timestamps for dates.
_DYNAMIC_TYPES = (
    *(_sqlite_number(relation, column) for relation, column in _AMOUNTS),
    *(_sqlite_date(relation, column) for relation, column in _DATES),
    ValueCheck(
        "trust_yield_payments",
        "from_fideicomiso",
        "not a boolean (1 or 0, not text)",
        lambda t: and_(
            t.c.from_fideicomiso.is_not(None),
            or_(
                func.typeof(t.c.from_fideicomiso) != "integer",
                t.c.from_fideicomiso.not_in([0, 1]),
            ),
        ),
    ),  # fmt: skip
)


def engine_checks(engine: SourceEngine) -> tuple[ValueCheck, ...]:
    """The checks ``engine``'s own leniencies call for, beside the contract's own."""
    return (
        *(_DYNAMIC_TYPES if engine.dynamic_types else ()),
        *(_TIMESTAMP_DATES if engine.dates_as_timestamps else ()),
    )
