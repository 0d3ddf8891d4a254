"""The console command end to end, through click's CliRunner."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from click.testing import CliRunner
from lxml import etree

from tests.conftest import DATA, bridge_env, free_port, key_of, register_golden_request
from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.adapters.soap.solicitud_xml import parse_solicitud
from ugpp_bridge.adapters.state.migrations import head_revision
from ugpp_bridge.bootstrap import state_stores
from ugpp_bridge.entrypoints.cli import main


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_demo_runs_the_whole_job_on_loopback_and_leaves_evidence(runner: CliRunner) -> None:
    result = runner.invoke(main, ["demo", "--persons", "40"], env={"UGPP_BRIDGE_SOURCE_URL": None})
    assert result.exit_code == 0, result.output
    summary = " ".join(result.output.replace("│", " ").split())
    assert "→ RECIBIDA, radicado UB-" in summary
    assert "lote enviado al simulador de la UGPP; estado «Entregada»" in summary
    assert "radicados UGPP UGPP-R-000001" in summary
    assert "99999999" in summary and "nada salió de esta máquina" in summary
    assert re.search(r"recibida el \d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2} \(hora de Bogotá\)", summary)
    assert re.search(
        r"Vence el \d{2}/\d{2}/\d{4} \(el término empezó el \d{2}/\d{2}/\d{4}", summary
    )
    assert "Demo summary" not in result.output and "Resumen de la demostración" in result.output
    evidence = Path(summary.split("Paquete de evidencia: ")[1].split()[0])
    with zipfile.ZipFile(evidence) as bundle:
        names = bundle.namelist()
        lotes = [name for name in names if name.startswith("lotes/") and name.endswith(".xml")]
        assert lotes and "manifiesto.json" in names and "paso1/01-solicitud-ugpp.xml" in names
        (approval,) = json.loads(bundle.read("aprobaciones.json"))
        assert approval["decision"] == "aprobada" and approval["construccion"] == 1
        for name in lotes:
            wire.validate(
                etree.fromstring(bundle.read(name), wire.secure_parser()), wire.REPORTE_XSD
            )


def test_source_sample_then_check_passes(runner: CliRunner, source_url: str) -> None:
    sample = runner.invoke(
        main, ["source", "sample", "--url", source_url, "--persons", "15", "--seed", "3"]
    )
    assert sample.exit_code == 0, sample.output
    assert "accounts" in sample.output
    check = runner.invoke(main, ["source", "check", "--url", source_url])
    assert check.exit_code == 0, check.output
    assert "meets the contract" in check.output


def test_source_check_lists_what_is_missing_and_exits_1(runner: CliRunner, sqlite_url: str) -> None:
    import sqlite3

    sqlite3.connect(sqlite_url.removeprefix("sqlite:///")).close()  # an empty database file
    result = runner.invoke(main, ["source", "check", "--url", sqlite_url])
    assert result.exit_code == 1
    assert "accounts: the relation (table or view) is missing" in result.output


def test_source_import_reports_bad_lines_as_type_and_message(
    runner: CliRunner, sqlite_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "csv"
    shutil.copytree(DATA / "source_csv", folder)
    path = folder / "accounts.csv"
    path.write_text(path.read_text().replace("A1,CC,52123456,1,", "A1,CC,52123456,8,"))
    result = runner.invoke(main, ["source", "import", str(folder), "--url", sqlite_url])
    assert result.exit_code == 1
    assert result.output.startswith("SourceImportError: ")
    assert "accounts.csv line 2, column account_type" in result.output


def test_source_import_loads_the_files(runner: CliRunner, db_url: str) -> None:
    result = runner.invoke(main, ["source", "import", str(DATA / "source_csv"), "--url", db_url])
    assert result.exit_code == 0, result.output
    assert "28" in result.output


def test_source_import_modes_encodings_and_notices(
    runner: CliRunner, sqlite_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "csv"
    shutil.copytree(DATA / "source_csv", folder)
    path = folder / "titles.csv"
    path.write_bytes(path.read_text().replace("CDT-0001", "CDT-Ñ001").encode("cp1252"))
    first = runner.invoke(main, ["source", "import", str(folder), "--url", sqlite_url])
    assert first.exit_code == 0, first.output
    assert "titles.csv is not UTF-8" in first.output and "(append)" in first.output
    again = runner.invoke(main, ["source", "import", str(folder), "--url", sqlite_url])
    assert again.exit_code == 1 and "A1 is already in the source" in again.output
    replaced = runner.invoke(main, ["source", "import", str(folder), "--url", sqlite_url,
                                    "--mode", "replace", "--encoding", "cp1252"])  # fmt: skip
    assert replaced.exit_code == 0 and "(replace)" in replaced.output, replaced.output
    unknown = runner.invoke(main, ["source", "import", str(folder), "--url", sqlite_url,
                                   "--encoding", "klingon"])  # fmt: skip
    assert unknown.exit_code == 1 and "'klingon' is not an encoding" in unknown.output


def test_a_parquet_folder_or_duckdb_file_that_does_not_exist_is_not_created(
    runner: CliRunner, tmp_path: Path
) -> None:
    for url, missing in ((f"parquet://{tmp_path / 'export'}", tmp_path / "export"),
                         (f"duckdb:///{tmp_path / 'bank.duckdb'}", tmp_path / "bank.duckdb")):  # fmt: skip
        result = runner.invoke(main, ["source", "check", "--url", url])
        assert result.exit_code == 1 and "There is no source database at" in result.output
        assert not missing.exists()


def test_a_duckdb_or_parquet_url_without_the_extra_names_it() -> None:
    probe = (
        "import sys\n"
        "sys.modules['duckdb_engine'] = None  # as if the [duckdb] extra were not installed\n"
        "from ugpp_bridge.entrypoints.cli import main\n"
        "main(['source', 'sample', '--url', sys.argv[1], '--persons', '1'])\n"
    )
    import subprocess
    import sys

    for url in ("duckdb:///x.duckdb", "parquet:///tmp/never-written"):
        done = subprocess.run([sys.executable, "-c", probe, url], capture_output=True, text=True,
                              timeout=120)  # fmt: skip
        assert done.returncode == 1, done.stderr
        assert "pip install 'ugpp-bridge[duckdb]'" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_a_source_command_without_a_url_says_which_setting_to_set(runner: CliRunner) -> None:
    result = runner.invoke(main, ["source", "check"], env={"UGPP_BRIDGE_SOURCE_URL": None})
    assert result.exit_code == 1
    assert "ConfigurationError: UGPP_BRIDGE_SOURCE_URL is required" in result.output


def test_a_bad_setting_is_reported_before_anything_runs(runner: CliRunner) -> None:
    result = runner.invoke(main, ["demo"], env={"UGPP_BRIDGE_PORT": "http"})
    assert result.exit_code == 1
    assert result.output.startswith("ConfigurationError: ")
    assert "UGPP_BRIDGE_PORT: 'http' is not a whole number from 0 to 65535" in result.output
    assert "invalid literal" not in result.output


def test_db_upgrade_then_audit_verify_and_tampering_is_reported(
    runner: CliRunner, db_url: str
) -> None:
    env = {"UGPP_BRIDGE_DATABASE_URL": db_url}
    upgrade = runner.invoke(main, ["db", "upgrade"], env=env)
    assert upgrade.exit_code == 0, upgrade.output
    assert f"revision {head_revision()}" in upgrade.output
    stores = state_stores(db_url)
    try:
        stores.audit.record_action(
            at=datetime(2026, 11, 5, tzinfo=UTC), actor="operador1", action="login"
        )
        stores.audit.record_action(
            at=datetime(2026, 11, 6, tzinfo=UTC), actor="operador1", action="logout"
        )
        intact = runner.invoke(main, ["audit", "verify"], env=env)
        assert intact.exit_code == 0, intact.output
        assert "intact: 2 entries" in intact.output
        with stores.requests.engine.begin() as connection:
            connection.execute(sa.text("UPDATE audit_log SET actor = 'otro' WHERE seq = 1"))
    finally:
        stores.close()
    tampered = runner.invoke(main, ["audit", "verify"], env=env)
    assert tampered.exit_code == 1
    assert "entry 1 was altered" in tampered.output


def test_a_state_database_without_migrations_says_to_run_db_upgrade(
    runner: CliRunner, sqlite_url: str
) -> None:
    import sqlite3

    sqlite3.connect(sqlite_url.removeprefix("sqlite:///")).close()  # a file with no tables
    result = runner.invoke(main, ["audit", "verify"], env={"UGPP_BRIDGE_DATABASE_URL": sqlite_url})
    assert result.exit_code == 1
    assert result.output.startswith("StoreUnavailableError: ")
    assert "ugpp-bridge db upgrade" in result.output


def test_report_writes_validated_preview_lotes_and_stores_nothing(
    runner: CliRunner, source_url: str, tmp_path: Path
) -> None:
    assert (
        runner.invoke(
            main, ["source", "import", str(DATA / "source_csv"), "--url", source_url]
        ).exit_code
        == 0
    )
    out = tmp_path / "out"
    env = {
        "UGPP_BRIDGE_SOURCE_URL": source_url,
        "UGPP_BRIDGE_OPERATOR_NAME": "Banco de Ejemplo S.A.",
    }
    args = ["report", "--request", str(DATA / "wire" / "solicitud.xml"), "--out", str(out),
            "--generated-at", "2026-11-06T08:00:00-0500"]  # fmt: skip
    result = runner.invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    assert "Nothing was stored or sent" in result.output
    written = (out / "UGPP-2026-000451-1.xml").read_bytes()
    golden = (DATA / "wire" / "reporte.xml").read_text(encoding="utf-8")
    golden = golden.replace("UB-2026-000123-G1-L1", "SIN-RADICAR-G0-L1").replace(
        "UB-2026-000123", "SIN-RADICAR"
    )
    assert etree.canonicalize(written.decode(), strip_text=True) == etree.canonicalize(
        golden, strip_text=True, with_comments=False
    )
    again = runner.invoke(main, [*args[:-4], "--out", str(tmp_path / "again"), *args[-2:]], env=env)
    assert again.exit_code == 0, again.output
    assert (tmp_path / "again" / "UGPP-2026-000451-1.xml").read_bytes() == written


def test_report_loads_neither_the_state_side_nor_the_soap_stacks(
    runner: CliRunner, sqlite_url: str, tmp_path: Path
) -> None:
    # For a small request the command is mostly start-up: `report` imports what a preview
    # needs and nothing of the stores, the dashboard or the SOAP clients and servers.
    runner.invoke(main, ["source", "import", str(DATA / "source_csv"), "--url", sqlite_url])
    probe = (
        "import sys\n"
        "from ugpp_bridge.entrypoints.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('zeep', 'spyne', 'flask')\n"
        "               or m.startswith(('ugpp_bridge.adapters.state', 'ugpp_bridge.bootstrap.',\n"
        "                                'ugpp_bridge.service.evidence'))\n"
        "               or m in ('ugpp_bridge.bootstrap', 'ugpp_bridge.entrypoints.cli.core'))\n"
        "print('LOADED', heavy)\n"
    )
    env = {**os.environ, "UGPP_BRIDGE_SOURCE_URL": sqlite_url,
           "UGPP_BRIDGE_OPERATOR_NAME": "Banco de Ejemplo S.A."}  # fmt: skip
    args = ["report", "--request", str(DATA / "wire" / "solicitud.xml"), "--out",
            str(tmp_path / "out")]  # fmt: skip
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True,
                          timeout=120, env=env)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "LOADED []" in done.stdout, done.stdout
    assert (tmp_path / "out" / "UGPP-2026-000451-1.xml").exists()


def test_report_refuses_a_malformed_request_file(
    runner: CliRunner, sqlite_url: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text(
        (DATA / "wire" / "solicitud.xml").read_text().replace("<mes>2</mes>", "<mes>13</mes>")
    )
    result = runner.invoke(main, ["report", "--request", str(bad), "--out", str(tmp_path / "o")],
                           env={"UGPP_BRIDGE_SOURCE_URL": sqlite_url, "UGPP_BRIDGE_OPERATOR_NAME": "X"})  # fmt: skip
    assert result.exit_code == 1
    assert result.output.startswith("SchemaValidationError: ") and "mes" in result.output
    assert not (tmp_path / "o").exists()


def test_build_turns_a_stored_request_into_stored_lotes(
    runner: CliRunner, db_url: str, tmp_path: Path
) -> None:
    source_url = f"sqlite:///{tmp_path / 'bank.db'}"
    assert (
        runner.invoke(
            main, ["source", "import", str(DATA / "source_csv"), "--url", source_url]
        ).exit_code
        == 0
    )
    env = {"UGPP_BRIDGE_DATABASE_URL": db_url, "UGPP_BRIDGE_SOURCE_URL": source_url,
           "UGPP_BRIDGE_OPERATOR_NAME": "Banco de Ejemplo S.A.", "UGPP_BRIDGE_OPERATOR_NIT": "800197268"}  # fmt: skip
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    password = "una clave bien larga\n"
    added = runner.invoke(main, ["user", "add", "ana", "--role", "operator", "--password-stdin"],
                          input=password, env=env)  # fmt: skip
    assert added.exit_code == 0, added.output
    stores = state_stores(db_url)
    try:
        register_golden_request(stores)
        result = runner.invoke(main, ["build", "UGPP-2026-000451", "--as", "ana",
                                      "--password-stdin"], input=password, env=env)  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "UB-2026-000001: built, generation 1." in result.output
        (lote,) = stores.lotes.lotes(key_of(stores, "UB-2026-000001"))
        assert lote.record_count == 10
    finally:
        stores.close()
    missing = runner.invoke(main, ["build", "UB-1999-000001", "--as", "ana", "--password-stdin"],
                            input=password, env=env)  # fmt: skip
    assert missing.exit_code == 1 and missing.output.startswith("RequestNotFoundError: ")


def test_serve_answers_paso1_healthz_metrics_and_the_dashboard_login(
    runner: CliRunner, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "UGPP_BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",
        "UGPP_BRIDGE_OPERATOR_NIT": "800197268",
        "UGPP_BRIDGE_INBOUND_USERNAME": "ugpp",
        "UGPP_BRIDGE_INBOUND_PASSWORD": "clave-secreta",
        "UGPP_BRIDGE_HOST": "127.0.0.1",
        "UGPP_BRIDGE_PORT": str(port),
        "UGPP_BRIDGE_SESSION_SECRET": "a-test-secret-of-enough-length-for-it",
    }
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "ugpp_bridge", "serve", "--no-scheduler"],
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):  # bounded wait for start-up, 15 s at most
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise AssertionError((tmp_path / "serve.log").read_text())
        args = [
            "ugpp-sim",
            "send-request",
            str(DATA / "wire" / "solicitud.xml"),
            "--url",
            f"{base}/soap/solicitudes",
        ]
        sent = runner.invoke(main, args, env=env)
        assert sent.exit_code == 0, sent.output
        assert "status: RECIBIDA" in sent.output and "due_date: 2026-12-07" in sent.output
        refused = runner.invoke(main, [*args, "--password", "otra"], env=env)
        assert refused.exit_code == 1
        assert refused.output.startswith("RemoteFaultError: NoAutorizado:")
        login = requests.get(f"{base}/solicitudes", timeout=5)
        assert login.url.endswith("/login?next=/solicitudes") and "Iniciar sesión" in login.text
        metrics = requests.get(f"{base}/metrics", timeout=5).text
        assert 'ugpp_bridge_requests{state="received"} 1.0' in metrics
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_user_add_reads_the_password_from_stdin_and_refuses_a_duplicate(
    runner: CliRunner, sqlite_url: str
) -> None:
    env = {"UGPP_BRIDGE_DATABASE_URL": sqlite_url}
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    args = ["user", "add", "ana", "--role", "operator", "--password-stdin"]
    added = runner.invoke(main, args, env=env, input="una clave bien larga\n")
    assert added.exit_code == 0 and "Dashboard account 'ana' (operator) saved." in added.output
    again = runner.invoke(main, args, env=env, input="una clave bien larga\n")
    assert again.exit_code == 1 and again.output.startswith("UserExistsError: ")
    short = runner.invoke(
        main,
        ["user", "add", "vera", "--role", "viewer", "--password-stdin"],
        env=env,
        input="corta\n",
    )
    assert short.exit_code == 1 and short.output.startswith(
        "InvalidInputError: The password must have"
    )
    stores = state_stores(sqlite_url)
    try:
        assert stores.users.authenticate("ana", "una clave bien larga") is not None
    finally:
        stores.close()


def test_worker_refuses_to_start_without_its_settings_or_migrations(
    runner: CliRunner, sqlite_url: str, tmp_path: Path
) -> None:
    import sqlite3

    env = {"UGPP_BRIDGE_DATABASE_URL": sqlite_url}
    result = runner.invoke(main, ["worker", "--once"], env=env)
    assert result.exit_code == 1
    assert result.output.startswith("ConfigurationError: 7 setting(s) missing")
    assert "UGPP_BRIDGE_SOURCE_URL: to build" in result.output
    sqlite3.connect(sqlite_url.removeprefix("sqlite:///")).close()
    env = bridge_env(sqlite_url, f"sqlite:///{tmp_path / 'bank.db'}", "http://127.0.0.1:9")
    unmigrated = runner.invoke(main, ["worker", "--once"], env=env)
    assert unmigrated.exit_code == 1 and "run `ugpp-bridge db upgrade` first" in unmigrated.output


def test_demo_keep_running_leaves_the_dashboard_up_with_a_login_until_interrupted(
    tmp_path: Path,
) -> None:
    import re
    import selectors

    demo = subprocess.Popen([sys.executable, "-m", "ugpp_bridge", "demo", "--persons", "20", "--keep-running"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    assert demo.stdout is not None
    output, found = b"", None
    selector = selectors.DefaultSelector()
    selector.register(demo.stdout, selectors.EVENT_READ)
    try:
        deadline = time.monotonic() + 90  # bounded
        while found is None and time.monotonic() < deadline:
            if not selector.select(timeout=1):  # nothing to read yet: never block on read1
                continue
            chunk = demo.stdout.read1(65536)
            if not chunk:
                break
            output += chunk
            found = re.search(
                rb"Escritorio: (http://127\.0\.0\.1:\d+)/solicitudes.*?Ingreso: demo / (\S+)",
                output,
                re.S,
            )
        assert found, output.decode(errors="replace")
        base, password = found.group(1).decode(), found.group(2).decode()
        session = requests.Session()
        token = re.search(
            r'name="csrf_token" value="([^"]+)"', session.get(f"{base}/login", timeout=5).text
        )
        assert token
        session.post(
            f"{base}/login",
            data={"usuario": "demo", "clave": password, "csrf_token": token.group(1)},
            timeout=5,
        )
        (item,) = session.get(f"{base}/api/solicitudes", timeout=5).json()["solicitudes"]
        assert item["state"] == "sent" and item["lotes_acknowledged"] == item["lotes"] >= 1
    finally:
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=30) == 0
        selector.close()
        demo.stdout.close()


def test_an_ambiguous_id_is_refused_by_the_cli_and_a_prefix_picks_one(
    runner: CliRunner, sqlite_url: str
) -> None:
    env = {"UGPP_BRIDGE_DATABASE_URL": sqlite_url}
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    stores = state_stores(sqlite_url)
    try:
        first = register_golden_request(stores)
        twin = replace(
            parse_solicitud((DATA / "wire" / "solicitud.xml").read_bytes()), request_id=first
        )
        stores.requests.register(twin, received_at=datetime(2026, 11, 6, tzinfo=UTC),
                                 due_date=date(2026, 12, 9), actor="test")  # fmt: skip
    finally:
        stores.close()
    refused = runner.invoke(main, ["show", first], env=env)
    assert refused.exit_code == 1 and refused.output.startswith("AmbiguousIdentifierError: ")
    assert "UB-2026-000002" in refused.output and f"radicado:{first}" in refused.output
    shown = runner.invoke(main, ["show", f"solicitud:{first}"], env=env)
    assert shown.exit_code == 0 and "UB-2026-000002" in shown.output
    shown = runner.invoke(main, ["show", f"radicado:{first}"], env=env)
    assert shown.exit_code == 0 and "UGPP-2026-000451" in shown.output
