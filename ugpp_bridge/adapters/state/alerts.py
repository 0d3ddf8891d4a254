"""``SqlAlchemyAlertStore``: deadline alerts raised once, and their webhook deliveries.

The unique key (request, threshold, due date) makes "raised once" hold across processes: a
second scheduler inserting the same alert gets an integrity error, read here as "already
raised". Raising an alert writes its audit entry in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, RowMapping, select, update
from sqlalchemy.exc import IntegrityError

from ugpp_bridge.adapters.state import tables as t
from ugpp_bridge.adapters.state.audit import append_audit
from ugpp_bridge.adapters.state.base import SqlAlchemyStateBase
from ugpp_bridge.domain.alerts import DeadlineAlert
from ugpp_bridge.domain.filing import RequestKey
from ugpp_bridge.errors import StoreUnavailableError
from ugpp_bridge.service.ports import AlertStore

A, R = t.deadline_alerts, t.requests


class SqlAlchemyAlertStore(SqlAlchemyStateBase, AlertStore):
    def raise_alert(self, alert: DeadlineAlert, *, at: datetime) -> bool:
        try:
            with self._tx() as connection:
                row = self._row(connection, alert.key)
                connection.execute(
                    A.insert().values(
                        request_pk=row["id"],
                        threshold=alert.threshold,
                        business_days_left=alert.business_days_left,
                        due_date=alert.due_date,
                        raised_at=at,
                        webhook_attempts=0,
                        email_attempts=0,
                    )
                )
                append_audit(
                    connection,
                    at=at,
                    actor="scheduler",
                    action="deadline.alert",
                    filing_number=alert.filing_number,
                    details={
                        "threshold": alert.threshold,
                        "business_days_left": alert.business_days_left,
                        "due_date": alert.due_date.isoformat(),
                    },
                )
        except StoreUnavailableError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                return False  # raised before, by this process or another
            raise
        return True

    def undelivered(self, channel: str, max_attempts: int) -> list[DeadlineAlert]:
        attempts, delivered = _columns(channel)
        query = (
            select(A, R.c.filing_number, R.c.request_id, R.c.state)
            .join(R, R.c.id == A.c.request_pk)
            .where(delivered.is_(None), attempts < max_attempts)
            .order_by(A.c.id)
        )
        with self._read() as connection:
            return [_alert(row) for row in connection.execute(query).mappings()]

    def record_delivery(
        self, alert: DeadlineAlert, channel: str, *, at: datetime, error: str | None
    ) -> None:
        attempts, delivered = _columns(channel)
        values: dict[str, object] = {attempts.name: attempts + 1, f"{channel}_error": error}
        if error is None:
            values[delivered.name] = at
        with self._tx() as connection:
            connection.execute(update(A).where(A.c.id == alert.alert_id).values(**values))

    def recent(self, since: datetime) -> list[DeadlineAlert]:
        query = (
            select(A, R.c.filing_number, R.c.request_id, R.c.state)
            .join(R, R.c.id == A.c.request_pk)
            .where(A.c.raised_at >= since, R.c.state.not_in(["sent", "confirmed"]))
            .order_by(A.c.raised_at.desc(), A.c.id.desc())
        )
        with self._read() as connection:
            return [_alert(row) for row in connection.execute(query).mappings()]


CHANNELS = ("webhook", "email")


def _columns(channel: str) -> tuple[Column[Any], Column[Any]]:
    if channel not in CHANNELS:
        raise ValueError(f"unknown alert channel {channel!r}")
    return A.c[f"{channel}_attempts"], A.c[f"{channel}_delivered_at"]


def _alert(row: RowMapping) -> DeadlineAlert:
    return DeadlineAlert(
        row["filing_number"],
        row["request_id"],
        row["state"],
        row["due_date"],
        row["threshold"],
        row["business_days_left"],
        RequestKey(row["request_pk"]),
        row["id"],
    )
