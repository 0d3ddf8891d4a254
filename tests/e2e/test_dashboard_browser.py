"""The dashboard in headless Chromium (Debian's, driven by playwright), the way the desk uses it:
an operator who may not approve, an officer who approves after a confirmation step and sends,
a correction whose requester may not approve it, a second officer who returns it with a reason.

Every page visited is checked with axe-core (no serious or critical violation, WCAG 2.1 A/AA
and best practices) and photographed at desktop width and at 390 px (where nothing may scroll
sideways); the screenshots are kept in tests/artifacts/ (or ``UGPP_BRIDGE_TEST_ARTIFACTS``).

Needs /usr/bin/chromium (``.ci/run`` installs Debian's package when it is missing) and axe-core
from ``interop/`` (``npm ci``). Under ``CI=true`` a missing one fails the test; elsewhere the
test is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from tests.conftest import DATA, change_source, register_golden_request
from ugpp_bridge.adapters.state.migrations import upgrade
from ugpp_bridge.bootstrap import StateStores, state_stores
from ugpp_bridge.config import Settings
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.domain.users import Role
from ugpp_bridge.entrypoints.cli import main
from ugpp_bridge.entrypoints.scheduler import Jobs
from ugpp_bridge.entrypoints.soap import stop_waitress
from ugpp_bridge.entrypoints.ugpp_sim import SimulatorConfig, UgppSimulator, make_server
from ugpp_bridge.entrypoints.web import web_app

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parents[2] / "interop" / "node_modules" / "axe-core" / "axe.min.js"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
ARTIFACTS = Path(
    os.environ.get("UGPP_BRIDGE_TEST_ARTIFACTS", Path(__file__).parent.parent / "artifacts")
)
PASSWORD = "una clave bien larga"
FILING = "UB-2026-000001"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def require(path: Path, how: str) -> None:
    if path.exists():
        return
    reason = f"{path} is missing ({how})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; required under CI=true")
    pytest.skip(reason)


@dataclass
class Bridge:
    base: str
    simulator: UgppSimulator
    stores: StateStores
    jobs: Jobs
    source_url: str


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    """The whole bridge on loopback with one request built, waiting for an officer."""
    from waitress.server import create_server

    simulator = UgppSimulator(SimulatorConfig())
    ugpp = make_server(simulator)
    threading.Thread(target=ugpp.serve_forever, daemon=True).start()
    ugpp_base = f"http://127.0.0.1:{ugpp.server_address[1]}"
    state_url, source_url = (
        f"sqlite:///{tmp_path / 'state.db'}",
        f"sqlite:///{tmp_path / 'bank.db'}",
    )
    imported = CliRunner().invoke(
        main, ["source", "import", str(DATA / "source_csv"), "--url", source_url]
    )
    assert imported.exit_code == 0, imported.output
    upgrade(state_url)
    settings = Settings(
        database_url=state_url, source_url=source_url, operator_nit="800197268",
        operator_name="Banco de Ejemplo S.A.", inbound_username="ugpp", inbound_password="clave-ugpp-2026",
        ugpp_endpoint=f"{ugpp_base}/ugpp/reporte", ugpp_token_url=f"{ugpp_base}/ugpp/token",
        ugpp_username="bridge", ugpp_password="bridge-secret", ugpp_client_id="ugpp-bridge",
        lote_max_records=4, send_backoff_seconds=0, session_secret="browser-test-secret-long-enough-1234",
        require_approval=True,
    )  # fmt: skip
    stores = state_stores(state_url)
    register_golden_request(stores)
    jobs = Jobs(settings, stores, "test-worker")
    jobs.run_once()  # builds; nothing is sent before an officer approves
    assert stores.requests.find(FILING).state is RequestState.BUILT
    at = stores.requests.find(FILING).received_at
    stores.users.add("ana", Role.OPERATOR, PASSWORD, at=at, actor="test")
    stores.users.add("olga", Role.OFFICER, PASSWORD, at=at, actor="test")
    stores.users.add("pedro", Role.OFFICER, PASSWORD, at=at, actor="test")
    server = create_server(web_app(settings, stores, "test-web"), host="127.0.0.1", port=0, threads=4,
                           asyncore_loop_timeout=0.05)  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield Bridge(
            f"http://127.0.0.1:{server.effective_port}", simulator, stores, jobs, source_url
        )
    finally:
        stop_waitress(server, thread)
        stores.close()
        ugpp.shutdown()
        ugpp.server_close()


@pytest.fixture
def browser() -> Iterator[Any]:
    require(CHROMIUM, "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def open_page(browser: Any) -> Any:
    # bypass_csp lets axe-core be injected under the dashboard's script-src 'self'.
    context = browser.new_context(
        viewport=DESKTOP,
        accept_downloads=True,
        bypass_csp=True,
        locale="es-CO",
        timezone_id="America/Bogota",
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def check_page(page: Any, name: str) -> None:
    """axe-core at desktop width and at 390 px, no sideways scroll on the phone, two screenshots."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for size, suffix in ((DESKTOP, "escritorio"), (PHONE, "390px")):
        page.set_viewport_size(size)
        page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}-{suffix}.png"), full_page=True)
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=str(AXE))
        violations = page.evaluate(
            "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
            ".violations.filter(v => v.impact === 'serious' || v.impact === 'critical')"
            ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))",
            AXE_TAGS,
        )
        assert violations == [], f"{name} at {suffix}: {violations}"
        if size is PHONE:
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at 390 px"
    page.set_viewport_size(DESKTOP)


