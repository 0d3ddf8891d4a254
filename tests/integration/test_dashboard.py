"""The dashboard through Flask's test client: login, roles, CSRF, headers, pages, actions, API.
(The browser test in tests/e2e drives the same pages in Chromium.)"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.conftest import DATA, key_of, register_golden_request
from ugpp_bridge.adapters.state.migrations import upgrade
from ugpp_bridge.bootstrap import StateStores, evidence_tools, state_stores
from ugpp_bridge.config import Settings
from ugpp_bridge.domain.filing import (
    Decision,
    LoteDraft,
    RequestKey,
    StoredRequest,
    SubmissionType,
    submission_id,
)
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.domain.throttling import Scope
from ugpp_bridge.domain.users import Role
from ugpp_bridge.entrypoints.dashboard import create_dashboard
from ugpp_bridge.entrypoints.web import dashboard_services
from ugpp_bridge.service.evidence import export_certificate, export_evidence
from ugpp_bridge.service.operations import confirm_request

NOW = datetime(2026, 12, 2, 15, tzinfo=UTC)  # 3 business days before the 2026-12-07 deadline
PASSWORD = "una clave bien larga"
SECRET = "a-session-secret-of-32-characters-at-least"
TOOLS = evidence_tools(Settings(operator_name="Banco de Ejemplo S.A.", operator_nit="800197268"))


@pytest.fixture
def stores(sqlite_url: str) -> Iterator[StateStores]:
    upgrade(sqlite_url)
    opened = state_stores(sqlite_url)
    opened.users.add("ana", Role.OPERATOR, PASSWORD, at=NOW, actor="test")
    opened.users.add("vera", Role.VIEWER, PASSWORD, at=NOW, actor="test")
    opened.users.add("olga", Role.OFFICER, PASSWORD, at=NOW, actor="test")
    yield opened
    opened.close()


@pytest.fixture
def resent(stores: StateStores) -> list[tuple[str, str]]:
    return []


@pytest.fixture
def client(stores: StateStores, resent: list[tuple[str, str]]) -> FlaskClient:
    def resend(key: RequestKey, actor: str) -> StoredRequest:
        stored = stores.requests.get(key)
        resent.append((stored.filing_number, actor))
        return stored

    settings = Settings(uvt_values={2026: 52_374}, environment="produccion")
    services = replace(
        dashboard_services(settings, stores, "test-web"), clock=lambda: NOW, holidays=set(),
        resend=resend,
        confirm=lambda i, r, a: confirm_request(i, r, requests=stores.requests, clock=lambda: NOW, actor=a),
        evidence=lambda i, s, n, a: export_evidence(i, s, name=n, stores=stores, clock=lambda: NOW, actor=a, tools=TOOLS),
        certificate=lambda i, s, n, a: export_certificate(i, s, name=n, stores=stores, clock=lambda: NOW, actor=a, tools=TOOLS),
    )  # fmt: skip
    return create_dashboard(services, secret_key=SECRET).test_client()


def csrf(client: FlaskClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, name: str, password: str = PASSWORD) -> int:
    token = csrf(client, "/login")
    return client.post(
        "/login", data={"usuario": name, "clave": password, "csrf_token": token}
    ).status_code


def test_every_page_and_the_api_require_a_login(client: FlaskClient, stores: StateStores) -> None:
    filing = register_golden_request(stores)
    for path in ("/solicitudes", f"/solicitudes/{filing}", f"/solicitudes/{filing}/evidencia"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location
    api = client.get("/api/solicitudes")
    assert api.status_code == 401 and api.json == {"error": "Se requiere iniciar sesión."}


def test_a_wrong_password_is_refused_in_spanish(client: FlaskClient) -> None:
    token = csrf(client, "/login")
    refused = client.post(
        "/login", data={"usuario": "ana", "clave": "no es la clave", "csrf_token": token}
    )
    assert refused.status_code == 401
    assert "Usuario o contraseña incorrectos." in refused.get_data(as_text=True)
    assert client.get("/solicitudes").status_code == 302


def test_a_post_without_its_csrf_token_is_refused_before_any_view(
    client: FlaskClient, stores: StateStores
) -> None:
    filing = sent(stores)
    assert client.post("/login", data={"usuario": "ana", "clave": PASSWORD}).status_code == 400
    assert login(client, "ana") == 302
    refused = client.post(f"/solicitudes/{filing}/acciones/confirmar", data={"radicado": "R-1"})
    assert refused.status_code == 400 and "El formulario venció" in refused.get_data(as_text=True)
    assert stores.requests.find(filing).state is RequestState.SENT


def test_the_desk_shows_tiles_the_deadline_in_words_and_the_timeline(
    client: FlaskClient, stores: StateStores
) -> None:
    filing = register_golden_request(stores)
    assert login(client, "vera") == 302
    page = client.get("/solicitudes")
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store" and page.headers["X-Frame-Options"] == "DENY"
    assert filing in html and "UGPP-2026-000451" in html and "07/12/2026" in html
    assert "Faltan 3 días hábiles" in html and "Recibida" in html and 'id="timeline"' in html
    assert re.search(r'id="vencidas">0<', html) and re.search(r'id="en-riesgo">1<', html)
    assert "AMBIENTE DE PRUEBAS" not in html  # production, here


def drafts_for(filing: str) -> list[LoteDraft]:
    """The golden lote (tests/data/wire/reporte.xml), stored as this request's only lote."""
    xml = (DATA / "wire" / "reporte.xml").read_bytes()
    return [LoteDraft(1, 1, submission_id(filing, 1, 1), SubmissionType.ORIGINAL, 10, xml)]


