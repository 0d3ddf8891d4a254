"""``SqlAlchemyAlertStore``: deadline alerts raised once, and their webhook deliveries.

The unique key (request, threshold, due date) makes "raised once" hold across processes: a
second scheduler inserting the same alert gets an integrity error, read here as "already
raised". Raising an alert writes its audit entry in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ugpp_bridge.adapters import state_tables as t
from ugpp_bridge.adapters.audit_store import append_audit
from ugpp_bridge.adapters.state_base import SqlAlchemyStateBase
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

    def undelivered(self, max_attempts: int) -> list[DeadlineAlert]:
        query = (
            select(A, R.c.filing_number, R.c.request_id, R.c.state)
            .join(R, R.c.id == A.c.request_pk)
            .where(A.c.webhook_delivered_at.is_(None), A.c.webhook_attempts < max_attempts)
            .order_by(A.c.id)
        )
        with self._read() as connection:
            return [
                DeadlineAlert(
                    row["filing_number"],
                    row["request_id"],
                    row["state"],
                    row["due_date"],
                    row["threshold"],
                    row["business_days_left"],
                    RequestKey(row["request_pk"]),
                    row["id"],
                )
                for row in connection.execute(query).mappings()
            ]

    def record_delivery(self, alert: DeadlineAlert, *, at: datetime, error: str | None) -> None:
        values: dict[str, object] = {
            "webhook_attempts": A.c.webhook_attempts + 1,
            "webhook_error": error,
        }
        if error is None:
            values["webhook_delivered_at"] = at
        with self._tx() as connection:
            connection.execute(update(A).where(A.c.id == alert.alert_id).values(**values))
