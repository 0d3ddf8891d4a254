"""``ugpp-bridge ugpp-sim``: a stand-in for UGPP's side of Paso 2, for tests, the demo and drills.

It implements ``wsdl/ugpp-reporte-v1.wsdl`` (``ReportarInformacionFinanciera``) and the token
service of SPEC §4, validates every ``Reporte`` against ``xsd/``, keeps what it receives and
answers ``AcuseReporte`` with a ``radicadoUGPP``. It de-duplicates by ``idEnvio``: the same
content again gets the same acknowledgement; other content under a used ``idEnvio`` gets a
Client fault. Faults can be injected, each for the next N calls: latency, HTTP 500, a Server
fault, a Client fault (with any faultcode, e.g. ``Client.DatosInvalidos``), a connection reset
after the body was read, an acknowledgement with an element the WSDL does not declare, a POST
held (read, then no answer for a while — the sender may be killed meanwhile), a token service
that refuses the credentials; tokens can be short-lived, or die after a few seconds while
still advertising a longer ``expires_in``. Its WSDL (``?wsdl``) is the shipped one with the
schema inline and its own address.

It runs on the standard library's threading HTTP server, which (unlike a WSGI server) lets it
reset a connection after reading a body — the failure a sender must survive.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lxml import etree

from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.adapters.soap.profile import WireProfile
from ugpp_bridge.adapters.soap.wire import SOAP_ENV, soap_fault
from ugpp_bridge.adapters.soap.wsse import NonceCache, UsernameTokenVerifier
from ugpp_bridge.domain.filing import BOGOTA, sha256_hex
from ugpp_bridge.errors import NotAuthorizedError, SchemaValidationError

logger = logging.getLogger(__name__)

REPORT_PATH = "/ugpp/reporte"
TOKEN_PATH = "/ugpp/token"
NS = wire.REPORTE_NS


@dataclass
class Faults:
    """Failures to inject, each for that many of the next report calls."""

    latency_seconds: float = 0.0
    http_500: int = 0
    server_fault: int = 0
    client_fault: int = 0
    client_fault_code: str = "Client"
    reset_after_body: int = 0
    extra_element: int = 0
    hold: int = 0
    hold_seconds: float = 30.0
    refuse_tokens: int = 0


@dataclass
class SimulatorConfig:
    username: str = "bridge"
    password: str = "bridge-secret"
    client_id: str = "ugpp-bridge"
    auth: str = "token"  # token | wsse | none
    token_ttl_seconds: int = 20 * 60
    # Injected fault: tokens die after this many seconds while ``expires_in`` still says the
    # advertised TTL — what a sender meets when UGPP revokes tokens early.
    token_lifetime_seconds: float | None = None
    faults: Faults = field(default_factory=Faults)
    # SPEC §10: speak a wire profile's Paso 2 (its schemas, its ``simulator.ack``, the SOAP
    # version each call comes in); None is v1.
    profile: WireProfile | None = None


@dataclass(frozen=True)
class Received:
    """One acknowledged lote as the stand-in keeps it."""

    submission_id: str
    digest: str
    body: bytes
    acknowledgement: bytes
    filing_number: str


class UgppSimulator:
    """State of the stand-in: tokens, received lotes, counters, injected faults."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.tokens: dict[str, float] = {}
        self.received: dict[str, Received] = {}
        self.calls = 0
        self.posts = 0  # every report POST that arrived, whatever was answered
        self.token_requests = 0
        self.verifier = UsernameTokenVerifier(
            config.username, config.password, lambda: datetime.now(UTC), NonceCache()
        )

    def issue_token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.token_requests += 1
            refused = self.config.faults.refuse_tokens > 0
            if refused:
                self.config.faults.refuse_tokens -= 1
            valid = not refused and (
                form.get("grant_type") == "password"
                and form.get("username") == self.config.username
                and form.get("password") == self.config.password
                and form.get("client_id") == self.config.client_id
            )
            if not valid:
                return 400, {"error": "invalid_grant"}
            token = secrets.token_urlsafe(24)
            lifetime = self.config.token_lifetime_seconds or self.config.token_ttl_seconds
            self.tokens[token] = time.monotonic() + lifetime
            return 200, {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.config.token_ttl_seconds,
            }

    def authorised(self, header: str | None) -> bool:
        if self.config.auth != "token":
            return True  # "none", or "wsse", checked on the envelope
        token = (header or "").removeprefix("Bearer ").strip()
        with self.lock:
            expires = self.tokens.get(token)
            return expires is not None and expires > time.monotonic()

    def take_extra(self) -> bool:
        """Called under the lock: whether this acknowledgement carries an undeclared element."""
        if self.config.faults.extra_element > 0:
            self.config.faults.extra_element -= 1
            return True
        return False

    def take_fault(self, name: str) -> bool:
        with self.lock:
            remaining = getattr(self.config.faults, name)
            if remaining > 0:
                setattr(self.config.faults, name, remaining - 1)
                return True
            return False

    @property
    def profile(self) -> WireProfile | None:
        """The profile spoken, unless it is v1 (the stand-in's own code path)."""
        profile = self.config.profile
        return None if profile is None or profile.is_v1 else profile

    def receive(self, body: bytes) -> tuple[int, bytes]:
        """HTTP status and SOAP answer for one report envelope."""
        with self.lock:
            self.calls += 1
        soap12 = False
        try:
            envelope = etree.fromstring(body, wire.secure_parser())
            soap12 = envelope.tag == f"{{{wire.SOAP12_ENV}}}Envelope"
            if self.config.auth == "wsse":
                soap = wire.SOAP12_ENV if soap12 else SOAP_ENV
                self.verifier.verify_header(envelope.find(f"{{{soap}}}Header"))
            if self.profile is not None:
                return self._receive_profile(envelope, soap12)
            reporte = envelope.find(f"{{{SOAP_ENV}}}Body/{{{NS}}}Reporte")
            if reporte is None:
                return 500, soap_fault(
                    "Client", "MensajeInvalido: el cuerpo no contiene un Reporte."
                )
            wire.validate(reporte, wire.REPORTE_XSD)
        except etree.XMLSyntaxError as exc:
            return 500, soap_fault("Client", f"MensajeInvalido: XML mal formado ({exc}).")
        except SchemaValidationError as exc:
            return 500, wire.fault_for(soap12, "Client", f"EsquemaInvalido: {exc.errors[0][1]}")
        except NotAuthorizedError:
            text = "NoAutorizado: UsernameToken invalido, repetido o vencido."
            if soap12:  # SPEC §10: WS-Security's own code, as a subcode
                return 500, wire.soap12_fault("Sender", text, "wsse:FailedAuthentication")
            return 500, soap_fault("Client", text)
        return self._acknowledge(reporte)

    def _receive_profile(self, envelope: etree._Element, soap12: bool) -> tuple[int, bytes]:
        """A profile's lote: valid under its Paso 2 schemas, acknowledged through its
        ``simulator.ack``; the same content again gets the same acknowledgement."""
        profile = self.profile
        assert profile is not None
        lote = wire.body_child(envelope)
        if lote is None:
            return 500, wire.fault_for(soap12, "Client", "MensajeInvalido: el cuerpo está vacío.")
        profile.paso2.schemas.validate(lote)
        digest = sha256_hex(etree.tostring(lote, method="c14n"))
        with self.lock:
            known = self.received.get(digest)
            if known is not None:
                return 200, known.acknowledgement
            filing = f"UGPP-R-{len(self.received) + 1:06d}"
            acuse = etree.Element(f"{{{NS}}}AcuseReporte", nsmap={None: NS})  # type: ignore[dict-item]
            for name, value in (
                ("radicadoUGPP", filing),
                ("fechaRecepcion", datetime.now(BOGOTA).replace(microsecond=0).isoformat()),
            ):
                etree.SubElement(acuse, f"{{{NS}}}{name}").text = value
            answer_element = (
                acuse if profile.simulator_ack is None else profile.simulator_ack(acuse)
            )
            answer = _envelope(answer_element, soap12)
            self.received[digest] = Received(digest, digest, etree.tostring(lote), answer, filing)
            return 200, answer

    def _acknowledge(self, reporte: etree._Element) -> tuple[int, bytes]:
        header = reporte.find(f"{{{NS}}}encabezado")
        assert header is not None
        submission = header.findtext(f"{{{NS}}}idEnvio") or ""
        digest = sha256_hex(etree.tostring(reporte, method="c14n"))
        with self.lock:
            known = self.received.get(submission)
            if known is not None:
                if known.digest != digest:
                    text = f"el idEnvio {submission} ya fue recibido con otro contenido."
                    return 500, soap_fault("Client", f"EnvioDuplicado: {text}")
                return 200, known.acknowledgement
            filing = f"UGPP-R-{len(self.received) + 1:06d}"
            answer = acknowledgement(header, filing, extra=self.take_extra())
            self.received[submission] = Received(
                submission, digest, etree.tostring(reporte), answer, filing
            )
            return 200, answer


