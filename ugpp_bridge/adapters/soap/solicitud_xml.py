"""A ``Solicitud`` (SPEC §4, Paso 1) as XML ⇄ the domain's ``FinancialInfoRequest``.

A file may hold the ``Solicitud`` element as its root or a whole SOAP 1.1 envelope around it.
Parsing is secure (no DTDs, entities or network), then the element is validated against
``xsd/solicitud-v1.xsd``, then the domain checks what the schema cannot (duplicates, NIT).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from datetime import date

from lxml import etree

from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.adapters.soap.profile import WireProfile
from ugpp_bridge.domain.codes import InformationType
from ugpp_bridge.domain.filing import BOGOTA, Receipt
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.errors import InvalidInputError, InvalidRequestError

SOAP_ENV = wire.SOAP_ENV
NS = wire.SOLICITUD_NS
# xs:date may carry a time-zone offset (SPEC §9); the calendar date is what counts.
_XS_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})?")


def q(name: str) -> str:
    return f"{{{NS}}}{name}"


def parse_solicitud(data: bytes) -> FinancialInfoRequest:
    """The request in ``data``; ``InvalidRequestError`` or ``SchemaValidationError`` if bad."""
    try:
        root = etree.fromstring(data, wire.secure_parser(inbound=True))
    except etree.XMLSyntaxError as exc:
        raise InvalidRequestError(f"The document is not well-formed XML: {exc}.") from exc
    element = solicitud_element(root)
    wire.validate(element, wire.SOLICITUD_XSD)
    return request_from_element(element)


def solicitud_or_profile_element(data: bytes) -> etree._Element:
    """The request element of a file: a v1 Solicitud or a profile's Paso 1 request, alone or
    as the first element of a SOAP Body (told apart by the caller, by its tag)."""
    try:
        root = etree.fromstring(data, wire.secure_parser(inbound=True))
    except etree.XMLSyntaxError as exc:
        raise InvalidRequestError(f"The document is not well-formed XML: {exc}.") from exc
    if root.tag in (f"{{{SOAP_ENV}}}Envelope", f"{{{wire.SOAP12_ENV}}}Envelope"):
        child = wire.body_child(root)
        if child is None:
            raise InvalidRequestError("The SOAP envelope's Body is empty.")
        return etree.ElementTree(copy.deepcopy(child)).getroot()
    return root


def solicitud_element(root: etree._Element) -> etree._Element:
    """The ``Solicitud`` element: the root itself, or the first child of a SOAP Body."""
    if root.tag == q("Solicitud"):
        return root
    if root.tag == f"{{{SOAP_ENV}}}Envelope":
        body = root.find(f"{{{SOAP_ENV}}}Body")
        if body is not None and len(body) and body[0].tag == q("Solicitud"):
            return body[0]
    raise InvalidRequestError(
        f"Expected a Solicitud element in {NS} (alone or in a SOAP envelope), found {root.tag}."
    )


def request_from_element(
    element: etree._Element, *, leading_persons: Sequence[tuple[str, str]] = ()
) -> FinancialInfoRequest:
    """Map a schema-valid ``Solicitud`` element to the domain (domain checks apply).
    ``leading_persons``: (type, number) of the personas that came before the element's own,
    taken out of it as the message streamed in (Paso 1)."""

    def text(parent: etree._Element, name: str) -> str:
        return (parent.findtext(q(name)) or "").strip()

    try:
        return FinancialInfoRequest(
            request_id=text(element, "idSolicitud"),
            operator_nit=text(element, "nitOperador"),
            requested_on=xs_date(text(element, "fechaSolicitud"), "fechaSolicitud"),
            term_starts_on=xs_date(text(element, "fechaInicioTermino"), "fechaInicioTermino"),
            information_types=frozenset(
                InformationType((node.text or "").strip())
                for node in element.iterfind(f"{q('tiposInformacion')}/{q('tipoInformacion')}")
            ),
            periods=tuple(
                Period(int(year), int(month))
                for year, month in _pairs(element, "periodos", "periodo")
            ),
            persons=tuple(
                PersonId(kind, number)
                for kind, number in (*leading_persons, *_pairs(element, "personas", "persona"))
            ),
        )
    except InvalidRequestError:
        raise
    except InvalidInputError as exc:
        raise InvalidRequestError(
            f"The Solicitud is not valid: {exc}", field=exc.field, reason=exc.reason
        ) from exc
    except ValueError as exc:
        raise InvalidRequestError(f"The Solicitud is not valid: {exc}") from exc


def _pairs(element: etree._Element, group: str, item: str) -> list[tuple[str, str]]:
    node = element.find(q(group))
    return [] if node is None else _child_pairs(node, item)


def person_pairs(personas: etree._Element) -> list[tuple[str, str]]:
    """(tipoDocumento, numeroDocumento) of each schema-valid ``persona`` of ``personas``."""
    return _child_pairs(personas, "persona")


def _child_pairs(node: etree._Element, item: str) -> list[tuple[str, str]]:
    """The two child values of each ``item`` of ``node``, by position: the element is
    schema-valid, so each item holds exactly its two elements in order (and a 100,000-person
    request maps in milliseconds, not a lookup by name per value)."""
    return [
        ((child[0].text or "").strip(), (child[1].text or "").strip())
        for child in node.iterchildren(q(item))
    ]


def xs_date(text: str, field: str) -> date:
    """An ``xs:date`` (``2026-11-20``, ``2026-11-20Z``, ``2026-11-20-05:00``) as a date."""
    found = _XS_DATE.fullmatch(text)
    try:
        if found is None:
            raise ValueError(text)
        return date.fromisoformat(found.group(1))
    except ValueError:
        raise InvalidRequestError(
            f"{field} is not a date (YYYY-MM-DD, optionally with a time-zone offset).",
            field=field,
            reason="out_of_range" if found else "malformed",
        ) from None


def solicitud_to_xml(request: FinancialInfoRequest) -> bytes:
    """The ``Solicitud`` document of ``request`` (what UGPP sends; used by the stand-in)."""
    root = etree.Element(q("Solicitud"), nsmap={None: NS})  # type: ignore[dict-item]  # stubs lack the default-namespace key

    def leaf(parent: etree._Element, name: str, value: object) -> None:
        etree.SubElement(parent, q(name)).text = str(value)

    leaf(root, "idSolicitud", request.request_id)
    leaf(root, "nitOperador", request.operator_nit)
    leaf(root, "fechaSolicitud", request.requested_on.isoformat())
    leaf(root, "fechaInicioTermino", request.term_starts_on.isoformat())
    types = etree.SubElement(root, q("tiposInformacion"))
    for information_type in sorted(request.information_types, key=list(InformationType).index):
        leaf(types, "tipoInformacion", information_type.value)
    periods = etree.SubElement(root, q("periodos"))
    for period in request.periods:
        node = etree.SubElement(periods, q("periodo"))
        leaf(node, "anio", period.year)
        leaf(node, "mes", period.month)
    persons = etree.SubElement(root, q("personas"))
    for person in request.persons:
        node = etree.SubElement(persons, q("persona"))
        leaf(node, "tipoDocumento", person.doc_type)
        leaf(node, "numeroDocumento", person.doc_number)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def read_request_file(profile: WireProfile, data: bytes) -> FinancialInfoRequest:
    """SPEC §10: a file with a v1 Solicitud, or the profile's Paso 1 request element (valid
    under its schemas, through its ``request`` transform), as the domain's request."""
    element = solicitud_or_profile_element(data)
    if element.tag == q("Solicitud") or profile.is_v1:
        wire.validate(solicitud_element(element), wire.SOLICITUD_XSD)
        return request_from_element(solicitud_element(element))
    return profile_request(profile, element)


