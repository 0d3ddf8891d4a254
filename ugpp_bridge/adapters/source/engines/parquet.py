"""Parquet folders as a source (``parquet:///DIR``): the relations as Parquet files, read by an
in-memory DuckDB (``adapters/source/parquet.py``); written all or nothing."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from ugpp_bridge.adapters.source import parquet
from ugpp_bridge.adapters.source.engines import duckdb
from ugpp_bridge.adapters.source.engines.base import SourceEngine


def connect(url: str, **_options: Any) -> Engine:
    return parquet.parquet_engine(url, on_connect=duckdb.limits)


def on_folder(_url: str, folder: Path, _options: Mapping[str, Any]) -> Engine:
    return connect(f"parquet://{folder}")


def display_name(engine: Engine) -> str | None:
    folder = parquet.folder_of(engine)
    return f"parquet://{folder}" if folder is not None else None


ENGINE = SourceEngine(
    name="parquet",
    schemes=("parquet",),
    dialect=duckdb.DIALECT,
    connect=connect,
    proven=True,
    extra="duckdb",
    savepoints=False,
    file_of=parquet.parquet_folder,
    relation_columns=duckdb.relation_columns,
    writer=parquet.write_to_folder,
    display_name=display_name,
    on_folder=on_folder,
)
