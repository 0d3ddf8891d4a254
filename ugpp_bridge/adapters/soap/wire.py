"""The one wire module: namespaces, contract files and schema validation (SPEC §4).

v1's files (SPEC §4) live in the built-in profile folder ``profiles/v1/`` (shipped inside
the package); another annex is a profile folder of its own (SPEC §10, ``profile.py``). XML is
parsed with secure settings passed explicitly: no DTDs, no entity expansion, no network, no
huge trees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

from lxml import etree

from ugpp_bridge.errors import SchemaIssue, SchemaValidationError

__all__ = ["SchemaIssue"]  # re-exported for the profile module's messages

PACKAGE_DIR = Path(__file__).resolve().parents[2]
V1_PROFILE_DIR = PACKAGE_DIR / "profiles" / "v1"
XSD_DIR = WSDL_DIR = V1_PROFILE_DIR

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
WSDL_SOAP12_NS = "http://schemas.xmlsoap.org/wsdl/soap12/"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
SOAP_NEXT_ACTOR = "http://schemas.xmlsoap.org/soap/actor/next"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
XS_NS = "http://www.w3.org/2001/XMLSchema"
SOLICITUD_NS = "urn:ugpp-bridge:solicitud:v1"
REPORTE_NS = "urn:ugpp-bridge:reporte:v1"
SOLICITUD_XSD = XSD_DIR / "solicitud-v1.xsd"
REPORTE_XSD = XSD_DIR / "reporte-v1.xsd"
SOLICITUDES_WSDL = WSDL_DIR / "solicitudes-v1.wsdl"
UGPP_REPORTE_WSDL = WSDL_DIR / "ugpp-reporte-v1.wsdl"


def secure_parser(encoding: str | None = None, *, inbound: bool = False) -> etree.XMLParser:
    """A parser that refuses what an attacker could use: DTDs, entities, network, huge trees.
    ``encoding`` overrides the document's own (the HTTP charset, when one was given).

    ``inbound`` (documents others send us) also drops comments and processing instructions,
    so that a value split by one (``5212<!-- -->3456``, which the schema reads as 52123456)
    reads whole, as the schema read it, and never as the text before the comment."""
    return etree.XMLParser(
        encoding=encoding,
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_blank_text=False,
        remove_comments=inbound,
        remove_pis=inbound,
    )


def secure_pull_parser(encoding: str | None = None) -> etree.XMLPullParser:
    """``secure_parser(inbound=True)`` as a streaming parser reporting start and end events."""
    return etree.XMLPullParser(
        events=("start", "end"),
        encoding=encoding,
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


@cache
def schema(path: Path) -> etree.XMLSchema:
    """The compiled schema of one of our XSD files (cached per process)."""
    return etree.XMLSchema(etree.parse(str(path), secure_parser()))


def validate(document: etree._Element | etree._ElementTree, path: Path) -> None:
    """Raise ``SchemaValidationError`` naming line, element and reason when ``document`` fails."""
    validate_with(schema(path), path.name, document)


def validate_with(
    compiled: etree.XMLSchema, name: str, document: etree._Element | etree._ElementTree
) -> None:
    """``validate`` with a compiled schema, reported under the file ``name``."""
    if compiled.validate(document):
        return
    log = compiled.error_log  # iterable at run time; lxml-stubs 0.5 does not say so
    errors = [(error.line, _readable(error.message)) for error in log]  # type: ignore[attr-defined]
    issues = [_issue(error) for error in log]  # type: ignore[attr-defined]
    raise SchemaValidationError(name, errors, issues)


_ELEMENT_IN_MESSAGE = re.compile(r"Element '(?:\{[^}]*\})?([^']+)'")
# libxml2's error types → what is wrong, in words a UGPP technician reads (never the value).
_REASONS = {
    "SCHEMAV_CVC_ENUMERATION_VALID": "el valor no es uno de los permitidos",
    "SCHEMAV_CVC_PATTERN_VALID": "el valor no tiene el formato permitido",
    "SCHEMAV_CVC_MININCLUSIVE_VALID": "el valor es menor que el mínimo permitido",
    "SCHEMAV_CVC_MAXINCLUSIVE_VALID": "el valor es mayor que el máximo permitido",
    "SCHEMAV_CVC_MINLENGTH_VALID": "el valor es más corto de lo permitido",
    "SCHEMAV_CVC_MAXLENGTH_VALID": "el valor es más largo de lo permitido",
    "SCHEMAV_CVC_DATATYPE_VALID_1_2_1": "el valor no es del tipo de dato esperado",
    "SCHEMAV_CVC_COMPLEX_TYPE_2_4": "faltan elementos obligatorios",
    "SCHEMAV_CVC_ELT_1": "no se esperaba este elemento como raíz",
}


def _issue(error: object) -> SchemaIssue:
    message = str(getattr(error, "message", ""))
    found = _ELEMENT_IN_MESSAGE.search(message)
    kind = str(getattr(error, "type_name", ""))
    reason = _REASONS.get(kind)
    if reason is None:
        if "not expected" in message:
            reason = "este elemento no se esperaba en esa posición"
        elif "Missing child element" in message:
            reason = "faltan elementos obligatorios"
        else:
            reason = "no cumple el esquema"
    return SchemaIssue(
        int(getattr(error, "line", 0) or 0), found.group(1) if found else "(desconocido)", reason
    )


def served_wsdl(wsdl: Path, address: str) -> bytes:
    """A shipped WSDL as served: its schema imports inlined from ``xsd/`` and its
    ``soap:address`` set to ``address``; nothing else changes.

    One source of truth (the files in ``wsdl/`` and ``xsd/``), and a document that stands on
    its own: a client never has to fetch ``../xsd/...``, and no request header ever decides
    the address a client will send its credentials to. Each inlined schema keeps every
    namespace declaration of its file on ``xs:schema`` itself (``sol:`` in its type
    references), so a tool that extracts it compiles it alone: it is spliced in as text,
    because lxml strips a moved element's declarations that its new parent already makes.
    """
    tree = etree.parse(str(wsdl), secure_parser())
    inlined: list[bytes] = []
    for schema_node in tree.iterfind(f"{{{WSDL_NS}}}types/{{{XS_NS}}}schema"):
        for imported in schema_node.findall(f"{{{XS_NS}}}import"):
            location = imported.get("schemaLocation")
            if location is None:
                continue
            included = etree.parse(str((wsdl.parent / location).resolve()), secure_parser())
            inlined.append(etree.tostring(included.getroot(), encoding="unicode").encode())
            schema_node.addprevious(etree.ProcessingInstruction(_INLINE, str(len(inlined))))
            schema_node.remove(imported)
        if len(schema_node) == 0:
            schema_node.getparent().remove(schema_node)  # type: ignore[union-attr]
    for node in tree.iterfind(f".//{{{WSDL_SOAP_NS}}}address"):
        node.set("location", address)
    served = bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))
    for n, schema in enumerate(inlined, start=1):
        served = served.replace(f"<?{_INLINE} {n}?>".encode(), schema, 1)
    etree.fromstring(served, secure_parser())  # still one well-formed document
    return served


_INLINE = "ugpp-bridge-inline-schema"


SCHEMA_QUERY = "xsd"  # a profile's schema is served at ``<address>?xsd=<relative path>``
_SCHEMA_REFERENCES = (f"{{{XS_NS}}}import", f"{{{XS_NS}}}include", f"{{{XS_NS}}}redefine")


def served_profile_wsdl(wsdl: Path, folder: Path, address: str) -> bytes:
    """A profile's WSDL as served (SPEC §10): every ``soap:address`` and ``soap12:address`` set
    to ``address``, every schema it references pointed at ``address?xsd=<path>`` (served by
    ``served_profile_schema``), so a client resolves them all — includes of includes too."""
    tree = etree.parse(str(wsdl), secure_parser())
    for tag in (f"{{{WSDL_SOAP_NS}}}address", f"{{{WSDL_SOAP12_NS}}}address"):
        for node in tree.iter(tag):
            node.set("location", address)
    _point_schemas(tree, wsdl, folder, address)
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))


def served_profile_schema(folder: Path, relative: str, address: str) -> bytes | None:
    """The profile's XSD at ``relative`` with its references pointed as in the served WSDL;
    None for anything that is not an ``.xsd`` inside the folder."""
    path = (folder / relative).resolve()
    if path.suffix != ".xsd" or not path.is_relative_to(folder) or not path.is_file():
        return None
    tree = etree.parse(str(path), secure_parser())
    _point_schemas(tree, path, folder, address)
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))


def _point_schemas(tree: etree._ElementTree, path: Path, folder: Path, address: str) -> None:
    for tag in _SCHEMA_REFERENCES:
        for node in tree.iter(tag):
            location = node.get("schemaLocation")
            if location is None or "://" in location:
                continue
            target = (path.parent / location).resolve()
            if target.is_relative_to(folder):
                relative = target.relative_to(folder).as_posix()
                node.set("schemaLocation", f"{address}?{SCHEMA_QUERY}={relative}")


def served_address(wsdl: bytes) -> str:
    """The address a served WSDL names (its first port's)."""
    root = etree.fromstring(wsdl, secure_parser())
    for tag in (f"{{{WSDL_SOAP_NS}}}address", f"{{{WSDL_SOAP12_NS}}}address"):
        node = next(root.iter(tag), None)
        if node is not None:
            return str(node.get("location") or "")
    return ""


def soap12_fault(code: str, text: str, subcode: str | None = None) -> bytes:
    """A SOAP 1.2 fault envelope: ``code`` Sender or Receiver, ``text`` the Reason."""
    namespaces = {"env": SOAP12_ENV}
    if (subcode or "").startswith("wsse:"):
        namespaces["wsse"] = WSSE_NS
    envelope = etree.Element(f"{{{SOAP12_ENV}}}Envelope", nsmap=namespaces)
    body = etree.SubElement(envelope, f"{{{SOAP12_ENV}}}Body")
    fault = etree.SubElement(body, f"{{{SOAP12_ENV}}}Fault")
    code_node = etree.SubElement(fault, f"{{{SOAP12_ENV}}}Code")
    etree.SubElement(code_node, f"{{{SOAP12_ENV}}}Value").text = f"env:{code}"
    if subcode:
        sub = etree.SubElement(code_node, f"{{{SOAP12_ENV}}}Subcode")
        etree.SubElement(sub, f"{{{SOAP12_ENV}}}Value").text = subcode
    reason = etree.SubElement(fault, f"{{{SOAP12_ENV}}}Reason")
    node = etree.SubElement(reason, f"{{{SOAP12_ENV}}}Text")
    node.set("{http://www.w3.org/XML/1998/namespace}lang", "es")
    node.text = text
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def fault_for(soap12: bool, faultcode: str, text: str) -> bytes:
    """A fault in the version asked for; a 1.1 code (``Client``, ``Client.X``, ``Server``)
    becomes 1.2's ``Sender``/``Receiver`` with the rest as the subcode."""
    if not soap12:
        return soap_fault(faultcode, text)
    head, _, rest = faultcode.partition(".")
    code = {"Client": "Sender", "Server": "Receiver"}.get(head, head)
    return soap12_fault(code, text, rest or None)


def soap_fault(faultcode: str, faultstring: str) -> bytes:
    """A SOAP 1.1 fault envelope (``faultcode`` is Client or Server), as spyne writes them."""
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap11env": SOAP_ENV})
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    node = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(node, "faultcode").text = f"soap11env:{faultcode}"
    etree.SubElement(node, "faultstring").text = faultstring
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def _readable(message: str) -> str:
    """libxml2 writes elements as ``{namespace}name``; operators read ``name``."""
    for namespace in (SOLICITUD_NS, REPORTE_NS):
        message = message.replace("{" + namespace + "}", "")
    return message


# -- Paso 1 faults (SPEC §4, §9): a stable code before the colon, then Spanish only ------------

FIELD_NOUNS = {"personas": "persona", "periodos": "periodo", "tiposInformacion": "tipo"}
_REASON_TEXTS = {
    "duplicated": "«{field}» repite un elemento; envíe cada {noun} una sola vez",
    "out_of_range": "«{field}» está fuera del rango permitido",
    "digits_only": "«{field}» debe tener solo dígitos para los tipos CC, CE, NI, TI y RC",
    "malformed": "«{field}» no tiene el formato permitido",
    "unknown_code": "«{field}» no es un código permitido",
    "length": "«{field}» tiene una longitud no permitida",
    "missing": "«{field}» debe tener al menos un elemento",
}
DATE_RANGE_TEXT = " (del 01/01/2000 al 31/12/2100)"


def invalid_value_text(field: str | None, reason: str | None) -> str:
    """What is wrong with one value of a Solicitud, in Spanish, without the value itself."""
    if field is None:
        return "la solicitud no es válida"
    template = _REASON_TEXTS.get(reason or "", "«{field}» no es válido")
    text = template.format(field=field, noun=FIELD_NOUNS.get(field, "elemento"))
    if reason == "out_of_range" and field.startswith("fecha"):
        text += DATE_RANGE_TEXT
    return text


def schema_fault_text(issue: SchemaIssue) -> str:
    return (
        f"el elemento «{issue.element}» no cumple el esquema (línea {issue.line}): {issue.reason}"
    )


def spanish_number(value: int) -> str:
    """1.234.567 (es-CO thousands separator)."""
    return f"{value:,}".replace(",", ".")


# -- Paso 2 answers, read tolerantly (SPEC §9) -------------------------------------------------

ACUSE_FIELDS = (
    "idSolicitud", "idEnvio", "numeroLote", "radicadoUGPP", "fechaRecepcion", "registrosRecibidos"
)  # fmt: skip
# WS-Security 1.0 §12: the faults a service answers when it refuses the caller's credentials.
CREDENTIAL_FAULTS = frozenset(
    {"FailedAuthentication", "InvalidSecurityToken", "InvalidSecurity", "SecurityTokenUnavailable"}
)


@dataclass(frozen=True)
class AcuseReading:
    """What an ``AcuseReporte`` says: UGPP's radicado (None: not an acknowledgement), the
    fields we know, and the names of elements we do not (kept as warnings, never fatal)."""

    radicado: str | None
    fields: dict[str, str]
    unknown: tuple[str, ...]


@dataclass(frozen=True)
class FaultReading:
    """A SOAP fault: its code (local part, e.g. ``Client.DatosInvalidos``), the stable code
    of its string (before the colon), its text, and who is at fault."""

    faultcode: str
    code: str
    message: str
    sender: bool  # SOAP 1.1 Client / Client.*, SOAP 1.2 Sender: the message itself is refused
    credentials: bool  # the caller's credentials were refused


def answer_root(data: bytes) -> etree._Element | None:
    try:
        return etree.fromstring(data, secure_parser(inbound=True))
    except etree.XMLSyntaxError:
        return None


def read_fault(root: etree._Element) -> FaultReading | None:
    """The SOAP 1.1 or 1.2 fault in an answer, or None."""
    fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    if fault is not None:
        faultcode = _local_code(fault.find("faultcode"))
        message = (fault.findtext("faultstring") or "").strip()
        sender = faultcode == "Client" or faultcode.startswith("Client.")
    else:
        fault = root.find(f"{{{SOAP12_ENV}}}Body/{{{SOAP12_ENV}}}Fault")
        if fault is None:
            return None
        code = fault.find(f"{{{SOAP12_ENV}}}Code")
        value = None if code is None else code.find(f"{{{SOAP12_ENV}}}Value")
        faultcode = _local_code(value)
        subcode = (
            None if code is None else code.find(f".//{{{SOAP12_ENV}}}Subcode/{{{SOAP12_ENV}}}Value")
        )
        if subcode is not None:
            faultcode = f"{faultcode}.{_local_code(subcode)}"
        message = " ".join(
            (fault.findtext(f"{{{SOAP12_ENV}}}Reason/{{{SOAP12_ENV}}}Text") or "").split()
        )
        sender = faultcode.split(".")[0] == "Sender"
    stable = message.split(":", 1)[0].strip() if ":" in message else faultcode
    parts = set(faultcode.split("."))
    credentials = bool(parts & CREDENTIAL_FAULTS) or stable == "NoAutorizado"
    return FaultReading(faultcode, stable, message, sender, credentials)


def _local_code(node: etree._Element | None) -> str:
    """``soap:Client.DatosInvalidos`` → ``Client.DatosInvalidos``; ``wsse:FailedAuthentication``
    → ``FailedAuthentication`` (the prefix's namespace is not checked: peers vary)."""
    text = "" if node is None else " ".join((node.text or "").split())
    return text.rpartition(":")[2]


def body_child(root: etree._Element) -> etree._Element | None:
    """The first element in a SOAP 1.1 or 1.2 Body, or None."""
    body = root.find(f"{{{SOAP_ENV}}}Body")
    if body is None:
        body = root.find(f"{{{SOAP12_ENV}}}Body")
    if body is None:
        return None
    return next((node for node in body if isinstance(node.tag, str)), None)


def read_acuse(root: etree._Element) -> AcuseReading | None:
    """The ``AcuseReporte`` of an answer, read by name: extra elements are listed, not fatal.
    None when the Body holds no AcuseReporte."""
    child = body_child(root)
    return None if child is None else read_acuse_element(child)


def read_acuse_element(acuse: etree._Element) -> AcuseReading | None:
    """An ``AcuseReporte`` element read tolerantly (None: not one)."""
    if acuse.tag != f"{{{REPORTE_NS}}}AcuseReporte":
        return None
    fields: dict[str, str] = {}
    unknown: list[str] = []
    for child in acuse:
        name = etree.QName(child)
        if name.namespace in (REPORTE_NS, None) and name.localname in ACUSE_FIELDS:
            fields[name.localname] = " ".join((child.text or "").split())
        else:
            unknown.append(name.localname)
    return AcuseReading(fields.get("radicadoUGPP") or None, fields, tuple(unknown))


# -- evidence checks (``evidence verify``) -----------------------------------------------------


class ElementValidator(Protocol):
    def validate(self, element: etree._Element) -> None: ...


def lote_problem(xml: bytes, schemas: ElementValidator | None = None) -> str | None:
    """Why a lote is not valid under ``schemas`` (a profile's Paso 2 schemas; default
    ``reporte-v1``), in Spanish with the line, or None."""
    try:
        document = etree.fromstring(xml, secure_parser())
        if schemas is None:
            validate(document, REPORTE_XSD)
        else:
            schemas.validate(document)
    except etree.XMLSyntaxError:
        return "no es XML bien formado"
    except SchemaValidationError as exc:
        issue = exc.issues[0]
        return f"no cumple {exc.schema}: línea {issue.line}, {issue.element}: {issue.reason}"
    return None


def canonical(xml: bytes) -> bytes | None:
    """Exclusive C14N of a document's root (None: not XML): the same lote reads the same
    whether stored alone or carried in a SOAP Body."""
    try:
        root = etree.fromstring(xml, secure_parser())
    except etree.XMLSyntaxError:
        return None
    return etree.tostring(root, method="c14n", exclusive=True)


def canonical_body_child(envelope: bytes) -> bytes | None:
    """Exclusive C14N of the first element in a SOAP 1.1 Body (what a Paso 2 call carried),
    or None when the message has no such element."""
    try:
        root = etree.fromstring(envelope, secure_parser())
    except etree.XMLSyntaxError:
        return None
    child = body_child(root)
    return None if child is None else etree.tostring(child, method="c14n", exclusive=True)
