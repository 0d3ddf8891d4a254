"""Paso 2 from the command line: the stand-in, `send` killed mid-run and resumed, `evidence`."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import (
    DATA,
    bridge_env,
    free_port,
    key_of,
    register_golden_request,
    standin_process,
)
from ugpp_bridge.bootstrap import state_stores
from ugpp_bridge.domain.lifecycle import LoteState
from ugpp_bridge.entrypoints.cli import main


@pytest.fixture
def environment(tmp_path: Path, db_url: str) -> Iterator[dict[str, str]]:
    port = free_port()
    env = {
        **os.environ,
        "UGPP_BRIDGE_DATABASE_URL": db_url,
        "UGPP_BRIDGE_SOURCE_URL": f"sqlite:///{tmp_path / 'bank.db'}",
        "UGPP_BRIDGE_OPERATOR_NIT": "800197268",
        "UGPP_BRIDGE_OPERATOR_NAME": "Banco de Ejemplo S.A.",
        "UGPP_BRIDGE_LOTE_MAX_RECORDS": "4",
        "UGPP_BRIDGE_UGPP_ENDPOINT": f"http://127.0.0.1:{port}/ugpp/reporte",
        "UGPP_BRIDGE_UGPP_TOKEN_URL": f"http://127.0.0.1:{port}/ugpp/token",
        "UGPP_BRIDGE_UGPP_USERNAME": "bridge",
        "UGPP_BRIDGE_UGPP_PASSWORD": "bridge-secret",
        "UGPP_BRIDGE_UGPP_CLIENT_ID": "ugpp-bridge",
        "UGPP_BRIDGE_SEND_BACKOFF_SECONDS": "0",
        "UGPP_BRIDGE_REQUIRE_APPROVAL": "false",
    }
    with standin_process(tmp_path / "sim.log", "--latency", "0.4", port=port, env=env):
        yield env


def prepare(runner: CliRunner, env: dict[str, str]) -> str:
    assert (
        runner.invoke(main, ["source", "import", str(DATA / "source_csv")], env=env).exit_code == 0
    )
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    stores = state_stores(env["UGPP_BRIDGE_DATABASE_URL"])
    try:
        register_golden_request(stores)
    finally:
        stores.close()
    built = runner.invoke(main, ["build", "UGPP-2026-000451"], env=env)
    assert built.exit_code == 0, built.output
    return "UB-2026-000001"


def acknowledged(env: dict[str, str], filing: str) -> int:
    stores = state_stores(env["UGPP_BRIDGE_DATABASE_URL"])
    try:
        return sum(
            lote.state is LoteState.ACKNOWLEDGED
            for lote in stores.lotes.lotes(key_of(stores, filing))
        )
    finally:
        stores.close()


def test_send_killed_mid_run_resumes_and_each_lote_is_acknowledged_once(
    environment: dict[str, str],
) -> None:
    runner = CliRunner()
    filing = prepare(runner, environment)
    sender = subprocess.Popen([sys.executable, "-m", "ugpp_bridge", "send", filing], env=environment,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    for _ in range(300):  # bounded: 30 s
        if acknowledged(environment, filing) >= 1:
            break
        time.sleep(0.05)
    sender.send_signal(signal.SIGKILL)
    sender.wait(timeout=30)
    assert acknowledged(environment, filing) < 3, "the run was killed before it ended"
    resumed = runner.invoke(main, ["send", filing], env=environment)
    assert resumed.exit_code == 0, resumed.output
    assert f"{filing}: enviada" in resumed.output
    stores = state_stores(environment["UGPP_BRIDGE_DATABASE_URL"])
    try:
        lotes = stores.lotes.lotes(key_of(stores, filing))
    finally:
        stores.close()
    # UGPP numbers what it receives: three radicados for three lotes means none arrived twice.
    assert sorted(lote.ugpp_filing_number or "" for lote in lotes) == [
        "UGPP-R-000001",
        "UGPP-R-000002",
        "UGPP-R-000003",
    ]


def test_evidence_bundles_everything_under_a_manifest(
    environment: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    filing = prepare(runner, environment)
    assert runner.invoke(main, ["send", filing], env=environment).exit_code == 0
    out = tmp_path / "evidencia.zip"
    result = runner.invoke(main, ["evidence", filing, "--out", str(out)], env=environment)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as bundle:
        manifest = json.loads(bundle.read("manifiesto.json"))["archivos"]
        assert manifest and all(
            hashlib.sha256(bundle.read(name)).hexdigest() == digest
            for name, digest in manifest.items()
        )
        names = set(bundle.namelist())
        attempts = json.loads(bundle.read("envios.json"))
        audit = json.loads(bundle.read("auditoria.json"))
    assert {"solicitud.json", "envios.json", "auditoria.json", "correcciones.json"} <= names
    assert len([n for n in names if n.startswith("lotes/") and n.endswith(".xml")]) == 3
    assert [a["resultado"] for a in attempts] == ["Acuse recibido"] * 3
    assert "request.sent" in [e["accion"] for e in audit["entradas"]]
    verified = runner.invoke(main, ["evidence", "verify", str(out)], env=environment)
    assert verified.exit_code == 0 and "VERIFICADO" in verified.output, verified.output
    shown = runner.invoke(main, ["show", "UGPP-2026-000451"], env=environment)
    assert shown.exit_code == 0, shown.output
    assert "Estado: Entregada" in shown.output and "tiempo de respuesta medio" in shown.output
    assert "Acuse recibido" in shown.output
    assert "UGPP-R-000003" in shown.output


def test_requests_deadlines_and_confirm(environment: dict[str, str]) -> None:
    runner = CliRunner()
    filing = prepare(runner, environment)
    listed = runner.invoke(main, ["requests"], env=environment)
    assert listed.exit_code == 0, listed.output
    assert (
        filing in listed.output
        and "07/12/2026" in listed.output
        and "Aprobada, por enviar" in listed.output
    )
    due = runner.invoke(main, ["deadlines"], env=environment)
    assert due.exit_code == 0 and filing in due.output
    for width in (80, 60):  # a narrow terminal: columns left out and named, no word cut
        narrow = runner.invoke(main, ["requests"], env={**environment, "COLUMNS": str(width)})
        lines = narrow.output.splitlines()
        assert max(len(line) for line in lines) <= width, narrow.output
        assert filing in narrow.output and "07/12/2026" in narrow.output
        assert "Sin espacio para:" in narrow.output
        assert "Aprobada," in narrow.output and "enviar" in narrow.output
    too_soon = runner.invoke(
        main, ["confirm", filing, "--radicado", "UGPP-CONF-1"], env=environment
    )
    assert too_soon.exit_code == 1 and too_soon.output.startswith("IllegalTransitionError: ")
    assert runner.invoke(main, ["send", filing], env=environment).exit_code == 0
    done = runner.invoke(main, ["confirm", filing, "--radicado", "UGPP-CONF-1"], env=environment)
    assert done.exit_code == 0, done.output
    assert "confirmed by UGPP with radicado UGPP-CONF-1" in done.output
    assert "Nothing falls due" in runner.invoke(main, ["deadlines"], env=environment).output
    shown = runner.invoke(main, ["show", filing], env=environment)
    assert "Confirmación de la UGPP: UGPP-CONF-1" in shown.output


@pytest.mark.parametrize(
    ("fault", "code", "words"),
    [
        ({}, 0, "enviada"),
        ({"http_500": 100}, 3, "se reintentará automáticamente"),
        ({"client_fault": 1, "client_fault_code": "Client.DatosInvalidos"}, 4, "reconstruya"),
        ({"refuse_tokens": 100}, 1, "Credenciales rechazadas"),
    ],
)
def test_send_exits_with_the_code_of_how_it_ended_and_says_why_in_spanish(
    tmp_path: Path, sqlite_url: str, fault: dict[str, object], code: int, words: str
) -> None:
    import threading

    from ugpp_bridge.entrypoints.ugpp_sim import Faults, SimulatorConfig, UgppSimulator, make_server

    simulator = UgppSimulator(SimulatorConfig(faults=Faults(**fault)))  # type: ignore[arg-type]
    server = make_server(simulator)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    env = bridge_env(sqlite_url, f"sqlite:///{tmp_path / 'bank.db'}", base, send_max_attempts="2")
    try:
        runner = CliRunner()
        filing = prepare(runner, env)
        result = runner.invoke(main, ["send", filing], env=env)
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == code, result.output
    assert words in result.output
