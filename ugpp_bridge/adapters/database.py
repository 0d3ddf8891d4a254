"""SQLAlchemy engines from the URLs operators write (SPEC §8).

``postgresql://user@host/db`` is taken as written and run on the driver the bridge ships with
(psycopg 3); ``sqlite:///file.db`` as SQLAlchemy reads it.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import ConnectionPoolEntry

from ugpp_bridge.errors import ConfigurationError

_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "oracle": "oracle+oracledb",
    "mssql": "mssql+pymssql",
}
# The optional extra that installs each engine's driver (pyproject.toml).
EXTRAS = {
    "mysql": "mysql",
    "mariadb": "mysql",
    "oracle": "oracle",
    "mssql": "mssql",
    "duckdb": "duckdb",
    "spark": "spark",
}


def normalise_url(url: str) -> URL:
    """The URL with the shipped (or extra's) driver filled in; a malformed URL is a
    configuration error that says how to write it."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"{url!r} is not a database URL; write it like sqlite:///file.db or "
            "postgresql://user@host/db."
        ) from exc
    if parsed.get_backend_name() == "sqlite" and parsed.host:
        raise ConfigurationError(
            f"{url!r} names a host, not a file: write sqlite:///{parsed.host}"
            f"{'/' + parsed.database if parsed.database else ''} (three slashes) for a file in "
            "this folder, or sqlite:////absolute/path.db (four) for an absolute path."
        )
    driver = _DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def database_file(url: str) -> Path | None:
    """The file of a SQLite or DuckDB URL (None: another engine, or in memory)."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() not in ("sqlite", "duckdb"):
        return None
    if parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database))


def require_existing(url: str, what: str, how: str) -> None:
    """Refuse to open a SQLite or DuckDB file that does not exist (either would create it
    empty): commands that only read must not leave empty database files behind."""
    from ugpp_bridge.adapters.source.parquet import is_parquet_url, parquet_folder
    from ugpp_bridge.adapters.source.spark import is_spark_url

    if is_spark_url(url):
        return  # the relations are Spark's to find (a folder, a Hadoop URI or a catalog)
    path = parquet_folder(url) if is_parquet_url(url) else database_file(url)
    if path is not None and not path.exists():
        raise ConfigurationError(f"There is no {what} at {path} ({safe_url(url)}); {how}.")


def connection_advice(url: str | URL, exc: BaseException) -> str:
    """What to do about a failure to connect, in one sentence (or "")."""
    text = str(getattr(exc, "orig", None) or exc)
    parsed = url if isinstance(url, URL) else normalise_url(url)
    if "does not exist" in text and "database" in text:
        return (f"the database {parsed.database!r} does not exist on that server: create it "
                f"(createdb {parsed.database}); `ugpp-bridge db upgrade` creates tables, not "
                "databases")  # fmt: skip
    if "Connection refused" in text or "could not connect" in text.lower():
        where = f"{parsed.host}:{parsed.port or 'the default port'}"
        return f"nothing answers at {where}; is the server running?"
    if "password authentication failed" in text or "Access denied" in text:
        return "the server refused the user or password in the URL"
    return ""


def safe_url(url: str | URL) -> str:
    """The URL without its password, for messages and logs."""
    parsed = url if isinstance(url, URL) else normalise_url(url)
    return parsed.render_as_string(hide_password=True)


READ_ONLY = "ugpp_bridge_read_only"  # execution option: a transaction that only reads


def make_engine(
    url: str,
    *,
    serialised_writes: bool = False,
    lock_timeout: float | None = None,
    statement_timeout: float | None = None,
    **options: Any,
) -> Engine:
    """An engine for ``url``; SQLite connections enforce foreign keys and wait on locks.

    ``serialised_writes`` (the bridge's own state database) makes every SQLite transaction
    ``BEGIN IMMEDIATE`` in WAL mode — except those marked ``READ_ONLY``, which never queue —
    so writers wait for the lock when they start instead of failing half-way, which is what
    keeps the audit chain and the radicado counter linear. PostgreSQL gets the same guarantee
    from row locks (``FOR UPDATE``).

    ``lock_timeout`` bounds how long a statement waits for a lock (SQLite's busy timeout,
    PostgreSQL's ``lock_timeout``) and ``statement_timeout`` how long one runs (PostgreSQL),
    so that a stalled database makes Paso 1 answer "not available" in seconds, not hang.
    """
    from ugpp_bridge.adapters.source.parquet import is_parquet_url, parquet_engine
    from ugpp_bridge.adapters.source.spark import is_spark_url, spark_engine

    if is_parquet_url(url):
        return parquet_engine(url)
    if is_spark_url(url):
        return spark_engine(url, **options)
    parsed = normalise_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite:
        options.setdefault("connect_args", {}).setdefault("timeout", lock_timeout or 30)
        sqlite_without_memory_statistics()
    elif parsed.get_backend_name() in ("mysql", "mariadb"):
        # SQLAlchemy's MySQL compiler records a join's edge between the Join objects rather
        # than their tables, so its cartesian-product linter warns on every chained join
        # (``a JOIN b JOIN c ON true``) although each is joined; the linter is only a warning.
        options.setdefault("enable_from_linting", False)
    try:
        engine = create_engine(parsed, **options)
    except (ImportError, NoSuchModuleError) as exc:
        raise _missing_driver(parsed, exc) from exc
    if sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
        if serialised_writes:
            event.listen(engine, "connect", _sqlite_manual_transactions)
            event.listen(engine, "begin", _sqlite_begin)
    elif parsed.get_backend_name() == "postgresql" and (lock_timeout or statement_timeout):
        event.listen(engine, "connect", _postgresql_timeouts(lock_timeout, statement_timeout))
    elif parsed.get_backend_name() == "duckdb":
        event.listen(engine, "connect", duckdb_limits)
    return engine


SQLITE_CONFIG_MEMSTATUS = 9  # sqlite3.h


@functools.cache  # once per process: SQLite is configured before it starts, or never
def sqlite_without_memory_statistics() -> str:
    """Switch SQLite's memory statistics off for this process, when it has not opened SQLite
    yet; what happened, in a word (``off``, ``too late``, ``not available``).

    With them on (SQLite's default), every allocation of every connection takes one global
    mutex, so two connections building chunks side by side in two threads run barely faster
    than one (R1 for 2 × 2,000 persons of the bench bank: 4.1 s in turn, 3.6 s side by side;
    with the statistics off, 3.5 s and 2.2 s). SQLite's documentation recommends switching
    them off where they are not read; nothing here reads them.

    Python's ``sqlite3`` does not expose ``sqlite3_config``, and initialises SQLite when it is
    imported: so this loads the same shared library first, through ctypes, and configures it
    before. Where ``sqlite3`` was already imported, or SQLite is linked into Python itself,
    nothing changes but the speed.
    """
    if "_sqlite3" in sys.modules:
        return "too late"
    library = _shared_library("libsqlite3.so.0", "libsqlite3.dylib")
    if library is None:
        return "not available"
    done = library.sqlite3_config(SQLITE_CONFIG_MEMSTATUS, ctypes.c_int(0))
    return "off" if done == 0 else "too late"


def _shared_library(*names: str) -> ctypes.CDLL | None:
    for name in names:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


DUCKDB_MEMORY_LIMIT = "128MB"  # DuckDB's own buffers; past it, it spills to a temporary folder


def duckdb_limits(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """Keep an in-process DuckDB within the bridge's memory budget (SPEC: flat memory): by
    default it may take 80 % of the machine's RAM for its buffers."""
    from ugpp_bridge.service.build import SCRATCH_PREFIX

    cursor = dbapi_connection.cursor()
    cursor.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
    # Spilled rows are personal data: a folder named like the build's scratch folders, so the
    # sweep of abandoned ones (adapters/scratch.py) removes it once this process is gone.
    spill = Path(tempfile.gettempdir()) / f"{SCRATCH_PREFIX}{os.getpid()}-duckdb"
    cursor.execute(f"SET temp_directory = '{spill}'")
    cursor.close()


def _missing_driver(parsed: URL, exc: BaseException) -> ConfigurationError:
    backend = parsed.get_backend_name()
    extra = EXTRAS.get(backend)
    if extra:
        return ConfigurationError(
            f"The {backend} driver is not installed; install it with: "
            f"pip install 'ugpp-bridge[{extra}]'"
        )
    return ConfigurationError(
        f"No driver for {parsed.drivername!r} URLs ({type(exc).__name__}: {exc}); the bridge "
        "reads sqlite:///, postgresql://, and with their extras duckdb:///, parquet:///, spark:, "
        "mysql://, oracle://, mssql://."
    )


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
