"""Paso 1 on a real server (waitress on 127.0.0.1) called by a real zeep client, and attacked."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from lxml import etree

from tests.conftest import DATA
from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.adapters.soap.paso1_client import send_solicitud
from ugpp_bridge.adapters.soap.solicitud_xml import parse_solicitud, solicitud_to_xml
from ugpp_bridge.adapters.soap.wsse import PASSWORD_DIGEST, PASSWORD_TEXT, SOAP_ENV, WSSE, WSU
from ugpp_bridge.bootstrap import StateStores, paso1_gate
from ugpp_bridge.config import Settings
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.entrypoints.cli.service import waitress_options
from ugpp_bridge.entrypoints.soap import create_http_server, stop_waitress
from ugpp_bridge.entrypoints.web import combined_app, health_app, paso1_app
from ugpp_bridge.errors import RemoteFaultError

USER, PASSWORD = "ugpp-cliente", "clave-de-prueba-123"
SETTINGS = Settings(
    operator_nit="800197268",
    inbound_username=USER,
    inbound_password=PASSWORD,
    max_persons=50,
    max_request_bytes=200_000,
)
SOLICITUD = parse_solicitud((DATA / "wire" / "solicitud.xml").read_bytes())


@dataclass
class Server:
    url: str
    stores: StateStores

    @property
    def base(self) -> str:
        return self.url.rsplit("/soap/", 1)[0]


@pytest.fixture
def server(stores: StateStores) -> Iterator[Server]:
    yield from serving(stores, SETTINGS)


def serving(stores: StateStores, settings: Settings) -> Iterator[Server]:
    """Paso 1 and /healthz on waitress, configured exactly as ``serve`` configures it."""
    options = {**waitress_options(settings, threads=4), "host": "127.0.0.1", "port": 0}
    http = create_http_server(not_yet, **options)
    url = f"http://127.0.0.1:{http.effective_port}/soap/solicitudes"
    settings = replace(settings, public_url=url)
    http.application = combined_app(
        paso1_app(settings, stores), health_app(settings, stores), None, None
    )
    thread = threading.Thread(target=http.run, daemon=True)
    thread.start()
    try:
        yield Server(url, stores)
    finally:
        stop(http, thread)


def not_yet(environ: object, start_response: Callable[..., object]) -> list[bytes]:
    start_response("503 Service Unavailable", [])
    return [b""]


def stop(http: object, thread: threading.Thread) -> None:
    stop_waitress(http, thread)
    assert not thread.is_alive(), "the test server did not stop"


def send(server: Server, request: FinancialInfoRequest = SOLICITUD, **options: object):  # type: ignore[no-untyped-def]
    credentials = {"username": USER, "password": PASSWORD, **options}
    return send_solicitud(server.url, request, timeout=30, **credentials)  # type: ignore[arg-type]


def token(
    password: str = PASSWORD,
    *,
    digest: bool = True,
    created: datetime | None = None,
    nonce: bytes | None = None,
) -> bytes:
    nonce = nonce if nonce is not None else os.urandom(16)
    created_text = (created or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    if digest:
        value = base64.b64encode(
            hashlib.sha1(nonce + created_text.encode() + password.encode()).digest()
        ).decode()
        kind = PASSWORD_DIGEST
    else:
        value, kind = password, PASSWORD_TEXT
    return (
        f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><wsse:UsernameToken>'
        f'<wsse:Username>{USER}</wsse:Username><wsse:Password Type="{kind}">{value}</wsse:Password>'
        f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce><wsu:Created>{created_text}</wsu:Created>"
        "</wsse:UsernameToken></wsse:Security>"
    ).encode()


def envelope(body: bytes, header: bytes | None = None, prolog: bytes = b"") -> bytes:
    header = token() if header is None else header
    body = body.split(b"?>", 1)[1] if body.startswith(b"<?xml") else body
    return (
        prolog + f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Header>'.encode()
        + header + b"</soapenv:Header><soapenv:Body>" + body + b"</soapenv:Body></soapenv:Envelope>"
    )  # fmt: skip


def post(server: Server, data: bytes) -> tuple[int, str]:
    answer = requests.post(
        server.url, data=data, headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=30
    )
    root = etree.fromstring(answer.content, wire.secure_parser())
    fault = root.findtext(f".//{{{SOAP_ENV}}}Fault/faultstring")
    return answer.status_code, fault or etree.tostring(root).decode()


def nothing_stored(server: Server) -> bool:
    return server.stores.requests.list_requests() == [] and server.stores.audit.audit_trail() == []


def test_a_zeep_client_gets_a_receipt_with_radicado_deadline_and_bogota_offset(
    server: Server,
) -> None:
    receipt = send(server)
    assert (receipt.request_id, receipt.status, receipt.total_persons) == (
        "UGPP-2026-000451",
        "RECIBIDA",
        3,
    )
    assert receipt.filing_number.startswith("UB-20") and receipt.filing_number.endswith("-000001")
    assert receipt.due_date == "2026-12-07"  # 2026-11-05 + 1 month is a Saturday
    assert receipt.received_at.endswith("-05:00")
    stored = server.stores.requests.find(receipt.filing_number)
    assert (stored.state, stored.request) == (RequestState.RECEIVED, SOLICITUD)


def test_each_message_and_the_receipt_answered_are_kept_byte_for_byte(server: Server) -> None:
    body = (DATA / "wire" / "solicitud.xml").read_bytes()
    answers = []
    for _ in range(2):  # the second is a duplicate: kept too, with its own answer
        message = envelope(body)
        answer = requests.post(server.url, data=message, timeout=30,
                               headers={"Content-Type": "text/xml; charset=utf-8"})  # fmt: skip
        assert answer.status_code == 200, answer.text
        answers.append((message, answer.content))
    stored = server.stores.requests.find("UGPP-2026-000451")
    kept = server.stores.inbound.inbound_messages(stored.key)
    assert [(m.request_bytes, m.response_bytes) for m in kept] == answers
    assert b"RECIBIDA" in answers[0][1] and b"DUPLICADA" in answers[1][1]
    assert all(m.answered_at is not None and m.answered_at >= m.received_at for m in kept)


def test_plain_text_passwords_are_accepted_too(server: Server) -> None:
    assert send(server, use_digest=False).status == "RECIBIDA"


def test_the_same_request_again_is_duplicada_with_the_original_radicado(server: Server) -> None:
    first, again = send(server), send(server)
    assert (again.status, again.filing_number, again.received_at) == (
        "DUPLICADA",
        first.filing_number,
        first.received_at,
    )


def test_the_same_id_with_other_content_is_solicitud_conflictiva(server: Server) -> None:
    send(server)
    changed = replace(SOLICITUD, persons=(PersonId("CC", "1"),))
    with pytest.raises(RemoteFaultError) as caught:
        send(server, changed)
    assert caught.value.fault_code == "SolicitudConflictiva"
    assert caught.value.soap_code.endswith("Client")
    assert len(server.stores.requests.list_requests()) == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"operator_nit": "900123456"}, "NitOperadorIncorrecto"),
        (
            {"persons": tuple(PersonId("CC", str(1000 + n)) for n in range(51))},
            "SolicitudDemasiadoGrande",
        ),
    ],
)
def test_requests_this_bridge_must_refuse_store_nothing(
    server: Server, change: dict, code: str
) -> None:  # type: ignore[type-arg]
    with pytest.raises(RemoteFaultError) as caught:
        send(server, replace(SOLICITUD, **change))
    assert caught.value.fault_code == code
    assert nothing_stored(server)


@pytest.mark.parametrize(
    "options",
    [
        {"password": "incorrecta"},
        {"username": "otro"},
        {"password": "incorrecta", "use_digest": False},
    ],
)
def test_bad_credentials_are_no_autorizado(server: Server, options: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(RemoteFaultError) as caught:
        send(server, **options)
    assert caught.value.fault_code == "NoAutorizado"
    assert nothing_stored(server)


def test_a_request_without_a_security_header_is_no_autorizado(server: Server) -> None:
    status, fault = post(server, envelope(solicitud_to_xml(SOLICITUD), header=b""))
    assert (status, fault.split(":")[0]) == (500, "NoAutorizado")


def test_a_replayed_nonce_is_refused(server: Server) -> None:
    message = envelope(solicitud_to_xml(SOLICITUD), header=token(nonce=b"0123456789abcdef"))
    assert "RECIBIDA" in post(server, message)[1]
    status, fault = post(server, message)
    assert (status, fault.split(":")[0]) == (500, "NoAutorizado")


@pytest.mark.parametrize("minutes", [-10, 10])
def test_a_created_more_than_five_minutes_off_is_refused(server: Server, minutes: int) -> None:
    stale = token(created=datetime.now(UTC) + timedelta(minutes=minutes))
    status, fault = post(server, envelope(solicitud_to_xml(SOLICITUD), header=stale))
    assert (status, fault.split(":")[0]) == (500, "NoAutorizado")
    assert nothing_stored(server)


@pytest.mark.parametrize(
    ("old", "new", "element"),
    [
        (b">RC<", b">XX<", "tipoDocumento"),
        (b"<mes>2</mes>", b"<mes>13</mes>", "mes"),
        (b"<idSolicitud>UGPP-2026-000451</idSolicitud>", b"", "nitOperador"),
        (b">FIDUCIARIA<", b">SEGUROS<", "tipoInformacion"),
    ],
)
def test_invalid_content_is_solicitud_invalida_naming_the_element(
    server: Server, old: bytes, new: bytes, element: str
) -> None:
    body = solicitud_to_xml(SOLICITUD)
    assert old in body
    status, fault = post(server, envelope(body.replace(old, new, 1)))
    assert status == 500 and fault.startswith("SolicitudInvalida: ")
    assert f"«{element}»" in fault
    assert nothing_stored(server)


def test_duplicated_periods_are_solicitud_invalida(server: Server) -> None:
    body = solicitud_to_xml(SOLICITUD).replace(b"<mes>2</mes>", b"<mes>1</mes>")
    status, fault = post(server, envelope(body))
    assert fault.startswith("SolicitudInvalida: ") and "periodos" in fault


@pytest.mark.parametrize(
    "data", [b"<soapenv:Envelope", b"not xml at all", b'<?xml version="1.0"?><a/>']
)
def test_malformed_messages_are_solicitud_invalida(server: Server, data: bytes) -> None:
    status, fault = post_raw(server, data)
    assert status == 500 and fault.startswith("SolicitudInvalida: ")


def post_raw(server: Server, data: bytes) -> tuple[int, str]:
    answer = requests.post(server.url, data=data, headers={"Content-Type": "text/xml"}, timeout=30)
    faultstring = etree.fromstring(answer.content, wire.secure_parser()).findtext(
        f".//{{{SOAP_ENV}}}Fault/faultstring"
    )
    return answer.status_code, faultstring or ""


def test_a_body_over_the_size_limit_is_refused_by_the_server_before_it_is_read(
    server: Server,
) -> None:
    padding = b"<!--" + b"x" * 250_000 + b"-->"
    answer = requests.post(server.url, data=envelope(solicitud_to_xml(SOLICITUD)) + padding,
                           headers={"Content-Type": "text/xml"}, timeout=30)  # fmt: skip
    # waitress refuses it before the application runs (max_request_body_size = the same limit),
    # with our Spanish fault, not its English text/plain 413 (issue 25, item 1)
    assert answer.status_code == 500 and answer.headers["Content-Type"].startswith("text/xml")
    fault = etree.fromstring(answer.content, wire.secure_parser()).find(f".//{{{SOAP_ENV}}}Fault")
    assert fault is not None and fault.findtext("faultcode") == "soap11env:Client"
    assert fault.findtext("faultstring") == (
        "SolicitudDemasiadoGrande: el mensaje supera el límite de 200.000 bytes."
    )
    assert nothing_stored(server)


def test_a_body_over_the_limit_without_a_declared_length_is_solicitud_demasiado_grande(
    stores: StateStores,
) -> None:
    """Behind a server that does not bound bodies, the front itself counts what it reads."""
    from io import BytesIO

    from ugpp_bridge.adapters.soap.inbound import SoapFault, admit

    app_settings = replace(SETTINGS, max_request_bytes=1_024)
    gate = paso1_gate(app_settings, stores)
    body = envelope(solicitud_to_xml(SOLICITUD), header=token())
    with pytest.raises(SoapFault) as refused:
        admit(BytesIO(body), content_type="text/xml", declared_length=None, address="10.0.0.1",
              gate=gate)  # fmt: skip
    assert refused.value.code == "SolicitudDemasiadoGrande"


def test_xxe_is_refused_reads_nothing_and_the_server_keeps_serving(
    server: Server, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRETO-DEL-SERVIDOR")
    body = solicitud_to_xml(SOLICITUD).replace(b"UGPP-2026-000451", b"&xxe;")
    prolog = f'<?xml version="1.0"?><!DOCTYPE soapenv:Envelope [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'.encode()
    answer = requests.post(server.url, data=envelope(body, prolog=prolog), timeout=30)
    assert answer.status_code == 500 and b"SolicitudInvalida" in answer.content
    assert b"SECRETO" not in answer.content
    assert requests.get(f"{server.base}/healthz", timeout=10).json()["status"] == "ok"
    assert nothing_stored(server)


def test_billion_laughs_is_refused_and_the_server_keeps_serving(server: Server) -> None:
    entities = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    prolog = (
        f'<?xml version="1.0"?><!DOCTYPE soapenv:Envelope [<!ENTITY l0 "ja">{entities}]>'.encode()
    )
    body = solicitud_to_xml(SOLICITUD).replace(b"UGPP-2026-000451", b"&l9;")
    status, fault = post_raw(server, envelope(body, prolog=prolog))
    assert (status, fault.split(":")[0]) == (500, "SolicitudInvalida")
    assert send(server).status == "RECIBIDA"


def test_health_and_unknown_paths(server: Server) -> None:
    assert requests.get(f"{server.base}/healthz", timeout=10).status_code == 200
    assert requests.get(f"{server.base}/otra", timeout=10).status_code == 404
    assert requests.get(server.url, timeout=10).status_code == 405


def test_a_large_request_within_the_limits_is_received_whole(stores: StateStores) -> None:
    roomy = replace(SETTINGS, max_persons=30_000, max_request_bytes=16 * 2**20)
    large = replace(
        SOLICITUD,
        request_id="UGPP-GRANDE",
        persons=tuple(PersonId("CC", str(10**7 + n)) for n in range(25_000)),
    )
    assert len(envelope(solicitud_to_xml(large))) > 2 * 2**20  # over spyne's own default limit
    for server in serving(stores, roomy):
        receipt = send(server, large)
        assert (receipt.status, receipt.total_persons) == ("RECIBIDA", 25_000)
        assert server.stores.requests.find("UGPP-GRANDE").request.persons == large.persons


# -- an authenticated body streams (SPEC §11; issue 25, item 6) --------------------------------


class CountingStream:
    """A request body that counts what the front read of it."""

    def __init__(self, data: bytes) -> None:
        self.data, self.read_bytes = data, 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.data[self.read_bytes : self.read_bytes + size]
        self.read_bytes += len(chunk)
        return chunk


def many(count: int) -> tuple[PersonId, ...]:
    return tuple(PersonId("CC", str(10_000 + n)) for n in range(count))


def admit_body(stores: StateStores, stream: CountingStream, **limits: int):  # type: ignore[no-untyped-def]
    from ugpp_bridge.adapters.soap.inbound import admit

    gate = replace(paso1_gate(replace(SETTINGS, max_request_bytes=64 * 2**20), stores), **limits)
    return admit(stream, content_type="text/xml", declared_length=None, address="127.0.0.1",
                 gate=gate)  # fmt: skip


def test_a_request_of_many_batches_keeps_every_person_in_order_and_its_bytes(
    stores: StateStores,
) -> None:
    request = replace(SOLICITUD, persons=many(12_345))
    stream = CountingStream(envelope(solicitud_to_xml(request)))
    result = admit_body(stores, stream, max_persons=200_000)
    assert result.request == request
    assert result.message.raw() == stream.data and result.message.size == len(stream.data)
    assert len(result.message.compressed) < len(stream.data) / 5


@pytest.mark.parametrize("position", [1, 5_001, 12_345])
def test_a_bad_persona_in_any_batch_is_solicitud_invalida_naming_it(
    stores: StateStores, position: int
) -> None:
    from ugpp_bridge.adapters.soap.inbound import SoapFault

    body = solicitud_to_xml(replace(SOLICITUD, persons=many(12_345)))
    at = -1
    for _ in range(position):
        at = body.index(b"<persona>", at + 1)
    body = body[:at] + body[at:].replace(b"<tipoDocumento>CC<", b"<tipoDocumento>XX<", 1)
    with pytest.raises(SoapFault) as refused:
        admit_body(stores, CountingStream(envelope(body)), max_persons=200_000)
    # the same words whether the persona was validated in a streamed batch or in the tree
    assert refused.value.faultstring == (
        "SolicitudInvalida: el elemento «tipoDocumento» no cumple el esquema (línea 2): el "
        "valor no es uno de los permitidos"
    )


def test_a_request_over_the_person_limit_is_refused_without_reading_the_rest(
    stores: StateStores,
) -> None:
    from ugpp_bridge.errors import RequestTooLargeError

    stream = CountingStream(envelope(solicitud_to_xml(replace(SOLICITUD, persons=many(30_000)))))
    with pytest.raises(RequestTooLargeError) as refused:
        admit_body(stores, stream, max_persons=10_000)
    assert refused.value.value == 10_000
    assert stream.read_bytes < len(stream.data) / 2  # stopped just past the 10,001st persona


def test_a_junk_shaped_body_is_refused_while_it_streams(stores: StateStores) -> None:
    from ugpp_bridge.adapters.soap.inbound import SoapFault

    request = solicitud_to_xml(SOLICITUD)
    junk = request.replace(b"</idSolicitud>", b"</idSolicitud>" + b"<x/>" * 1_000_000, 1)
    stream = CountingStream(envelope(junk))
    with pytest.raises(SoapFault) as refused:
        admit_body(stores, stream)
    assert refused.value.faultstring == (
        "SolicitudInvalida: el mensaje tiene demasiados elementos que no son personas."
    )
    assert stream.read_bytes < len(stream.data) / 2


def test_personas_out_of_place_are_refused_however_many_they_are(stores: StateStores) -> None:
    # Only personas under Solicitud/personas are validated in batches and streamed out: a batch of
    # them inside <periodos> (5,000: all of them would leave) must not slip past the schema.
    from ugpp_bridge.adapters.soap.inbound import SoapFault

    body = solicitud_to_xml(SOLICITUD)
    stray = b"".join(
        b"<persona><tipoDocumento>CC</tipoDocumento><numeroDocumento>%d</numeroDocumento>"
        b"</persona>" % (20_000 + n)
        for n in range(5_000)
    )
    body = body.replace(b"</periodos>", stray + b"</periodos>", 1)
    with pytest.raises(SoapFault) as refused:
        admit_body(stores, CountingStream(envelope(body)), max_persons=200_000)
    assert refused.value.code == "SolicitudInvalida"
    assert "persona" in refused.value.text
