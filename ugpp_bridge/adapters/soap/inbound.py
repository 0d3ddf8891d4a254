"""Paso 1's inbound SOAP message: authenticated before its Body is parsed (SPEC §9).

``admit`` reads the request body in chunks and feeds a streaming (pull) parser only until the
SOAP ``Header`` is complete — at most ``pre_auth_bytes`` — then checks the envelope's version,
the ``mustUnderstand`` header blocks, the throttle and the WS-Security UsernameToken. An
unauthenticated caller therefore costs a bounded amount of memory and CPU whatever it sends:
the rest of its body is never read. Only an authenticated message is parsed whole (the header
prefix again, then the rest, chunk by chunk), validated against ``xsd/`` and mapped to the
domain.

Parsing is secure (no DTDs, entities or network; any DOCTYPE is refused), and the body may
come in any encoding its ``Content-Type`` charset or its XML declaration names.

Every refusal is a ``SoapFault``: a stable code and Spanish text for the caller, and a short
technical reason (never personal data) for the log.
"""

from __future__ import annotations

import codecs
import functools
import logging
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol

from lxml import etree
from werkzeug.http import parse_options_header

from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.adapters.soap.profile import ProfileError, TransformTerminated, WireProfile
from ugpp_bridge.adapters.soap.solicitud_xml import (
    person_pairs,
    profile_request,
    request_from_element,
    solicitud_element,
)
from ugpp_bridge.adapters.soap.wsse import SECURITY, Credential, NonceRegistry, claimed_username
from ugpp_bridge.domain.filing import BOGOTA, ReceivedMessage
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.domain.throttling import Scope
from ugpp_bridge.errors import (
    InvalidInputError,
    NotAuthorizedError,
    RequestTooLargeError,
    SchemaValidationError,
)
from ugpp_bridge.service.ports import AuthThrottle

logger = logging.getLogger(__name__)

ENVELOPE = f"{{{wire.SOAP_ENV}}}Envelope"
HEADER = f"{{{wire.SOAP_ENV}}}Header"
BODY = f"{{{wire.SOAP_ENV}}}Body"
MUST_UNDERSTAND = f"{{{wire.SOAP_ENV}}}mustUnderstand"
ACTOR = f"{{{wire.SOAP_ENV}}}actor"


class SoapFault(Exception):
    """A fault to answer with: ``faultcode`` (Client, Server, VersionMismatch, MustUnderstand),
    a stable ``code`` and Spanish ``text``; ``detail`` is for the log only."""

    def __init__(
        self,
        code: str,
        text: str,
        *,
        faultcode: str = "Client",
        detail: str = "",
        retry_after: int | None = None,
    ) -> None:
        super().__init__(f"{code}: {text}")
        self.code, self.text, self.faultcode = code, text, faultcode
        self.detail, self.retry_after = detail, retry_after

    @property
    def faultstring(self) -> str:
        return f"{self.code}: {self.text}"


class HeaderVerifier(Protocol):
    def verify_header(
        self, header: etree._Element | None, *, record_nonce: bool = True
    ) -> Credential: ...


@dataclass(frozen=True)
class Admitted:
    """An authenticated, schema-valid request, and the nonce of its token: the caller records
    it with what it stores (or ``spend_nonce`` when it stores nothing). ``message`` is the
    body exactly as it arrived (kept as evidence; only an authenticated body is kept)."""

    request: FinancialInfoRequest
    nonce: str | None
    message: ReceivedMessage


@dataclass(frozen=True)
class Gate:
    """Who may come in, and how much of their message is read before we know who they are."""

    verifier: HeaderVerifier
    throttle: AuthThrottle
    nonces: NonceRegistry
    clock: Callable[[], datetime]
    max_bytes: int
    pre_auth_bytes: int = 64 * 1024
    chunk_bytes: int = 16 * 1024
    max_persons: int | None = None  # past it the rest of the body is not read
    profile: WireProfile | None = None  # SPEC §10: None (or v1) reads v1 Solicitudes


