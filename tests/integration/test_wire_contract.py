"""The wire contract files (xsd/, wsdl/): golden documents validate, breaches are named."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import DATA
from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.adapters.soap.solicitud_xml import parse_solicitud, solicitud_to_xml
from ugpp_bridge.errors import InvalidInputError, SchemaValidationError

WIRE = DATA / "wire"
WSDL_NS = {"wsdl": "http://schemas.xmlsoap.org/wsdl/", "xs": "http://www.w3.org/2001/XMLSchema"}


def parse(text: str | bytes) -> etree._Element:
    data = text.encode() if isinstance(text, str) else text
    return etree.fromstring(data, wire.secure_parser())


def golden(name: str) -> str:
    return (WIRE / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "xsd"),
    [
        ("solicitud.xml", wire.SOLICITUD_XSD),
        ("acuse-solicitud.xml", wire.SOLICITUD_XSD),
        ("reporte.xml", wire.REPORTE_XSD),
        ("acuse-reporte.xml", wire.REPORTE_XSD),
    ],
)
def test_every_golden_document_validates(name: str, xsd: Path) -> None:
    wire.validate(parse(golden(name).encode()), xsd)


@pytest.mark.parametrize(
    ("name", "xsd", "old", "new", "named"),
    [
        ("solicitud.xml", wire.SOLICITUD_XSD, "<mes>2</mes>", "<mes>13</mes>", "mes"),
        (
            "solicitud.xml",
            wire.SOLICITUD_XSD,
            "<anio>2025</anio><mes>1",
            "<anio>1999</anio><mes>1",
            "anio",
        ),
        ("solicitud.xml", wire.SOLICITUD_XSD, ">RC<", ">XX<", "tipoDocumento"),
        ("solicitud.xml", wire.SOLICITUD_XSD, ">7788990<", ">77-88<", "numeroDocumento"),
        ("solicitud.xml", wire.SOLICITUD_XSD, ">800197268<", ">800197268-4<", "nitOperador"),
        ("solicitud.xml", wire.SOLICITUD_XSD, ">FIDUCIARIA<", ">SEGUROS<", "tipoInformacion"),
        (
            "acuse-solicitud.xml",
            wire.SOLICITUD_XSD,
            "T09:14:03-05:00",
            "T09:14:03",
            "fechaRecepcion",
        ),
        (
            "reporte.xml",
            wire.REPORTE_XSD,
            "<valorCreditos>120001",
            "<valorCreditos>-120001",
            "valorCreditos",
        ),
        ("reporte.xml", wire.REPORTE_XSD, "<valorGirado>35000", "<valorGirado>-1", "valorGirado"),
        ("reporte.xml", wire.REPORTE_XSD, "<tipoCuenta>5", "<tipoCuenta>6", "tipoCuenta"),
        (
            "reporte.xml",
            wire.REPORTE_XSD,
            "<tipoMovimiento>4",
            "<tipoMovimiento>5",
            "tipoMovimiento",
        ),
        (
            "reporte.xml",
            wire.REPORTE_XSD,
            "<valorDebitos>120001",
            "<valorDebitos>120001.5",
            "valorDebitos",
        ),
        ("reporte.xml", wire.REPORTE_XSD, "<tipoEnvio>ORIGINAL", "<tipoEnvio>NUEVO", "tipoEnvio"),
    ],
)
def test_a_breach_is_refused_naming_the_element(
    name: str, xsd: Path, old: str, new: str, named: str
) -> None:
    text = golden(name)
    assert old in text
    with pytest.raises(SchemaValidationError) as caught:
        wire.validate(parse(text.replace(old, new, 1)), xsd)
    assert named in str(caught.value)
    assert caught.value.errors[0][0] > 1  # a line number the operator can find


def test_negative_balances_and_medians_are_allowed() -> None:
    text = golden("reporte.xml").replace("<saldoFinal>250000", "<saldoFinal>-250000", 1)
    text = text.replace("<medianaSaldoDiario>0<", "<medianaSaldoDiario>-5<", 1)
    wire.validate(parse(text), wire.REPORTE_XSD)


def test_the_parser_does_not_expand_entities_or_read_files(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{secret.as_uri()}">]><r>&x;</r>'
    ).encode()
    root = parse(xxe)
    assert "TOP-SECRET-VALUE" not in "".join(root.itertext())
    assert b"TOP-SECRET-VALUE" not in etree.tostring(root)


@pytest.mark.parametrize(
    ("wsdl_path", "operation", "request_element", "response_element", "namespace"),
    [
        (
            wire.SOLICITUDES_WSDL,
            "RecibirSolicitud",
            "Solicitud",
            "AcuseSolicitud",
            wire.SOLICITUD_NS,
        ),
        (
            wire.UGPP_REPORTE_WSDL,
            "ReportarInformacionFinanciera",
            "Reporte",
            "AcuseReporte",
            wire.REPORTE_NS,
        ),
    ],
)
def test_each_wsdl_names_its_operation_and_elements_from_the_shipped_xsd(
    wsdl_path: Path, operation: str, request_element: str, response_element: str, namespace: str
) -> None:
    wsdl = etree.parse(str(wsdl_path), wire.secure_parser())
    operations = wsdl.xpath("//wsdl:portType/wsdl:operation/@name", namespaces=WSDL_NS)
    assert operations == [operation]
    parts = wsdl.xpath("//wsdl:message/wsdl:part/@element", namespaces=WSDL_NS)
    assert [part.split(":")[1] for part in parts] == [request_element, response_element]
    (location,) = wsdl.xpath("//xs:import/@schemaLocation", namespaces=WSDL_NS)
    xsd = (wsdl_path.parent / location).resolve()
    assert xsd.is_file()
    declared = etree.parse(str(xsd), wire.secure_parser()).xpath(
        "/xs:schema/xs:element/@name", namespaces=WSDL_NS
    )
    assert {request_element, response_element} <= set(declared)
    assert wsdl.getroot().get("targetNamespace") == namespace


def test_a_solicitud_file_parses_alone_or_inside_a_soap_envelope() -> None:
    alone = golden("solicitud.xml").encode()
    request = parse_solicitud(alone)
    assert (request.request_id, len(request.persons), len(request.periods)) == (
        "UGPP-2026-000451",
        3,
        2,
    )
    body = alone.split(b"?>", 1)[1]
    envelope = (
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        b"<soapenv:Header/><soapenv:Body>" + body + b"</soapenv:Body></soapenv:Envelope>"
    )
    assert parse_solicitud(envelope) == request
    assert parse_solicitud(solicitud_to_xml(request)) == request


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<Solicitud", "not well-formed"),
        (b'<Otra xmlns="urn:ugpp-bridge:solicitud:v1"/>', "Expected a Solicitud"),
        (
            golden("solicitud.xml")
            .replace(
                "<periodo><anio>2025</anio><mes>2</mes></periodo>",
                "<periodo><anio>2025</anio><mes>1</mes></periodo>",
            )
            .encode(),
            "same period",
        ),
    ],
)
def test_a_bad_solicitud_file_is_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_solicitud(data)
