"""The dashboard in headless Chromium (Debian's, driven by playwright): log in, see a request
and its deadline, resend it, download its evidence. Screenshots are kept in tests/artifacts/
(or ``UGPP_BRIDGE_TEST_ARTIFACTS``) for review.

Needs /usr/bin/chromium (``.ci/run`` installs Debian's package when it is missing). Under
``CI=true`` a missing browser fails the test; elsewhere it is skipped with the reason.
"""

from __future__ import annotations

import os
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import DATA, register_golden_request
from ugpp_bridge.adapters.migrations import upgrade
from ugpp_bridge.bootstrap import state_stores, web_app
from ugpp_bridge.config import Settings
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.domain.users import Role
from ugpp_bridge.entrypoints.cli import main
from ugpp_bridge.entrypoints.scheduler import Jobs
from ugpp_bridge.entrypoints.soap import stop_waitress
from ugpp_bridge.entrypoints.ugpp_sim import SimulatorConfig, UgppSimulator, make_server

CHROMIUM = Path("/usr/bin/chromium")
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


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; required under CI=true")
    pytest.skip(reason)


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[tuple[str, UgppSimulator, object]]:
    """The whole bridge on loopback with one request built and sent to the stand-in."""
    from waitress.server import create_server

    simulator = UgppSimulator(SimulatorConfig())
    ugpp = make_server(simulator)
    threading.Thread(target=ugpp.serve_forever, daemon=True).start()
    ugpp_base = f"http://127.0.0.1:{ugpp.server_address[1]}"
    state_url, source_url = (
        f"sqlite:///{tmp_path / 'state.db'}",
        f"sqlite:///{tmp_path / 'bank.db'}",
    )
    assert (
        CliRunner()
        .invoke(main, ["source", "import", str(DATA / "source_csv"), "--url", source_url])
        .exit_code
        == 0
    )
    upgrade(state_url)
    settings = Settings(
        database_url=state_url, source_url=source_url, operator_nit="800197268",
        operator_name="Banco de Ejemplo S.A.", inbound_username="ugpp", inbound_password="clave-ugpp-2026",
        ugpp_endpoint=f"{ugpp_base}/ugpp/reporte", ugpp_token_url=f"{ugpp_base}/ugpp/token",
        ugpp_username="bridge", ugpp_password="bridge-secret", ugpp_client_id="ugpp-bridge",
        lote_max_records=4, send_backoff_seconds=0, session_secret="browser-test-secret-long-enough-1234",
    )  # fmt: skip
    stores = state_stores(state_url)
    register_golden_request(stores)
    Jobs(settings, stores, "test-worker").run_once()  # build and send, as the scheduler would
    stores.users.add(
        "ana",
        Role.OPERATOR,
        PASSWORD,
        at=stores.requests.find("UB-2026-000001").received_at,
        actor="test",
    )
    server = create_server(web_app(settings, stores, "test-web"), host="127.0.0.1", port=0, threads=4,
                           asyncore_loop_timeout=0.05)  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}", simulator, stores
    finally:
        stop_waitress(server, thread)
        stores.close()
        ugpp.shutdown()
        ugpp.server_close()


def test_an_operator_logs_in_sees_the_deadline_resends_and_downloads_the_evidence(
    bridge: tuple[str, UgppSimulator, object], tmp_path: Path
) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright

    base, simulator, stores = bridge
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
            page.set_default_timeout(15_000)
            page.goto(f"{base}/solicitudes")
            assert page.title().startswith("Iniciar sesión")
            page.fill("#usuario", "ana")
            page.fill("#clave", PASSWORD)
            page.click("button[type=submit]")
            row = page.locator('#solicitudes tr[data-radicado="UB-2026-000001"]')
            assert "UGPP-2026-000451" in row.inner_text() and "2026-12-07" in row.inner_text()
            assert "Enviada" in row.inner_text()
            assert page.locator("#timeline rect").count() == 1
            page.screenshot(path=str(ARTIFACTS / "dashboard-solicitudes.png"), full_page=True)

            row.locator("a").first.click()
            assert page.locator("#estado").inner_text() == "Enviada"
            assert page.locator("#vence").inner_text() == "2026-12-07"
            received_before = simulator.calls
            page.click("#reenviar")
            assert "Reenvío hecho" in page.locator(".flash.info").inner_text()
            assert simulator.calls == received_before + 3  # the three lotes, same idEnvio and bytes
            assert page.locator("#intentos tbody tr").count() == 6
            page.screenshot(path=str(ARTIFACTS / "dashboard-solicitud.png"), full_page=True)

            with page.expect_download() as download_info:
                page.click("#evidencia")
            bundle = tmp_path / "evidencia.zip"
            download_info.value.save_as(bundle)
        finally:
            browser.close()
    with zipfile.ZipFile(bundle) as archive:
        assert "manifest.json" in " ".join(archive.namelist())
    trail = [(e.action, e.actor) for e in stores.requests.audit_trail("UB-2026-000001")]  # type: ignore[attr-defined]
    assert ("operator.resend", "web:ana") in trail
    assert stores.requests.find("UB-2026-000001").state is RequestState.SENT  # type: ignore[attr-defined]


def test_in_the_browser_a_session_copied_before_logout_is_dead_and_an_offsite_next_is_ignored(
    bridge: tuple[str, UgppSimulator, object],
) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright

    base, _, _ = bridge
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context()
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.goto(f"{base}/login?next=/%09/evil.example")
            page.fill("#usuario", "ana")
            page.fill("#clave", PASSWORD)
            page.click("button[type=submit]")
            assert page.url.startswith(base) and "/solicitudes" in page.url
            copied = context.cookies()
            page.click("header button[type=submit]")  # Cerrar sesión
            assert "Sesión cerrada" in page.content()
            thief = browser.new_context()
            thief.add_cookies(copied)  # type: ignore[arg-type]
            stolen = thief.new_page()
            stolen.goto(f"{base}/solicitudes")
            assert stolen.title().startswith("Iniciar sesión")
        finally:
            browser.close()
