"""Writing the six relations into an SQL engine (``source sample``, ``source import``, the
Parquet writer's staging database and the self-test's bank): one transaction, the contract's
tables created where missing, rows inserted in batches."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Engine

from ugpp_bridge.adapters.source import schema as schema
from ugpp_bridge.adapters.source.records import rows_of
from ugpp_bridge.domain.source import SourceData
from ugpp_bridge.service.ports import WriteCounts

WRITE_BATCH = 5_000


def write_relations(engine: Engine, parts: Iterable[SourceData], *, replace: bool) -> WriteCounts:
    """All of ``parts`` in one transaction (after deleting every row, with ``replace``);
    SQLAlchemy's errors are the caller's to translate."""
    counts = WriteCounts()
    pending: dict[str, list[dict[str, object]]] = {name: [] for name in schema.RELATIONS}
    with engine.begin() as connection:
        schema.metadata.create_all(connection, checkfirst=True)
        if replace:
            for relation in reversed(schema.RELATION_ORDER):
                connection.execute(schema.RELATIONS[relation].delete())
        for part in parts:
            for relation, rows in rows_of(part).items():
                pending[relation].extend(rows)
                if len(pending[relation]) >= WRITE_BATCH:
                    _insert(connection, relation, pending, counts)
        for relation in schema.RELATION_ORDER:
            _insert(connection, relation, pending, counts)
    return counts


def _insert(
    connection: Connection,
    relation: str,
    pending: dict[str, list[dict[str, object]]],
    counts: WriteCounts,
) -> None:
    rows = pending[relation]
    if rows:
        connection.execute(schema.RELATIONS[relation].insert(), rows)
        counts.add(relation, len(rows))
        pending[relation] = []