def _envelope(element: etree._Element, soap12: bool) -> bytes:
    soap = wire.SOAP12_ENV if soap12 else SOAP_ENV
    root = etree.Element(f"{{{soap}}}Envelope", nsmap={"soapenv": soap})
    etree.SubElement(root, f"{{{soap}}}Body").append(element)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def acknowledgement(header: etree._Element, filing: str, *, extra: bool = False) -> bytes:
    def text(name: str) -> str:
        return header.findtext(f"{{{NS}}}{name}") or ""

    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV})
    body = etree.SubElement(root, f"{{{SOAP_ENV}}}Body")
    acuse = etree.SubElement(body, f"{{{NS}}}AcuseReporte", nsmap={None: NS})  # type: ignore[dict-item]
    for name, value in (
        ("idSolicitud", text("idSolicitud")),
        ("idEnvio", text("idEnvio")),
        ("numeroLote", text("numeroLote")),
        ("radicadoUGPP", filing),
        ("fechaRecepcion", datetime.now(BOGOTA).replace(microsecond=0).isoformat()),
        ("registrosRecibidos", text("totalRegistros")),
    ):
        etree.SubElement(acuse, f"{{{NS}}}{name}").text = value
    if extra:  # what a newer UGPP might add, and no WSDL of ours declares
        etree.SubElement(acuse, f"{{{NS}}}observaciones").text = "Recibido con observaciones."
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


