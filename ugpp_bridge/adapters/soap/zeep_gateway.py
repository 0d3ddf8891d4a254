"""``ZeepUgppGateway``: one call of UGPP's Paso 2 service, prepared, then made (SPEC §4, §9).

``prepare`` builds the exact bytes that will go on the wire — the lote's stored bytes in the
Body as they are (same ``idEnvio``, same content on every resend), WS-Security applied with a
fresh Timestamp per call, or a bearer token in the headers — so that the caller can store the
attempt *before* the HTTP call. ``post`` makes the call with zeep's transport (a subclass that
keeps the bytes that came back) and classifies the answer:

- an ``AcuseReporte`` is read tolerantly (``wire.read_acuse``): a ``radicadoUGPP`` means
  acknowledged; elements we do not know become warnings on the attempt, never a failure;
- a fault whose code is ``Client`` or ``Client.*`` (SOAP 1.2 ``Sender``) rejects the lote; a
  WS-Security authentication fault means our credentials were refused; any other fault is
  UGPP's and is retried;
- HTTP 401: with a token, renew it once and try again (the caller does); with WS-Security or
  no authentication it means the credentials were refused.

zeep provides the WSDL (the address), WS-Security and the transport; its strict reply parsing
is not used, because it raises on any element the WSDL does not declare. The operation timeout
is always set. Library errors become outcomes here, once.

Authentication (SPEC §4): ``token`` (fetched once, shared; renewed ``min(60 s, 10 %)`` of its
lifetime before it expires and once after an HTTP 401; a token service answering 400/401
raises ``CredentialsRefusedError``), ``wsse`` (UsernameToken), or ``none``; optionally a TLS
client certificate and CA bundle.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from lxml import etree
from zeep import Client
from zeep.exceptions import Error as ZeepError
from zeep.transports import Transport
from zeep.wsdl.bindings.soap import Soap12Binding
from zeep.wsse import utils as wsse_utils
from zeep.wsse.username import UsernameToken

from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.adapters.soap.profile import (
    BUILTIN,
    Paso2Edge,
    ProfileError,
    TransformTerminated,
    WireProfile,
    load_profile,
)
from ugpp_bridge.adapters.soap.wire import SOAP_ENV
from ugpp_bridge.domain.filing import AttemptOutcome, Exchange, PreparedCall
from ugpp_bridge.errors import ConfigurationError, CredentialsRefusedError, RemoteUnavailableError
from ugpp_bridge.service.ports import UgppGateway

logger = logging.getLogger(__name__)

MAX_RENEW_MARGIN = 60.0
RENEW_SHARE = 0.10
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
    profile: WireProfile | None = None  # SPEC §10: None is the built-in v1


@dataclass(frozen=True)
class BoundOperation:
    """The operation a profile names, as its WSDL binds it: the port's address, the SOAP
    version of its binding and its SOAPAction."""

    address: str
    soap12: bool
    action: str


def bind_operation(client: Client, edge: Paso2Edge, wsdl: str) -> BoundOperation:
    """The first port (of the named service and port, when the profile names them) whose
    binding has the profile's operation; ``ConfigurationError`` naming the WSDL if none."""
    for service in client.wsdl.services.values():
        if edge.service and service.name != edge.service:
            continue
        for port in service.ports.values():
            if edge.port and port.name != edge.port:
                continue
            try:
                operation = port.binding.get(edge.operation)
            except ValueError:
                continue
            return BoundOperation(
                str(port.binding_options["address"]),
                isinstance(port.binding, Soap12Binding),
                str(operation.soapaction or ""),
            )
    where = "".join(
        f" {noun} «{name}»"
        for noun, name in (("en el servicio", edge.service), ("en el puerto", edge.port))
        if name
    )
    raise ConfigurationError(
        f"El WSDL de la UGPP ({Path(wsdl).name}) no tiene la operación «{edge.operation}»"
        f"{where}; revise paso2.operation, service y port del perfil.",
        setting="UGPP_BRIDGE_WIRE_PROFILE",
    )