def admit(
    stream: IO[bytes],
    *,
    content_type: str,
    declared_length: int | None,
    address: str | None,
    gate: Gate,
) -> Admitted:
    """The authenticated, schema-valid request of a SOAP 1.1 message, or a ``SoapFault``.

    A message refused after its token was accepted spends the token's nonce, so the token
    cannot be replayed with another body (a UsernameToken does not sign the body)."""
    if declared_length is not None and declared_length > gate.max_bytes:
        raise too_large(gate.max_bytes)
    encoding = _encoding(content_type)
    chunks = _chunks(stream, gate)
    prefix, header = _read_header(chunks, encoding, gate)
    _check_header_blocks(header)
    credential = _authenticate(header, address, gate)
    try:
        profile = gate.profile
        v1 = profile is None or profile.is_v1
        root, message, persons = _parse_whole(prefix, chunks, encoding, gate.max_persons, v1=v1)
        if profile is not None and not v1:
            return Admitted(_profile_request(root, profile), credential.nonce, message)
        return Admitted(_request(root, persons), credential.nonce, message)
    except SoapFault:
        spend_nonce(gate, credential.nonce)
        raise


def spend_nonce(gate: Gate, nonce: str | None) -> None:
    """Record an accepted token's nonce when nothing else will (a refused message)."""
    if nonce is not None:
        gate.nonces.first_use(nonce, gate.clock())


def _request(root: etree._Element, persons: list[tuple[str, str]]) -> FinancialInfoRequest:
    """``root`` holds what was not streamed out; ``persons``, the personas before it, each
    already valid under the same schema."""
    try:
        element = solicitud_element(root)
        wire.validate(element, wire.SOLICITUD_XSD)
        return request_from_element(element, leading_persons=persons)
    except SchemaValidationError as exc:
        raise _schema_fault(exc) from exc
    except InvalidInputError as exc:
        raise invalid_value(exc) from exc


def _profile_request(root: etree._Element, profile: WireProfile) -> FinancialInfoRequest:
    """SPEC §10: the Body's first element must be an operation's request in the profile's
    Paso 1 WSDL and valid under its schemas; its ``request`` transform makes it a v1
    Solicitud, valid under ``solicitud-v1.xsd``, and from there on it is the v1 flow."""
    element = wire.body_child(root) if root.tag == ENVELOPE else None
    if element is None or element.tag not in paso1_requests(profile):
        raise SoapFault(
            "SolicitudInvalida",
            "el cuerpo no contiene la petición de ninguna operación de este servicio.",
            detail="no operation for the Body's first element",
        )
    try:
        return profile_request(profile, element)
    except SchemaValidationError as exc:
        raise _schema_fault(exc) from exc
    except TransformTerminated as exc:
        raise SoapFault(
            "SolicitudInvalida", f"{exc.text}.".replace("..", "."), detail=f"{exc.file} refused"
        ) from exc
    except InvalidInputError as exc:
        raise invalid_value(exc) from exc
    except ProfileError as exc:
        logger.error("Paso 1 under profile %s: %s", profile.label, exc)
        raise SoapFault("ErrorInterno", "no fue posible procesar la solicitud; intente de "
                        "nuevo.", faultcode="Server", detail=exc.file) from exc  # fmt: skip


def paso1_requests(profile: WireProfile) -> frozenset[str]:
    """``{namespace}name`` of every operation's request element in the Paso 1 WSDL."""
    return _operation_elements(profile.paso1.wsdl, "input")


@functools.cache
def _operation_elements(wsdl: Path, direction: str) -> frozenset[str]:
    tree = etree.parse(str(wsdl), wire.secure_parser())
    root = tree.getroot()
    target = root.get("targetNamespace") or ""
    W = wire.WSDL_NS  # noqa: N806
    messages: dict[str, list[str]] = {}
    for message in root.iterfind(f"{{{W}}}message"):
        elements = []
        for part in message.iterfind(f"{{{W}}}part"):
            reference = part.get("element")
            if reference:
                prefix, _, local = reference.rpartition(":")
                elements.append(f"{{{part.nsmap.get(prefix or None, '')}}}{local}")
        messages[f"{{{target}}}{message.get('name')}"] = elements
    found: set[str] = set()
    for operation in root.iterfind(f"{{{W}}}portType/{{{W}}}operation"):
        node = operation.find(f"{{{W}}}{direction}")
        if node is None or not node.get("message"):
            continue
        prefix, _, local = str(node.get("message")).rpartition(":")
        found.update(messages.get(f"{{{node.nsmap.get(prefix or None, '')}}}{local}", []))
    return frozenset(found)


