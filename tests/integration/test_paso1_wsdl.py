"""What ``/soap/solicitudes?wsdl`` serves is the shipped ``wsdl/solicitudes-v1.wsdl`` (SPEC §9):
the same document, with only two changes — the imported ``xsd/`` schema inline, so a client
needs nothing else, and the ``soap:address`` set from ``UGPP_BRIDGE_PUBLIC_URL``."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import requests
from lxml import etree

from tests.conftest import DATA
from tests.integration.test_paso1 import SETTINGS, Server, server, serving  # noqa: F401
from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.bootstrap import StateStores

NS = {"xs": wire.XS_NS, "wsdl": wire.WSDL_NS, "soap": wire.WSDL_SOAP_NS}


def c14n(node: etree._Element) -> bytes:
    return etree.tostring(node, method="c14n", exclusive=True, with_comments=False)


def shipped() -> etree._Element:
    return etree.parse(str(wire.SOLICITUDES_WSDL), wire.secure_parser()).getroot()


def undo_serving(served: etree._Element, address: str) -> etree._Element:
    """The served WSDL with the two allowed changes undone; must then be the shipped file."""
    restored = copy.deepcopy(served)
    node = restored.find("wsdl:service/wsdl:port/soap:address", NS)
    assert node is not None and node.get("location") == address
    node.set("location", shipped().find("wsdl:service/wsdl:port/soap:address", NS).get("location"))
    (inline,) = restored.findall("wsdl:types/xs:schema", NS)
    assert c14n(inline) == c14n(
        etree.parse(str(wire.SOLICITUD_XSD), wire.secure_parser()).getroot()
    ), "the inline schema is not xsd/solicitud-v1.xsd"
    types = inline.getparent()
    assert types is not None
    types.remove(inline)
    for original in shipped().findall("wsdl:types/xs:schema", NS):
        types.append(copy.deepcopy(original))
    return restored


def test_the_served_wsdl_is_the_shipped_file_with_its_schema_inline_and_our_address(
    server: Server,  # noqa: F811
) -> None:
    served = etree.fromstring(requests.get(f"{server.url}?wsdl", timeout=30).content)
    assert c14n(undo_serving(served, server.url)) == c14n(shipped())


def test_the_public_url_setting_is_the_address_clients_are_told(stores: StateStores) -> None:
    behind_a_proxy = replace(SETTINGS, public_url="https://ugpp.banco.example/soap/solicitudes")
    for running in serving(stores, behind_a_proxy):
        served = etree.fromstring(requests.get(f"{running.url}?wsdl", timeout=30).content)
        address = served.find("wsdl:service/wsdl:port/soap:address", NS)
        assert address is not None
        # serving() points the public URL at the test server; the builder keeps what it's told:
        assert address.get("location") == running.url
    assert b"https://ugpp.banco.example/soap/solicitudes" in wire.served_wsdl(
        wire.SOLICITUDES_WSDL, "https://ugpp.banco.example/soap/solicitudes"
    )


def test_the_comparison_notices_any_other_change(server: Server) -> None:  # noqa: F811
    served = etree.fromstring(requests.get(f"{server.url}?wsdl", timeout=30).content)
    served.find("wsdl:portType", NS).set("name", "Otro")
    assert c14n(undo_serving(served, server.url)) != c14n(shipped())


def test_the_served_wsdl_needs_nothing_beside_it(server: Server) -> None:  # noqa: F811
    served = etree.fromstring(requests.get(f"{server.url}?wsdl", timeout=30).content)
    assert served.findall(".//xs:import[@schemaLocation]", NS) == []
    assert Path(wire.SOLICITUDES_WSDL).read_bytes().count(b"schemaLocation") == 1


def test_the_inline_schema_extracted_alone_compiles_in_lxml_and_xmlschema(
    server: Server,  # noqa: F811
) -> None:
    # Issue 25, item 7: the inline schema used sol: declared only on wsdl:definitions, so the
    # schema extracted alone (as several WSDL tools do) compiled in neither.
    import xmlschema

    served = requests.get(f"{server.url}?wsdl", timeout=30).content
    # Cut out as text (as xmllint --xpath and several WSDL tools do): only what xs:schema
    # itself declares comes along, not what wsdl:definitions declares around it.
    alone = served[served.index(b"<xs:schema") : served.index(b"</xs:schema>") + 12]
    assert b'xmlns:sol="urn:ugpp-bridge:solicitud:v1"' in alone
    document = etree.fromstring(alone, wire.secure_parser())
    etree.XMLSchema(document)
    xmlschema.XMLSchema(alone.decode())
    golden = etree.parse(str(DATA / "wire" / "solicitud.xml"), wire.secure_parser())
    assert etree.XMLSchema(document).validate(golden)
