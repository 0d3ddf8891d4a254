"""``doctor`` against the UGPP stand-in: ready when everything is (exit 0), and one ✗ with what
to do for each thing that is not (exit 1)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import DATA, bridge_env, change_source, free_port
from ugpp_bridge.entrypoints.cli import main
from ugpp_bridge.entrypoints.ugpp_sim import Faults, SimulatorConfig, UgppSimulator, make_server


@dataclass
class Setup:
    env: dict[str, str]
    simulator: UgppSimulator
    tmp: Path


@pytest.fixture
def setup(tmp_path: Path, sqlite_url: str) -> Iterator[Setup]:
    simulator = UgppSimulator(SimulatorConfig(faults=Faults()))
    ugpp = make_server(simulator)
    threading.Thread(target=ugpp.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{ugpp.server_address[1]}"
    env = bridge_env(sqlite_url, f"sqlite:///{tmp_path / 'bank.db'}", base,
                     inbound_username="ugpp", inbound_password="clave-ugpp-2026",
                     session_secret="a-session-secret-of-32-characters-at-least")  # fmt: skip
    runner = CliRunner()
    for command in (["source", "import", str(DATA / "source_csv")], ["db", "upgrade"]):
        assert runner.invoke(main, command, env=env).exit_code == 0
    try:
        yield Setup(env, simulator, tmp_path)
    finally:
        ugpp.shutdown()
        ugpp.server_close()


def doctor(env: dict[str, str], code: int) -> str:
    result = CliRunner().invoke(main, ["doctor"], env=env)
    assert result.exit_code == code, result.output
    return result.output


def certificate(path: Path, *, days_left: int) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "banco-de-ejemplo")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=400)).not_valid_after(now + timedelta(days=days_left))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    path.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )  # fmt: skip
    )
    return path


def test_a_ready_installation_passes_every_check(setup: Setup) -> None:
    output = doctor(setup.env, 0)
    for line in ("✓ Settings", "✓ State database", "✓ Source", "✓ UGPP WSDL",
                 "✓ UGPP token service: credentials accepted; a token valid for 1,200 s",
                 "✓ UGPP endpoint", "✓ Environment pruebas"):  # fmt: skip
        assert line in output, line
    assert "Ready (pruebas)." in output and "✗" not in output


def test_a_missing_setting_is_named_with_what_it_is_for(setup: Setup) -> None:
    env = {**setup.env}
    del env["UGPP_BRIDGE_SESSION_SECRET"]
    output = doctor(env, 1)
    assert "✗ Setting UGPP_BRIDGE_SESSION_SECRET: missing: needed to sign the dashboard's" in output


def test_an_unmigrated_state_database_says_to_upgrade(setup: Setup) -> None:
    import sqlite3

    path = setup.tmp / "empty.db"
    sqlite3.connect(path).close()
    output = doctor({**setup.env, "UGPP_BRIDGE_DATABASE_URL": f"sqlite:///{path}"}, 1)
    assert "✗ State database:" in output and "run `ugpp-bridge db upgrade`" in output


def test_a_source_breaking_the_contract_is_named(setup: Setup) -> None:
    change_source(setup.env["UGPP_BRIDGE_SOURCE_URL"],
                  "UPDATE transactions SET account_id = 'Z9' WHERE amount = 0")  # fmt: skip
    output = doctor(setup.env, 1)
    assert "✗ Source: 1 breach(es) of the contract: transactions.account_id" in output


def test_refused_credentials_fail_the_token_check(setup: Setup) -> None:
    setup.simulator.config.faults.refuse_tokens = 5
    output = doctor(setup.env, 1)
    assert (
        "✗ UGPP token service: El servicio de token de la UGPP rechazó las credenciales" in output
    )


def test_an_unreadable_wsdl_and_an_endpoint_that_does_not_answer(setup: Setup) -> None:
    output = doctor({**setup.env, "UGPP_BRIDGE_UGPP_WSDL": str(setup.tmp / "none.wsdl")}, 1)
    assert "✗ UGPP WSDL:" in output
    dead = f"http://127.0.0.1:{free_port()}/ugpp/reporte"
    output = doctor({**setup.env, "UGPP_BRIDGE_UGPP_ENDPOINT": dead}, 1)
    assert f"✗ UGPP endpoint: {dead} does not answer" in output


def test_tls_material_is_read_with_its_days_to_expiry(setup: Setup) -> None:
    good = certificate(setup.tmp / "client.pem", days_left=200)
    output = doctor({**setup.env, "UGPP_BRIDGE_UGPP_CA_BUNDLE": str(good)}, 0)
    assert "✓ CA bundle:" in output and "CN=banco-de-ejemplo, expires in 199 day(s)" in output
    expired = certificate(setup.tmp / "old.pem", days_left=-3)
    output = doctor({**setup.env, "UGPP_BRIDGE_UGPP_CLIENT_CERT": str(expired)}, 1)
    assert "✗ TLS client certificate:" in output and "expired 3 day(s) ago" in output
    output = doctor({**setup.env, "UGPP_BRIDGE_UGPP_CLIENT_CERT": str(setup.tmp / "no.pem")}, 1)
    assert "✗ TLS client certificate:" in output and "cannot be read" in output


def test_production_with_a_test_endpoint_fails(setup: Setup) -> None:
    output = doctor({**setup.env, "UGPP_BRIDGE_ENVIRONMENT": "produccion"}, 1)
    assert "✗ Environment produccion: the UGPP endpoint http://127.0.0.1" in output
    assert "is not https://" in output


def test_a_config_file_with_unknown_keys_and_bad_values_lists_them_all(setup: Setup) -> None:
    config = setup.tmp / "bridge.toml"
    config.write_text(
        'ugpp_endpont = "https://ugpp.example"\nport = "ocho mil"\n', encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["--config", str(config), "doctor"], env=setup.env)
    assert result.exit_code == 1
    assert "bridge.toml line 1, key ugpp_endpont" in result.output
    assert "did you mean UGPP_BRIDGE_UGPP_ENDPOINT?" in result.output
    assert "bridge.toml line 2, key port: 'ocho mil' is not a whole number" in result.output
