"""The build's own statements run on the entity's engine over a bank whose answers are known
(SPEC §11, ``source selftest``): how an engine nothing here has run on proves itself.

Where the trap bank goes, so that nothing of the entity's is touched:
- a SQL server or file (SQLite, PostgreSQL, MySQL/MariaDB, DuckDB, Oracle, SQL Server…):
  temporary tables named like the six relations, on one connection that holds them (they
  shadow the entity's relations for that session only, and vanish with it) — or, with
  ``UGPP_BRIDGE_SELFTEST_SCHEMA``, ordinary tables in that scratch schema (replaced on the
  next run; a schema holding relations the self-test did not make is refused);
- Parquet files and Spark: the six relations as Parquet datasets in a scratch folder (named
  like the build's, so an interrupted run's is swept), read by the same engine kind (for
  Spark: the configured master, or the Connect server).

The trap bank is synthetic: no personal data goes anywhere.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, Engine, MetaData, String, Table, inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from ugpp_bridge import __version__
from ugpp_bridge.adapters.database import describe_error
from ugpp_bridge.adapters.source import engines, schema
from ugpp_bridge.adapters.source.engines import make_engine
from ugpp_bridge.adapters.source.records import rows_of
from ugpp_bridge.adapters.source.report_source import SqlAlchemyReportSource
from ugpp_bridge.adapters.source.sql import SqlAlchemySource
from ugpp_bridge.domain.report import Record
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.domain.source import SourceData
from ugpp_bridge.errors import ConfigurationError, SourceUnavailableError
from ugpp_bridge.service.build import SCRATCH_PREFIX

# What the build runs on the source: a change to any of them is a change to prove again.
_STATEMENTS = ("report_sql.py", "check.py", "report_source.py", "schema.py", "shape.py",
               "dialects.py")  # fmt: skip


def build_fingerprint() -> str:
    """The running version and a hash of the build's statements' modules (``0.1.0+1a2b…``)."""
    digest = hashlib.sha256(__version__.encode())
    here = Path(__file__).parent
    for path in (*(here / name for name in _STATEMENTS), *sorted(here.glob("engines/*.py"))):
        digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:16]}"


def engine_records(
    url: str,
    data: SourceData,
    request: FinancialInfoRequest,
    *,
    engine_options: dict[str, Any] | None = None,
    scratch_schema: str | None = None,
) -> list[Record]:
    """The records the build's statements give for ``request`` on ``url``'s engine, with
    ``data`` as the six relations (loaded where the module docstring says)."""
    lake = engines.for_url(url).on_folder
    if lake is not None:
        with _parquet_folder(data) as folder:
            return _build(lake(url, folder, engine_options or {}), request)
    engine = _one_connection_engine(url, scratch_schema)
    try:
        with engine.connect() as connection:
            _load(connection, data, scratch_schema)
            connection.commit()
        return _build(engine, request)
    except SQLAlchemyError as exc:
        raise SourceUnavailableError(
            f"The self-test could not load its bank into {url.split('@')[-1]}: "
            f"{describe_error(exc)}"
        ) from exc
    finally:
        engine.dispose()


def _build(engine: Engine, request: FinancialInfoRequest) -> list[Record]:
    source = SqlAlchemyReportSource(engine, chunk_persons=16, parallel_chunks=1, max_connections=1)
    try:
        return [
            record
            for person in source.person_reports(request, account_number_digits=4)
            for record in person.records()
        ]
    finally:
        source.close()


def _one_connection_engine(url: str, scratch_schema: str | None) -> Engine:
    """Every ``connect()`` the same session (temporary tables live in one session); the
    build uses it from its threads one at a time."""
    engine = make_engine(url, poolclass=StaticPool)
    if scratch_schema:
        engine = engine.execution_options(schema_translate_map={None: scratch_schema})
    return engine


MARKER = "ugpp_bridge_selftest"  # in a scratch schema: the six tables there are the self-test's


def _load(connection: Connection, data: SourceData, scratch_schema: str | None) -> None:
    scratch = MetaData()
    tables = {
        name: Table(
            name,
            scratch,
            *(
                Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
                for c in table.columns
            ),
            prefixes=[] if scratch_schema else ["TEMPORARY"],
        )  # fmt: skip
        for name, table in schema.RELATIONS.items()
    }
    if scratch_schema:
        _claim_scratch(connection, scratch_schema)
        Table(MARKER, scratch, Column("made_by", String(40)))
        scratch.drop_all(connection, checkfirst=True)
    scratch.create_all(connection, checkfirst=bool(scratch_schema))
    for relation, rows in rows_of(data).items():
        if rows:
            connection.execute(tables[relation].insert(), rows)


def _claim_scratch(connection: Connection, scratch_schema: str) -> None:
    """Never drop what the entity keeps: the six relations may be replaced in the scratch
    schema only when the self-test made them (its marker table is there)."""
    present = set(inspect(connection).get_table_names(schema=scratch_schema))
    theirs = sorted(present & set(schema.RELATIONS))
    if theirs and MARKER not in present:
        raise ConfigurationError(
            f"UGPP_BRIDGE_SELFTEST_SCHEMA={scratch_schema} already holds {', '.join(theirs)}, "
            "which the self-test did not make: name an empty schema for it (it replaces the six "
            "relations there), or leave the setting out to use temporary tables.",
            setting="UGPP_BRIDGE_SELFTEST_SCHEMA",
        )


@contextmanager
def _parquet_folder(data: SourceData) -> Iterator[Path]:
    # Named like the build's scratch folders (prefix, then this process's id), so that the
    # sweep of abandoned ones removes it if this process is killed mid-way.
    folder = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-selftest-"))
    try:
        with SqlAlchemySource(make_engine(f"parquet://{folder}")) as writer:
            writer.write([data])
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
