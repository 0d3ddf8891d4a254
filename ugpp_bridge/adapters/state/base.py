"""Shared plumbing of the state stores: one transaction per call, the request row, moves.

SQLAlchemy errors become ``StoreUnavailableError`` here, once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection, Engine, RowMapping, select, update
from sqlalchemy.exc import SQLAlchemyError

from ugpp_bridge.adapters.database import connection_advice, safe_url
from ugpp_bridge.adapters.state import tables as t
from ugpp_bridge.adapters.state.audit import append_audit
from ugpp_bridge.adapters.state.engine import READ_ONLY
from ugpp_bridge.adapters.state.rows import request_from_rows
from ugpp_bridge.domain.filing import RequestKey, StoredRequest, parse_operator_id
from ugpp_bridge.domain.lifecycle import RequestState, check_request_transition
from ugpp_bridge.errors import (
    AmbiguousIdentifierError,
    RequestNotFoundError,
    StoreUnavailableError,
)


class SqlAlchemyStateBase:
    """Engine, transactions and the request-row helpers both state stores use."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def schema_revision(self) -> str | None:
        """The Alembic revision the state database is at (None: never migrated); quick, and
        never waiting for a writer (for ``/healthz``, ``serve`` and ``doctor``)."""
        with self._read() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET LOCAL statement_timeout = 2000")
            try:
                with connection.begin_nested():
                    found = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
                    return found.scalar()
            except SQLAlchemyError:
                return None

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A transaction that only reads: on SQLite it never queues behind a writer."""
        with self._guarded():
            with self.engine.connect() as plain:
                connection = plain.execution_options(**{READ_ONLY: True})
                with connection.begin():
                    yield connection

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self._guarded(), self.engine.begin() as connection:
            yield connection

    @contextmanager
    def _guarded(self) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            reason = getattr(exc, "orig", None) or exc
            first = (str(reason).strip().splitlines() or [""])[0]
            advice = connection_advice(self.engine.url, exc) or (
                "check UGPP_BRIDGE_DATABASE_URL and run `ugpp-bridge db upgrade`"
            )
            raise StoreUnavailableError(
                f"The state database {safe_url(self.engine.url)} failed and nothing of this "
                f"action was kept ({type(reason).__name__}: {first}); {advice}."
            ) from exc

    def _move(
        self,
        connection: Connection,
        row: RowMapping,
        target: RequestState,
        *,
        at: datetime,
        actor: str,
        reason: str | None = None,
        values: dict[str, object] | None = None,
    ) -> None:
        current = RequestState(row["state"])
        check_request_transition(current, target)
        connection.execute(
            update(t.requests)
            .where(t.requests.c.id == row["id"])
            .values(state=target.value, updated_at=at, **(values or {}))
        )
        append_audit(
            connection,
            at=at,
            actor=actor,
            action=f"request.{target.value}",
            filing_number=row["filing_number"],
            reason=reason,
            details={"from": current.value, "to": target.value, **_error_detail(values)},
        )

    def _row(self, connection: Connection, key: RequestKey, *, lock: bool = False) -> RowMapping:
        """The request row of a primary key: internal work never looks a request up by text."""
        if not isinstance(key, int):
            raise TypeError(f"a request is addressed by its primary key, not by {key!r}")
        query = select(t.requests).where(t.requests.c.id == key)
        row = connection.execute(query.with_for_update() if lock else query).mappings().first()
        if row is None:
            raise RequestNotFoundError(str(key))
        return row

    def _find_key(self, connection: Connection, identifier: str) -> RequestKey:
        """The primary key of the request an operator names (SPEC §9): by radicado, by
        idSolicitud, or by the one a ``radicado:`` / ``solicitud:`` prefix picks. An ID that
        is one request's radicado and another's idSolicitud is refused, naming both."""
        wanted = parse_operator_id(identifier)
        if wanted is None:
            raise RequestNotFoundError(identifier)
        r = t.requests
        by_radicado = by_request_id = None
        if wanted.as_radicado:
            query = select(r.c.id, r.c.filing_number).where(r.c.filing_number == wanted.value)
            by_radicado = connection.execute(query).first()
        if wanted.as_request_id:
            query = select(r.c.id, r.c.filing_number).where(r.c.request_id == wanted.value)
            by_request_id = connection.execute(query).first()
        if by_radicado is not None and by_request_id is not None:
            if by_radicado[0] != by_request_id[0]:
                raise AmbiguousIdentifierError(wanted.value, by_radicado[1], by_request_id[1])
        found = by_radicado or by_request_id
        if found is None:
            raise RequestNotFoundError(identifier)
        return RequestKey(found[0])

    def _load(self, connection: Connection, row: RowMapping) -> StoredRequest:
        persons = (
            connection.execute(
                select(t.request_persons)
                .where(t.request_persons.c.request_pk == row["id"])
                .order_by(t.request_persons.c.position)
            )
            .mappings()
            .all()
        )
        periods = (
            connection.execute(
                select(t.request_periods)
                .where(t.request_periods.c.request_pk == row["id"])
                .order_by(t.request_periods.c.year, t.request_periods.c.month)
            )
            .mappings()
            .all()
        )
        return request_from_rows(row, persons, periods)


def _error_detail(values: dict[str, object] | None) -> dict[str, object]:
    """What the audit keeps of a transition's values: the error, and UGPP's confirmation
    radicado (art. 7) when one is registered."""
    values = values or {}
    kept: dict[str, object] = {}
    if values.get("last_error"):
        kept["error"] = values["last_error"]
    if values.get("confirmation"):
        kept["radicado"] = values["confirmation"]
    return kept
