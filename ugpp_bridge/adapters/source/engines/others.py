"""Engines offered through their SQLAlchemy dialects that nothing here runs: Oracle
(``oracle://``, python-oracledb) and SQL Server (``mssql://``, pymssql). The build's portable
statements run on them as written; ``source selftest`` on the entity's own server must pass
before the first build (SPEC §11), since CI has no such server."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from ugpp_bridge.adapters import database
from ugpp_bridge.adapters.source.engines.base import SourceEngine


def _connect(driver: str, extra: str) -> Any:
    def connect(url: str, **options: Any) -> Engine:
        return database.create(database.parse_url(url, driver=driver), extra=extra, **options)

    return connect


ORACLE = SourceEngine(
    name="oracle",
    schemes=("oracle",),
    dialect="oracle",
    connect=_connect("oracle+oracledb", "oracle"),
    extra="oracle",
)
MSSQL = SourceEngine(
    name="mssql",
    schemes=("mssql",),
    dialect="mssql",
    connect=_connect("mssql+pymssql", "mssql"),
    extra="mssql",
)
