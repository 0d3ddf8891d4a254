"""Defences every process shares through the state database (SPEC §9).

``SqlAlchemyNonceStore`` remembers WS-Security nonces, so a nonce replayed to another ``serve``
process is caught too. ``SqlAlchemyAuthThrottle`` counts authentication failures per user name
and per client address (``domain/throttling.py``) and says who is locked out; a lockout that
starts is written to the audit trail with the user name and the address.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from ugpp_bridge.adapters.soap.wsse import FRESHNESS
from ugpp_bridge.adapters.state import tables as t
from ugpp_bridge.adapters.state.audit import append_audit
from ugpp_bridge.adapters.state.base import SqlAlchemyStateBase
from ugpp_bridge.domain.throttling import (
    POLICIES,
    FailureCount,
    Scope,
    Subject,
    ThrottleStatus,
    after_failure,
)
from ugpp_bridge.errors import StoreUnavailableError
from ugpp_bridge.service.ports import AuthThrottle

logger = logging.getLogger(__name__)

N, F = t.wsse_nonces, t.auth_failures
NONCE_WINDOW = 2 * FRESHNESS
MAX_SUBJECT = 120


class SqlAlchemyNonceStore(SqlAlchemyStateBase):
    """WS-Security nonces seen in the freshness window, for every process."""

    def first_use(self, nonce: str, now: datetime) -> bool:
        try:
            with self._tx() as connection:
                record_nonce(connection, nonce, now)
        except StoreUnavailableError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                return False  # seen before, by this process or another
            raise
        return True

    def seen(self, nonce: str, now: datetime) -> bool:
        query = select(N.c.seen_at).where(
            N.c.nonce_hash == nonce_hash(nonce), N.c.seen_at >= now - NONCE_WINDOW
        )
        with self._read() as connection:
            return connection.execute(query).first() is not None


def nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def record_nonce(connection: Connection, nonce: str, now: datetime) -> None:
    """Record a nonce inside the caller's transaction (forgetting those past the window);
    an ``IntegrityError`` when it was recorded before, by any process."""
    connection.execute(delete(N).where(N.c.seen_at < now - NONCE_WINDOW))
    connection.execute(N.insert().values(nonce_hash=nonce_hash(nonce), seen_at=now))


class SqlAlchemyAuthThrottle(SqlAlchemyStateBase, AuthThrottle):
    """Authentication failures per user name and client address, and the lockouts they earn."""

    def status(
        self, scope: Scope, *, user: str | None, address: str | None, now: datetime
    ) -> ThrottleStatus:
        subjects = _subjects(user, address)
        if not subjects:
            return ThrottleStatus(None, False)
        with self._read() as connection:
            rows = connection.execute(
                select(F.c.kind, F.c.blocked_until).where(
                    F.c.scope == scope.value, _any_of(subjects)
                )
            ).all()
        blocks = [until for _, until in rows if until is not None and until > now]
        user_rows = any(kind == Subject.USER.value for kind, _ in rows)
        return ThrottleStatus(max(blocks, default=None), user_rows)

    def record_failure(
        self, scope: Scope, *, user: str | None, address: str | None, now: datetime
    ) -> datetime | None:
        """Count one failure; the end of a lockout that this failure started, else None."""
        started: datetime | None = None
        with self._tx() as connection:
            for kind, subject in _subjects(user, address):
                previous = _count(connection, scope, kind, subject)
                count = after_failure(previous, POLICIES[(scope, kind)], now)
                _store(connection, scope, kind, subject, count, now, exists=previous is not None)
                fresh = previous is None or not previous.blocked_at(now)
                if fresh and count.blocked_until is not None and count.blocked_at(now):
                    started = max(started or count.blocked_until, count.blocked_until)
                    logger.warning("Authentication throttled: %s %s locked out", scope, kind)
                    append_audit(
                        connection, at=now, actor=f"{scope.value}:{kind.value}",
                        action="auth.throttled", filing_number=None,
                        details={"scope": scope.value, "user": user, "address": address,
                                 "locked": kind.value, "until": count.blocked_until.isoformat(),
                                 "failures": count.failures},
                    )  # fmt: skip
        return started

    def record_success(self, scope: Scope, *, user: str) -> None:
        with self._tx() as connection:
            connection.execute(
                delete(F).where(
                    F.c.scope == scope.value,
                    F.c.kind == Subject.USER.value,
                    F.c.subject == user[:MAX_SUBJECT],
                )
            )


def _subjects(user: str | None, address: str | None) -> list[tuple[Subject, str]]:
    found = []
    if user:
        found.append((Subject.USER, user[:MAX_SUBJECT]))
    if address:
        found.append((Subject.ADDRESS, address[:MAX_SUBJECT]))
    return found


def _any_of(subjects: list[tuple[Subject, str]]) -> ColumnElement[bool]:
    return or_(
        *(and_(F.c.kind == kind.value, F.c.subject == subject) for kind, subject in subjects)
    )


def _count(
    connection: Connection, scope: Scope, kind: Subject, subject: str
) -> FailureCount | None:
    row = connection.execute(
        select(F.c.failures, F.c.window_started_at, F.c.blocked_until)
        .where(F.c.scope == scope.value, F.c.kind == kind.value, F.c.subject == subject)
        .with_for_update()
    ).first()
    return None if row is None else FailureCount(row[0], row[1], row[2])


def _store(
    connection: Connection,
    scope: Scope,
    kind: Subject,
    subject: str,
    count: FailureCount,
    now: datetime,
    *,
    exists: bool,
) -> None:
    values = {
        "failures": count.failures,
        "window_started_at": count.window_started_at,
        "last_failure_at": now,
        "blocked_until": count.blocked_until,
    }
    if not exists:
        connection.execute(
            F.insert().values(scope=scope.value, kind=kind.value, subject=subject, **values)
        )
        return
    where = (F.c.scope == scope.value, F.c.kind == kind.value, F.c.subject == subject)
    connection.execute(update(F).where(*where).values(**values))