class CapturingTransport(Transport):
    """zeep's transport, keeping the response of each POST for this thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.captured = threading.local()

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        self.captured.response = None
        response: requests.Response = super().post(address, message, headers)
        self.captured.response = response
        return response


def renew_margin(lifetime: float) -> float:
    """How long before expiry a token is renewed (SPEC §9): ``min(60 s, 10 %)`` of its life,
    so a 5-second token serves 4.5 seconds of calls instead of being fetched for every one."""
    return min(MAX_RENEW_MARGIN, RENEW_SHARE * lifetime)


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
        self.renew_at = 0.0
        self.fetched = 0
        self.lifetime = 0.0  # seconds, as the token service said
        self.lock = threading.Lock()

    def current(self) -> str:
        with self.lock:
            if self.token is None or self.clock() >= self.renew_at:
                self._fetch()
            assert self.token is not None
            return self.token

    def invalidate(self) -> None:
        with self.lock:
            self.token = None

    def _fetch(self) -> None:
        url = str(self.settings.token_url)
        form = {
            "username": self.settings.username,
            "password": self.settings.password,
            "grant_type": "password",
            "client_id": self.settings.client_id,
        }
        try:
            answer = self.session.post(url, data=form, timeout=self.settings.timeout)
        except requests.RequestException as exc:
            raise RemoteUnavailableError(
                f"El servicio de token de la UGPP no respondió ({type(exc).__name__})."
            ) from exc
        if answer.status_code in (400, 401):
            raise CredentialsRefusedError(
                f"El servicio de token de la UGPP rechazó las credenciales (HTTP "
                f"{answer.status_code}); revise UGPP_BRIDGE_UGPP_USERNAME, _PASSWORD y _CLIENT_ID.",
                endpoint=url,
                http_status=answer.status_code,
            )
        try:
            answer.raise_for_status()
            payload = answer.json()
            token = str(payload["access_token"])
            lifetime = float(payload.get("expires_in") or DEFAULT_TOKEN_TTL)
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            raise RemoteUnavailableError(
                f"El servicio de token de la UGPP no entregó un token (HTTP {answer.status_code})."
            ) from exc
        self.token, self.lifetime = token, lifetime
        self.renew_at = self.clock() + lifetime - renew_margin(lifetime)
        self.fetched += 1
        logger.info("Fetched a UGPP token valid for %.0f s", lifetime)


class ZeepUgppGateway(UgppGateway):
    """Sends lotes with zeep; one instance per sending run (one token, one session)."""

    def __init__(
        self, settings: GatewaySettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        for name, path in (("UGPP_CLIENT_CERT", settings.client_cert),
                           ("UGPP_CA_BUNDLE", settings.ca_bundle)):  # fmt: skip
            if path and not Path(path).is_file():
                raise ConfigurationError(
                    f"UGPP_BRIDGE_{name} names {path}, which is not a readable file.",
                    setting=f"UGPP_BRIDGE_{name}",
                )
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
        self.profile = settings.profile or load_profile(BUILTIN)
        self.bound = bind_operation(self.client, self.profile.paso2, str(settings.wsdl))
        self.address = settings.endpoint or self.bound.address
        self.tokens = (
            TokenProvider(settings, self.session, clock) if settings.auth == "token" else None
        )

    @property
    def renews_token(self) -> bool:
        return self.tokens is not None

    def forget_token(self) -> None:
        if self.tokens is not None:
            self.tokens.invalidate()

    def close(self) -> None:
        self.session.close()

    def prepare(self, lote_xml: bytes, answering: Mapping[str, str] | None = None) -> PreparedCall:
        action = self.bound.action
        if self.bound.soap12:  # SOAP 1.2: the action is a parameter of the media type
            headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'}
        else:
            headers = {"SOAPAction": f'"{action}"', "Content-Type": "text/xml; charset=utf-8"}
        if self.tokens is not None:
            headers["Authorization"] = f"Bearer {self.tokens.current()}"
        envelope = self._envelope(lote_xml)
        data = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        return PreparedCall(self.address, bytes(data), headers, dict(answering or {}))

    def post(self, call: PreparedCall) -> Exchange:
        started, clock = datetime.now(UTC), time.perf_counter()
        try:
            response = self.transport.post(call.endpoint, call.request_bytes, dict(call.headers))
            outcome = self._outcome(response, call.answering)
        except requests.Timeout as exc:
            response = None
            outcome = {"outcome": AttemptOutcome.TIMEOUT, "error": f"{type(exc).__name__}: {exc}"}
        except requests.RequestException as exc:
            response = None
            outcome = {
                "outcome": AttemptOutcome.CONNECTION_ERROR,
                "error": f"{type(exc).__name__}: {exc}",
            }
        exchange = Exchange(
            started_at=started,
            duration_ms=int((time.perf_counter() - clock) * 1000),
            endpoint=call.endpoint,
            request_bytes=call.request_bytes,
            response_bytes=None if response is None else response.content,
            http_status=None if response is None else response.status_code,
            **outcome,
        )
        logger.info(
            "UGPP %s: %s in %d ms (HTTP %s)",
            self.profile.paso2.operation, exchange.outcome.value, exchange.duration_ms,
            exchange.http_status,
        )  # fmt: skip
        return exchange

    def _envelope(self, lote_xml: bytes) -> etree._Element:
        soap = wire.SOAP12_ENV if self.bound.soap12 else SOAP_ENV
        envelope = etree.Element(f"{{{soap}}}Envelope", nsmap={"soapenv": soap})
        etree.SubElement(envelope, f"{{{soap}}}Header")
        body = etree.SubElement(envelope, f"{{{soap}}}Body")
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

    def _outcome(self, response: requests.Response, answering: Mapping[str, str]) -> dict[str, Any]:
        root = wire.answer_root(response.content)
        fault = None if root is None else wire.read_fault(root)
        if fault is not None:
            return _fault_outcome(fault)
        if response.status_code == 401:
            return self._unauthorized()
        answer = None if root is None or response.status_code != 200 else wire.body_child(root)
        try:
            acuse = None if answer is None else self._acuse(answer, answering)
        except TransformTerminated as exc:
            return _terminated_outcome(exc)
        except ProfileError as exc:
            return {"outcome": AttemptOutcome.SERVER_FAULT, "fault_code": "AcuseIlegible",
                    "fault_message": exc.text, "error": str(exc)}  # fmt: skip
        if acuse is not None and acuse.radicado:
            return {
                "outcome": AttemptOutcome.ACKNOWLEDGED,
                "ugpp_filing_number": acuse.radicado,
                "warnings": tuple(f"elemento desconocido en el acuse: {n}" for n in acuse.unknown),
            }
        what = "un acuse sin radicadoUGPP" if acuse is not None else "una respuesta sin acuse"
        return {
            "outcome": AttemptOutcome.HTTP_ERROR,
            "error": f"HTTP {response.status_code}: la UGPP devolvió {what}.",
        }

    def _acuse(
        self, answer: etree._Element, answering: Mapping[str, str]
    ) -> wire.AcuseReading | None:
        """The answer read as a v1 ``AcuseReporte``, through the profile's ``ack`` transform
        (its own document, with the lote's identifiers as parameters)."""
        ack = self.profile.paso2.ack
        if ack is not None:
            names = ("idSolicitud", "idEnvio", "numeroLote", "totalRegistros")
            answer = ack(copy.deepcopy(answer), **{name: answering.get(name, "") for name in names})
        return wire.read_acuse_element(answer)

    def _unauthorized(self) -> dict[str, Any]:
        if self.tokens is not None:
            return {
                "outcome": AttemptOutcome.HTTP_ERROR,
                "error": "HTTP 401: el servicio de la UGPP no aceptó el token de acceso.",
            }
        how = (
            "la firma WS-Security" if self.settings.auth == "wsse" else "el acceso sin credenciales"
        )
        return {
            "outcome": AttemptOutcome.CREDENTIALS_REFUSED,
            "error": f"HTTP 401: el servicio de la UGPP rechazó {how}.",
        }


def _terminated_outcome(exc: TransformTerminated) -> dict[str, Any]:
    """SPEC §10: ``RECHAZO: …`` from the ``ack`` transform rejects the lote; any other
    termination leaves the answer unreadable, retried like a server fault."""
    if exc.text.startswith(REJECTION):
        text = exc.text.removeprefix(REJECTION).strip()
        return {"outcome": AttemptOutcome.CLIENT_FAULT, "fault_code": "Rechazo",
                "fault_message": text, "error": f"{exc.file}: RECHAZO"}  # fmt: skip
    return {"outcome": AttemptOutcome.SERVER_FAULT, "fault_code": "AcuseIlegible",
            "fault_message": exc.text, "error": str(exc)}  # fmt: skip


REJECTION = "RECHAZO:"


def _fault_outcome(fault: wire.FaultReading) -> dict[str, Any]:
    if fault.credentials:
        outcome = AttemptOutcome.CREDENTIALS_REFUSED
    elif fault.sender:
        outcome = AttemptOutcome.CLIENT_FAULT
    else:
        outcome = AttemptOutcome.SERVER_FAULT
    return {
        "outcome": outcome,
        "fault_code": fault.code[:80],
        "fault_message": fault.message or fault.faultcode,
        "error": f"faultcode {fault.faultcode}",
    }
