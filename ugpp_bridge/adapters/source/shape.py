"""The shape of a source (SPEC §3): every relation and column present, and — on engines whose
columns carry declared types (PostgreSQL, DuckDB, Parquet files, Spark) — types that can hold
what the contract says: exact amounts, dates, booleans, numeric codes.

A type check is cheap (the catalog, no rows) and names what an export got wrong once, where a
value check would stop on the first row or, on Spark under ANSI mode, fail with a cast error:
an amount exported as DOUBLE is inexact before any rule runs; one exported as text compares as
text. SQLite keeps what it is given whatever the declared type, so its values are checked row
by row instead (``check.ENGINE_CHECKS``).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Connection, Date, Integer, inspect

from ugpp_bridge.adapters.source import engines
from ugpp_bridge.adapters.source import schema as schema
from ugpp_bridge.adapters.source.schema import Amount
from ugpp_bridge.errors import SourceProblem

Columns = dict[str, dict[str, str]]  # relation → column → declared type, upper case

_AMOUNT = "amount"
_FAMILY_NEEDED = {Amount: _AMOUNT, Date: "date", Boolean: "boolean", Integer: "integer"}
_WANTED = {  # (relation, column) → the type family it needs, from the contract's declarations
    key: needed for kind, needed in _FAMILY_NEEDED.items() for key in schema.columns_of_type(kind)
}
_ACCEPTS = {
    _AMOUNT: {"decimal", "integer"},
    "date": {"date", "timestamp"},  # a timestamp's time part is a value check
    "boolean": {"boolean", "integer"},
    "integer": {"integer", "decimal"},
}
_ADVICE = {
    _AMOUNT: "amounts must be exact: export it as DECIMAL(20,2)",
    "date": "export it as DATE",
    "boolean": "export it as BOOLEAN",
    "integer": "export it as an integer",
}


def family(declared: str) -> str:
    """``DECIMAL(20,2)``, ``DOUBLE PRECISION``, ``VARCHAR``… → decimal, float, text…"""
    name = declared.upper().split("(", 1)[0].strip()
    if name in ("DECIMAL", "NUMERIC"):
        return "decimal"
    if name in ("DOUBLE", "DOUBLE PRECISION", "FLOAT", "REAL"):
        return "float"
    if name.endswith("INT") or name.endswith("INTEGER") or name == "HUGEINT":
        return "integer"
    if name in ("TEXT", "VARCHAR", "STRING", "CHAR", "CHARACTER VARYING", "CHARACTER", "BPCHAR"):
        return "text"
    if name == "DATE":
        return "date"
    if name.startswith("TIMESTAMP") or name == "DATETIME":
        return "timestamp"
    if name in ("BOOLEAN", "BOOL"):
        return "boolean"
    return "other"  # an engine's own type: left to the value checks


def relation_columns(connection: Connection) -> Columns:
    """The source's relations (tables and views) with their columns' declared types.

    DuckDB answers from ``information_schema`` (duckdb-engine's reflection queries PostgreSQL
    catalogs DuckDB does not have); the others through SQLAlchemy's inspector.
    """
    own = engines.of(connection).relation_columns
    if own is not None:
        return own(connection)
    inspector = inspect(connection)
    names = set(inspector.get_table_names()) | set(inspector.get_view_names())
    return {
        name: {column["name"]: _declared(column["type"]) for column in inspector.get_columns(name)}
        for name in names
        if name in schema.RELATIONS
    }


def _declared(type_: object) -> str:
    try:
        return str(type_).upper()
    except Exception:  # noqa: BLE001 — a type SQLAlchemy reflects but cannot print
        return "OTHER"


def has_relation(connection: Connection, name: str) -> bool:
    """Whether the source holds a table or view ``name`` (asked without reflecting columns)."""
    if engines.of(connection).relation_columns is not None:  # see relation_columns
        return name in relation_columns(connection)
    return inspect(connection).has_table(name)


def shape_problems(connection: Connection) -> list[SourceProblem]:
    """Missing relations and columns; then, where types are declared, columns of a type that
    cannot hold the contract's values."""
    present = relation_columns(connection)
    problems = []
    for name in schema.RELATION_ORDER:
        if name not in present:
            problems.append(SourceProblem(name, None, "the relation (table or view) is missing"))
            continue
        columns = present[name]
        for column in schema.RELATIONS[name].columns:
            if column.name not in columns:
                problems.append(SourceProblem(name, column.name, "the column is missing"))
    if engines.of(connection).declared_types:
        problems.extend(type_problems(present))
    return problems


def type_problems(present: Columns) -> list[SourceProblem]:
    problems = []
    for (relation, column), needed in _WANTED.items():
        declared = present.get(relation, {}).get(column)
        if declared is None:
            continue  # missing: already named
        kind = family(declared)
        if kind not in _ACCEPTS[needed] and kind != "other":
            message = f"declared {declared} ({kind}); {_ADVICE[needed]}"
            problems.append(SourceProblem(relation, column, message))
    return problems
