"""``ZeepUgppGateway``: sends one stored lote to UGPP's Paso 2 service and keeps the evidence.

The lote's stored bytes go into the SOAP Body as they are (same ``idEnvio``, same content on
every resend). zeep provides the WSDL binding, WS-Security and reply/fault parsing; a
``Transport`` subclass captures the exact bytes that went on the wire — after WS-Security —
and the bytes that came back. Every HTTP exchange becomes one ``Exchange`` (an attempt).

Authentication (SPEC §4): ``token`` (fetched once, shared, renewed a minute before it expires
and once after an HTTP 401), ``wsse`` (UsernameToken with a fresh Timestamp per call) or
``none``; optionally a TLS client certificate and CA bundle. The operation timeout is always
set. Library errors become outcomes here, once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from lxml import etree
from zeep import Client
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, TransportError
from zeep.transports import Transport
from zeep.wsse import utils as wsse_utils
from zeep.wsse.username import UsernameToken

from ugpp_bridge.adapters import wire
from ugpp_bridge.adapters.wire import SOAP_ENV
from ugpp_bridge.domain.filing import AttemptOutcome, Exchange
from ugpp_bridge.errors import ConfigurationError, RemoteUnavailableError
from ugpp_bridge.service.ports import UgppGateway

logger = logging.getLogger(__name__)

OPERATION = "ReportarInformacionFinanciera"
RENEW_MARGIN = timedelta(seconds=60)
DEFAULT_TOKEN_TTL = 20 * 60


@dataclass(frozen=True)
class GatewaySettings:
    wsdl: Path | str
    endpoint: str | None
    auth: str  # token | wsse | none
    token_url: str | None = None
    username: str | None = None
    password: str | None = None
    client_id: str | None = None
    timeout: float = 60.0
    client_cert: str | None = None
    ca_bundle: str | None = None


class CapturingTransport(Transport):
    """zeep's transport, keeping the exact bytes sent and received by this thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.captured = threading.local()

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        self.captured.request = message
        self.captured.response = None
        response: requests.Response = super().post(address, message, headers)
        self.captured.response = response
        return response


class TokenProvider:
    """The bearer token of SPEC §4: one for all lotes, renewed before expiry or after a 401."""

    def __init__(
        self, settings: GatewaySettings, session: requests.Session, clock: Callable[[], float]
    ) -> None:
        for name in ("token_url", "username", "password", "client_id"):
            if not getattr(settings, name):
                raise ConfigurationError(
                    f"UGPP_BRIDGE_UGPP_{name.upper()} is required for token authentication.",
                    setting=f"UGPP_BRIDGE_UGPP_{name.upper()}",
                )
        self.settings, self.session, self.clock = settings, session, clock
        self.token: str | None = None
        self.expires = 0.0
        self.fetched = 0
        self.lock = threading.Lock()

    def current(self) -> str:
        with self.lock:
            if self.token is None or self.clock() > self.expires - RENEW_MARGIN.total_seconds():
                self._fetch()
            assert self.token is not None
            return self.token

    def invalidate(self) -> None:
        with self.lock:
            self.token = None

    def _fetch(self) -> None:
        form = {
            "username": self.settings.username,
            "password": self.settings.password,
            "grant_type": "password",
            "client_id": self.settings.client_id,
        }
        try:
            answer = self.session.post(
                str(self.settings.token_url), data=form, timeout=self.settings.timeout
            )
            answer.raise_for_status()
            payload = answer.json()
            self.token = str(payload["access_token"])
        except (requests.RequestException, ValueError, KeyError) as exc:
            raise RemoteUnavailableError(
                f"UGPP's token service did not issue a token: {exc}"
            ) from exc
        self.expires = self.clock() + float(payload.get("expires_in") or DEFAULT_TOKEN_TTL)
        self.fetched += 1
        logger.info(
            "Fetched a UGPP token valid for %s s", payload.get("expires_in") or DEFAULT_TOKEN_TTL
        )


