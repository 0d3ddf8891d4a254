"""MySQL and MariaDB as a source (``mysql://`` and ``mariadb://``, on PyMySQL from the
``[mysql]`` extra).

Their quirks, in one place: ``date − date`` is arithmetic on YYYYMMDD numbers there
(2025-02-01 − 2025-01-31 = 70), so day counts are ``DATEDIFF`` — every median across a month
edge was wrong without it; text compares under the column's collation, case- and
trailing-space-insensitive by default, so keys and codes compare under ``utf8mb4_bin`` and the
bridge's own tables key them as ``VARCHAR(255) COLLATE utf8mb4_bin`` (no TEXT key without a
length); PCRE's ``$`` admits a trailing line break, so character classes are a length and a
negated class; views may expose timestamps for dates.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from ugpp_bridge.adapters import database
from ugpp_bridge.adapters.source.dialects import (
    KEY_TYPES,
    byte_exact,
    chars_in,
    days_between,
    length_and_class,
)
from ugpp_bridge.adapters.source.engines.base import SourceEngine

DIALECTS = ("mysql", "mariadb")
BINARY = "utf8mb4_bin"
for _dialect in DIALECTS:
    KEY_TYPES[_dialect] = String(255, collation=BINARY)


@compiles(days_between, *DIALECTS)
def _days(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"DATEDIFF({end}, {start})"


@compiles(chars_in, *DIALECTS)
def _chars_in(element: chars_in, compiler: SQLCompiler, **kw: Any) -> str:
    return length_and_class(element, compiler, "CHAR_LENGTH", "REGEXP '[{}]'", **kw)


@compiles(byte_exact, *DIALECTS)
def _byte_exact(element: byte_exact, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} COLLATE {BINARY})"


def _connect(driver: str) -> Any:
    def connect(url: str, **options: Any) -> Engine:
        # SQLAlchemy's MySQL compiler records a join's edge between the Join objects rather
        # than their tables, so its cartesian-product linter warns on every chained join
        # (``a JOIN b JOIN c ON true``) although each is joined; the linter is only a warning.
        options.setdefault("enable_from_linting", False)
        return database.plain_engine(url, driver=driver, extra="mysql", **options)

    return connect


def _engine(name: str) -> SourceEngine:
    return SourceEngine(
        name=name,
        schemes=(name,),
        dialect=name,
        connect=_connect(f"{name}+pymysql"),
        proven=True,
        extra="mysql",
        dates_as_timestamps=True,
    )


MYSQL, MARIADB = _engine("mysql"), _engine("mariadb")
