"""Deadline alerts to a webhook (``UGPP_BRIDGE_ALERT_WEBHOOK_URL``): one JSON POST per alert.

The body carries ``text`` (what Slack- and Teams-style incoming webhooks display) and the
alert's fields. It names the request, never a person. ``requests`` errors become
``RemoteUnavailableError`` here.
"""

from __future__ import annotations

import logging

import requests

from ugpp_bridge.domain.alerts import DeadlineAlert
from ugpp_bridge.errors import RemoteUnavailableError

logger = logging.getLogger(__name__)


class WebhookNotifier:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url, self.timeout = url, timeout
        self.session = requests.Session()

    def __call__(self, alert: DeadlineAlert) -> None:
        payload = {
            "text": alert.message(),
            "radicado": alert.filing_number,
            "idSolicitud": alert.request_id,
            "estado": alert.state,
            "fechaVencimiento": alert.due_date.isoformat(),
            "diasHabilesRestantes": alert.business_days_left,
            "umbral": alert.threshold,
        }
        try:
            response = self.session.post(self.url, json=payload, timeout=self.timeout)
            response.raise_for_status()
        except requests.RequestException as exc:
            raise RemoteUnavailableError(
                f"The alert webhook could not be reached or refused the alert "
                f"({type(exc).__name__}); check UGPP_BRIDGE_ALERT_WEBHOOK_URL."
            ) from exc
        logger.info("Deadline alert %s posted to the webhook", alert.filing_number)