class ZeepUgppGateway(UgppGateway):
    """Sends lotes with zeep; one instance per sending run (one token, one session)."""

    def __init__(
        self, settings: GatewaySettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        self.session = requests.Session()
        if settings.client_cert:
            self.session.cert = settings.client_cert
        if settings.ca_bundle:
            self.session.verify = settings.ca_bundle
        self.transport = CapturingTransport(
            session=self.session, timeout=settings.timeout, operation_timeout=settings.timeout
        )
        try:
            self.client = Client(str(settings.wsdl), transport=self.transport)
        except (ZeepError, OSError, requests.RequestException) as exc:
            raise ConfigurationError(
                f"UGPP's WSDL {settings.wsdl} cannot be loaded: {exc}"
            ) from exc
        binding = self.client.service._binding
        self.binding, self.operation = binding, binding.get(OPERATION)
        self.address = settings.endpoint or self.client.service._binding_options["address"]
        self.tokens = (
            TokenProvider(settings, self.session, clock) if settings.auth == "token" else None
        )

    def close(self) -> None:
        self.session.close()

    def send(self, lote_xml: bytes) -> list[Exchange]:
        """Send one lote; one exchange, or two when an expired token had to be renewed."""
        first = self._exchange(lote_xml)
        if first.http_status == 401 and self.tokens is not None:
            self.tokens.invalidate()
            return [first, self._exchange(lote_xml)]
        return [first]

    def _exchange(self, lote_xml: bytes) -> Exchange:
        started, clock = datetime.now(UTC), time.perf_counter()
        envelope = self._envelope(lote_xml)
        headers = {"SOAPAction": f'"{OPERATION}"', "Content-Type": "text/xml; charset=utf-8"}
        try:
            if self.tokens is not None:
                headers["Authorization"] = f"Bearer {self.tokens.current()}"
            response = self.transport.post_xml(self.address, envelope, headers)
            outcome = self._outcome(response)
        except RemoteUnavailableError as exc:
            outcome = {"outcome": AttemptOutcome.CONNECTION_ERROR, "error": str(exc)}
        except requests.Timeout as exc:
            outcome = {"outcome": AttemptOutcome.TIMEOUT, "error": f"{type(exc).__name__}: {exc}"}
        except requests.RequestException as exc:
            outcome = {
                "outcome": AttemptOutcome.CONNECTION_ERROR,
                "error": f"{type(exc).__name__}: {exc}",
            }
        captured = self.transport.captured
        response_obj = getattr(captured, "response", None)
        exchange = Exchange(
            started_at=started,
            duration_ms=int((time.perf_counter() - clock) * 1000),
            endpoint=self.address,
            request_bytes=getattr(captured, "request", None) or etree.tostring(envelope),
            response_bytes=None if response_obj is None else response_obj.content,
            http_status=None if response_obj is None else response_obj.status_code,
            **outcome,
        )
        logger.info(
            "UGPP %s: %s in %d ms (HTTP %s)",
            OPERATION,
            exchange.outcome.value,
            exchange.duration_ms,
            exchange.http_status,
        )
        return exchange

    def _envelope(self, lote_xml: bytes) -> etree._Element:
        envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV})
        etree.SubElement(envelope, f"{{{SOAP_ENV}}}Header")
        body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
        body.append(etree.fromstring(lote_xml, wire.secure_parser()))
        if self.settings.auth == "wsse":
            timestamp = wsse_utils.WSU.Timestamp()
            now = datetime.now(UTC)
            timestamp.append(wsse_utils.WSU.Created(now.strftime("%Y-%m-%dT%H:%M:%SZ")))
            timestamp.append(
                wsse_utils.WSU.Expires((now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"))
            )
            token = UsernameToken(
                self.settings.username,
                self.settings.password,
                use_digest=True,
                timestamp_token=timestamp,
            )
            envelope, _ = token.apply(envelope, {})
        return envelope

    def _outcome(self, response: requests.Response) -> dict[str, Any]:
        if response.status_code == 401:
            return {
                "outcome": AttemptOutcome.HTTP_ERROR,
                "error": "HTTP 401: the token was refused",
            }
        try:
            result = self.binding.process_reply(self.client, self.operation, response)
        except Fault as exc:
            client = str(exc.code or "").endswith("Client")
            return {
                "outcome": AttemptOutcome.CLIENT_FAULT if client else AttemptOutcome.SERVER_FAULT,
                "fault_code": (exc.message or "").split(":", 1)[0],
                "fault_message": exc.message,
            }
        except (TransportError, ZeepError, etree.XMLSyntaxError) as exc:
            return {"outcome": AttemptOutcome.HTTP_ERROR, "error": f"{type(exc).__name__}: {exc}"}
        return {
            "outcome": AttemptOutcome.ACKNOWLEDGED,
            "ugpp_filing_number": str(result.radicadoUGPP),
        }
