"""Alembic environment: the metadata comes from the state-store adapter.

An upgrade is all or nothing on every engine: every pending migration runs in one transaction.
On SQLite that takes two things Alembic does not do by default. Its DDL is treated as
transactional (SQLite's is; Alembic assumes not, and commits migration by migration, so a
failure half-way left a database at a revision no release knows). And foreign keys are
enforced only at the end: a batch migration rebuilds a table (copy, drop, rename), and with
``foreign_keys`` on, dropping a table that other rows reference fails as soon as the database
holds data. SQLite ignores that pragma inside a transaction, so it is set before the
transaction starts, and ``PRAGMA foreign_key_check`` must find nothing before it commits.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from ugpp_bridge.adapters.state.engine import state_engine
from ugpp_bridge.adapters.state.tables import metadata

config = context.config
target_metadata = metadata


def run_with(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _foreign_keys(connection, "OFF")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
        transactional_ddl=True,
        transaction_per_migration=False,
    )
    try:
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                _require_consistent_foreign_keys(connection)
    finally:
        if sqlite:
            _foreign_keys(connection, "ON")


def _foreign_keys(connection: Connection, state: str) -> None:
    # On the driver's connection: through SQLAlchemy the statement would open a transaction
    # first (the bridge's BEGIN IMMEDIATE), inside which SQLite ignores this pragma.
    if connection.in_transaction():
        connection.rollback()
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={state}")  # type: ignore[union-attr]


class ForeignKeyBroken(SQLAlchemyError):
    """Rows left pointing at nothing after the migrations: the upgrade is rolled back (and
    reported like any database error by ``adapters.state.migrations``)."""


def _require_consistent_foreign_keys(connection: Connection) -> None:
    broken = connection.execute(text("PRAGMA foreign_key_check")).all()
    if broken:
        table, rowid, parent = broken[0][0], broken[0][1], broken[0][2]
        raise ForeignKeyBroken(
            f"{len(broken)} row(s) would reference nothing after the upgrade (first: {table} "
            f"row {rowid} → {parent})"
        )


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    engine = state_engine(config.get_main_option("sqlalchemy.url") or "", serialised_writes=True)
    try:
        with engine.connect() as new_connection:
            run_with(new_connection)
    finally:
        engine.dispose()


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
