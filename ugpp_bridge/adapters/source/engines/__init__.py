"""The source engines the bridge knows (SPEC §9, §11), one module each, chosen by URL scheme.

An engine's quirks — chunk size, concurrency, temporary tables, value-check variants, SQL
forms, connection options — live in its module only; the build, the checks and the writers
ask the ``SourceEngine`` this registry returns. Adding an engine is one module and one line
in ``ENGINES``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine

from ugpp_bridge.adapters import database
from ugpp_bridge.adapters.source.engines import duckdb, mysql, others, parquet, postgresql, spark
from ugpp_bridge.adapters.source.engines import sqlite as sqlite
from ugpp_bridge.adapters.source.engines.base import ENGINE_OPTION, SourceEngine

ENGINES: tuple[SourceEngine, ...] = (
    sqlite.ENGINE,
    postgresql.ENGINE,
    mysql.MYSQL,
    mysql.MARIADB,
    duckdb.ENGINE,
    parquet.ENGINE,
    spark.ENGINE,
    others.ORACLE,
    others.MSSQL,
)
_BY_SCHEME = {scheme: engine for engine in ENGINES for scheme in engine.schemes}
_BY_NAME = {engine.name: engine for engine in ENGINES}
_BY_DIALECT = {engine.dialect: engine for engine in reversed(ENGINES)}  # first one wins
PROVEN = frozenset(engine.name for engine in ENGINES if engine.proven)


def for_url(url: str) -> SourceEngine:
    """The engine a source URL names; one the registry lacks runs on SQLAlchemy's own dialect
    for it, unproven (``source selftest`` first)."""
    scheme = database.scheme_of(url)
    known = _BY_SCHEME.get(scheme)
    if known is not None:
        return known
    return SourceEngine(
        name=scheme, schemes=(scheme,), dialect=scheme, connect=database.plain_engine
    )


def of(bind: Engine | Connection) -> SourceEngine:
    """The engine behind an SQLAlchemy engine or connection: the registry entry it was made
    by, else the one that speaks its dialect."""
    name = bind.get_execution_options().get(ENGINE_OPTION)
    if name in _BY_NAME:
        return _BY_NAME[name]
    dialect = bind.dialect.name
    return _BY_DIALECT.get(dialect) or for_url(f"{dialect}://")


def make_engine(url: str, **options: Any) -> Engine:
    """An SQLAlchemy engine on the source ``url``, made by its engine's module."""
    engine = for_url(url)
    made = engine.connect(url, **{**engine.options, **options})
    return made.execution_options(**{ENGINE_OPTION: engine.name})


def require_existing(url: str, what: str, how: str) -> None:
    """Refuse to open a SQLite or DuckDB file (or a Parquet folder) that does not exist: either
    would create it empty, and commands that only read must not leave empty files behind."""
    path = for_url(url).file_of(url)
    if path is not None and not path.exists():
        raise database.missing_file(url, path, what, how)