def log_in(page: Any, base: str, name: str) -> None:
    page.goto(f"{base}/solicitudes")
    assert page.title().startswith("Iniciar sesión")
    page.fill("#usuario", name)
    page.fill("#clave", PASSWORD)
    page.click("button[type=submit]")
    page.locator("#solicitudes").wait_for(state="visible")  # after the navigation settles
    assert page.locator("#solicitudes").is_visible()


def log_out(page: Any) -> None:
    page.click("header button[type=submit]")  # Cerrar sesión
    # Wait for the login page the logout lands on (page.content() right after the click can
    # read the document being replaced, an empty one).
    page.wait_for_selector("text=Sesión cerrada")
    assert "Sesión cerrada" in page.content()


def act(page: Any, slug: str, *, field: tuple[str, str] | None = None, name: str = "") -> str:
    """Click an action, check its confirmation page, confirm; the flash message it leaves."""
    page.click(f"#accion-{slug}")
    # Both pages have an h1: wait for the confirmation page's, never read the old one.
    page.locator("h1", has_text="Revise antes de continuar").wait_for()
    if field:
        page.fill(*field)
    if name:
        check_page(page, name)
    page.click("#confirmar-accion")
    page.locator("#confirmar-accion").wait_for(state="detached")  # back on the request's page
    return str(page.locator(".flash").first.inner_text())