def _schema_fault(exc: SchemaValidationError) -> SoapFault:
    issue = exc.issues[0]
    return SoapFault(
        "SolicitudInvalida", wire.schema_fault_text(issue), detail=f"schema: {issue.element}"
    )


def invalid_value(exc: InvalidInputError) -> SoapFault:
    return SoapFault(
        "SolicitudInvalida",
        wire.invalid_value_text(exc.field, exc.reason) + ".",
        detail=f"{exc.field}: {exc.reason}",
    )


def too_large(limit: int) -> SoapFault:
    return SoapFault(
        "SolicitudDemasiadoGrande",
        f"el mensaje supera el límite de {wire.spanish_number(limit)} bytes.",
        detail="body over the size limit",
    )


def not_authorized(detail: str) -> SoapFault:
    return SoapFault(
        "NoAutorizado", "no fue posible autenticar al remitente (WS-Security).", detail=detail
    )


def _refuse_if_blocked(until: datetime | None, now: datetime) -> None:
    if until is not None:
        raise SoapFault(
            "NoAutorizado",
            "demasiados intentos fallidos de autenticación; intente de nuevo después de las "
            f"{until.astimezone(BOGOTA):%H:%M} (hora de Bogotá).",
            detail="throttled",
            retry_after=max(1, int((until - now).total_seconds())),
        )


def _encoding(content_type: str) -> str | None:
    charset = parse_options_header(content_type)[1].get("charset")
    if not charset:
        return None  # the BOM or the XML declaration decides, UTF-8 by default
    try:
        return codecs.lookup(charset).name
    except LookupError:
        raise SoapFault(
            "SolicitudInvalida",
            "la codificación indicada en Content-Type no es soportada.",
            detail="unknown charset",
        ) from None


def _chunks(stream: IO[bytes], gate: Gate) -> Iterator[bytes]:
    read = 0
    while chunk := stream.read(gate.chunk_bytes):
        read += len(chunk)
        if read > gate.max_bytes:
            raise too_large(gate.max_bytes)
        yield chunk


def _read_header(
    chunks: Iterator[bytes], encoding: str | None, gate: Gate
) -> tuple[bytes, etree._Element | None]:
    """The bytes read so far and the complete ``Header`` (None: the Body came first)."""
    parser = wire.secure_pull_parser(encoding)
    prefix = bytearray()
    depth = 0
    for chunk in chunks:
        prefix += chunk
        for event, element in _events(parser, chunk):
            if event == "start":
                depth += 1
                if depth == 1:
                    _check_envelope(element)
                elif depth == 2 and element.tag == BODY:
                    return bytes(prefix), None
                elif depth == 2 and element.tag != HEADER:
                    raise _not_soap("unexpected child of the Envelope")
            else:
                if depth == 2 and element.tag == HEADER:
                    return bytes(prefix), element
                depth -= 1
        if len(prefix) > gate.pre_auth_bytes:
            raise not_authorized("no complete Header within the pre-authentication budget")
    _events(parser, b"", close=True)
    raise _not_soap("the message ended before its Body")


def _events(
    parser: etree.XMLPullParser, chunk: bytes, *, close: bool = False
) -> list[tuple[str, etree._Element]]:
    try:
        if close:
            parser.close()
        else:
            parser.feed(chunk)
        return list(parser.read_events())  # type: ignore[arg-type]
    except (etree.XMLSyntaxError, LookupError, UnicodeError) as exc:
        raise SoapFault(
            "SolicitudInvalida", "el mensaje no es XML bien formado.", detail=type(exc).__name__
        ) from exc


