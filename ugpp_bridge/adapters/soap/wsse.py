"""Checks the WS-Security header of an incoming SOAP message (OASIS UsernameToken 1.0).

spyne has no WS-Security, and no well-kept Python library verifies UsernameTokens on the
server side (zeep only builds them), so this module does it: PasswordText (over TLS) or
PasswordDigest = Base64(SHA-1(nonce + created + password)); when Nonce and Created are present
(always for PasswordDigest) a Created more than five minutes off and a nonce seen before are
refused. A ``wsu:Timestamp`` is honoured too: an ``Expires`` in the past or a ``Created`` in
the future (beyond a minute of clock skew) is refused.

It works on the SOAP ``Header`` element alone, so the Paso 1 front can authenticate a caller
before it reads, let alone parses, the Body (SPEC §9). Nonces live in a ``NonceRegistry``: in
memory for the stand-in, in the state database for ``serve`` so that every process sees a
replay. ``verify_header`` records the nonce at once, or — with ``record_nonce=False`` — only
checks it was not seen and leaves the recording to the caller, so that Paso 1 can record it in
the very transaction that registers the request (one write instead of two). Every failure is
the same ``NotAuthorizedError``, so a caller learns nothing about which part was wrong; the log
line says which, without secrets.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Never, Protocol

from lxml import etree

from ugpp_bridge.adapters.soap.wire import SOAP_ENV
from ugpp_bridge.errors import NotAuthorizedError

logger = logging.getLogger(__name__)

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
PASSWORD_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
SECURITY = f"{{{WSSE}}}Security"
FRESHNESS = timedelta(minutes=5)
CLOCK_SKEW = timedelta(minutes=1)
MAX_USERNAME = 120


class NonceRegistry(Protocol):
    def first_use(self, nonce: str, now: datetime) -> bool:
        """True the first time ``nonce`` is offered within the freshness window (recorded)."""

    def seen(self, nonce: str, now: datetime) -> bool:
        """Whether ``nonce`` was recorded within the freshness window (nothing is written)."""


@dataclass(frozen=True)
class Credential:
    """Who authenticated, and the nonce their token carried (to record, when deferred)."""

    username: str
    nonce: str | None


class NonceCache:
    """Nonces seen in the freshness window, in this process; thread-safe, bounded by time."""

    def __init__(self, window: timedelta = 2 * FRESHNESS) -> None:
        self.window = window
        self._seen: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def seen(self, nonce: str, now: datetime) -> bool:
        with self._lock:
            at = self._seen.get(nonce)
            return at is not None and at > now - self.window

    def first_use(self, nonce: str, now: datetime) -> bool:
        with self._lock:
            cutoff = now - self.window
            if len(self._seen) > 1_000:
                self._seen = {n: at for n, at in self._seen.items() if at > cutoff}
            seen = self._seen.get(nonce)
            if seen is not None and seen > cutoff:
                return False
            self._seen[nonce] = now
            return True


def security_header(header: etree._Element | None) -> etree._Element | None:
    return None if header is None else header.find(SECURITY)


def claimed_username(header: etree._Element | None) -> str | None:
    """The user name a header claims (not yet verified), for throttling; None when absent."""
    security = security_header(header)
    if security is None:
        return None
    name = (security.findtext(f"{{{WSSE}}}UsernameToken/{{{WSSE}}}Username") or "").strip()
    return name[:MAX_USERNAME] or None


class UsernameTokenVerifier:
    """Verifies the UsernameToken of a SOAP header against one configured account."""

    def __init__(
        self, username: str, password: str, clock: Callable[[], datetime], nonces: NonceRegistry
    ) -> None:
        self.username, self.password, self.clock, self.nonces = username, password, clock, nonces

    def verify(self, envelope: etree._Element) -> str:
        """The authenticated username of a whole envelope, or ``NotAuthorizedError``."""
        return self.verify_header(envelope.find(f"{{{SOAP_ENV}}}Header")).username

    def verify_header(
        self, header: etree._Element | None, *, record_nonce: bool = True
    ) -> Credential:
        """The credential of a SOAP ``Header``, or ``NotAuthorizedError``."""
        security = security_header(header)
        token = None if security is None else security.find(f"{{{WSSE}}}UsernameToken")
        if security is None or token is None:
            self._refuse("no UsernameToken in the Security header")
        username = (token.findtext(f"{{{WSSE}}}Username") or "").strip()
        password = token.find(f"{{{WSSE}}}Password")
        nonce = (token.findtext(f"{{{WSSE}}}Nonce") or "").strip()
        created = (token.findtext(f"{{{WSU}}}Created") or "").strip()
        if password is None or not hmac.compare_digest(username.encode(), self.username.encode()):
            self._refuse("unknown username or no password")
        kind = password.get("Type", PASSWORD_TEXT)
        if kind == PASSWORD_DIGEST:
            if not (nonce and created):
                self._refuse("PasswordDigest without Nonce and Created")
            expected = self._digest(nonce, created)
        elif kind == PASSWORD_TEXT:
            expected = self.password
        else:
            self._refuse("unsupported password type")
        if not hmac.compare_digest((password.text or "").strip().encode(), expected.encode()):
            self._refuse("wrong password")
        if created:
            self._check_fresh(created)
        self._check_timestamp(security.find(f"{{{WSU}}}Timestamp"))
        if nonce:
            now = self.clock()
            fresh = (
                self.nonces.first_use(nonce, now)
                if record_nonce
                else not self.nonces.seen(nonce, now)
            )
            if not fresh:
                self._refuse("replayed nonce")
        return Credential(username, nonce or None)

    def _digest(self, nonce: str, created: str) -> str:
        try:
            raw_nonce = base64.b64decode(nonce, validate=True)
        except (binascii.Error, ValueError):
            self._refuse("nonce is not Base64")
        digest = hashlib.sha1(raw_nonce + created.encode() + self.password.encode()).digest()
        return base64.b64encode(digest).decode()

    def _check_fresh(self, created: str) -> None:
        if abs(self.clock() - self._moment(created, "Created")) > FRESHNESS:
            self._refuse("Created is more than five minutes off")

    def _check_timestamp(self, timestamp: etree._Element | None) -> None:
        """A ``wsu:Timestamp`` is a promise of the sender: honour its window."""
        if timestamp is None:
            return
        now = self.clock()
        created = (timestamp.findtext(f"{{{WSU}}}Created") or "").strip()
        expires = (timestamp.findtext(f"{{{WSU}}}Expires") or "").strip()
        if created and self._moment(created, "Timestamp/Created") > now + CLOCK_SKEW:
            self._refuse("Timestamp/Created is in the future")
        if expires and self._moment(expires, "Timestamp/Expires") < now - CLOCK_SKEW:
            self._refuse("the Timestamp has expired")

    def _moment(self, text: str, what: str) -> datetime:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self._refuse(f"{what} is not a dateTime")
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    @staticmethod
    def _refuse(reason: str) -> Never:
        logger.warning("WS-Security refused: %s", reason)
        raise NotAuthorizedError()
