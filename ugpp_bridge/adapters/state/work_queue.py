"""``SqlAlchemyWorkQueue``: leases on request rows, so that no two processes do the same work.

A claim is one short transaction: pick the most urgent due request nobody holds —
``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent claimers pass over each
other's candidate instead of waiting for it; on SQLite the engine's ``BEGIN IMMEDIATE``
serialises claimers — then write the owner and the lease's end. The work itself runs outside
that transaction, renewing the lease; a process that dies stops renewing and its lease runs
out, which makes the request due again for everyone else. An operator's action (``claim``)
need not wait that long when the holder was a process of this same host that is gone.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, RowMapping, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ugpp_bridge.adapters.state import tables as t
from ugpp_bridge.adapters.state.base import SqlAlchemyStateBase
from ugpp_bridge.domain.filing import BOGOTA, RequestKey
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.domain.work import DUE_STATES, Claim, WorkKind
from ugpp_bridge.errors import WorkInProgressError
from ugpp_bridge.service.ports import WorkQueue

logger = logging.getLogger(__name__)
R = t.requests


class SqlAlchemyWorkQueue(SqlAlchemyStateBase, WorkQueue):
    def claim_next(
        self, kind: WorkKind, *, owner: str, now: datetime, lease: timedelta
    ) -> Claim | None:
        in_due_state: ColumnElement[bool] = R.c.state.in_(
            sorted(state.value for state in DUE_STATES[kind])
        )
        if kind is WorkKind.BUILD:  # or a rebuild someone asked for (a correction)
            in_due_state = or_(in_due_state, R.c.rebuild_requested_by.is_not(None))
        due = (
            select(R.c.id, R.c.filing_number, R.c.state, R.c.rebuild_requested_by)
            .where(
                in_due_state,
                or_(R.c.lease_until.is_(None), R.c.lease_until < now),
                or_(R.c.next_attempt_at.is_(None), R.c.next_attempt_at <= now),
                R.c.held_reason.is_(None),  # waiting for an operator, not for a sweep
            )
            .order_by(R.c.due_date, R.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        with self._tx() as connection:
            row = connection.execute(due).mappings().first()
            return None if row is None else self._take(connection, row, owner, now + lease)

    def claim(self, key: RequestKey, *, owner: str, now: datetime, lease: timedelta) -> Claim:
        with self._tx() as connection:
            row = self._row(connection, key, lock=True)
            held_by, until = row["lease_owner"], row["lease_until"]
            # Not re-entrant: one process's scheduler and web threads share an owner name, and
            # a lease held under it is work in progress all the same.
            live = held_by is not None and until is not None and until >= now
            if live and _died_here(held_by):
                logger.warning(
                    "Taking over %s from %s, a process of this host that is gone",
                    row["filing_number"], held_by,
                )  # fmt: skip
            elif live:
                raise WorkInProgressError(
                    row["filing_number"], held_by, f"{until.astimezone(BOGOTA):%Y-%m-%d %H:%M:%S}"
                )
            return self._take(connection, row, owner, now + lease)

    def renew(self, claim: Claim, *, now: datetime, lease: timedelta) -> Claim | None:
        until = now + lease
        with self._tx() as connection:
            changed = connection.execute(
                update(R)
                .where(R.c.id == claim.key, R.c.lease_owner == claim.owner)
                .values(lease_until=until)
            ).rowcount
        return replace(claim, until=until) if changed else None

    def release(self, claim: Claim, *, retry_at: datetime | None = None) -> None:
        with self._tx() as connection:
            connection.execute(
                update(R)
                .where(R.c.id == claim.key, R.c.lease_owner == claim.owner)
                .values(lease_owner=None, lease_until=None, next_attempt_at=retry_at)
            )

    def beat(self, owner: str, at: datetime) -> None:
        """This scheduler is alive (for ``/metrics`` and ``doctor``). One upsert: an update
        that found no row followed by an insert raced with another process doing the same
        (``UniqueViolation`` on PostgreSQL when ``serve`` and ``worker`` started together)."""
        dialect = self.engine.dialect.name
        upsert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(
            t.scheduler_heartbeats
        ).values(owner=owner, beat_at=at)
        statement = upsert.on_conflict_do_update(
            index_elements=[t.scheduler_heartbeats.c.owner], set_={"beat_at": at}
        )
        with self._tx() as connection:
            connection.execute(statement)

    def last_beat(self) -> datetime | None:
        with self._read() as connection:
            found: datetime | None = connection.execute(
                select(func.max(t.scheduler_heartbeats.c.beat_at))
            ).scalar()
        return found

    @staticmethod
    def _take(connection: Connection, row: RowMapping, owner: str, until: datetime) -> Claim:
        connection.execute(
            update(R).where(R.c.id == row["id"]).values(lease_owner=owner, lease_until=until)
        )
        return Claim(
            RequestKey(row["id"]),
            row["filing_number"],
            RequestState(row["state"]),
            owner,
            until,
            row.get("rebuild_requested_by"),
        )


def _died_here(owner: str) -> bool:
    """True when ``owner`` (``role:host:pid:tag``, see ``bootstrap.process_name``) names a
    process of this host that no longer runs — its lease need not be waited out."""
    parts = owner.split(":")
    if len(parts) != 4 or parts[1] != socket.gethostname() or not parts[2].isdigit():
        return False
    try:
        os.kill(int(parts[2]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it runs, under another user
    return False
