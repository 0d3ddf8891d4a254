"""Paso 1 over SOAP (SPEC §4): the spyne service UGPP calls, behind a thin, hardened WSGI front.

The front answers ``/healthz``, serves the WSDL that spyne generates at ``GET
/soap/solicitudes?wsdl``, and for each ``POST /soap/solicitudes``:

1. refuses bodies over ``UGPP_BRIDGE_MAX_REQUEST_BYTES`` (``SolicitudDemasiadoGrande``);
2. parses with the secure parser and refuses any DTD — so XXE and billion laughs never expand;
3. verifies the WS-Security UsernameToken (``NoAutorizado``);
4. validates the body against ``xsd/solicitud-v1.xsd``, naming the element at fault;
5. hands the untouched bytes to spyne, whose ``RecibirSolicitud`` runs the use case and answers
   ``AcuseSolicitud``.

Faults are SOAP 1.1 Client faults whose ``faultstring`` starts with a stable code and a colon,
then Spanish text. A faulted call stores nothing.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from ugpp_bridge.adapters import wire
from ugpp_bridge.adapters.soap_models import AcuseSolicitud, Solicitud
from ugpp_bridge.adapters.solicitud_xml import SOAP_ENV, request_from_element, solicitud_element
from ugpp_bridge.adapters.spyne_compat import ensure_spyne_importable
from ugpp_bridge.adapters.wsse import UsernameTokenVerifier
from ugpp_bridge.domain.filing import BOGOTA, Receipt
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.errors import (
    ConflictingRequestError,
    InvalidInputError,
    NotAuthorizedError,
    RequestTooLargeError,
    SchemaValidationError,
    StoreUnavailableError,
    UgppBridgeError,
    WrongOperatorError,
)

ensure_spyne_importable()

from spyne import Application, Fault, ServiceBase, rpc  # noqa: E402
from spyne.protocol.soap import Soap11  # noqa: E402
from spyne.server.wsgi import WsgiApplication  # noqa: E402

logger = logging.getLogger(__name__)

PATH = "/soap/solicitudes"
REQUEST_KEY = "ugpp_bridge.request"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SoapFault(Exception):
    """A fault to answer with: a stable code, Spanish text, Client or Server."""

    def __init__(self, code: str, text: str, *, server: bool = False) -> None:
        super().__init__(f"{code}: {text}")
        self.code, self.text, self.server = code, text, server

    def as_spyne(self) -> Fault:
        return Fault(faultcode="Server" if self.server else "Client", faultstring=str(self))


@dataclass
class Paso1Endpoint:
    """What the endpoint needs: a verifier, the use case, the size limit, a health probe."""

    verifier: UsernameTokenVerifier
    receive: Callable[[FinancialInfoRequest], Receipt]
    max_bytes: int
    healthy: Callable[[], bool]


def make_wsgi_app(endpoint: Paso1Endpoint) -> WsgiApp:
    # The front enforces the size limit; spyne's own (2 MiB by default) must not cut below it.
    spyne_app = WsgiApplication(_spyne_application(endpoint), max_content_length=endpoint.max_bytes)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz":
            return _health(endpoint, start_response)
        if path != PATH:
            return _plain(start_response, "404 Not Found", b"not found\n")
        if method == "GET" and "wsdl" in environ.get("QUERY_STRING", "").lower():
            return spyne_app(environ, start_response)  # type: ignore[no-any-return]
        if method != "POST":
            return _plain(start_response, "405 Method Not Allowed", b"POST a SOAP envelope\n")
        try:
            body = _read_body(environ, endpoint.max_bytes)
            environ[REQUEST_KEY] = _admit(body, endpoint)
        except SoapFault as fault:
            return _fault_response(start_response, fault)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        # Already a checked SOAP 1.1 envelope: spyne needs only the media type it expects.
        environ["CONTENT_TYPE"] = "text/xml; charset=utf-8"
        return spyne_app(environ, start_response)  # type: ignore[no-any-return]

    return app


class AdmittedSoap11(Soap11):  # type: ignore[misc]
    """spyne's SOAP 1.1, without deserializing a body a second time.

    The front has already parsed, validated (against ``xsd/``, the truth) and mapped the body
    to the domain; spyne still routes the call, serializes the answer and the faults. Skipping
    its object tree saves most of the time and memory of a large request.
    """

    def deserialize(self, ctx: Any, message: str) -> None:
        admitted = REQUEST_KEY in getattr(ctx.transport, "req_env", {})
        if message is not self.REQUEST or not admitted:
            super().deserialize(ctx, message)
            return
        self.event_manager.fire_event("before_deserialize", ctx)
        ctx.in_object = [None]  # RecibirSolicitud reads the admitted request from the environ
        self.event_manager.fire_event("after_deserialize", ctx)


def _spyne_application(endpoint: Paso1Endpoint) -> Application:
    class Solicitudes(ServiceBase):  # type: ignore[misc]
        @rpc(  # type: ignore[untyped-decorator]
            Solicitud,
            _returns=AcuseSolicitud,
            _body_style="bare",
            _operation_name="RecibirSolicitud",
            _in_message_name="Solicitud",
            _out_message_name="AcuseSolicitud",
        )
        def RecibirSolicitud(ctx: Any, solicitud: Any) -> AcuseSolicitud:  # noqa: N802, N805
            request: FinancialInfoRequest = ctx.transport.req_env[REQUEST_KEY]
            try:
                receipt = endpoint.receive(request)
            except SoapFault as fault:
                raise fault.as_spyne() from fault
            except UgppBridgeError as exc:
                raise _fault_for(exc).as_spyne() from exc
            except Exception as exc:
                logger.exception("Unexpected failure registering a request")
                raise _internal().as_spyne() from exc
            return _acuse(receipt)

    return Application(
        [Solicitudes],
        tns=wire.SOLICITUD_NS,
        name="Solicitudes",
        in_protocol=AdmittedSoap11(validator=None),
        out_protocol=Soap11(),
    )


def _read_body(environ: dict[str, Any], limit: int) -> bytes:
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body: bytes = environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        raise _too_large(limit)
    return body


def _admit(body: bytes, endpoint: Paso1Endpoint) -> FinancialInfoRequest:
    """Parse safely, authenticate, validate and map; any failure is a ``SoapFault``."""
    try:
        tree = etree.fromstring(body, wire.secure_parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        raise SoapFault("SolicitudInvalida", f"el mensaje no es XML bien formado ({exc}).") from exc
    docinfo: Any = tree.docinfo  # lxml-stubs 0.5 lack DocInfo.doctype
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise SoapFault("SolicitudInvalida", "no se aceptan declaraciones DOCTYPE ni entidades.")
    envelope = tree.getroot()
    if envelope.tag != f"{{{SOAP_ENV}}}Envelope":
        raise SoapFault("SolicitudInvalida", "se esperaba un sobre SOAP 1.1.")
    try:
        endpoint.verifier.verify(envelope)
        element = solicitud_element(envelope)
        wire.validate(element, wire.SOLICITUD_XSD)
        return request_from_element(element)
    except UgppBridgeError as exc:
        raise _fault_for(exc) from exc


def _fault_for(exc: UgppBridgeError) -> SoapFault:
    """Our errors → stable fault codes with Spanish text (detail kept for the operator)."""
    if isinstance(exc, NotAuthorizedError):
        return SoapFault("NoAutorizado", "no fue posible autenticar al remitente (WS-Security).")
    if isinstance(exc, WrongOperatorError):
        return SoapFault(
            "NitOperadorIncorrecto", f"la solicitud no corresponde a esta entidad. {exc}"
        )
    if isinstance(exc, RequestTooLargeError):
        return SoapFault("SolicitudDemasiadoGrande", f"la solicitud supera el límite. {exc}")
    if isinstance(exc, ConflictingRequestError):
        return SoapFault(
            "SolicitudConflictiva",
            f"la solicitud {exc.request_id} ya fue recibida con el radicado {exc.filing_number} "
            "y con otro contenido; una solicitud distinta requiere un idSolicitud nuevo.",
        )
    if isinstance(exc, SchemaValidationError):
        line, message = exc.errors[0]
        found = re.search(r"Element '([^']+)'", message)
        element = found.group(1) if found else "(desconocido)"
        return SoapFault(
            "SolicitudInvalida",
            f"el elemento «{element}» no cumple el esquema (línea {line}): {message}",
        )
    if isinstance(exc, InvalidInputError):
        field = f" en «{exc.field}»" if exc.field else ""
        return SoapFault("SolicitudInvalida", f"dato no válido{field}: {exc}")
    if isinstance(exc, StoreUnavailableError):
        logger.error("State store unavailable while receiving a request: %s", exc)
        return SoapFault(
            "ServicioNoDisponible",
            "no fue posible registrar la solicitud; intente de nuevo.",
            server=True,
        )
    logger.error("Refused a request: %s", exc)
    return _internal()


def _internal() -> SoapFault:
    return SoapFault(
        "ErrorInterno", "no fue posible procesar la solicitud; intente de nuevo.", server=True
    )


def _too_large(limit: int) -> SoapFault:
    return SoapFault("SolicitudDemasiadoGrande", f"el mensaje supera el límite de {limit:,} bytes.")


def _acuse(receipt: Receipt) -> AcuseSolicitud:
    return AcuseSolicitud(
        idSolicitud=receipt.request_id,
        radicado=receipt.filing_number,
        estado=receipt.status.value,
        fechaRecepcion=receipt.received_at.astimezone(BOGOTA).replace(microsecond=0),
        fechaVencimiento=receipt.due_date,
        totalPersonas=receipt.total_persons,
    )


def _fault_response(start_response: Callable[..., Any], fault: SoapFault) -> Iterable[bytes]:
    data = wire.soap_fault("Server" if fault.server else "Client", str(fault))
    logger.info("Paso 1 refused: %s", fault.code)
    headers = [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(data)))]
    start_response("500 Internal Server Error", headers)
    return [data]


def stop_waitress(server: Any, thread: threading.Thread, timeout: float = 10) -> None:
    """Stop an in-process waitress server run by ``thread`` (the demo's and the tests').

    Every channel — idle keep-alive connections too — is closed from inside waitress's own
    loop, so the loop ends; then its worker threads, then the loop's thread.
    """

    def close_all() -> None:
        for channel in list(server._map.values()):
            if channel is not server.trigger:
                channel.close()
        server.trigger.close()

    server.trigger.pull_trigger(close_all)
    server.task_dispatcher.shutdown(timeout=5)
    thread.join(timeout=timeout)


def _health(endpoint: Paso1Endpoint, start_response: Callable[..., Any]) -> Iterable[bytes]:
    ok = endpoint.healthy()
    data = json.dumps({"status": "ok" if ok else "unavailable"}).encode()
    start_response(
        "200 OK" if ok else "503 Service Unavailable", [("Content-Type", "application/json")]
    )
    return [data]


def _plain(start_response: Callable[..., Any], status: str, data: bytes) -> Iterable[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [data]
