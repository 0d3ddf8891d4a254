"""Fail fast, honestly (issue 15): every bad or missing setting at once, URLs that say what is
wrong with them, a missing driver answered with the extra to install, and commands that only
read never leaving empty database files behind."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import POSTGRES_URL, require_postgres
from ugpp_bridge.entrypoints.cli import main


def run(*args: str, env: dict[str, str | None] | None = None, code: int = 1) -> str:
    result = CliRunner().invoke(main, list(args), env=env or {})
    assert result.exit_code == code, result.output
    return result.output


def test_serve_names_every_missing_setting_at_once(tmp_path: Path) -> None:
    env = {"UGPP_BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}"}
    output = run("serve", env=env)
    assert output.startswith("ConfigurationError: ")
    for name in ("OPERATOR_NIT", "INBOUND_USERNAME", "INBOUND_PASSWORD", "SESSION_SECRET",
                 "SOURCE_URL", "OPERATOR_NAME", "UGPP_ENDPOINT", "UGPP_TOKEN_URL",
                 "UGPP_USERNAME", "UGPP_PASSWORD", "UGPP_CLIENT_ID"):  # fmt: skip
        assert f"UGPP_BRIDGE_{name}:" in output, name
    assert not (tmp_path / "state.db").exists()


def test_every_invalid_or_unknown_setting_is_listed_with_a_suggestion(tmp_path: Path) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text('port = 8080\nsweep_secnds = 10\nlote_max_records = "mucho"\n')
    output = run("--config", str(config), "requests",
                 env={"UGPP_BRIDGE_PORT": "http", "UGPP_BRIDGE_OPERATR_NIT": "1"})  # fmt: skip
    assert "4 setting(s) are not valid" in output
    assert "bridge.toml line 2, key sweep_secnds: not a setting of the bridge (did you mean " \
           "UGPP_BRIDGE_SWEEP_SECONDS?)" in output  # fmt: skip
    assert "bridge.toml line 3, key lote_max_records: 'mucho' is not a whole number" in output
    assert "UGPP_BRIDGE_OPERATR_NIT: not a setting of the bridge (did you mean " \
           "UGPP_BRIDGE_OPERATOR_NIT?)" in output  # fmt: skip
    assert "UGPP_BRIDGE_PORT: 'http' is not a whole number from 0 to 65535" in output


def test_the_test_suites_own_variable_is_not_an_unknown_setting(tmp_path: Path) -> None:
    env = {"UGPP_BRIDGE_TEST_POSTGRES_URL": "postgresql://x@127.0.0.1/none",
           "UGPP_BRIDGE_SOURCE_URL": f"sqlite:///{tmp_path / 'bank.db'}"}  # fmt: skip
    run("source", "sample", "--persons", "2", env=env, code=0)


@pytest.mark.parametrize(
    "command", [["requests"], ["deadlines"], ["show", "X"], ["audit", "verify"]]
)
def test_commands_that_read_leave_no_empty_state_database(
    tmp_path: Path, command: list[str]
) -> None:
    path = tmp_path / "state.db"
    output = run(*command, env={"UGPP_BRIDGE_DATABASE_URL": f"sqlite:///{path}"})
    assert "There is no state database at" in output and "ugpp-bridge db upgrade" in output
    assert not path.exists()


def test_source_check_leaves_no_empty_source_file(tmp_path: Path) -> None:
    path = tmp_path / "bank.db"
    output = run("source", "check", "--url", f"sqlite:///{path}")
    assert "There is no source database at" in output
    assert not path.exists()


def test_a_sqlite_url_with_two_slashes_gets_the_right_spelling() -> None:
    output = run("requests", env={"UGPP_BRIDGE_DATABASE_URL": "sqlite://state.db"})
    assert "write sqlite:///state.db (three slashes)" in output


@pytest.mark.parametrize(("url", "extra"), [("mysql://u@127.0.0.1/bank", "mysql"),
                                            ("oracle://u@127.0.0.1/bank", "oracle"),
                                            ("mssql://u@127.0.0.1/bank", "mssql")])  # fmt: skip
def test_a_missing_driver_is_one_line_naming_the_extra(
    url: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # [test] installs PyMySQL (the MariaDB tests need it): hide it as an absent module would be.
    monkeypatch.setitem(sys.modules, "pymysql", None)
    output = run("source", "check", "--url", url)
    assert output.strip().splitlines() == [
        f"ConfigurationError: The {extra} driver is not installed; install it with: "
        f"pip install 'ugpp-bridge[{extra}]'"
    ]


@pytest.mark.postgresql
def test_a_postgresql_database_that_does_not_exist_says_to_create_it() -> None:
    require_postgres()
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/no_such_database_here"
    output = run("db", "upgrade", env={"UGPP_BRIDGE_DATABASE_URL": url})
    assert "does not exist on that server: create it (createdb no_such_database_here)" in output
    assert "creates tables, not databases" in output


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [("SMTP_URL", "smtp://127.0.0.1:99999", "its port is not a number from 1 to 65535"),
     ("SMTP_URL", "smtp://127.0.0.1:abc", "its port is not a number from 1 to 65535"),
     ("SMTP_URL", "smtp:///sin-servidor", "write it like smtp://host:25"),
     ("UGPP_ENDPOINT", "http://ugpp.example:0/reporte", "its port is not a number"),
     ("UGPP_TOKEN_URL", "ftp://ugpp.example/token", "http:// or https://"),
     ("ALERT_WEBHOOK_URL", "https://hooks.example:70000/x", "its port is not a number"),
     ("UGPP_WSDL", "https://ugpp.example:http/x?wsdl", "its port is not a number"),
     ("HOST", "mi servidor", "an IP address"),
     ("TRUSTED_PROXY", "proxy.interno", "the proxy's IP address")],
)  # fmt: skip
def test_a_malformed_url_port_or_address_stops_every_command_and_doctor_shows_it(
    tmp_path: Path, name: str, value: str, says: str
) -> None:
    # Issue 25, item 3: an SMTP URL with port 99999 passed until serve and worker died with a
    # ValueError traceback, and doctor said ready.
    env = {"UGPP_BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",
           f"UGPP_BRIDGE_{name}": value}  # fmt: skip
    for command in (["serve"], ["worker", "--once"]):
        output = run(*command, env=env)
        assert output.startswith("ConfigurationError: 1 setting(s) are not valid"), output
        assert f"UGPP_BRIDGE_{name}: " in output and says in output
        assert "Traceback" not in output
    shown = run("doctor", env=env)
    assert shown.startswith(f"✗ Setting UGPP_BRIDGE_{name}: ") and says in shown
    assert "Not ready: 1 check(s) failed." in shown


def test_well_formed_urls_ports_and_addresses_are_taken(tmp_path: Path) -> None:
    from ugpp_bridge.config import load_settings

    settings = load_settings({
        "UGPP_BRIDGE_SMTP_URL": "smtps://alertas:clave@correo.banco.co:465",
        "UGPP_BRIDGE_UGPP_ENDPOINT": "https://[::1]:8443/ugpp/reporte",
        "UGPP_BRIDGE_UGPP_WSDL": str(tmp_path / "ugpp.wsdl"),
        "UGPP_BRIDGE_HOST": "0.0.0.0",
        "UGPP_BRIDGE_TRUSTED_PROXY": "10.0.0.7",
        "UGPP_BRIDGE_PUBLIC_URL": "https://puente.banco.co/soap/solicitudes",
    })  # fmt: skip
    assert settings.ugpp_endpoint == "https://[::1]:8443/ugpp/reporte"
    assert settings.host == "0.0.0.0" and settings.trusted_proxy == "10.0.0.7"
