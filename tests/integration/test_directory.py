"""Directory sign-in (SPEC §11) against a real slapd on a loopback port: roles from groups read
at every sign-in, no group no entry, leavers out at their next sign-in, a directory that does
not answer refuses in Spanish (local break-glass accounts still enter, unless turned off), the
audit names the directory entry, and the CLI signs in the same way (four eyes across channels).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from ldap3 import MODIFY_ADD, MODIFY_DELETE

from tests.conftest import DATA, free_port, register_golden_request
from tests.integration.slapd import OFFICERS, OPERATORS, PASSWORDS, PEOPLE, Slapd, start_slapd
from tests.integration.test_dashboard import NOW, SECRET, csrf
from ugpp_bridge.adapters.state.migrations import upgrade
from ugpp_bridge.bootstrap import StateStores, state_stores
from ugpp_bridge.config import load_settings
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.domain.users import Role
from ugpp_bridge.entrypoints.cli import main
from ugpp_bridge.entrypoints.dashboard import create_dashboard
from ugpp_bridge.entrypoints.web import dashboard_services

LOCAL_PASSWORD = "clave-local-de-emergencia"


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    yield from start_slapd(tmp_path_factory.mktemp("slapd"), free_port())


@pytest.fixture
def stores(sqlite_url: str) -> Iterator[StateStores]:
    upgrade(sqlite_url)
    opened = state_stores(sqlite_url)
    opened.users.add("emergencia", Role.OFFICER, LOCAL_PASSWORD, at=NOW, actor="test")
    yield opened
    opened.close()


def dashboard(stores: StateStores, env: dict[str, str]) -> FlaskClient:
    services = replace(dashboard_services(load_settings(env), stores, "test-web"),
                       clock=lambda: NOW, holidays=set())  # fmt: skip
    return create_dashboard(services, secret_key=SECRET).test_client()


def sign_in(client: FlaskClient, name: str, password: str) -> tuple[int, str]:
    token = csrf(client, "/login")
    answer = client.post("/login", data={"usuario": name, "clave": password, "csrf_token": token})
    return answer.status_code, answer.get_data(as_text=True)


def logins(stores: StateStores) -> list[tuple[str, dict[str, object]]]:
    return [(e.actor, e.details) for e in stores.audit.audit_trail()
            if e.action == "dashboard.login"]  # fmt: skip


def test_roles_come_from_the_groups_the_highest_winning(slapd: Slapd, stores: StateStores) -> None:
    client = dashboard(stores, slapd.settings())
    for name, role in (("olga", Role.OFFICER), ("ana", Role.OPERATOR), ("vera", Role.VIEWER)):
        assert sign_in(client, name, PASSWORDS[name])[0] == 302, name
        user = stores.users.get(name)
        assert user is not None and user.role is role and user.directory
        client.post("/logout", data={"csrf_token": csrf(client, "/solicitudes")})
    actor, details = logins(stores)[0]
    assert actor == "web:olga" and details["directorio"] == f"uid=olga,{PEOPLE}"
    assert details["role"] == "officer"


@pytest.mark.parametrize(
    ("name", "password"),
    [("sin", PASSWORDS["sin"]),  # in no group: no entry
     ("olga", "no es la clave"), ("olga", ""), ("nadie", "clave-de-nadie-123"),
     ("*", PASSWORDS["olga"]), ("olga)(uid=*", PASSWORDS["olga"])],  # filter injection
)  # fmt: skip
def test_who_the_directory_does_not_vouch_for_is_refused(
    slapd: Slapd, stores: StateStores, name: str, password: str
) -> None:
    status, page = sign_in(dashboard(stores, slapd.settings()), name, password)
    assert status == 401 and "Usuario o contraseña incorrectos." in page
    assert logins(stores) == []


def test_the_role_is_read_at_every_sign_in_and_a_leaver_is_out(
    slapd: Slapd, stores: StateStores
) -> None:
    client = dashboard(stores, slapd.settings())
    ana = f"uid=ana,{PEOPLE}"
    with slapd.admin() as admin:
        admin.modify(OFFICERS, {"member": [(MODIFY_ADD, [ana])]})
    try:
        assert sign_in(client, "ana", PASSWORDS["ana"])[0] == 302
        assert stores.users.get("ana").role is Role.OFFICER  # type: ignore[union-attr]
    finally:
        with slapd.admin() as admin:
            admin.modify(OFFICERS, {"member": [(MODIFY_DELETE, [ana])]})
    client.post("/logout", data={"csrf_token": csrf(client, "/solicitudes")})
    assert sign_in(client, "ana", PASSWORDS["ana"])[0] == 302
    assert stores.users.get("ana").role is Role.OPERATOR  # type: ignore[union-attr]
    client.post("/logout", data={"csrf_token": csrf(client, "/solicitudes")})
    with slapd.admin() as admin:
        admin.modify(OPERATORS, {"uniqueMember": [(MODIFY_DELETE, [ana])]})
    try:
        assert sign_in(client, "ana", PASSWORDS["ana"])[0] == 401  # left every group: out
    finally:
        with slapd.admin() as admin:
            admin.modify(OPERATORS, {"uniqueMember": [(MODIFY_ADD, [ana])]})
    assert "user.directory_role" in [e.action for e in stores.audit.audit_trail()]


def test_a_directory_that_does_not_answer_refuses_in_spanish_but_break_glass_enters(
    slapd: Slapd, stores: StateStores
) -> None:
    down = slapd.settings(UGPP_BRIDGE_LDAP_URL=f"ldap://127.0.0.1:{free_port()}")
    client = dashboard(stores, down)
    status, page = sign_in(client, "olga", PASSWORDS["olga"])
    assert status == 503
    assert "No fue posible consultar el directorio de la entidad" in page
    assert stores.users.get("olga") is None
    assert sign_in(client, "emergencia", LOCAL_PASSWORD)[0] == 302  # a local account
    closed = dashboard(stores, {**down, "UGPP_BRIDGE_LOCAL_ACCOUNTS": "false"})
    assert sign_in(closed, "emergencia", LOCAL_PASSWORD)[0] == 401
    refused = dashboard(stores, slapd.settings(UGPP_BRIDGE_LDAP_BIND_PASSWORD="otra-clave-123"))
    status, page = sign_in(refused, "olga", PASSWORDS["olga"])
    assert status == 503 and "rechazó la cuenta de servicio" in page


def test_the_cli_signs_in_through_the_directory_and_keeps_four_eyes(
    slapd: Slapd, sqlite_url: str, tmp_path: Path
) -> None:
    env = {**slapd.settings(), "UGPP_BRIDGE_DATABASE_URL": sqlite_url,
           "UGPP_BRIDGE_SOURCE_URL": f"sqlite:///{tmp_path / 'bank.db'}",
           "UGPP_BRIDGE_OPERATOR_NAME": "Banco de Ejemplo S.A.",
           "UGPP_BRIDGE_OPERATOR_NIT": "800197268"}  # fmt: skip
    runner = CliRunner()
    assert (
        runner.invoke(main, ["source", "import", str(DATA / "source_csv")], env=env).exit_code == 0
    )
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    stores = state_stores(sqlite_url)
    try:
        register_golden_request(stores)
    finally:
        stores.close()

    def act(*args: str, name: str) -> str:
        result = runner.invoke(main, [*args, "--as", name, "--password-stdin"],
                               input=PASSWORDS[name] + "\n", env=env)  # fmt: skip
        return f"{result.exit_code}:{result.output}"

    assert act("build", "UGPP-2026-000451", name="vera").startswith("1:ApprovalRefusedError")
    assert act("build", "UGPP-2026-000451", name="olga").startswith("0:")
    own = act("approve", "UGPP-2026-000451", name="olga")
    assert own.startswith("1:") and "four eyes" in own
    stores = state_stores(sqlite_url)
    try:
        assert stores.requests.find("UGPP-2026-000451").state is RequestState.BUILT
        assert stores.requests.find("UGPP-2026-000451").built_by == "cli:olga"
    finally:
        stores.close()


def test_doctor_checks_the_directory(slapd: Slapd, sqlite_url: str) -> None:
    upgrade(sqlite_url)
    env = {**slapd.settings(), "UGPP_BRIDGE_DATABASE_URL": sqlite_url}
    output = CliRunner().invoke(main, ["doctor"], env=env).output
    assert f"✓ Directory: {slapd.url}" in output
    down = {**env, "UGPP_BRIDGE_LDAP_URL": f"ldap://127.0.0.1:{free_port()}"}
    output = CliRunner().invoke(main, ["doctor"], env=down).output
    assert "✗ Directory: No fue posible consultar el directorio" in output
