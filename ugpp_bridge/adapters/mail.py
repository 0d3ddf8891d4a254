"""Deadline alerts by e-mail (``UGPP_BRIDGE_SMTP_URL``, ``UGPP_BRIDGE_ALERT_EMAILS``), in Spanish.

``smtp://host:25`` (plain), ``smtp+starttls://user:pass@host:587`` or ``smtps://user:pass@host:465``.
One message per alert to every address; it names the request, never a person. ``smtplib``
errors become ``RemoteUnavailableError`` here, and the password never reaches a message or a log.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from ugpp_bridge.domain.alerts import DeadlineAlert
from ugpp_bridge.errors import ConfigurationError, RemoteUnavailableError

logger = logging.getLogger(__name__)


class MailNotifier:
    def __init__(
        self, url: str, recipients: Sequence[str], *, sender: str | None = None, timeout: float = 15
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps", "smtp+starttls") or not parts.hostname:
            raise ConfigurationError(
                "UGPP_BRIDGE_SMTP_URL must look like smtp://host:25, smtps://user:pass@host:465 "
                "or smtp+starttls://user:pass@host:587.",
                setting="UGPP_BRIDGE_SMTP_URL",
            )
        if not recipients:
            raise ConfigurationError(
                "UGPP_BRIDGE_ALERT_EMAILS is required to send deadline alerts by e-mail.",
                setting="UGPP_BRIDGE_ALERT_EMAILS",
            )
        self.scheme, self.host = parts.scheme, parts.hostname
        self.port = parts.port or {"smtp": 25, "smtps": 465, "smtp+starttls": 587}[parts.scheme]
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.recipients, self.timeout = tuple(recipients), timeout
        self.sender = sender or (
            self.user if self.user and "@" in self.user else "ugpp-bridge@localhost"
        )

    def __call__(self, alert: DeadlineAlert) -> None:
        message = EmailMessage()
        message["Subject"] = alert.subject()
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message.set_content(
            f"{alert.message()}\n\n"
            "Revise la solicitud en el tablero de ugpp-bridge. Las sanciones por entrega tardía "
            "se cuentan por meses o fracción de mes (Resolución UGPP 1707 de 2019, art. 11).\n"
        )
        try:
            with self._connect() as smtp:
                if self.user and self.password:
                    smtp.login(self.user, self.password)
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise RemoteUnavailableError(
                f"The alert e-mail could not be sent ({type(exc).__name__}); check "
                "UGPP_BRIDGE_SMTP_URL."
            ) from exc
        logger.info("Deadline alert %s e-mailed to %d address(es)", alert.filing_number,
                    len(self.recipients))  # fmt: skip

    def _connect(self) -> smtplib.SMTP:
        if self.scheme == "smtps":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                    context=ssl.create_default_context())  # fmt: skip
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.scheme == "smtp+starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp
