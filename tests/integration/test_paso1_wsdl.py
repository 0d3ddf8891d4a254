"""What spyne serves at ``/soap/solicitudes?wsdl`` is equivalent to ``wsdl/`` and ``xsd/``."""

from __future__ import annotations

from pathlib import Path

import requests
from lxml import etree

from tests.integration.test_paso1 import Server, server  # noqa: F401 — the fixture
from ugpp_bridge.adapters import wire

XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
NS = {"xs": XS, "wsdl": WSDL, "soap": SOAP}
# Built-in types that are restrictions of xs:integer, spelled out so both sides compare alike.
DERIVED = {
    "positiveInteger": ("integer", ("minInclusive", "1")),
    "nonNegativeInteger": ("integer", ("minInclusive", "0")),
}


class Schema:
    """Named types and elements of one or more xs:schema nodes, and element descriptions."""

    def __init__(self, roots: list[etree._Element]) -> None:
        self.types = {
            t.get("name"): t
            for r in roots
            for t in r.findall("xs:complexType", NS) + r.findall("xs:simpleType", NS)
        }
        self.elements = {e.get("name"): e for r in roots for e in r.findall("xs:element", NS)}

    def describe(self, element: etree._Element) -> tuple[object, ...]:
        occurs = (
            element.get("minOccurs", "1"),
            element.get("maxOccurs", "1"),
            element.get("nillable", "false"),
        )
        reference = element.get("type")
        if reference is None:
            node = element.find("xs:complexType", NS)
            node = node if node is not None else element.find("xs:simpleType", NS)
        else:
            prefix, _, local = reference.rpartition(":")
            namespace = element.nsmap.get(prefix or None)
            if namespace == XS:
                return (element.get("name"), *occurs, self._builtin(local, []))
            node = self.types[local]
        return (element.get("name"), *occurs, self._type(node))

    def _type(self, node: etree._Element) -> object:
        if etree.QName(node).localname == "complexType":
            return (
                "complex",
                tuple(self.describe(child) for child in node.findall("xs:sequence/xs:element", NS)),
            )
        restriction = node.find("xs:restriction", NS)
        facets = [
            (etree.QName(f).localname, f.get("value"))
            for f in restriction
            if isinstance(f.tag, str)
        ]
        return self._builtin(restriction.get("base").rpartition(":")[2], facets)

    @staticmethod
    def _builtin(name: str, facets: list[tuple[str, str | None]]) -> object:
        base, extra = DERIVED.get(name, (name, None))
        return (base, tuple(sorted([*facets, *([extra] if extra else [])])))


def operation(wsdl: etree._Element) -> tuple[object, ...]:
    (op,) = wsdl.findall("wsdl:portType/wsdl:operation", NS)
    messages = {
        m.get("name"): m.find("wsdl:part", NS).get("element").rpartition(":")[2]
        for m in wsdl.findall("wsdl:message", NS)
    }
    binding = wsdl.find("wsdl:binding", NS)
    return (
        op.get("name"),
        messages[op.find("wsdl:input", NS).get("message").rpartition(":")[2]],
        messages[op.find("wsdl:output", NS).get("message").rpartition(":")[2]],
        binding.find("soap:binding", NS).get("style"),
        binding.find("soap:binding", NS).get("transport"),
        binding.find("wsdl:operation/soap:operation", NS).get("soapAction"),
        tuple(b.get("use") for b in binding.findall("wsdl:operation/*/soap:body", NS)),
    )


def served(url: str) -> etree._Element:
    return etree.fromstring(requests.get(f"{url}?wsdl", timeout=30).content, wire.secure_parser())


def ours() -> tuple[etree._Element, Schema]:
    wsdl = etree.parse(str(wire.SOLICITUDES_WSDL), wire.secure_parser()).getroot()
    location = wsdl.find("wsdl:types/xs:schema/xs:import", NS).get("schemaLocation")
    xsd = etree.parse(
        str((Path(wire.SOLICITUDES_WSDL).parent / location).resolve()), wire.secure_parser()
    )
    return wsdl, Schema([xsd.getroot()])


def test_the_served_operation_and_binding_match_the_contract(server: Server) -> None:  # noqa: F811
    contract, _ = ours()
    assert operation(served(server.url)) == operation(contract)
    assert operation(contract)[:3] == ("RecibirSolicitud", "Solicitud", "AcuseSolicitud")


def test_the_served_elements_types_and_restrictions_match_the_xsd(server: Server) -> None:  # noqa: F811
    wsdl = served(server.url)
    assert wsdl.get("targetNamespace") == wire.SOLICITUD_NS
    theirs = Schema(wsdl.findall("wsdl:types/xs:schema", NS))
    _, truth = ours()
    for name in ("Solicitud", "AcuseSolicitud"):
        assert theirs.describe(theirs.elements[name]) == truth.describe(truth.elements[name]), name


def test_the_comparison_notices_a_changed_restriction() -> None:
    _, truth = ours()
    xsd = etree.parse(str(wire.SOLICITUD_XSD), wire.secure_parser()).getroot()
    mes = xsd.find("xs:simpleType[@name='Mes']/xs:restriction/xs:maxInclusive", NS)
    mes.set("value", "13")
    assert Schema([xsd]).describe(Schema([xsd]).elements["Solicitud"]) != truth.describe(
        truth.elements["Solicitud"]
    )
