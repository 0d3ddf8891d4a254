"""The bridge's own state database as an engine: SQLite or PostgreSQL (SPEC §8), each with
what the stores rely on — serialised writers, bounded lock waits, foreign keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import URL
from sqlalchemy.pool import ConnectionPoolEntry

from ugpp_bridge.adapters import database

READ_ONLY = "ugpp_bridge_read_only"  # execution option: a transaction that only reads
_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}


def state_engine(
    url: str,
    *,
    serialised_writes: bool = False,
    lock_timeout: float | None = None,
    statement_timeout: float | None = None,
    **options: Any,
) -> Engine:
    """An engine for ``url``; SQLite connections enforce foreign keys and wait on locks.

    ``serialised_writes`` makes every SQLite transaction ``BEGIN IMMEDIATE`` in WAL mode —
    except those marked ``READ_ONLY``, which never queue — so writers wait for the lock when
    they start instead of failing half-way, which is what keeps the audit chain and the
    radicado counter linear. PostgreSQL gets the same guarantee from row locks (``FOR UPDATE``).

    ``lock_timeout`` bounds how long a statement waits for a lock (SQLite's busy timeout,
    PostgreSQL's ``lock_timeout``) and ``statement_timeout`` how long one runs (PostgreSQL),
    so that a stalled database makes Paso 1 answer "not available" in seconds, not hang.
    """
    parsed = state_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite:
        database.refuse_host_for_file(url, parsed)
        options.setdefault("connect_args", {}).setdefault("timeout", lock_timeout or 30)
    engine = database.create(parsed, extra=None, **options)
    if sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
        if serialised_writes:
            event.listen(engine, "connect", _sqlite_manual_transactions)
            event.listen(engine, "begin", _sqlite_begin)
    elif parsed.get_backend_name() == "postgresql" and (lock_timeout or statement_timeout):
        event.listen(engine, "connect", _postgresql_timeouts(lock_timeout, statement_timeout))
    return engine


def state_url(url: str) -> URL:
    """The state URL with the shipped driver filled in (``postgresql://`` runs on psycopg 3)."""
    return database.parse_url(url, driver=_DRIVERS.get(database.scheme_of(url)))


def database_file(url: str) -> Path | None:
    """The file of a SQLite state URL (None: PostgreSQL, or in memory)."""
    parsed = state_url(url)
    return database.file_of(parsed) if parsed.get_backend_name() == "sqlite" else None


def require_existing(url: str, what: str, how: str) -> None:
    """Refuse to open a SQLite file that does not exist (it would be created empty)."""
    path = database_file(url)
    if path is not None and not path.exists():
        raise database.missing_file(url, path, what, how)


def _postgresql_timeouts(
    lock_timeout: float | None, statement_timeout: float | None
) -> Callable[[Any, ConnectionPoolEntry], None]:
    settings = []
    if lock_timeout:
        settings.append(f"SET lock_timeout = {int(lock_timeout * 1000)}")
    if statement_timeout:
        settings.append(f"SET statement_timeout = {int(statement_timeout * 1000)}")

    def apply(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        for statement in settings:
            cursor.execute(statement)
        cursor.close()
        dbapi_connection.commit()

    return apply


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_manual_transactions(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # pysqlite's own BEGIN is deferred; take transaction control to emit BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
