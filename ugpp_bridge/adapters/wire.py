"""The one wire module: namespaces, contract files and schema validation (SPEC §4).

Every wire detail lives in ``xsd/`` and ``wsdl/`` (shipped inside the package) and here, so
that UGPP's official annex can replace them without touching the rules. XML is parsed with
secure settings passed explicitly: no DTDs, no entity expansion, no network, no huge trees.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

from ugpp_bridge.errors import SchemaValidationError

PACKAGE_DIR = Path(__file__).resolve().parent.parent
XSD_DIR = PACKAGE_DIR / "xsd"
WSDL_DIR = PACKAGE_DIR / "wsdl"

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOLICITUD_NS = "urn:ugpp-bridge:solicitud:v1"
REPORTE_NS = "urn:ugpp-bridge:reporte:v1"
SOLICITUD_XSD = XSD_DIR / "solicitud-v1.xsd"
REPORTE_XSD = XSD_DIR / "reporte-v1.xsd"
SOLICITUDES_WSDL = WSDL_DIR / "solicitudes-v1.wsdl"
UGPP_REPORTE_WSDL = WSDL_DIR / "ugpp-reporte-v1.wsdl"


def secure_parser() -> etree.XMLParser:
    """A parser that refuses what an attacker could use: DTDs, entities, network, huge trees."""
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_blank_text=False,
    )


@cache
def schema(path: Path) -> etree.XMLSchema:
    """The compiled schema of one of our XSD files (cached per process)."""
    return etree.XMLSchema(etree.parse(str(path), secure_parser()))


def validate(document: etree._Element | etree._ElementTree, path: Path) -> None:
    """Raise ``SchemaValidationError`` naming line, element and reason when ``document`` fails."""
    compiled = schema(path)
    if compiled.validate(document):
        return
    log = compiled.error_log  # iterable at run time; lxml-stubs 0.5 does not say so
    errors = [(error.line, _readable(error.message)) for error in log]  # type: ignore[attr-defined]
    raise SchemaValidationError(path.name, errors)


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
