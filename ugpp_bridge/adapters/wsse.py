"""Checks the WS-Security UsernameToken of an incoming SOAP envelope (OASIS UsernameToken 1.0).

spyne has no WS-Security, and no well-kept Python library verifies UsernameTokens on the
server side (zeep only builds them), so this module does it: PasswordText (over TLS) or
PasswordDigest = Base64(SHA-1(nonce + created + password)); when Nonce and Created are present
(always for PasswordDigest) a Created more than five minutes off and a nonce seen before are
refused. Every failure is the same ``NotAuthorizedError``, so a caller learns nothing about
which part was wrong; the log line says which, without secrets.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from lxml import etree

from ugpp_bridge.adapters.wire import SOAP_ENV
from ugpp_bridge.errors import NotAuthorizedError

logger = logging.getLogger(__name__)

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
PASSWORD_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
FRESHNESS = timedelta(minutes=5)


class NonceCache:
    """Nonces seen in the freshness window; thread-safe, bounded by time.

    It lives in the serving process: with several web processes a nonce replayed to another
    process is not caught (the Created window still bounds the replay to five minutes).
    """

    def __init__(self, window: timedelta = 2 * FRESHNESS) -> None:
        self.window = window
        self._seen: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def first_use(self, nonce: str, now: datetime) -> bool:
        """True the first time ``nonce`` is offered within the window; False for a replay."""
        with self._lock:
            cutoff = now - self.window
            if len(self._seen) > 1_000:
                self._seen = {n: at for n, at in self._seen.items() if at > cutoff}
            seen = self._seen.get(nonce)
            if seen is not None and seen > cutoff:
                return False
            self._seen[nonce] = now
            return True


class UsernameTokenVerifier:
    """Verifies the UsernameToken of an envelope against one configured account."""

    def __init__(
        self, username: str, password: str, clock: Callable[[], datetime], nonces: NonceCache
    ) -> None:
        self.username, self.password, self.clock, self.nonces = username, password, clock, nonces

    def verify(self, envelope: etree._Element) -> str:
        """The authenticated username, or ``NotAuthorizedError``."""
        token = envelope.find(f"{{{SOAP_ENV}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
        if token is None:
            return self._refuse("no UsernameToken in the Security header")
        username = (token.findtext(f"{{{WSSE}}}Username") or "").strip()
        password = token.find(f"{{{WSSE}}}Password")
        nonce = (token.findtext(f"{{{WSSE}}}Nonce") or "").strip()
        created = (token.findtext(f"{{{WSU}}}Created") or "").strip()
        if password is None or not hmac.compare_digest(username.encode(), self.username.encode()):
            return self._refuse("unknown username or no password")
        kind = password.get("Type", PASSWORD_TEXT)
        if kind == PASSWORD_DIGEST:
            if not (nonce and created):
                return self._refuse("PasswordDigest without Nonce and Created")
            expected = self._digest(nonce, created)
        elif kind == PASSWORD_TEXT:
            expected = self.password
        else:
            return self._refuse("unsupported password type")
        if not hmac.compare_digest((password.text or "").strip().encode(), expected.encode()):
            return self._refuse("wrong password")
        if created:
            self._check_fresh(created)
        if nonce and not self.nonces.first_use(nonce, self.clock()):
            return self._refuse("replayed nonce")
        return username

    def _digest(self, nonce: str, created: str) -> str:
        try:
            raw_nonce = base64.b64decode(nonce, validate=True)
        except (binascii.Error, ValueError):
            return self._refuse("nonce is not Base64")
        digest = hashlib.sha1(raw_nonce + created.encode() + self.password.encode()).digest()
        return base64.b64encode(digest).decode()

    def _check_fresh(self, created: str) -> None:
        try:
            moment = datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            self._refuse("Created is not a dateTime")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        if abs(self.clock() - moment) > FRESHNESS:
            self._refuse("Created is more than five minutes off")

    @staticmethod
    def _refuse(reason: str) -> str:
        logger.warning("WS-Security refused: %s", reason)
        raise NotAuthorizedError()
