"""Engines offered through their SQLAlchemy dialects that nothing here runs: Oracle
(``oracle://``, python-oracledb) and SQL Server (``mssql://``, pymssql). The build's portable
statements run on them as written; ``source selftest`` on the entity's own server must pass
before the first build (SPEC §11), since CI has no such server."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from ugpp_bridge.adapters import database
from ugpp_bridge.adapters.source.engines.base import SourceEngine


def _unproven(name: str, driver: str, extra: str) -> SourceEngine:
    def connect(url: str, **options: Any) -> Engine:
        return database.plain_engine(url, driver=driver, extra=extra, **options)

    return SourceEngine(name=name, schemes=(name,), dialect=name, connect=connect, extra=extra)


ORACLE = _unproven("oracle", "oracle+oracledb", "oracle")
MSSQL = _unproven("mssql", "mssql+pymssql", "mssql")