class _Handler(BaseHTTPRequestHandler):
    simulator: UgppSimulator
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — stdlib signature
        logger.debug("ugpp-sim: " + format, *args)

    def do_GET(self) -> None:  # noqa: N802 — stdlib naming
        path, _, query = self.path.partition("?")
        bound: Any = self.server.server_address  # (host, port) for an IPv4 server
        address = f"http://{bound[0]}:{bound[1]}{REPORT_PATH}"
        profile = self.simulator.profile
        if path == REPORT_PATH and profile is not None:
            asked = urllib.parse.parse_qs(query).get(wire.SCHEMA_QUERY)
            if asked:
                schema = wire.served_profile_schema(profile.folder, asked[0], address)
                if schema is not None:
                    return self._send(200, schema, "text/xml; charset=utf-8")
            elif "wsdl" in query.lower():
                wsdl = wire.served_profile_wsdl(profile.paso2.wsdl, profile.folder, address)
                return self._send(200, wsdl, "text/xml; charset=utf-8")
        elif path == REPORT_PATH and "wsdl" in query.lower():
            wsdl = wire.served_wsdl(wire.UGPP_REPORTE_WSDL, address)
            return self._send(200, wsdl, "text/xml; charset=utf-8")
        self._send(404, b"not found\n", "text/plain")

    def do_POST(self) -> None:  # noqa: N802 — stdlib naming
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        path = self.path.split("?")[0]
        if path == TOKEN_PATH:
            form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
            status, answer = self.simulator.issue_token(form)
            return self._send(status, json.dumps(answer).encode(), "application/json")
        if path != REPORT_PATH:
            return self._send(404, b"not found\n", "text/plain")
        self._report(body)

    def _report(self, body: bytes) -> None:
        sim = self.simulator
        with sim.lock:
            sim.posts += 1
        if sim.config.faults.latency_seconds:
            time.sleep(sim.config.faults.latency_seconds)
        if sim.take_fault("hold"):  # UGPP got it and says nothing for a while
            time.sleep(sim.config.faults.hold_seconds)
            self.close_connection = True
            return None
        if not sim.authorised(self.headers.get("Authorization")):
            return self._send(401, b"token missing, invalid or expired\n", "text/plain")
        if sim.take_fault("reset_after_body"):
            sim.receive(body)  # UGPP got it, but the answer never reaches the sender
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return None
        if sim.take_fault("http_500"):
            return self._send(500, b"Internal Server Error\n", "text/plain")
        root = wire.answer_root(body)
        soap12 = root is not None and root.tag == f"{{{wire.SOAP12_ENV}}}Envelope"
        if sim.take_fault("server_fault"):
            text = "ServicioNoDisponible: intente mas tarde."
            return self._send(500, wire.fault_for(soap12, "Server", text))
        if sim.take_fault("client_fault"):
            code = sim.config.faults.client_fault_code
            return self._send(
                500, wire.fault_for(soap12, code, "LoteRechazado: rechazo inyectado.")
            )
        status, answer = sim.receive(body)
        self._send(status, answer)

    def _send(self, status: int, data: bytes, content_type: str | None = None) -> None:
        if content_type is None:  # a SOAP answer, in its version's media type
            soap12 = data.find(wire.SOAP12_ENV.encode(), 0, 400) >= 0
            content_type = f"{'application/soap+xml' if soap12 else 'text/xml'}; charset=utf-8"
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The sender went away (killed, or timed out) before the answer: UGPP's side
            # simply loses the connection.
            logger.info("The sender closed the connection before the answer")
            self.close_connection = True


def make_server(
    simulator: UgppSimulator, host: str = "127.0.0.1", port: int = 0
) -> ThreadingHTTPServer:
    """A threading HTTP server for ``simulator``; call ``serve_forever`` and ``shutdown``."""
    handler = type("SimulatorHandler", (_Handler,), {"simulator": simulator})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
