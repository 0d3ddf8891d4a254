"""Paso 1 over SOAP (SPEC §4, §9): the spyne service UGPP calls, behind a thin, hardened WSGI
front.

The front serves the shipped WSDL at ``GET /soap/solicitudes?wsdl`` (its address from
``UGPP_BRIDGE_PUBLIC_URL``, never from a request header), and for each
``POST /soap/solicitudes`` it:

1. refuses a declared ``Content-Length`` over ``UGPP_BRIDGE_MAX_REQUEST_BYTES`` before reading
   anything (``SolicitudDemasiadoGrande``);
2. reads the body in chunks and authenticates the WS-Security UsernameToken from the Header
   before the Body is parsed (``adapters/soap/inbound.py``) — unauthenticated callers cost a
   bounded amount of memory and CPU, and repeated failures are throttled;
3. parses the rest securely, validates it against ``xsd/solicitud-v1.xsd`` and maps it;
4. runs the use case (register, or recognise a duplicate), keeping the message as it arrived;
5. lets spyne serialize the ``AcuseSolicitud``, and keeps those exact bytes with the message
   (evidence: what UGPP sent and what we answered).

Faults are SOAP 1.1 faults whose ``faultstring`` starts with a stable code and a colon, then
Spanish text only; technical detail goes to the log, never personal data. Expected Client
faults are logged in one line, without a traceback. A faulted call stores nothing.
"""

from __future__ import annotations

import logging
import threading
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from lxml import etree

from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.adapters.soap.inbound import (
    Gate,
    SoapFault,
    admit,
    invalid_value,
    not_authorized,
    spend_nonce,
    too_large,
)
from ugpp_bridge.adapters.soap.models import AcuseSolicitud, Solicitud
from ugpp_bridge.adapters.soap.profile import ProfileError, WireProfile
from ugpp_bridge.adapters.soap.solicitud_xml import acuse_element
from ugpp_bridge.adapters.soap.spyne_compat import ensure_spyne_importable
from ugpp_bridge.domain.filing import BOGOTA, Receipt
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

from spyne import Application, ServiceBase, rpc  # noqa: E402
from spyne.protocol.soap import Soap11  # noqa: E402
from spyne.server.wsgi import WsgiApplication  # noqa: E402

logger = logging.getLogger(__name__)

PATH = "/soap/solicitudes"
RECEIPT_KEY = "ugpp_bridge.receipt"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# What spyne is handed once the front has done the work: just enough to route the call.
_ROUTING_STUB = (
    f'<e:Envelope xmlns:e="{wire.SOAP_ENV}"><e:Body>'
    f'<s:Solicitud xmlns:s="{wire.SOLICITUD_NS}"/></e:Body></e:Envelope>'
).encode()


@dataclass
class Paso1Endpoint:
    """What the endpoint needs: the gate (limits, WS-Security, throttle), the use case and the
    WSDL it serves."""

    gate: Gate
    receive: Callable[..., Receipt]  # (request, nonce, message, answer=None)
    wsdl: bytes
    answered: Callable[[int, bytes], None] = lambda _message_id, _response: None
    profile: WireProfile | None = None  # SPEC §10: None or v1 answers through spyne

    @property
    def speaks_profile(self) -> bool:
        return self.profile is not None and not self.profile.is_v1


def make_wsgi_app(endpoint: Paso1Endpoint) -> WsgiApp:
    spyne_app = WsgiApplication(_spyne_application(), max_content_length=len(_ROUTING_STUB) * 4)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if environ.get("PATH_INFO", "") != PATH:
            return _plain(start_response, "404 Not Found", b"not found\n")
        query = environ.get("QUERY_STRING", "")
        if (
            method == "GET"
            and endpoint.speaks_profile
            and query.startswith(f"{wire.SCHEMA_QUERY}=")
        ):
            return _schema(start_response, endpoint, query)
        if method == "GET" and "wsdl" in query.lower():
            headers = [("Content-Type", "text/xml; charset=utf-8"),
                       ("Content-Length", str(len(endpoint.wsdl)))]  # fmt: skip
            start_response("200 OK", headers)
            return [endpoint.wsdl]
        if method != "POST":
            return _plain(start_response, "405 Method Not Allowed", b"POST a SOAP envelope\n")
        rendered: list[bytes] = []
        try:
            receipt = environ[RECEIPT_KEY] = _receive(environ, endpoint, rendered)
        except SoapFault as fault:
            return fault_response(start_response, fault)
        if endpoint.speaks_profile:  # the front dispatched; the profile's receipt is made
            body = rendered[0]
            start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"),
                                      ("Content-Length", str(len(body)))])  # fmt: skip
            if receipt.message_id is not None:
                _keep_answer(endpoint, receipt.message_id, body)
            return [body]
        environ["wsgi.input"] = BytesIO(_ROUTING_STUB)
        environ["CONTENT_LENGTH"] = str(len(_ROUTING_STUB))
        environ["CONTENT_TYPE"] = "text/xml; charset=utf-8"
        body = b"".join(spyne_app(environ, start_response))
        if receipt.message_id is not None:
            _keep_answer(endpoint, receipt.message_id, body)
        return [body]

    return app


