"""What the bridge knows about one source engine (SPEC §9), as data: the registry
(``engines/__init__.py``) holds one ``SourceEngine`` per module of this folder, and the build,
the checks and the writers ask it instead of comparing engine names."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from ugpp_bridge.service.ports import WriteCounts

# An execution option naming the registry entry an engine was made by (a Parquet folder runs on
# DuckDB's dialect, Spark on ours): ``engines.of(bind)`` reads it.
ENGINE_OPTION = "ugpp_bridge_source_engine"

Columns = dict[str, dict[str, str]]  # relation → column → declared type


@dataclass(frozen=True)
class SourceEngine:
    """One engine the bridge reads the entity's data from.

    ``dialect`` is SQLAlchemy's name for what its connections speak; ``schemes`` the URL
    schemes that choose it. ``proven`` engines run the golden and equality tests in CI; the
    others must pass ``source selftest`` on the entity's server before a build.
    """

    name: str
    schemes: tuple[str, ...]
    dialect: str
    connect: Callable[..., Engine]  # (url, **options) → engine
    proven: bool = False
    extra: str | None = None  # the pyproject extra that installs its driver
    # The build: persons per chunk; whether chunks are built side by side and the value checks
    # run beside the first chunk (engines that run a query on one core).
    chunk_persons: int = 2_000
    parallel: bool = False
    savepoints: bool = True  # temporary tables written inside a savepoint
    # An engine whose database exists once per connection (SQLite in memory): one connection.
    single_connection: Callable[[Engine], bool] = lambda _engine: False
    correlated_carry_in: bool = True  # the carried-in balance as a correlated subquery
    # The contract checks: what the engine lets through that others refuse.
    dynamic_types: bool = False  # SQLite: text where a number, a date or a boolean belongs
    dates_as_timestamps: bool = False  # views and datasets may expose timestamps for dates
    declared_types: bool = True  # column types are declared (and checked)
    # Hooks; None: the portable SQLAlchemy way.
    file_of: Callable[[str], Path | None] = lambda _url: None  # a file or folder that must exist
    after_load: Callable[[Connection, Iterable[str]], None] | None = None  # fresh statistics
    register_rows: Callable[[Connection, str, list[dict[str, Any]]], None] | None = None
    relation_columns: Callable[[Connection], Columns] | None = None
    writer: Callable[..., WriteCounts] | None = None  # (engine, parts, replace=, display=)
    display_name: Callable[[Engine], str | None] = lambda _engine: None
    # A lake: the same engine reading the six relations from a folder of Parquet files
    # (url, folder, options → engine); the self-test loads its bank that way.
    on_folder: Callable[[str, Path, Mapping[str, Any]], Engine] | None = None
    # Whether a build on (url, options) starts a runtime in this process that outlives it (a
    # local Spark's JVM): ``serve`` and ``worker`` then build in a child process.
    keeps_runtime: Callable[[str, Mapping[str, Any]], bool] = lambda _url, _options: False
    # The options this engine takes from the settings (Spark's master and relations).
    from_settings: Callable[[Any], dict[str, Any]] = lambda _settings: {}
    options: Mapping[str, Any] = field(default_factory=dict)  # create_engine's, by default