def profile_request(profile: WireProfile, element: etree._Element) -> FinancialInfoRequest:
    """A profile's Paso 1 request element as the domain's request (SPEC §10): valid under the
    profile's schemas, through its ``request`` transform (on a copy, as its own document), the
    result valid under ``solicitud-v1.xsd``, then the domain's checks. Raises
    ``SchemaValidationError``, ``TransformTerminated``, ``InvalidInputError`` or
    ``ProfileError``."""
    profile.paso1.schemas.validate(element)
    solicitud = element
    if profile.paso1.request is not None:
        solicitud = profile.paso1.request(etree.ElementTree(copy.deepcopy(element)))
    wire.validate(solicitud, wire.SOLICITUD_XSD)
    return request_from_element(solicitud)


def acuse_element(receipt: Receipt) -> etree._Element:
    """The v1 ``AcuseSolicitud`` of a receipt (what spyne serializes under v1)."""
    ns = wire.SOLICITUD_NS
    root = etree.Element(f"{{{ns}}}AcuseSolicitud", nsmap={None: ns})  # type: ignore[dict-item]
    received = receipt.received_at.astimezone(BOGOTA).replace(microsecond=0)
    for name, value in (
        ("idSolicitud", receipt.request_id),
        ("radicado", receipt.filing_number),
        ("estado", receipt.status.value),
        ("fechaRecepcion", received.isoformat()),
        ("fechaVencimiento", receipt.due_date.isoformat()),
        ("totalPersonas", str(receipt.total_persons)),
    ):
        etree.SubElement(root, f"{{{ns}}}{name}").text = value
    return root