def _keep_answer(endpoint: Paso1Endpoint, message_id: int, body: bytes) -> None:
    """The request is stored already: failing to keep the answer's bytes is logged, and the
    answer still goes out (UGPP must get its receipt)."""
    try:
        endpoint.answered(message_id, body)
    except Exception:
        logger.exception("Could not keep the AcuseSolicitud bytes of inbound message %d",
                         message_id)  # fmt: skip


def _schema(
    start_response: Callable[..., Any], endpoint: Paso1Endpoint, query: str
) -> Iterable[bytes]:
    """A profile's XSD, where the served WSDL's ``schemaLocation`` points (SPEC §10)."""
    assert endpoint.profile is not None
    relative = urllib.parse.unquote(query.partition("=")[2])
    address = wire.served_address(endpoint.wsdl)
    data = wire.served_profile_schema(endpoint.profile.folder, relative, address)
    if data is None:
        return _plain(start_response, "404 Not Found", b"not found\n")
    start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"),
                              ("Content-Length", str(len(data)))])  # fmt: skip
    return [data]


def profile_receipt(profile: WireProfile, receipt: Receipt) -> bytes:
    """SPEC §10: the v1 ``AcuseSolicitud`` through the profile's ``receipt`` transform, valid
    under its Paso 1 schemas, in a SOAP 1.1 envelope; a Server fault if any of it fails (the
    caller runs it before the request commits, so nothing is stored then)."""
    acuse = acuse_element(receipt)
    try:
        element = acuse if profile.paso1.receipt is None else profile.paso1.receipt(acuse)
        profile.paso1.schemas.validate(element)
    except (ProfileError, SchemaValidationError, InvalidInputError) as exc:
        logger.error("Paso 1 receipt under profile %s failed: %s", profile.label, exc)
        raise SoapFault(
            "ErrorInterno",
            "no fue posible generar el acuse de la solicitud; no se registró. Intente de nuevo.",
            faultcode="Server",
            detail=getattr(exc, "file", "receipt schema"),
        ) from exc
    envelope = etree.Element(f"{{{wire.SOAP_ENV}}}Envelope", nsmap={"soap11env": wire.SOAP_ENV})
    etree.SubElement(envelope, f"{{{wire.SOAP_ENV}}}Body").append(element)
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def _receive(environ: dict[str, Any], endpoint: Paso1Endpoint, rendered: list[bytes]) -> Receipt:
    declared = environ.get("CONTENT_LENGTH") or ""
    nonce = None
    try:
        admitted = admit(
            environ["wsgi.input"],
            content_type=environ.get("CONTENT_TYPE") or "",
            declared_length=int(declared) if declared.isdigit() else None,
            address=environ.get("REMOTE_ADDR"),
            gate=endpoint.gate,
        )
        nonce = admitted.nonce
        profile = endpoint.profile
        if profile is None or not endpoint.speaks_profile:
            # records the nonce and the message with the request
            return endpoint.receive(admitted.request, nonce, admitted.message)

        def answer(receipt: Receipt) -> None:
            rendered.append(profile_receipt(profile, receipt))

        return endpoint.receive(admitted.request, nonce, admitted.message, answer)
    except SoapFault as fault:
        if fault.faultcode == "Server" and nonce is not None:
            spend_nonce(endpoint.gate, nonce)  # the receipt failed: nothing was stored
        raise
    except NotAuthorizedError as exc:  # its nonce was recorded by another call in the meantime
        raise not_authorized("replayed nonce (raced)") from exc
    except UgppBridgeError as exc:
        if not isinstance(exc, StoreUnavailableError):
            spend_nonce(endpoint.gate, nonce)  # refused: the token cannot carry another body
        raise _fault_for(exc) from exc
    except Exception as exc:
        logger.exception("Unexpected failure receiving a request")
        raise _internal() from exc


class AdmittedSoap11(Soap11):  # type: ignore[misc]
    """spyne's SOAP 1.1 without deserializing: the front has already parsed, validated
    (against ``xsd/``, the truth), mapped and registered the request; spyne routes the call
    and serializes the answer."""

    def deserialize(self, ctx: Any, message: str) -> None:
        if message is not self.REQUEST:
            super().deserialize(ctx, message)
            return
        self.event_manager.fire_event("before_deserialize", ctx)
        ctx.in_object = [None]  # RecibirSolicitud reads the receipt from the environ
        self.event_manager.fire_event("after_deserialize", ctx)


def _spyne_application() -> Application:
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
            return _acuse(ctx.transport.req_env[RECEIPT_KEY])

    return Application(
        [Solicitudes],
        tns=wire.SOLICITUD_NS,
        name="Solicitudes",
        in_protocol=AdmittedSoap11(validator=None),
        out_protocol=Soap11(),
    )