def test_the_desk_in_chromium_four_eyes_from_build_to_return(
    bridge: Bridge, browser: Any, tmp_path: Path
) -> None:
    require(AXE, "cd interop && npm ci")
    base, simulator, stores = bridge.base, bridge.simulator, bridge.stores
    page = open_page(browser)

    page.goto(f"{base}/login")
    check_page(page, "ingreso")
    log_in(page, base, "ana")
    row = page.locator(f'#solicitudes tr[data-radicado="{FILING}"]')
    assert "UGPP-2026-000451" in row.inner_text() and "Por aprobar" in row.inner_text()
    assert page.locator("#por-aprobar").inner_text() == "1"
    check_page(page, "solicitudes")

    # The operator sees what will be reported, but approving is not hers to do.
    row.locator("a").first.click()
    assert page.locator("#estado").inner_text() == "Por aprobar"
    assert page.locator("#accion-aprobar").count() == 0
    page.click("#no-disponibles summary")
    assert "Solo un oficial" in page.locator("#no-disponibles").inner_text()
    check_page(page, "solicitud-por-aprobar")
    assert page.goto(f"{base}/solicitudes/{FILING}/acciones/aprobar").status == 403
    check_page(page, "sin-permiso")
    page.goto(f"{base}/solicitudes/{FILING}")
    log_out(page)

    # An officer approves after the confirmation page, then sends.
    log_in(page, base, "olga")
    page.goto(f"{base}/solicitudes/{FILING}")
    persons = page.locator("#personas tbody tr")
    assert persons.count() == 3 and "Sin información" in persons.nth(2).inner_text()
    with page.expect_download() as download:
        page.click("#xlsx")
    workbook_path = tmp_path / "vista-previa.xlsx"
    download.value.save_as(workbook_path)
    workbook = load_workbook(workbook_path, read_only=True)
    assert len(workbook.sheetnames) >= 2
    workbook.close()
    flash = act(page, "aprobar", name="confirmar-aprobacion")
    assert "Construcción aprobada" in flash
    assert page.locator("#estado").inner_text() == "Aprobada, por enviar"
    assert simulator.calls == 0  # approval alone sends nothing from the desk
    lotes = page.locator("#lotes tbody tr").count()
    flash = act(page, "enviar")
    assert "Envío hecho" in flash and simulator.calls == lotes
    assert page.locator("#estado").inner_text() == "Entregada"
    assert page.locator("#intentos tbody tr").count() == lotes
    check_page(page, "solicitud-entregada")
    with page.expect_download() as download:
        page.click("#evidencia")
    bundle = tmp_path / "evidencia.zip"
    download.value.save_as(bundle)
    with zipfile.ZipFile(bundle) as archive:
        assert "manifiesto.json" in archive.namelist()
        (decision,) = json.loads(archive.read("aprobaciones.json"))
    assert decision["decision"] == "aprobada" and decision["oficial"] == "web:olga"

    # The entity finds an error in its data; the officer asks for a correction: the rebuilt
    # answer is hers, so another officer must approve it.
    change_source(bridge.source_url, "UPDATE transactions SET amount = amount * 2")
    assert "Reconstrucción en cola" in act(page, "corregir")
    bridge.jobs.build()
    page.reload()
    assert page.locator("#estado").inner_text() == "Por aprobar"
    assert page.locator("#accion-aprobar").count() == 0
    page.click("#no-disponibles summary")
    assert "debe aprobarla otro oficial" in page.locator("#no-disponibles").inner_text()
    log_out(page)

    # A second officer returns it with a reason; the operator is told to rebuild.
    log_in(page, base, "pedro")
    page.goto(f"{base}/solicitudes/{FILING}")
    reason = "Faltan las cuentas AFC de marzo"
    flash = act(page, "devolver", field=("#reason", reason), name="confirmar-devolucion")
    assert "Construcción devuelta" in flash
    assert page.locator("#estado").inner_text() == "Devuelta"
    assert reason in page.locator("#decisiones").inner_text()
    assert page.locator("#decisiones tbody tr").count() == 2
    check_page(page, "solicitud-devuelta")
    page.goto(f"{base}/auditoria")
    assert "web:pedro" in page.locator("#auditoria").inner_text()
    check_page(page, "auditoria")
    page.goto(f"{base}/no-existe")
    check_page(page, "no-encontrada")

    stored = stores.requests.find(FILING)
    assert stored.state is RequestState.RETURNED
    decisions = [(d.decision.value, d.actor) for d in stores.builds.approvals(stored.key)]
    assert decisions == [("approved", "web:olga"), ("returned", "web:pedro")]
    trail = stores.audit.audit_trail(FILING)
    rebuild = next(e for e in trail if e.action == "request.rebuild_requested")
    assert rebuild.actor == "web:olga" and rebuild.details["address"] == "127.0.0.1"


def test_in_the_browser_a_session_copied_before_logout_is_dead_and_an_offsite_next_is_ignored(
    bridge: Bridge, browser: Any
) -> None:
    base = bridge.base
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/login?next=/%09/evil.example")
    page.fill("#usuario", "ana")
    page.fill("#clave", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/solicitudes**")  # the login's navigation settled, here
    assert page.url.startswith(base) and "/solicitudes" in page.url
    copied = context.cookies()
    log_out(page)
    thief = browser.new_context()
    thief.add_cookies(copied)
    stolen = thief.new_page()
    stolen.goto(f"{base}/solicitudes")
    assert stolen.title().startswith("Iniciar sesión")
