"""``parquet:///DIR``: the six relations as Parquet files, read in-process by DuckDB (SPEC §9).

Each relation is ``DIR/<relation>.parquet`` or a folder ``DIR/<relation>/`` of Parquet files
(a partitioned export). Every connection is a new in-memory DuckDB database holding one view per
relation present (``read_parquet``), so the build's Core statements, the contract checks and
``source check`` run unchanged; a missing file is a missing relation. Nothing is imported.

Writing (``source sample``/``import`` with a ``parquet:`` URL) stages the relations in a
temporary DuckDB file — what the folder already holds, unless ``replace``, plus the new rows,
with the contract's keys enforced there — then ``COPY``\\s each to ``<relation>.parquet.part``
and renames all of them only when every one is written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

from ugpp_bridge.adapters.database import describe_error
from ugpp_bridge.adapters.source import schema as schema
from ugpp_bridge.adapters.source.writing import write_relations
from ugpp_bridge.domain.source import SourceData
from ugpp_bridge.errors import ConfigurationError, SourceUnavailableError
from ugpp_bridge.service.ports import WriteCounts

FOLDER_OPTION = "ugpp_bridge_parquet_folder"  # execution option naming an engine's folder


def parquet_folder(url: str) -> Path:
    """``parquet:///abs/dir`` → ``/abs/dir``; ``parquet://rel/dir`` → ``rel/dir``."""
    rest = url.split(":", 1)[1]
    if not rest.startswith("//"):
        raise ConfigurationError(
            f"{url!r} is not a Parquet source URL: write parquet:///absolute/folder or "
            "parquet://relative/folder."
        )
    path = rest[2:]
    if not path or path == "/":
        raise ConfigurationError(f"{url!r} names no folder.")
    return Path(path)


def relation_source(folder: Path, relation: str) -> str | None:
    """The ``read_parquet`` argument for a relation, or None when the folder lacks it."""
    single = folder / f"{relation}.parquet"
    if single.is_file():
        return str(single)
    partitioned = folder / relation
    if partitioned.is_dir() and any(partitioned.rglob("*.parquet")):
        return str(partitioned / "**" / "*.parquet")
    return None  # an empty folder holds no dataset: the relation is missing


def parquet_engine(url: str, *, on_connect: Callable[[Any, Any], None]) -> Engine:
    """An engine over the folder of ``url``: in-memory DuckDB with a view per relation."""
    _require_duckdb()
    folder = parquet_folder(url)
    # No pool: each connection is a fresh in-memory database whose views see the files as
    # they are now (a new export, a file written by ``source import``).
    engine = create_engine("duckdb:///:memory:", poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def create_views(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        on_connect(dbapi_connection, _record)  # the engine's limits (engines/duckdb.py)
        cursor = dbapi_connection.cursor()
        for relation in schema.RELATION_ORDER:
            source = relation_source(folder, relation)
            if source is not None:
                cursor.execute(
                    f'CREATE VIEW "{relation}" AS SELECT * FROM read_parquet({_literal(source)})'
                )
        cursor.close()

    return engine.execution_options(**{FOLDER_OPTION: str(folder)})


def folder_of(engine: Engine) -> Path | None:
    """The Parquet folder behind an engine from ``parquet_engine`` (None for any other)."""
    folder = engine.get_execution_options().get(FOLDER_OPTION)
    return Path(folder) if folder else None


def write_parquet(
    folder: Path, parts: Iterable[SourceData], *, replace: bool, display: str
) -> WriteCounts:
    """Write the relations to ``folder`` all or nothing (see the module's docstring)."""
    for relation in schema.RELATION_ORDER:
        if (folder / relation).is_dir():
            raise SourceUnavailableError(
                f"{folder / relation} is a partitioned dataset; the bridge writes single "
                f"{relation}.parquet files only. Write to an empty folder, or export from the "
                "core system."
            )
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ugpp-bridge-parquet-") as scratch:
        staging = create_engine(f"duckdb:///{Path(scratch) / 'staging.duckdb'}")
        try:
            if not replace:
                _stage_existing(staging, folder)
            counts = write_relations(staging, parts, replace=False)
            written = _copy_out(staging, folder)
        except SQLAlchemyError as exc:
            for relation in schema.RELATION_ORDER:  # a half-written set of files is not kept
                (folder / f"{relation}.parquet.part").unlink(missing_ok=True)
            # The staging database is ours, not the operator's: name the Parquet folder, with
            # the engine's own reason.
            raise SourceUnavailableError(
                f"Writing the Parquet source {display} failed and nothing was kept: "
                f"{describe_error(exc)}"
            ) from exc
        finally:
            staging.dispose()
        for part, final in written:
            os.replace(part, final)
    return counts


def write_to_folder(
    engine: Engine, parts: Iterable[SourceData], *, replace: bool, display: str
) -> WriteCounts:
    """The writer of a ``parquet:///DIR`` source: its folder, all or nothing."""
    folder = folder_of(engine)
    assert folder is not None, "a Parquet engine always names its folder"
    return write_parquet(folder, parts, replace=replace, display=display)


def _stage_existing(engine: Engine, folder: Path) -> None:
    with engine.begin() as connection:
        schema.metadata.create_all(connection, checkfirst=True)
        for relation in schema.RELATION_ORDER:
            source = relation_source(folder, relation)
            if source is None:
                continue
            columns = ", ".join(f'"{c.name}"' for c in schema.RELATIONS[relation].columns)
            connection.exec_driver_sql(
                f'INSERT INTO "{relation}" ({columns}) '
                f"SELECT {columns} FROM read_parquet({_literal(source)})"
            )


def _copy_out(engine: Engine, folder: Path) -> list[tuple[Path, Path]]:
    written = []
    with engine.connect() as connection:
        for relation in schema.RELATION_ORDER:
            final = folder / f"{relation}.parquet"
            part = folder / f"{relation}.parquet.part"
            connection.exec_driver_sql(
                f'COPY (SELECT * FROM "{relation}") TO {_literal(str(part))} (FORMAT PARQUET)'
            )
            written.append((part, final))
    return written


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _require_duckdb() -> None:
    try:
        import duckdb_engine  # noqa: F401
    except ImportError as exc:
        raise ConfigurationError(
            "parquet:/// sources are read by DuckDB, which is not installed; install it with: "
            "pip install 'ugpp-bridge[duckdb]'"
        ) from exc
