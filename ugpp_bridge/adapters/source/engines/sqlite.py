"""SQLite as a source (``sqlite:///file.db``): the sample bank, CSV imports, small entities.

Its quirks, in one place: dynamic types (text where a number, a date or a boolean belongs is
checked), NUMERIC stored as a binary float (read back rounded to the centavo), ``julianday``
for day counts, ``GLOB`` and ``length()`` for character classes (its REGEXP calls back into
Python for each row, and its ``$`` admits a trailing line break), foreign keys enforced on
every connection, and chunks built side by side (SQLite releases the GIL while it steps).
"""

from __future__ import annotations

import ctypes
import functools
import sys
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool
from sqlalchemy.sql.compiler import SQLCompiler

from ugpp_bridge.adapters import database
from ugpp_bridge.adapters.source.dialects import (
    FLOAT_AMOUNTS,
    chars_in,
    days_between,
    length_and_class,
)
from ugpp_bridge.adapters.source.engines.base import SourceEngine

DIALECT = "sqlite"
FLOAT_AMOUNTS.add(DIALECT)


@compiles(days_between, DIALECT)
def _days(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)"


@compiles(chars_in, DIALECT)
def _chars_in(element: chars_in, compiler: SQLCompiler, **kw: Any) -> str:
    return length_and_class(element, compiler, "length", "GLOB '*[{}]*'", **kw)


def connect(url: str, *, lock_timeout: float | None = None, **options: Any) -> Engine:
    """An engine on the file (or in memory); connections enforce foreign keys and wait on
    locks."""
    parsed = database.parse_url(url)
    database.refuse_host_for_file(url, parsed)
    connect_args = options.setdefault("connect_args", {})
    connect_args.setdefault("timeout", lock_timeout or 30)
    if options.get("poolclass") is StaticPool:  # one connection, used from several threads
        connect_args.setdefault("check_same_thread", False)
    without_memory_statistics()
    engine = database.create(parsed, extra=None, **options)
    event.listen(engine, "connect", _foreign_keys)
    return engine


def _foreign_keys(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


SQLITE_CONFIG_MEMSTATUS = 9  # sqlite3.h


@functools.cache  # once per process: SQLite is configured before it starts, or never
def without_memory_statistics() -> str:
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


def in_memory(engine: Engine) -> bool:
    """An in-memory database exists once per connection: built and checked in turn."""
    return engine.url.database in (None, "", ":memory:")


ENGINE = SourceEngine(
    name="sqlite",
    schemes=("sqlite",),
    dialect=DIALECT,
    connect=connect,
    proven=True,
    # Its per-chunk cost is small, and smaller chunks keep both connections busy to the end
    # (10,000 persons on the bench bank: 10.2 s in chunks of 1,000, 11.4 s in chunks of 2,000).
    chunk_persons=1_000,
    parallel=True,
    dynamic_types=True,
    declared_types=False,
    file_of=database.file_of_url,
    single_connection=in_memory,
)
