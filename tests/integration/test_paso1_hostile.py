"""A hostile corpus against Paso 1 (SPEC §9): every attack or malformed message we know of.

Each case asserts the fault (SOAP faultcode and the stable code of its Spanish faultstring),
that nothing was added to the requests or the audit trail, and that the server still answers.
The server runs on waitress configured exactly as ``serve`` configures it, on both engines.
"""

from __future__ import annotations

import base64
import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import requests
from lxml import etree

from tests.integration.test_paso1 import (
    PASSWORD,
    SETTINGS,
    SOLICITUD,
    USER,
    Server,
    envelope,
    serving,
    token,
)
from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.adapters.soap.solicitud_xml import solicitud_to_xml
from ugpp_bridge.adapters.soap.wsse import WSSE, WSU
from ugpp_bridge.bootstrap import StateStores
from ugpp_bridge.domain.identifiers import PersonId

SOAP = wire.SOAP_ENV
BODY = solicitud_to_xml(SOLICITUD)
# Words of the English messages that must never reach a fault (lxml's, or ours).
ENGLISH = re.compile(r"\b(the|is|not|element|value|facet|expected|request|addressed)\b", re.I)


# Room for the large anonymous bodies to reach the front (waitress answers 413 past the limit).
HOSTILE = replace(SETTINGS, max_request_bytes=16 * 2**20)


@pytest.fixture
def server(stores: StateStores) -> Iterator[Server]:
    yield from serving(stores, HOSTILE)


def snapshot(server: Server) -> tuple[int, int]:
    stores = server.stores
    return len(stores.requests.list_requests()), len(stores.audit.audit_trail())


def fault_of(answer: requests.Response) -> tuple[str, str]:
    root = etree.fromstring(answer.content, wire.secure_parser())
    fault = root.find(f".//{{{SOAP}}}Fault")
    assert fault is not None, answer.content[:300]
    return (fault.findtext("faultcode") or "").split(":")[-1], fault.findtext("faultstring") or ""


def post(
    server: Server, data: bytes, content_type: str = "text/xml; charset=utf-8"
) -> requests.Response:
    return requests.post(server.url, data=data, headers={"Content-Type": content_type}, timeout=30)


def still_answers(server: Server) -> bool:
    return requests.get(f"{server.base}/healthz", timeout=10).json()["status"] == "ok"


def security(**parts: str) -> bytes:
    """A Security header with a valid UsernameToken and whatever else ``parts`` add."""
    good = token().decode()
    return good.replace("</wsse:Security>", "".join(parts.values()) + "</wsse:Security>").encode()


def timestamp(created: datetime, expires: datetime) -> str:
    moment = "%Y-%m-%dT%H:%M:%SZ"
    return (
        f'<wsu:Timestamp xmlns:wsu="{WSU}"><wsu:Created>{created.strftime(moment)}</wsu:Created>'
        f"<wsu:Expires>{expires.strftime(moment)}</wsu:Expires></wsu:Timestamp>"
    )


NOW = datetime.now(UTC)
ENTITIES = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
XXE_PROLOG = b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
LAUGHS_PROLOG = f'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY l0 "ja">{ENTITIES}]>'.encode()
SOAP12 = b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>'
ADDRESSING = 'xmlns:wsa="http://www.w3.org/2005/08/addressing"'


def _bad(old: bytes, new: bytes) -> bytes:
    assert old in BODY
    return envelope(BODY.replace(old, new, 1))