def _fault_for(exc: UgppBridgeError) -> SoapFault:
    """The use case's refusals → stable fault codes with Spanish text."""
    if isinstance(exc, WrongOperatorError):
        return SoapFault(
            "NitOperadorIncorrecto",
            f"la solicitud está dirigida al NIT {exc.value} y este servicio responde por otra "
            "entidad.",
            detail="nitOperador",
        )
    if isinstance(exc, RequestTooLargeError):
        return SoapFault(
            "SolicitudDemasiadoGrande",
            f"la solicitud lista más personas de las {wire.spanish_number(int(exc.value))} "
            "permitidas en una sola solicitud."
            if isinstance(exc.value, int)
            else "la solicitud supera el límite permitido.",
            detail="persons over the limit",
        )
    if isinstance(exc, ConflictingRequestError):
        return SoapFault(
            "SolicitudConflictiva",
            f"la solicitud {exc.request_id} ya fue recibida con el radicado {exc.filing_number} "
            "y con otro contenido; una solicitud distinta requiere un idSolicitud nuevo.",
            detail="same idSolicitud, other content",
        )
    if isinstance(exc, InvalidInputError):
        return invalid_value(exc)
    if isinstance(exc, StoreUnavailableError):
        return unavailable(str(exc))
    logger.error("Refused a request: %s", type(exc).__name__)
    return _internal()


def unavailable(detail: str) -> SoapFault:
    return SoapFault(
        "ServicioNoDisponible",
        "no fue posible registrar la solicitud en este momento; intente de nuevo en unos minutos.",
        faultcode="Server",
        detail=detail,
        retry_after=60,
    )


def _internal() -> SoapFault:
    return SoapFault(
        "ErrorInterno",
        "no fue posible procesar la solicitud; intente de nuevo.",
        faultcode="Server",
        detail="unexpected error",
    )


def _acuse(receipt: Receipt) -> AcuseSolicitud:
    return AcuseSolicitud(
        idSolicitud=receipt.request_id,
        radicado=receipt.filing_number,
        estado=receipt.status.value,
        fechaRecepcion=receipt.received_at.astimezone(BOGOTA).replace(microsecond=0),
        fechaVencimiento=receipt.due_date,
        totalPersonas=receipt.total_persons,
    )


def fault_response(start_response: Callable[..., Any], fault: SoapFault) -> Iterable[bytes]:
    data = wire.soap_fault(fault.faultcode, fault.faultstring)
    if fault.faultcode == "Server":
        logger.warning("Paso 1 failed: %s (%s)", fault.code, fault.detail)
    else:
        logger.info("Paso 1 refused: %s (%s)", fault.code, fault.detail)
    headers = [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(data)))]
    if fault.retry_after:
        headers.append(("Retry-After", str(fault.retry_after)))
    start_response("500 Internal Server Error", headers)
    return [data]


def create_http_server(app: WsgiApp, **options: Any) -> Any:
    """waitress's server for ``app``, whose own refusal of a body over
    ``max_request_body_size`` (answered before the body is read) speaks our language: the
    ``SolicitudDemasiadoGrande`` SOAP fault on Paso 1's path, Spanish text elsewhere — not
    waitress's English ``text/plain`` 413."""
    from waitress.server import create_server  # serving commands only

    server = create_server(app, **options)
    for listener in [server, *getattr(server, "map", {}).values()]:
        if hasattr(listener, "channel_class"):
            listener.channel_class = _channel_class()
    return server


def _channel_class() -> type:
    from waitress.channel import HTTPChannel  # serving commands only
    from waitress.task import ErrorTask
    from waitress.utilities import RequestEntityTooLarge  # serving commands only

    class SpanishErrorTask(ErrorTask):  # type: ignore[misc]
        def execute(self) -> None:
            if not isinstance(self.request.error, RequestEntityTooLarge):
                super().execute()
                return
            limit = self.channel.adj.max_request_body_size
            if self.request.path == PATH:
                fault = too_large(limit)
                logger.info("Paso 1 refused: %s (%s)", fault.code, fault.detail)
                status, kind = "500 Internal Server Error", "text/xml; charset=utf-8"
                body = wire.soap_fault(fault.faultcode, fault.faultstring)
            else:
                status, kind = "413 Request Entity Too Large", "text/plain; charset=utf-8"
                body = f"Solicitud demasiado grande: el límite es de " \
                    f"{wire.spanish_number(limit)} bytes.\n".encode()  # fmt: skip
            self.status = status
            self.response_headers.extend([("Content-Type", kind),
                                          ("Content-Length", str(len(body)))])  # fmt: skip
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class SpanishChannel(HTTPChannel):  # type: ignore[misc]
        error_task_class = SpanishErrorTask

    return SpanishChannel


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

    try:
        server.trigger.pull_trigger(close_all)
    except OSError:
        # The trigger's pipe is gone (seen rarely in the PostgreSQL test runs: EBADF on its
        # write end; cause not found): close everything from here; the loop ends with its map.
        # Its write end may now be another file's number: it is left alone, not closed.
        logger.warning("waitress's trigger is closed; closing its channels directly")
        for channel in list(server._map.values()):
            if channel is not server.trigger:
                channel.close()
        server.trigger.del_channel()
    server.task_dispatcher.shutdown(timeout=5)
    thread.join(timeout=timeout)


def _plain(start_response: Callable[..., Any], status: str, data: bytes) -> Iterable[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [data]