def _check_envelope(element: etree._Element) -> None:
    docinfo = element.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # type: ignore[attr-defined]
        raise SoapFault(
            "SolicitudInvalida",
            "no se aceptan declaraciones DOCTYPE ni entidades.",
            detail="DOCTYPE",
        )
    if element.tag == ENVELOPE:
        return
    if etree.QName(element).localname == "Envelope":
        raise SoapFault(
            "VersionNoSoportada",
            f"este servicio atiende SOAP 1.1 (sobre en el espacio de nombres {wire.SOAP_ENV}).",
            faultcode="VersionMismatch",
            detail=f"envelope namespace {etree.QName(element).namespace}",
        )
    raise _not_soap("the root is not a SOAP Envelope")


def _not_soap(detail: str) -> SoapFault:
    return SoapFault(
        "SolicitudInvalida",
        "se esperaba un sobre SOAP 1.1 con Header y Body.",
        detail=detail,
    )


def _check_header_blocks(header: etree._Element | None) -> None:
    """SOAP 1.1 §4.2.3: a block meant for us with ``mustUnderstand="1"`` that we do not
    understand is a ``MustUnderstand`` fault. We understand ``wsse:Security`` only."""
    for block in [] if header is None else header:
        if not isinstance(block.tag, str) or block.tag == SECURITY:
            continue
        meant_for_us = block.get(ACTOR) in (None, "", wire.SOAP_NEXT_ACTOR)
        if meant_for_us and (block.get(MUST_UNDERSTAND) or "").strip() in ("1", "true"):
            name = etree.QName(block)
            raise SoapFault(
                "EncabezadoNoComprendido",
                f"el encabezado obligatorio «{name.localname}» ({name.namespace}) no es "
                "comprendido por este servicio.",
                faultcode="MustUnderstand",
                detail=f"mustUnderstand {name.text}",
            )


def _authenticate(header: etree._Element | None, address: str | None, gate: Gate) -> Credential:
    """One look at the throttle (after the bounded header, before any password is checked),
    then WS-Security; a failure counts against the user name and the address."""
    user, now = claimed_username(header), gate.clock()
    status = gate.throttle.status(Scope.PASO1, user=user, address=address, now=now)
    _refuse_if_blocked(status.blocked_until, now)
    try:
        credential = gate.verifier.verify_header(header, record_nonce=False)
    except NotAuthorizedError as exc:
        gate.throttle.record_failure(Scope.PASO1, user=user, address=address, now=now)
        raise not_authorized("WS-Security refused") from exc
    if status.user_has_failures:
        gate.throttle.record_success(Scope.PASO1, user=credential.username)
    return credential


def _parse_whole(
    prefix: bytes,
    rest: Iterator[bytes],
    encoding: str | None,
    max_persons: int | None,
    *,
    v1: bool = True,
) -> tuple[etree._Element, ReceivedMessage, list[tuple[str, str]]]:
    """The message parsed as it streams in, its bytes as they arrived, and the personas
    streamed out of the tree on the way (SPEC §11: an authenticated body costs bounded
    memory). Personas are validated under ``xsd/solicitud-v1.xsd`` a batch at a time and
    leave the tree; anything else may hold at most ``LIVE_ELEMENTS`` elements at once, so a
    junk-shaped body is refused while it streams, and so is a request past ``max_persons``.

    Under a wire profile (``v1`` False) the annex's persons are not known by name: the whole
    request stays within the same element budget, and is refused past it as too large."""
    stream = _PersonStream(wire.secure_pull_parser(encoding), max_persons, v1=v1)
    # Kept compressed as it arrives (ReceivedMessage): the raw body was held, joined, copied
    # and bound to the database whole, which alone took serve past 300 MB at 64 MiB.
    packer = zlib.compressobj()
    kept, size = bytearray(packer.compress(prefix)), len(prefix)
    try:
        stream.feed(prefix)
        for chunk in rest:
            kept += packer.compress(chunk)
            size += len(chunk)
            stream.feed(chunk)
        root = stream.close()
    except SchemaValidationError as exc:
        raise _schema_fault(exc) from exc
    except (etree.XMLSyntaxError, LookupError, UnicodeError) as exc:
        raise SoapFault(
            "SolicitudInvalida", "el mensaje no es XML bien formado.", detail=type(exc).__name__
        ) from exc
    kept += packer.flush()
    message = ReceivedMessage(bytes(kept), size)

    return root, message, stream.persons


