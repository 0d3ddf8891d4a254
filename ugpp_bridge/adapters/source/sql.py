"""The entity's source database through SQLAlchemy Core: read, check and (for samples) write."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TypeVar

from sqlalchemy import ColumnElement, Connection, Engine, Table, select, tuple_
from sqlalchemy.exc import SQLAlchemyError

from ugpp_bridge.adapters.database import connection_advice, describe_error, safe_url
from ugpp_bridge.adapters.source import engines
from ugpp_bridge.adapters.source import schema as schema
from ugpp_bridge.adapters.source.check import check_relations
from ugpp_bridge.adapters.source.records import (
    RowError,
    SourceRecord,
    record_from_row,
    row_key,
)
from ugpp_bridge.adapters.source.shape import has_relation
from ugpp_bridge.adapters.source.writing import write_relations
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.source import (
    Account,
    DailyBalance,
    SourceData,
    Title,
    TitleEvent,
    Transaction,
    TrustYieldPayment,
)
from ugpp_bridge.errors import (
    SourceDataError,
    SourceProblem,
    SourceUnavailableError,
)
from ugpp_bridge.service.ports import SourceReader, SourceWriter, WriteCounts

logger = logging.getLogger(__name__)

CHUNK = 500
KEY_BATCH = 1_000
T = TypeVar("T")
R = TypeVar("R")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class SqlAlchemySource(SourceReader, SourceWriter):
    """Reads (and for samples and imports, writes) the six relations of SPEC §3."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def close(self) -> None:
        """Close the pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> SqlAlchemySource:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def check(self) -> list[SourceProblem]:
        with self._connect() as connection:
            return check_relations(connection)

    def holders(self, limit: int, relation: str = "accounts") -> list[PersonId]:
        table = schema.RELATIONS[relation]
        query = (
            select(table.c.holder_doc_type, table.c.holder_doc_number)
            .distinct()
            .order_by(table.c.holder_doc_type, table.c.holder_doc_number)
            .limit(limit)
        )
        with self._connect() as connection:
            return [PersonId(row[0], row[1]) for row in connection.execute(query)]

    def load(self, persons: Sequence[PersonId]) -> SourceData:
        started = time.perf_counter()
        with self._connect() as connection:
            data = SourceData.merge(
                self._load_chunk(connection, chunk) for chunk in chunked(persons, CHUNK)
            )
        logger.info(
            "Loaded source data of %d persons in %.2f s",
            len(persons),
            time.perf_counter() - started,
        )
        return data

    def write(self, parts: Iterable[SourceData], *, replace: bool = False) -> WriteCounts:
        engine = engines.of(self.engine)
        if engine.writer is not None:  # files (Parquet) or a lake: the engine's own writer
            display = source_name(self.engine)
            return engine.writer(self.engine, parts, replace=replace, display=display)
        try:
            counts = write_relations(self.engine, parts, replace=replace)
            if engine.after_load is not None:
                with self.engine.connect() as connection:
                    engine.after_load(connection, [schema.RELATIONS[r].name for r in counts.rows])
                    connection.commit()
        except SQLAlchemyError as exc:
            raise SourceUnavailableError(
                f"Writing to the source database {source_name(self.engine)} failed and "
                f"nothing was kept: {describe_error(exc)}"
            ) from exc
        return counts

    def existing_keys(self, relation: str, keys: Iterable[str]) -> set[str]:
        table = schema.RELATIONS[relation]
        column = table.c[{"accounts": "account_id", "titles": "title_id"}[relation]]
        wanted = sorted(set(keys))
        found: set[str] = set()
        try:
            with self.engine.connect() as connection:
                if not has_relation(connection, table.name):
                    return found
                for start in range(0, len(wanted), KEY_BATCH):
                    batch = wanted[start : start + KEY_BATCH]
                    found.update(connection.scalars(select(column).where(column.in_(batch))))
        except SQLAlchemyError as exc:
            raise SourceUnavailableError(
                f"Reading the source database {source_name(self.engine)} failed: "
                f"{describe_error(exc)}"
            ) from exc
        return found

    def _connect(self) -> _Connection:
        return _Connection(self.engine)

    def _load_chunk(self, connection: Connection, persons: list[PersonId]) -> SourceData:
        keys = [(p.doc_type, p.doc_number) for p in persons]

        def by_holder(table: Table) -> list[SourceRecord]:
            holder = tuple_(table.c.holder_doc_type, table.c.holder_doc_number)
            return _records(connection, table, holder.in_(keys))

        accounts = _only(by_holder(schema.accounts), Account)
        titles = _only(by_holder(schema.titles), Title)
        account_ids = [a.account_id for a in accounts]
        title_ids = [t.title_id for t in titles]
        return SourceData(
            accounts=accounts,
            transactions=_only(
                _by_ids(connection, schema.transactions, "account_id", account_ids), Transaction
            ),
            daily_balances=_only(
                _by_ids(connection, schema.daily_balances, "account_id", account_ids), DailyBalance
            ),
            titles=titles,
            title_events=_only(
                _by_ids(connection, schema.title_events, "title_id", title_ids), TitleEvent
            ),
            trust_yield_payments=_only(by_holder(schema.trust_yield_payments), TrustYieldPayment),
        )


class _Connection:
    """A connection whose SQLAlchemy failures become ``SourceUnavailableError``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection: Connection | None = None

    def __enter__(self) -> Connection:
        try:
            self.connection = self.engine.connect()
        except SQLAlchemyError as exc:
            raise source_unavailable(self.engine, exc) from exc
        return self.connection

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        assert self.connection is not None
        self.connection.close()
        if isinstance(exc, SQLAlchemyError):
            raise source_unavailable(self.engine, exc) from exc


def source_unavailable(engine: Engine, exc: SQLAlchemyError) -> SourceUnavailableError:
    advice = connection_advice(engine.url, exc)
    return SourceUnavailableError(
        f"The source database {source_name(engine)} could not be read ({describe_error(exc)}); "
        + (f"{advice}; " if advice else "")
        + "check UGPP_BRIDGE_SOURCE_URL and run `ugpp-bridge source check`."
    )


def source_name(engine: Engine) -> str:
    """The source as the operator configured it: its URL without the password, the Parquet
    folder (a Parquet source runs on an in-memory DuckDB the operator never named), or Spark's
    master and relations."""
    return engines.of(engine).display_name(engine) or safe_url(engine.url)


def _only(records: list[SourceRecord], kind: type[R]) -> tuple[R, ...]:
    return tuple(record for record in records if isinstance(record, kind))


def _by_ids(
    connection: Connection, table: Table, column: str, ids: list[str]
) -> list[SourceRecord]:
    found: list[SourceRecord] = []
    for chunk in chunked(ids, CHUNK):
        found.extend(_records(connection, table, table.c[column].in_(chunk)))
    return found


def _records(
    connection: Connection, table: Table, where: ColumnElement[bool]
) -> list[SourceRecord]:
    query = select(table).where(where)
    records = []
    for row in connection.execute(query).mappings():
        try:
            records.append(record_from_row(table.name, row))
        except RowError as exc:
            problem = SourceProblem(
                table.name, exc.column, exc.message, (row_key(table.name, row),)
            )
            raise SourceDataError([problem]) from exc
    return records
