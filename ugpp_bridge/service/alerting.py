"""Use case: raise deadline alerts (``domain/alerts.py``) and deliver them to a webhook.

Every open request (not yet ``sent`` or ``confirmed``) is measured in business days against its
``fechaVencimiento``; an alert is raised once per threshold, logged as a warning, audited, and
— when a webhook is configured — posted, retried on later sweeps until delivered or
``max_webhook_attempts`` is reached.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container
from datetime import date, datetime

from ugpp_bridge.domain.alerts import DeadlineAlert, alert_threshold
from ugpp_bridge.domain.deadlines import business_days_until
from ugpp_bridge.errors import RemoteError
from ugpp_bridge.service.overview import DELIVERED
from ugpp_bridge.service.ports import AlertStore, RequestStore

logger = logging.getLogger(__name__)

Notify = Callable[[DeadlineAlert], None]


def raise_deadline_alerts(
    requests: RequestStore,
    alerts: AlertStore,
    *,
    today: date,
    holidays: Container[date],
    clock: Callable[[], datetime],
    notify: Notify | None = None,
    max_webhook_attempts: int = 5,
) -> list[DeadlineAlert]:
    """Raise the alerts due today; deliver the undelivered ones; the newly raised ones."""
    raised = []
    for summary in requests.list_requests():
        if summary.state in DELIVERED:
            continue
        left = business_days_until(today, summary.due_date, holidays)
        threshold = alert_threshold(left)
        if threshold is None:
            continue
        alert = DeadlineAlert(
            summary.filing_number, summary.request_id, summary.state.value,
            summary.due_date, threshold, left, summary.key,
        )  # fmt: skip
        if alerts.raise_alert(alert, at=clock()):
            logger.warning("Deadline alert: %s", alert.message())
            raised.append(alert)
    if notify is not None:
        _deliver(alerts, notify, clock, max_webhook_attempts)
    return raised


def _deliver(
    alerts: AlertStore, notify: Notify, clock: Callable[[], datetime], max_attempts: int
) -> None:
    for alert in alerts.undelivered(max_attempts):
        try:
            notify(alert)
        except RemoteError as exc:
            logger.warning("The deadline webhook failed for %s: %s", alert.filing_number, exc)
            alerts.record_delivery(alert, at=clock(), error=str(exc))
        else:
            alerts.record_delivery(alert, at=clock(), error=None)
