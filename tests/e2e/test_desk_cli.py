"""The officer's desk from the command line: approve and return as a dashboard account (four
eyes across the CLI and the dashboard), preview as XLSX, accounts listed, disabled, re-keyed."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import DATA
from ugpp_bridge.bootstrap import state_stores
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.entrypoints.cli import main

PASSWORD = "una clave bien larga"


@pytest.fixture
def env(tmp_path: Path, sqlite_url: str) -> dict[str, str]:
    environment = {
        "UGPP_BRIDGE_DATABASE_URL": sqlite_url,
        "UGPP_BRIDGE_SOURCE_URL": f"sqlite:///{tmp_path / 'bank.db'}",
        "UGPP_BRIDGE_OPERATOR_NAME": "Banco de Ejemplo S.A.",
        "UGPP_BRIDGE_OPERATOR_NIT": "800197268",
        "UGPP_BRIDGE_LOTE_MAX_RECORDS": "4",
    }
    runner = CliRunner()
    assert (
        runner.invoke(
            main, ["source", "import", str(DATA / "source_csv")], env=environment
        ).exit_code
        == 0
    )
    assert runner.invoke(main, ["db", "upgrade"], env=environment).exit_code == 0
    for name, role in (("olga", "officer"), ("pablo", "officer"), ("ana", "operator")):
        added = runner.invoke(main, ["user", "add", name, "--role", role, "--password-stdin"],
                              input=PASSWORD + "\n", env=environment)  # fmt: skip
        assert added.exit_code == 0, added.output
    stores = state_stores(sqlite_url)
    try:
        from tests.conftest import register_golden_request

        register_golden_request(stores)
    finally:
        stores.close()
    return environment


def state(env: dict[str, str]) -> RequestState:
    stores = state_stores(env["UGPP_BRIDGE_DATABASE_URL"])
    try:
        return stores.requests.find("UGPP-2026-000451").state
    finally:
        stores.close()


def test_a_build_waits_for_an_officer_and_approval_follows_the_four_eyes_rule(
    env: dict[str, str],
) -> None:
    runner = CliRunner()
    built = runner.invoke(main, ["build", "UGPP-2026-000451", "--as", "ana", "--password-stdin"],
                          input=PASSWORD + "\n", env=env)  # fmt: skip
    assert built.exit_code == 0, built.output
    assert state(env) is RequestState.BUILT
    operator = runner.invoke(main, ["approve", "UGPP-2026-000451", "--as", "ana", "--password-stdin"],
                             input=PASSWORD + "\n", env=env)  # fmt: skip
    assert operator.exit_code == 1 and "not an officer" in operator.output
    wrong = runner.invoke(main, ["approve", "UGPP-2026-000451", "--as", "pablo", "--password-stdin"],
                          input="no es la clave\n", env=env)  # fmt: skip
    assert wrong.exit_code == 1 and wrong.output.startswith("NotAuthorizedError")
    approved = runner.invoke(main, ["approve", "UGPP-2026-000451", "--as", "pablo", "--password-stdin"],
                             input=PASSWORD + "\n", env=env)  # fmt: skip
    assert approved.exit_code == 0, approved.output
    assert "Aprobada, por enviar por pablo" in approved.output
    assert state(env) is RequestState.APPROVED
    shown = runner.invoke(main, ["show", "UGPP-2026-000451"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "Decisiones de los oficiales" in shown.output and "officer:pablo" in shown.output


def test_the_officer_who_asked_for_a_build_from_the_cli_cannot_approve_it(
    env: dict[str, str],
) -> None:
    runner = CliRunner()
    built = runner.invoke(main, ["build", "UGPP-2026-000451", "--as", "olga", "--password-stdin"],
                          input=PASSWORD + "\n", env=env)  # fmt: skip
    assert built.exit_code == 0, built.output
    own = runner.invoke(main, ["approve", "UGPP-2026-000451", "--as", "olga", "--password-stdin"],
                        input=PASSWORD + "\n", env=env)  # fmt: skip
    assert own.exit_code == 1 and "four eyes" in own.output
    assert state(env) is RequestState.BUILT


def test_with_approval_required_the_cli_cannot_build_as_nobody_in_particular(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 25: `build` recorded the requester as cli:root, whom an officer could approve as.
    monkeypatch.setattr("getpass.getuser", lambda: "olga")  # the machine's user: an officer's name
    runner = CliRunner()
    anonymous = runner.invoke(main, ["build", "UGPP-2026-000451"], env=env)
    assert anonymous.exit_code == 1
    assert "add --as NAME --password-stdin" in " ".join(anonymous.output.split())
    assert state(env) is RequestState.RECEIVED
    wrong = runner.invoke(main, ["build", "UGPP-2026-000451", "--as", "ana", "--password-stdin"],
                          input="no es la clave\n", env=env)  # fmt: skip
    assert wrong.exit_code == 1 and wrong.output.startswith("NotAuthorizedError")
    assert state(env) is RequestState.RECEIVED
    off = runner.invoke(main, ["build", "UGPP-2026-000451"],
                        env={**env, "UGPP_BRIDGE_REQUIRE_APPROVAL": "false"})  # fmt: skip
    assert off.exit_code == 0, off.output  # without four eyes, the machine's user is recorded
    stores = state_stores(env["UGPP_BRIDGE_DATABASE_URL"])
    try:
        assert stores.requests.find("UGPP-2026-000451").built_by == "cli:olga"
    finally:
        stores.close()


def test_a_viewer_cannot_act_through_the_cli(env: dict[str, str]) -> None:
    runner = CliRunner()
    added = runner.invoke(main, ["user", "add", "vera", "--role", "viewer", "--password-stdin"],
                          input=PASSWORD + "\n", env=env)  # fmt: skip
    assert added.exit_code == 0, added.output
    built = runner.invoke(main, ["build", "UGPP-2026-000451", "--as", "vera", "--password-stdin"],
                          input=PASSWORD + "\n", env=env)  # fmt: skip
    assert built.exit_code == 1 and "may only read" in built.output
    assert state(env) is RequestState.RECEIVED


def test_return_needs_a_reason_and_the_preview_writes_an_xlsx(
    env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    built = runner.invoke(main, ["build", "UGPP-2026-000451", "--as", "ana", "--password-stdin"],
                          input=PASSWORD + "\n", env=env)  # fmt: skip
    assert built.exit_code == 0, built.output
    out = tmp_path / "vista.xlsx"
    shown = runner.invoke(main, ["preview", "UGPP-2026-000451", "--xlsx", str(out)], env=env)
    assert shown.exit_code == 0, shown.output
    assert "cuentas" in shown.output and "sin información" in shown.output
    book = openpyxl.load_workbook(io.BytesIO(out.read_bytes()), read_only=True)
    people = list(book["Personas"].iter_rows(values_only=True))
    assert people[0][:2] == ("Tipo", "Número") and len(people) == 4  # three persons
    returned = runner.invoke(main, ["return", "UGPP-2026-000451", "--reason", "Faltan las AFC",
                                    "--as", "olga", "--password-stdin"], input=PASSWORD + "\n", env=env)  # fmt: skip
    assert returned.exit_code == 0, returned.output
    assert state(env) is RequestState.RETURNED


def test_accounts_are_listed_disabled_and_re_keyed(env: dict[str, str]) -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["user", "list"], env=env)
    assert listed.exit_code == 0 and "olga" in listed.output and "oficial" in listed.output
    assert runner.invoke(main, ["user", "disable", "ana"], env=env).exit_code == 0
    assert "deshabilitada" in runner.invoke(main, ["user", "list"], env=env).output
    short = runner.invoke(
        main, ["user", "password", "olga", "--password-stdin"], input="corta\n", env=env
    )
    assert short.exit_code == 1 and "12 characters" in short.output
    changed = runner.invoke(main, ["user", "password", "olga", "--password-stdin"],
                            input="otra clave bien larga\n", env=env)  # fmt: skip
    assert changed.exit_code == 0, changed.output
    stores = state_stores(env["UGPP_BRIDGE_DATABASE_URL"])
    try:
        assert stores.users.authenticate("ana", PASSWORD) is None  # disabled
        assert stores.users.authenticate("olga", "otra clave bien larga") is not None
        actions = [e.action for e in stores.audit.audit_trail()]
        assert "user.disabled" in actions and "user.password_changed" in actions
    finally:
        stores.close()