def built(stores: StateStores, by: str = "scheduler") -> str:
    filing = register_golden_request(stores)
    key = key_of(stores, filing)
    stores.requests.start_build(key, at=NOW, actor=by)
    stores.lotes.store_lotes(key, drafts_for(filing), at=NOW, actor=by)
    return filing


def sent(stores: StateStores) -> str:
    filing = built(stores)
    key = key_of(stores, filing)
    stores.builds.decide(key, Decision.APPROVED, at=NOW, actor="web:olga")
    for target in (RequestState.SENDING, RequestState.SENT):
        stores.requests.transition(key, target, at=NOW, actor="test")
    return filing


def test_a_viewer_sees_and_downloads_evidence_but_is_offered_no_action(
    client: FlaskClient, stores: StateStores, resent: list[tuple[str, str]]
) -> None:
    filing = sent(stores)
    assert login(client, "vera") == 302
    html = client.get(f"/solicitudes/{filing}").get_data(as_text=True)
    assert 'id="accion-' not in html and "Su cuenta es de consulta" in html
    assert client.get(f"/solicitudes/{filing}/acciones/reenviar").status_code == 403
    token = csrf(client, "/solicitudes")
    assert (
        client.post(
            f"/solicitudes/{filing}/acciones/reenviar", data={"csrf_token": token}
        ).status_code
        == 403
    )
    download = client.get(f"/solicitudes/{filing}/evidencia")
    assert download.status_code == 200 and download.data[:2] == b"PK"
    download.close()
    assert resent == []


