"""UGPP's Paso 1 call made by stacks we did not write: node-soap (built from the live ?wsdl)
and suds-community, with UsernameToken text and digest; receipts and faults read by them, and
every document that crossed validated with xmlschema."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tests.integration.test_paso1 import PASSWORD, SETTINGS, SOLICITUD, USER, Server, serving
from tests.interop.conftest import body_child, run_node, valid_by_xmlschema
from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.adapters.soap.paso1_client import solicitud_arguments
from ugpp_bridge.bootstrap import StateStores
from ugpp_bridge.domain.request import FinancialInfoRequest


@pytest.fixture
def server(stores: StateStores) -> Iterator[Server]:
    yield from serving(stores, SETTINGS)


def as_json(request: FinancialInfoRequest) -> dict[str, object]:
    arguments = solicitud_arguments(request)
    for name in ("fechaSolicitud", "fechaInicioTermino"):
        arguments[name] = arguments[name].isoformat()
    return arguments


def node_call(server: Server, request: FinancialInfoRequest = SOLICITUD, **changes: object):  # type: ignore[no-untyped-def]
    payload = {"wsdl": f"{server.url}?wsdl", "username": USER, "password": PASSWORD,
               "passwordType": "PasswordDigest", "solicitud": as_json(request), **changes}  # fmt: skip
    return run_node("paso1_client.js", payload)


def fault_code(answer: dict[str, object]) -> str:
    fault = answer["fault"]
    assert isinstance(fault, dict), answer
    return str(fault.get("faultstring", "")).split(":")[0]


@pytest.mark.parametrize("password_type", ["PasswordDigest", "PasswordText"])
def test_node_soap_gets_a_receipt_and_every_document_validates(
    server: Server, password_type: str
) -> None:
    answer = node_call(server, passwordType=password_type)
    assert answer["ok"], answer
    result = answer["result"]
    assert isinstance(result, dict)
    assert (result["idSolicitud"], result["estado"], str(result["totalPersonas"])) == (
        "UGPP-2026-000451", "RECIBIDA", "3",
    )  # fmt: skip
    assert str(result["radicado"]).startswith("UB-2026-")
    valid_by_xmlschema(body_child(str(answer["request"])), wire.SOLICITUD_XSD)
    valid_by_xmlschema(body_child(str(answer["response"])), wire.SOLICITUD_XSD)
    assert server.stores.requests.find("UGPP-2026-000451").request == SOLICITUD


def test_node_soap_sees_no_autorizado_for_a_wrong_password(server: Server) -> None:
    answer = node_call(server, password="no-es-la-clave")
    assert not answer["ok"] and fault_code(answer) == "NoAutorizado"
    assert server.stores.requests.list_requests() == []


def test_node_soap_sees_nit_operador_incorrecto(server: Server) -> None:
    answer = node_call(server, replace(SOLICITUD, operator_nit="900123456"))
    assert not answer["ok"] and fault_code(answer) == "NitOperadorIncorrecto"


def test_node_soap_sends_the_same_request_twice_and_gets_duplicada(server: Server) -> None:
    first, again = node_call(server), node_call(server)
    assert first["ok"] and again["ok"], (first, again)
    assert again["result"]["estado"] == "DUPLICADA"  # type: ignore[index]
    assert again["result"]["radicado"] == first["result"]["radicado"]  # type: ignore[index]


def suds_client(server: Server, digest: bool):  # type: ignore[no-untyped-def]
    from suds.client import Client
    from suds.sax.date import DateTime
    from suds.wsse import Security, UsernameToken

    client = Client(f"{server.url}?wsdl", cache=None, location=server.url, timeout=30)
    security = Security()
    token = UsernameToken(USER, PASSWORD)
    created = datetime.now(UTC).replace(microsecond=0)
    token.setcreated(created)
    if digest:  # suds leaves the digest to its user: Base64(SHA-1(nonce + created + password))
        raw = os.urandom(16)
        token.setnonce(base64.b64encode(raw).decode())
        token.setnonceencoding(True)
        stamp = str(DateTime(created)).encode()
        token.setpassworddigest(
            base64.b64encode(hashlib.sha1(raw + stamp + PASSWORD.encode()).digest()).decode()
        )
    else:
        token.setnonce()
    security.tokens.append(token)
    client.set_options(wsse=security)
    return client


@pytest.mark.parametrize("digest", [False, True])
def test_suds_gets_a_receipt(server: Server, digest: bool) -> None:
    client = suds_client(server, digest)
    answer = client.service.RecibirSolicitud(**solicitud_arguments(SOLICITUD))
    assert (answer.idSolicitud, answer.estado, int(answer.totalPersonas)) == (
        "UGPP-2026-000451", "RECIBIDA", 3,
    )  # fmt: skip
    sent = client.last_sent()
    received = client.last_received()
    valid_by_xmlschema(body_child(str(sent)), wire.SOLICITUD_XSD)
    valid_by_xmlschema(body_child(str(received)), wire.SOLICITUD_XSD)


def test_suds_reads_our_faults(server: Server) -> None:
    from suds import WebFault

    client = suds_client(server, digest=True)
    arguments = solicitud_arguments(replace(SOLICITUD, operator_nit="900123456"))
    with pytest.raises(WebFault) as refused:
        client.service.RecibirSolicitud(**arguments)
    assert str(refused.value.fault.faultstring).startswith("NitOperadorIncorrecto:")
