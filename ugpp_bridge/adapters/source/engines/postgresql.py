"""PostgreSQL as a source (``postgresql://user@host/db``, on psycopg 3, which the bridge ships).

Its quirks, in one place: each chunk's persons analysed after they are written (the planner
then joins them well), fresh statistics after a bulk load, CTEs the planner must not inline
(``MATERIALIZED``), and chunks built side by side (one server process per connection).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Engine

from ugpp_bridge.adapters import database
from ugpp_bridge.adapters.source.engines.base import SourceEngine

DIALECT = "postgresql"
DRIVER = "postgresql+psycopg"
# A CTE read several times, computed once: ``.prefix_with(MATERIALIZED, dialect=DIALECT)``.
MATERIALIZED = "MATERIALIZED"


def connect(url: str, **options: Any) -> Engine:
    return database.plain_engine(url, driver=DRIVER, **options)


def analyze(connection: Connection, tables: Iterable[str]) -> None:
    """Fresh statistics for tables just written, so the build gets good plans."""
    for table in tables:
        connection.exec_driver_sql(f"ANALYZE {table}")


ENGINE = SourceEngine(
    name="postgresql",
    schemes=("postgresql", "postgres"),
    dialect=DIALECT,
    connect=connect,
    proven=True,
    # PostgreSQL analyses each chunk's persons: larger chunks (10,000 persons on the bench
    # bank: 13.6 s in chunks of 1,000, 11.7 s in chunks of 2,000).
    chunk_persons=2_000,
    parallel=True,
    dates_as_timestamps=True,
    after_load=analyze,
)