PERSONA = f"{{{wire.SOLICITUD_NS}}}persona"
_PLACE = (f"{{{wire.SOLICITUD_NS}}}personas", f"{{{wire.SOLICITUD_NS}}}Solicitud", BODY)


def _in_place(persona: etree._Element) -> bool:
    """Whether a persona stands where the schema puts it (Body/Solicitud/personas): only those
    are validated in batches and streamed out; one anywhere else stays for the final
    validation, which refuses it where it is."""
    node: etree._Element | None = persona
    for tag in _PLACE:
        node = node.getparent() if node is not None else None
        if node is None or node.tag != tag:
            return False
    return True


PERSON_BATCH = 5_000  # personas validated and streamed out together
LIVE_ELEMENTS = 50_000  # elements the tree may hold at once besides the batch being filled
ELEMENT_BUDGET = LIVE_ELEMENTS + 3 * PERSON_BATCH


class _PersonStream:
    """A pull parser whose completed personas leave the tree in validated batches."""

    def __init__(
        self, parser: etree.XMLPullParser, max_persons: int | None, *, v1: bool = True
    ) -> None:
        self.parser, self.max_persons, self.v1 = parser, max_persons, v1
        self.persons: list[tuple[str, str]] = []
        self.seen = self.live = 0
        self.batch: list[etree._Element] = []

    def feed(self, chunk: bytes) -> None:
        self.parser.feed(chunk)
        self._read()

    def close(self) -> etree._Element:
        root: etree._Element = self.parser.close()
        self._read()
        return root

    def _read(self) -> None:
        events: Iterator[tuple[str, etree._Element]] = self.parser.read_events()  # type: ignore[assignment]
        for event, element in events:
            if event == "start":
                self.live += 1
                if element.tag == PERSONA:
                    self._person_starts()
                elif self.live > ELEMENT_BUDGET:
                    raise self._over_budget()
            elif element.tag == PERSONA and _in_place(element):
                self.batch.append(element)

    def _over_budget(self) -> SoapFault:
        if self.v1:
            return SoapFault("SolicitudInvalida", "el mensaje tiene demasiados elementos que no "
                             "son personas.", detail="element budget")  # fmt: skip
        return SoapFault(
            "SolicitudDemasiadoGrande",
            f"el mensaje tiene más de {wire.spanish_number(ELEMENT_BUDGET)} elementos, más de "
            "los que este servicio lee en una sola solicitud.",
            detail="element budget (profile)",
        )

    def _person_starts(self) -> None:
        self.seen += 1
        if self.max_persons is not None and self.seen > self.max_persons:
            raise RequestTooLargeError(
                f"The request lists more than {self.max_persons:,} persons "
                "(UGPP_BRIDGE_MAX_PERSONS); the rest of the message was not read.",
                field="personas",
                value=self.max_persons,
            )
        if len(self.batch) >= PERSON_BATCH:  # complete, and one more follows: never the last
            self._stream_out()

    def _stream_out(self) -> None:
        """Validate the batch under the schema (moved into a minimal valid Solicitud), take
        its values, and drop it."""
        skeleton = _skeleton()
        holder = skeleton.find(f"{{{wire.SOLICITUD_NS}}}personas")
        assert holder is not None
        for element in self.batch:
            self.live -= 1 + sum(1 for _ in element.iterdescendants())
            holder.append(element)  # moves it out of the message's tree
        wire.validate(skeleton, wire.SOLICITUD_XSD)
        self.persons.extend(person_pairs(holder))
        self.batch.clear()


def _skeleton() -> etree._Element:
    return etree.fromstring(_SKELETON, wire.secure_parser())


_SKELETON = (
    f'<Solicitud xmlns="{wire.SOLICITUD_NS}"><idSolicitud>x</idSolicitud>'
    "<nitOperador>800197268</nitOperador><fechaSolicitud>2026-01-01</fechaSolicitud>"
    "<fechaInicioTermino>2026-01-01</fechaInicioTermino><tiposInformacion><tipoInformacion>"
    "CUENTAS</tipoInformacion></tiposInformacion><periodos><periodo><anio>2026</anio><mes>1"
    "</mes></periodo></periodos><personas/></Solicitud>"
).encode()
