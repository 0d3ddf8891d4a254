"""Parquet folders as a source (``parquet:///DIR``): the relations as Parquet files, read by an
in-memory DuckDB (``parquet_files``); written all or nothing."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from ugpp_bridge.adapters.source.engines import duckdb, parquet_files
from ugpp_bridge.adapters.source.engines.base import SourceEngine


def connect(url: str, *, memory_limit: str = duckdb.MEMORY_LIMIT, **_options: Any) -> Engine:
    return parquet_files.parquet_engine(url, on_connect=duckdb.limits(memory_limit))


def on_folder(_url: str, folder: Path, _options: Mapping[str, Any]) -> Engine:
    return connect(f"parquet://{folder}")


def display_name(engine: Engine) -> str | None:
    folder = parquet_files.folder_of(engine)
    return f"parquet://{folder}" if folder is not None else None


ENGINE = SourceEngine(
    name="parquet",
    schemes=("parquet",),
    dialect=duckdb.DIALECT,
    connect=connect,
    proven=True,
    extra="duckdb",
    savepoints=False,
    chunk_persons=10_000,  # as DuckDB's (engines/duckdb.py)
    file_of=parquet_files.parquet_folder,
    relation_columns=duckdb.relation_columns,
    writer=parquet_files.write_to_folder,
    display_name=display_name,
    on_folder=on_folder,
    from_settings=duckdb.from_settings,
)
