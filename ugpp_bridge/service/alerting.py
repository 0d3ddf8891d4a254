"""Use case: raise deadline alerts (``domain/alerts.py``) and deliver them to people.

Every open request (not yet ``sent`` or ``confirmed``) is measured against its
``fechaVencimiento`` (business days before it, calendar days after it); an alert is raised once
per threshold, logged as a warning, audited, shown on the dashboard, and delivered to each
configured channel — the webhook, the compliance team's e-mail — retried on later sweeps until
delivered or ``max_attempts`` is reached, each channel on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container, Mapping
from datetime import date, datetime

from ugpp_bridge.domain.alerts import DeadlineAlert, alert_threshold, days_for_alerts
from ugpp_bridge.domain.deadlines import deadline_status
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
    channels: Mapping[str, Notify] | None = None,
    max_attempts: int = 5,
) -> list[DeadlineAlert]:
    """Raise the alerts due today; deliver the undelivered ones on every channel (``webhook``,
    ``email``); the newly raised ones."""
    raised = []
    for summary in requests.list_requests():
        if summary.state in DELIVERED:
            continue
        left = days_for_alerts(deadline_status(summary.due_date, today, holidays))
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
    for channel, notify in (channels or {}).items():
        _deliver(alerts, channel, notify, clock, max_attempts)
    return raised


def _deliver(
    alerts: AlertStore,
    channel: str,
    notify: Notify,
    clock: Callable[[], datetime],
    max_attempts: int,
) -> None:
    for alert in alerts.undelivered(channel, max_attempts):
        try:
            notify(alert)
        except RemoteError as exc:
            logger.warning("Deadline alert %s by %s failed: %s", alert.filing_number, channel, exc)
            alerts.record_delivery(alert, channel, at=clock(), error=str(exc))
        else:
            alerts.record_delivery(alert, channel, at=clock(), error=None)