def act(client: FlaskClient, filing: str, slug: str, **form: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/solicitudes/radicado:{filing}/acciones/{slug}")
    assert page.status_code == 200, page.status_code
    assert "Revise antes de continuar" in page.get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    return client.post(f"/solicitudes/radicado:{filing}/acciones/{slug}",
                       data={"csrf_token": token, **form}, follow_redirects=True)  # fmt: skip


def test_an_officer_approves_after_a_confirmation_step_and_the_decision_is_kept(
    client: FlaskClient, stores: StateStores
) -> None:
    filing = built(stores)
    assert login(client, "olga") == 302
    html = client.get(f"/solicitudes/{filing}").get_data(as_text=True)
    assert "Por aprobar" in html and 'id="accion-aprobar"' in html and 'id="vista-previa"' in html
    done = act(client, filing, "aprobar")
    assert "Construcción aprobada" in done.get_data(as_text=True)
    stored = stores.requests.find(filing)
    assert stored.state is RequestState.APPROVED
    (decision,) = stores.builds.approvals(stored.key)
    assert decision.actor == "web:olga" and "Decisiones de los oficiales" in done.get_data(
        as_text=True
    )


def test_an_operator_cannot_approve_and_the_officer_who_asked_cannot_either(
    client: FlaskClient, stores: StateStores
) -> None:
    filing = built(stores, by="web:olga")
    assert login(client, "ana") == 302
    html = client.get(f"/solicitudes/{filing}").get_data(as_text=True)
    assert 'id="accion-aprobar"' not in html and "Solo un oficial" in html
    assert client.get(f"/solicitudes/{filing}/acciones/aprobar").status_code == 403
    client.post("/logout", data={"csrf_token": csrf(client, "/solicitudes")})
    assert login(client, "olga") == 302
    html = client.get(f"/solicitudes/{filing}").get_data(as_text=True)
    assert "debe aprobarla otro oficial" in html
    assert client.get(f"/solicitudes/{filing}/acciones/aprobar").status_code == 403
    assert stores.requests.find(filing).state is RequestState.BUILT


def test_an_officer_returns_with_a_reason_and_an_operator_rebuilds(
    client: FlaskClient, stores: StateStores
) -> None:
    filing = built(stores)
    assert login(client, "olga") == 302
    blank = act(client, filing, "devolver", reason="   ")
    assert "Escriba el motivo" in blank.get_data(as_text=True)
    act(client, filing, "devolver", reason="Faltan las cuentas AFC de marzo")
    stored = stores.requests.find(filing)
    assert stored.state is RequestState.RETURNED
    assert stores.builds.approvals(stored.key)[-1].reason == "Faltan las cuentas AFC de marzo"
    client.post("/logout", data={"csrf_token": csrf(client, "/solicitudes")})
    assert login(client, "ana") == 302
    act(client, filing, "reconstruir")
    trail = [e.action for e in stores.audit.audit_trail(filing)]
    assert "request.rebuild_requested" in trail and "request.returned" in trail


def test_an_operator_resends_and_confirms_and_corrects_the_radicado_each_audited(
    client: FlaskClient, stores: StateStores, resent: list[tuple[str, str]]
) -> None:
    filing = sent(stores)
    assert login(client, "ana") == 302
    html = client.get(f"/solicitudes/{filing}").get_data(as_text=True)
    assert (
        "Entregada" in html and 'id="accion-confirmar"' in html and 'id="accion-enviar"' not in html
    )
    act(client, filing, "reenviar")
    assert resent == [(filing, "web:ana")]
    blank = act(client, filing, "confirmar", radicado="   ")
    assert "Escriba el radicado" in blank.get_data(as_text=True)
    assert stores.requests.find(filing).state is RequestState.SENT
    act(client, filing, "confirmar", radicado="2026-UGPP-77")
    act(client, filing, "corregir-radicado", radicado="2026-UGPP-78")
    stored = stores.requests.find(filing)
    assert (stored.state, stored.confirmation) == (RequestState.CONFIRMED, "2026-UGPP-78")
    trail = stores.audit.audit_trail(filing)
    corrected = [e for e in trail if e.action == "request.confirmation_corrected"]
    assert corrected[0].details == {"antes": "2026-UGPP-77", "despues": "2026-UGPP-78",
                                   "address": "127.0.0.1"}  # fmt: skip
    assert corrected[0].actor == "web:ana"
    assert "dashboard.login" in [e.action for e in stores.audit.audit_trail()]


def test_the_preview_downloads_as_xlsx_with_every_person_and_totals(
    client: FlaskClient, stores: StateStores
) -> None:
    import io

    import openpyxl

    filing = built(stores)
    assert login(client, "vera") == 302
    answer = client.get(f"/solicitudes/{filing}/vista-previa.xlsx")
    assert answer.status_code == 200 and answer.data[:2] == b"PK"
    data = answer.data
    answer.close()
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    assert book.sheetnames == ["Totales", "Personas", "Cuentas", "Inversiones", "Rendimientos"]
    totals = [row for row in book["Totales"].iter_rows(values_only=True)]
    assert ("Radicado", filing) in [tuple(r[:2]) for r in totals]
    assert "preview.exported" in [e.action for e in stores.audit.audit_trail(filing)]


def test_the_audit_page_is_for_operators_and_officers(
    client: FlaskClient, stores: StateStores
) -> None:
    register_golden_request(stores)
    assert login(client, "vera") == 302
    assert client.get("/auditoria").status_code == 403
    client.post("/logout", data={"csrf_token": csrf(client, "/solicitudes")})
    assert login(client, "ana") == 302
    html = client.get("/auditoria").get_data(as_text=True)
    assert (
        "request.received" in html and "dashboard.login" in html and "dirección 127.0.0.1" in html
    )


def test_filters_and_search_by_radicado_id_or_person(
    client: FlaskClient, stores: StateStores
) -> None:
    filing = register_golden_request(stores)
    assert login(client, "vera") == 302
    for query in ({"q": "52123456"}, {"q": "UGPP-2026"}, {"q": filing}, {"estado": "received"},
                  {"desde": "2026-12-01", "hasta": "07/12/2026"}):  # fmt: skip
        html = client.get("/solicitudes", query_string=query).get_data(as_text=True)
        assert f'data-radicado="{filing}"' in html, query
    for query in ({"q": "99999999"}, {"estado": "sent"}, {"hasta": "2026-12-06"}):
        html = client.get("/solicitudes", query_string=query).get_data(as_text=True)
        assert f'data-radicado="{filing}"' not in html and "Ninguna solicitud cumple" in html, query


def test_the_evidence_download_is_a_zip_and_is_audited(
    client: FlaskClient, stores: StateStores, tmp_path: Path
) -> None:
    filing = register_golden_request(stores)
    assert login(client, "ana") == 302
    response = client.get(f"/solicitudes/{filing}/evidencia")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    assert f"evidencia-{filing}.zip" in response.headers["Content-Disposition"]
    response.close()
    assert stores.audit.audit_trail(filing)[-1].actor == "web:ana"


def test_a_viewer_downloads_the_certificate_alone_and_it_is_audited(
    client: FlaskClient, stores: StateStores
) -> None:
    filing = register_golden_request(stores)
    assert login(client, "vera") == 302
    assert 'id="constancia"' in client.get(f"/solicitudes/{filing}").get_data(as_text=True)
    response = client.get(f"/solicitudes/{filing}/constancia.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    assert f"constancia-{filing}.pdf" in response.headers["Content-Disposition"]
    response.close()
    last = stores.audit.audit_trail(filing)[-1]
    assert (last.action, last.actor) == ("evidence.certificate_exported", "web:vera")
    assert filing.encode() in response.data and last.details["manifest"].encode() in response.data


def test_the_json_api_carries_what_the_pages_show(client: FlaskClient, stores: StateStores) -> None:
    filing = register_golden_request(stores)
    assert login(client, "vera") == 302
    (item,) = client.get("/api/solicitudes").json["solicitudes"]
    assert (item["filing_number"], item["due_date"], item["state"]) == (
        filing,
        "2026-12-07",
        "received",
    )
    assert item["deadline"] == {"kind": "ahead", "business_days_left": 3, "days_late": 0,
                                "text": "Faltan 3 días hábiles"}  # fmt: skip
    assert item["exposure_estimate"] == {
        "months_late": 0, "uvt": 0, "cop": 0, "uvt_year": 2026, "is_estimate": True,
    }  # fmt: skip
    detail = client.get(f"/api/solicitudes/{filing}").json
    assert detail["periods"][:2] == ["2025-01", "2025-02"] and detail["attempts_detail"] == []
    assert client.get("/api/solicitudes/UB-1999-000001").status_code == 404


@pytest.mark.parametrize(
    ("moment", "words"),
    [
        (datetime(2026, 12, 4, 15, tzinfo=UTC), "Falta 1 día hábil"),  # Friday before
        (datetime(2026, 12, 7, 15, tzinfo=UTC), "Vence hoy"),  # the day itself (Monday)
        (datetime(2026, 12, 8, 15, tzinfo=UTC), "Vencida hace 1 día (vencía el 07/12/2026)"),
        (datetime(2026, 12, 13, 15, tzinfo=UTC), "Vencida hace 6 días"),  # the Sunday after
    ],
)
def test_the_deadline_reads_true_on_a_controlled_clock(
    client: FlaskClient, stores: StateStores, moment: datetime, words: str
) -> None:
    register_golden_request(stores)
    assert login(client, "vera") == 302
    services = client.application.extensions["ugpp_bridge"]
    client.application.extensions["ugpp_bridge"] = replace(services, clock=lambda: moment)
    html = client.get("/solicitudes").get_data(as_text=True)
    assert words in html


def test_a_late_request_shows_its_estimated_exposure_in_pesos(
    client: FlaskClient, stores: StateStores
) -> None:
    register_golden_request(stores)
    assert login(client, "vera") == 302
    services = client.application.extensions["ugpp_bridge"]
    late = datetime(2026, 12, 9, 15, tzinfo=UTC)  # two days after the 2026-12-07 deadline
    client.application.extensions["ugpp_bridge"] = replace(services, clock=lambda: late)
    html = client.get("/solicitudes").get_data(as_text=True)
    assert "$ 1.571.220" in html and "30 UVT, estimación" in html  # up to a month late: 30 UVT
    assert "Vencida hace 2 días" in html and re.search(r'id="vencidas">1<', html)


def test_a_cookie_copied_before_logout_opens_nothing_after_it(
    client: FlaskClient, stores: StateStores
) -> None:
    assert login(client, "ana") == 302
    copied = client.get_cookie("ugpp_bridge_session")
    assert copied is not None
    token = csrf(client, "/solicitudes")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    thief = client.application.test_client()
    thief.set_cookie("ugpp_bridge_session", copied.value)
    assert thief.get("/solicitudes").status_code == 302  # to the login page
    assert thief.get("/api/solicitudes").status_code == 401


def test_a_password_change_ends_every_session_of_that_account(
    client: FlaskClient, stores: StateStores
) -> None:
    assert login(client, "ana") == 302
    assert client.get("/solicitudes").status_code == 200
    stores.users.add("ana", Role.OPERATOR, "otra clave bien larga", at=NOW, actor="t", update=True)
    assert client.get("/solicitudes").status_code == 302


@pytest.mark.parametrize(
    "target",
    ["/%09/evil.example", "//evil.example", "/\\evil.example", "https://evil.example/",
     "/%0d/solicitudes", "/%0a%0dSet-Cookie:x=1", "/\t/evil.example", "javascript:alert(1)"],
)  # fmt: skip
def test_after_login_a_redirect_never_leaves_the_site(client: FlaskClient, target: str) -> None:
    token = csrf(client, "/login")
    answer = client.post(
        "/login",
        query_string={"next": target},
        data={"usuario": "ana", "clave": PASSWORD, "csrf_token": token},
    )
    assert answer.status_code == 302
    assert answer.location == "/", answer.location


def test_after_login_a_local_next_is_followed(client: FlaskClient, stores: StateStores) -> None:
    filing = register_golden_request(stores)
    token = csrf(client, "/login")
    answer = client.post(
        "/login",
        query_string={"next": f"/solicitudes/radicado:{filing}"},
        data={"usuario": "ana", "clave": PASSWORD, "csrf_token": token},
    )
    assert answer.location == f"/solicitudes/radicado:{filing}"


def test_repeated_wrong_passwords_lock_the_account_out_even_for_the_right_one(
    client: FlaskClient, stores: StateStores
) -> None:
    for _ in range(5):
        assert login(client, "ana", "no es la clave") == 401
    locked = login(client, "ana")
    assert locked == 429
    page = client.get("/solicitudes")
    assert page.status_code == 302  # still not logged in
    actions = [(e.action, e.details.get("user")) for e in stores.audit.audit_trail()]
    assert actions.count(("dashboard.login_failed", "ana")) == 5
    locks = [e for e in stores.audit.audit_trail() if e.action == "auth.throttled"]
    assert locks and locks[0].details["user"] == "ana" and locks[0].details["address"]
    assert login(client, "vera") == 302  # another account from a person who typed well


def test_a_lockout_is_seen_by_every_process(client: FlaskClient, sqlite_url: str) -> None:
    for _ in range(5):
        login(client, "ana", "no es la clave")
    other = state_stores(sqlite_url)
    try:
        assert (
            other.throttle.status(Scope.DASHBOARD, user="ana", address=None, now=NOW).blocked_until
            is not None
        )
    finally:
        other.close()


@pytest.mark.parametrize("path", ["/solicitudes/%00", "/solicitudes/UB%00", "/api/solicitudes/%00",
                                  "/solicitudes/" + "x" * 300])  # fmt: skip
def test_ids_no_request_can_have_are_404_in_spanish(client: FlaskClient, path: str) -> None:
    assert login(client, "vera") == 302
    answer = client.get(path)
    assert answer.status_code == 404
    if not path.startswith("/api/"):
        html = answer.get_data(as_text=True)
        assert "No encontrada" in html and 'href="/solicitudes"' in html


def test_an_ambiguous_id_is_refused_with_both_requests_named(
    client: FlaskClient, stores: StateStores
) -> None:
    from tests.conftest import DATA
    from ugpp_bridge.adapters.soap.solicitud_xml import parse_solicitud

    first = register_golden_request(stores)
    twin = replace(
        parse_solicitud((DATA / "wire" / "solicitud.xml").read_bytes()), request_id=first
    )
    stores.requests.register(twin, received_at=NOW, due_date=NOW.date(), actor="t")
    assert login(client, "vera") == 302
    page = client.get(f"/solicitudes/{first}")
    assert page.status_code == 409
    html = page.get_data(as_text=True)
    assert first in html and "UB-2026-000002" in html and "radicado:" in html
    assert client.get(f"/api/solicitudes/{first}").status_code == 409
    assert client.get(f"/solicitudes/radicado:{first}").status_code == 200
    assert client.get(f"/solicitudes/solicitud:{first}").status_code == 200


def test_the_evidence_download_leaves_nothing_in_the_temporary_folder(
    client: FlaskClient, stores: StateStores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Why patch: the temporary folder is process-wide; this points it at one the test owns.
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    filing = register_golden_request(stores)
    assert login(client, "ana") == 302
    response = client.get(f"/solicitudes/{filing}/evidencia")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    response.close()
    assert list(scratch.iterdir()) == []


def test_error_pages_speak_spanish_and_lead_back(client: FlaskClient) -> None:
    assert login(client, "vera") == 302
    missing = client.get("/no-existe")
    assert missing.status_code == 404 and "Volver a las solicitudes" in missing.get_data(
        as_text=True
    )