CORPUS: dict[str, tuple[Callable[[], bytes], str, str]] = {
    # name: (message, faultcode, stable code)
    "no security header": (lambda: envelope(BODY, header=b""), "Client", "NoAutorizado"),
    "anonymous body of 4 MiB": (
        lambda: envelope(b"<a>" + b"<b/>" * 1_000_000 + b"</a>", header=b""), "Client", "NoAutorizado",
    ),
    "wrong password (digest)": (lambda: envelope(BODY, header=token("mala-clave")), "Client", "NoAutorizado"),
    "wrong password (text)": (
        lambda: envelope(BODY, header=token("mala-clave", digest=False)), "Client", "NoAutorizado",
    ),
    "unknown user": (
        lambda: envelope(BODY, header=token().replace(USER.encode(), b"intruso")), "Client", "NoAutorizado",
    ),
    "created ten minutes ago": (
        lambda: envelope(BODY, header=token(created=datetime.now(UTC) - timedelta(minutes=10))),
        "Client", "NoAutorizado",
    ),
    "expired timestamp": (
        lambda: envelope(BODY, header=security(t=timestamp(
            datetime.now(UTC) - timedelta(minutes=4), datetime.now(UTC) - timedelta(minutes=3)))),
        "Client", "NoAutorizado",
    ),
    "timestamp from the future": (
        lambda: envelope(BODY, header=security(t=timestamp(
            datetime.now(UTC) + timedelta(minutes=10), datetime.now(UTC) + timedelta(minutes=15)))),
        "Client", "NoAutorizado",
    ),
    "header over the pre-authentication budget": (
        lambda: envelope(BODY, header=b"<x>" + b"<pad/>" * 40_000 + b"</x>" + token()),
        "Client", "NoAutorizado",
    ),
    "xxe": (lambda: XXE_PROLOG + envelope(BODY.replace(b"UGPP-2026-000451", b"&x;")), "Client", "SolicitudInvalida"),
    "billion laughs": (
        lambda: LAUGHS_PROLOG + envelope(BODY.replace(b"UGPP-2026-000451", b"&l9;")), "Client", "SolicitudInvalida",
    ),
    "soap 1.2 envelope": (lambda: SOAP12, "VersionMismatch", "VersionNoSoportada"),
    "envelope in another namespace": (
        lambda: b'<e:Envelope xmlns:e="urn:otro"><e:Body/></e:Envelope>', "VersionMismatch", "VersionNoSoportada",
    ),
    "not xml": (lambda: b"hola, esto no es XML", "Client", "SolicitudInvalida"),
    "truncated": (lambda: envelope(BODY)[:-40], "Client", "SolicitudInvalida"),
    "root is not an envelope": (lambda: BODY, "Client", "SolicitudInvalida"),
    "unknown mandatory header": (
        lambda: envelope(BODY, header=token() + f'<wsa:Action {ADDRESSING} xmlns:s="{SOAP}" '
                         's:mustUnderstand="1">x</wsa:Action>'.encode()),
        "MustUnderstand", "EncabezadoNoComprendido",
    ),
    "schema: month 13": (lambda: _bad(b"<mes>2</mes>", b"<mes>13</mes>"), "Client", "SolicitudInvalida"),
    "schema: document number with a dash": (
        lambda: _bad(b"<numeroDocumento>52123456", b"<numeroDocumento>52-123456"), "Client", "SolicitudInvalida",
    ),
    "term starting in year 1": (
        lambda: _bad(b"<fechaInicioTermino>2026-11-05", b"<fechaInicioTermino>0001-01-01"),
        "Client", "SolicitudInvalida",
    ),
    "term starting in year 9999": (
        lambda: _bad(b"<fechaInicioTermino>2026-11-05", b"<fechaInicioTermino>9999-12-20"),
        "Client", "SolicitudInvalida",
    ),
    "a person listed twice": (
        lambda: _bad(b"</personas>", b"<persona><tipoDocumento>CC</tipoDocumento>"
                     b"<numeroDocumento>52123456</numeroDocumento></persona></personas>"),
        "Client", "SolicitudInvalida",
    ),
    "a CE with letters": (
        lambda: envelope(solicitud_to_xml(replace(SOLICITUD, persons=(PersonId("PA", "E12"),)))
                         .replace(b">PA<", b">CE<")),
        "Client", "SolicitudInvalida",
    ),
    "another operator's NIT": (
        lambda: envelope(solicitud_to_xml(replace(SOLICITUD, operator_nit="900123456"))),
        "Client", "NitOperadorIncorrecto",
    ),
    "too many persons": (
        lambda: envelope(solicitud_to_xml(replace(
            SOLICITUD, persons=tuple(PersonId("CC", str(1000 + n)) for n in range(51))))),
        "Client", "SolicitudDemasiadoGrande",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_the_hostile_corpus_is_refused_without_a_trace(server: Server, case: str) -> None:
    message, faultcode, code = CORPUS[case]
    before = snapshot(server)
    answer = post(server, message())
    assert answer.status_code == 500
    got_faultcode, faultstring = fault_of(answer)
    assert (got_faultcode, faultstring.split(":")[0]) == (faultcode, code), faultstring
    assert not ENGLISH.search(faultstring.split(":", 1)[1]), faultstring
    assert "52123456" not in faultstring and "etc/passwd" not in faultstring
    assert snapshot(server) == before
    assert still_answers(server)


def test_a_replayed_message_is_refused_and_leaves_no_trace(server: Server) -> None:
    message = envelope(BODY, header=token(nonce=b"0123456789abcdef"))
    assert post(server, message).status_code == 200
    before = snapshot(server)
    assert fault_of(post(server, message))[1].startswith("NoAutorizado:")
    assert snapshot(server) == before


def test_a_conflicting_request_is_refused_and_leaves_no_trace(server: Server) -> None:
    assert post(server, envelope(BODY)).status_code == 200
    before = snapshot(server)
    other = solicitud_to_xml(replace(SOLICITUD, persons=(PersonId("CC", "1"),)))
    faultcode, text = fault_of(post(server, envelope(other)))
    assert (faultcode, text.split(":")[0]) == ("Client", "SolicitudConflictiva")
    assert snapshot(server) == before


def test_a_body_over_the_limit_is_refused(server: Server) -> None:
    padding = b"<!--" + b"x" * (HOSTILE.max_request_bytes + 10) + b"-->"
    answer = post(server, envelope(BODY) + padding)
    assert answer.status_code == 500  # waitress refuses it before the application runs
    assert b"SolicitudDemasiadoGrande" in answer.content
    assert still_answers(server)


def test_a_declared_900_mb_body_is_answered_at_once_without_being_read(server: Server) -> None:
    host, port = server.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(
            b"POST /soap/solicitudes HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
            b"Content-Length: 943718400\r\n\r\n" + b"<" * 1024
        )
        first = b""  # answered although 900 MB are still "to come"; then the server closes
        while chunk := raw.recv(4096):
            first += chunk
    assert first.startswith(b"HTTP/1.1 500")
    assert "SolicitudDemasiadoGrande: el mensaje supera el límite" in first.decode()
    assert still_answers(server)


@pytest.mark.parametrize(
    ("encoding", "content_type"),
    [
        ("UTF-16", "text/xml"),
        ("ISO-8859-1", "text/xml"),
        ("ISO-8859-1", "text/xml; charset=ISO-8859-1"),
        ("UTF-16", "text/xml; charset=UTF-16"),
    ],
)
def test_a_body_in_another_encoding_is_received(
    server: Server, encoding: str, content_type: str
) -> None:
    text = envelope(BODY).decode("utf-8")
    declared = f'<?xml version="1.0" encoding="{encoding}"?>'
    answer = post(server, (declared + text).encode(encoding), content_type)
    assert answer.status_code == 200, answer.content[:400]
    assert b"RECIBIDA" in answer.content


@pytest.mark.parametrize(
    "content_type", ["text/xml; charset=no-such-charset", "text/xml; charset=UTF-16"]
)
def test_an_unknown_or_wrong_charset_is_solicitud_invalida(
    server: Server, content_type: str
) -> None:
    before = snapshot(server)
    assert fault_of(post(server, envelope(BODY), content_type))[1].startswith("SolicitudInvalida:")
    assert snapshot(server) == before


@pytest.mark.parametrize("suffix", ["Z", "-05:00", "+00:00"])
def test_dates_with_a_time_zone_offset_are_accepted(server: Server, suffix: str) -> None:
    body = BODY.replace(
        b"<fechaSolicitud>2026-11-05", b"<fechaSolicitud>2026-11-05" + suffix.encode()
    )
    body = body.replace(b"</fechaInicioTermino>", suffix.encode() + b"</fechaInicioTermino>")
    answer = post(server, envelope(body))
    assert answer.status_code == 200 and b"2026-12-07" in answer.content, answer.content[:400]


def test_headers_that_are_not_mandatory_or_not_for_us_are_ignored(server: Server) -> None:
    extra = (
        f"<wsa:To {ADDRESSING}>http://x</wsa:To>"
        f'<wsa:Action {ADDRESSING} xmlns:s="{SOAP}" s:mustUnderstand="0">x</wsa:Action>'
        f'<wsa:MessageID {ADDRESSING} xmlns:s="{SOAP}" s:mustUnderstand="1" '
        's:actor="http://otro.example/nodo">x</wsa:MessageID>'
    ).encode()
    mandatory_security = token().replace(
        b"<wsse:Security ", f'<wsse:Security xmlns:s="{SOAP}" s:mustUnderstand="1" '.encode(), 1
    )
    answer = post(server, envelope(BODY, header=mandatory_security + extra))
    assert answer.status_code == 200, answer.content[:400]


def test_repeated_wrong_passwords_lock_the_user_out_even_with_the_right_one(server: Server) -> None:
    for _ in range(10):
        assert fault_of(post(server, envelope(BODY, header=token("mala-clave"))))[1].startswith(
            "NoAutorizado:"
        )
    answer = post(server, envelope(BODY))  # the right password, now
    faultcode, text = fault_of(answer)
    assert text.startswith("NoAutorizado: demasiados intentos") and answer.headers["Retry-After"]
    assert [e.action for e in server.stores.audit.audit_trail()] == ["auth.throttled"]
    locked = server.stores.audit.audit_trail()[0].details
    assert (locked["user"], locked["address"], locked["scope"]) == (USER, "127.0.0.1", "paso1")


def test_an_address_guessing_many_names_is_locked_out(server: Server) -> None:
    for n in range(30):
        header = token().replace(USER.encode(), f"nombre{n}".encode())
        post(server, envelope(BODY, header=header))
    faultcode, text = fault_of(post(server, envelope(BODY, header=b"")))
    assert text.startswith("NoAutorizado: demasiados intentos")


def test_a_nonce_replayed_to_another_process_is_refused(server: Server, state_url: str) -> None:
    from ugpp_bridge.bootstrap import state_stores

    message = envelope(BODY, header=token(nonce=b"fedcba9876543210"))
    other = state_stores(state_url)
    try:
        nonce = base64.b64encode(b"fedcba9876543210").decode()
        assert other.nonces.first_use(nonce, datetime.now(UTC))  # "another process" saw it
    finally:
        other.close()
    assert fault_of(post(server, message))[1].startswith("NoAutorizado:")


def test_many_half_open_connections_do_not_starve_health(stores: StateStores) -> None:
    roomy = replace(HOSTILE, connection_limit=20, channel_timeout_seconds=2)
    for server in serving(stores, roomy):
        host, port = server.base.removeprefix("http://").split(":")
        idle = [socket.create_connection((host, int(port)), timeout=5) for _ in range(30)]
        try:
            started = time.monotonic()
            answer = requests.get(f"{server.base}/healthz", timeout=30)
            assert answer.status_code == 200
            assert time.monotonic() - started < 25  # not the 120 s of waitress's default
        finally:
            for connection in idle:
                connection.close()


def test_the_served_wsdl_names_the_public_url_whatever_the_request_says(server: Server) -> None:
    spoofed = {"Host": "evil.example", "X-Forwarded-Host": "evil.example",
               "X-Forwarded-Proto": "https", "X-Forwarded-For": "6.6.6.6"}  # fmt: skip
    first = requests.get(f"{server.url}?wsdl", headers=spoofed, timeout=10).content
    second = requests.get(f"{server.url}?wsdl", timeout=10).content
    assert first == second
    address = etree.fromstring(first).find(f".//{{{wire.WSDL_SOAP_NS}}}address")
    assert address is not None and address.get("location") == server.url
    assert b"evil.example" not in first


def test_a_server_under_attack_still_receives_a_real_request(server: Server) -> None:
    for case in ("anonymous body of 4 MiB", "billion laughs", "soap 1.2 envelope"):
        post(server, CORPUS[case][0]())
    answer = post(server, envelope(BODY, header=token(PASSWORD)))
    assert answer.status_code == 200 and b"RECIBIDA" in answer.content


def test_every_fault_names_no_security_detail(server: Server) -> None:
    """The same text whatever failed: a caller learns nothing about which part was wrong."""
    texts = {
        fault_of(post(server, CORPUS[case][0]()))[1]
        for case in ("no security header", "wrong password (digest)", "unknown user")
    }
    assert len(texts) == 1
    assert WSSE not in next(iter(texts)) and os.sep not in next(iter(texts))


def test_a_locked_state_database_makes_paso1_answer_unavailable_in_seconds(
    state_url: str,
) -> None:
    """A writer holding the requests table (a migration, a stuck transaction) must not hang
    Paso 1: it answers ServicioNoDisponible, a Server fault UGPP retries, in seconds."""
    import sqlalchemy as sa

    from ugpp_bridge.adapters.state.engine import state_engine
    from ugpp_bridge.bootstrap import state_stores

    stores = state_stores(state_url, lock_timeout=1)
    engine = state_engine(state_url, serialised_writes=True)
    holder = engine.connect()
    try:
        for server in serving(stores, HOSTILE):
            transaction = holder.begin()
            if holder.dialect.name == "postgresql":
                holder.execute(sa.text("LOCK TABLE requests IN ACCESS EXCLUSIVE MODE"))
            else:
                holder.execute(sa.text("UPDATE filing_sequences SET last_value = last_value"))
            started = time.monotonic()
            answer = post(server, envelope(BODY))
            elapsed = time.monotonic() - started
            faultcode, text = fault_of(answer)
            assert (faultcode, text.split(":")[0]) == ("Server", "ServicioNoDisponible")
            assert answer.headers["Retry-After"] and elapsed < 10
            health = requests.get(f"{server.base}/healthz", timeout=10)
            assert health.json()["database"] == "ok"  # it reads without waiting for the writer
            transaction.rollback()
            assert post(server, envelope(BODY)).status_code == 200
    finally:
        holder.close()
        engine.dispose()
        stores.close()


@pytest.mark.parametrize(
    "number",
    [b"5212<!-- comentario -->3456", b"5212<?pi x?>3456", b"<![CDATA[5212]]>3456"],
)
def test_a_document_number_split_by_markup_is_read_whole_as_the_schema_reads_it(
    server: Server, number: bytes
) -> None:
    body = BODY.replace(b"<numeroDocumento>52123456</numeroDocumento>",
                        b"<numeroDocumento>" + number + b"</numeroDocumento>", 1)  # fmt: skip
    answer = post(server, envelope(body))
    assert answer.status_code == 200, answer.content[:300]
    stored = server.stores.requests.find("UGPP-2026-000451").request
    assert stored.persons == SOLICITUD.persons  # never "CC 5212", someone else
