"""Evidence an auditor can verify without us (SPEC §9): a request received over SOAP, sent
through a 500, corrected after a source change, the correction refused by a Client fault, one
attempt left unknown by a "crash" — then the bundle exported, signed, read back as a PDF, and
checked offline by ``evidence verify``: it passes as exported and fails, naming the file, when
any byte of any file, an audit entry or the signature is changed or a file is removed; with
``--source`` it passes on the data it was built from and fails after a row changes.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfReader

from tests.conftest import DATA, bridge_env, change_source
from tests.integration.test_paso1 import SETTINGS, envelope, serving
from ugpp_bridge.bootstrap import state_stores
from ugpp_bridge.domain.filing import PreparedCall
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.entrypoints.cli import main
from ugpp_bridge.entrypoints.ugpp_sim import Faults, SimulatorConfig, UgppSimulator, make_server

REQUEST_ID = "UGPP-2026-000451"


@dataclass
class Scene:
    env: dict[str, str]
    bundle: Path
    certificate: Path
    filing: str
    source_url: str
    tmp: Path


def signing_key(path: Path) -> Path:
    key = Ed25519PrivateKey.generate()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))  # fmt: skip
    return path


def run(env: dict[str, str], *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def scene(tmp_path: Path, db_url: str) -> Iterator[Scene]:
    simulator = UgppSimulator(SimulatorConfig(faults=Faults(http_500=1)))
    ugpp = make_server(simulator)
    threading.Thread(target=ugpp.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{ugpp.server_address[1]}"
    source_url = f"sqlite:///{tmp_path / 'bank.db'}"
    key = str(signing_key(tmp_path / "firma.pem"))
    env = bridge_env(db_url, source_url, base, send_max_attempts="3", signing_key=key)
    try:
        run(env, "source", "import", str(DATA / "source_csv"))
        run(env, "db", "upgrade")
        stores = state_stores(db_url)
        try:
            for server in serving(stores, SETTINGS):  # Paso 1 as UGPP calls it
                message = envelope((DATA / "wire" / "solicitud.xml").read_bytes())
                answer = requests.post(server.url, data=message, timeout=30,
                                       headers={"Content-Type": "text/xml; charset=utf-8"})  # fmt: skip
                assert answer.status_code == 200, answer.text
            filing = stores.requests.find(REQUEST_ID).filing_number
            run(env, "build", filing)
            run(env, "send", filing)  # lote 1 meets a 500 first, then all are acknowledged
            # the entity finds an error
            change_source(source_url, "UPDATE transactions SET amount = amount * 2")
            run(env, "build", filing)  # a correction
            simulator.config.faults.client_fault = 1
            run(env, "send", filing, code=4)  # UGPP refuses the correction's first lote
            stored = stores.requests.find(filing)
            lote = stores.lotes.lotes(stored.key)[1]
            carried = lote.xml.split(b"?>", 1)[1]
            crashed = PreparedCall(
                f"{base}/ugpp/reporte",
                b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
                b"<soapenv:Header/><soapenv:Body>"
                + carried
                + b"</soapenv:Body></soapenv:Envelope>",
                {},
            )
            # a worker killed during its call leaves the attempt begun and never finished
            stores.lotes.begin_attempt(lote.submission_id, crashed, started_at=datetime.now(UTC),
                                       actor="test")  # fmt: skip
        finally:
            stores.close()
        bundle, certificate = tmp_path / "evidencia.zip", tmp_path / "constancia.pdf"
        output = run(
            env, "evidence", filing, "--out", str(bundle), "--certificate", str(certificate)
        )
        assert "Evidence bundle" in output and "Certificate" in output
        yield Scene(env, bundle, certificate, filing, source_url, tmp_path)
    finally:
        ugpp.shutdown()
        ugpp.server_close()


def verify(scene: Scene, bundle: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["evidence", "verify", str(bundle), *extra], env=scene.env)
    return result.exit_code, " ".join(result.output.split())


def rewritten(scene: Scene, name: str, change: object) -> Path:
    """A copy of the bundle with one file changed (``change(bytes) → bytes``) or removed."""
    target = scene.tmp / f"alterado-{len(list(scene.tmp.glob('alterado-*')))}.zip"
    with zipfile.ZipFile(scene.bundle) as source, zipfile.ZipFile(target, "w") as copy:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == name:
                if change is None:
                    continue
                data = change(data)  # type: ignore[operator]
            copy.writestr(info, data)
    return target


def flip(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]


def names(scene: Scene) -> list[str]:
    with zipfile.ZipFile(scene.bundle) as bundle:
        return bundle.namelist()


def test_a_fresh_bundle_verifies_offline_and_holds_what_happened(scene: Scene) -> None:
    code, output = verify(scene, scene.bundle)
    assert code == 0, output
    assert "VERIFICADO" in output and "Firmado con la clave de huella" in output
    with zipfile.ZipFile(scene.bundle) as bundle:
        listed = bundle.namelist()
        attempts = json.loads(bundle.read("envios.json"))
        corrections = json.loads(bundle.read("correcciones.json"))
        received = bundle.read("paso1/01-solicitud-ugpp.xml")
        answered = bundle.read("paso1/01-acuse-solicitud.xml")
        request = json.loads(bundle.read("solicitud.json"))
        times = {info.filename: info.date_time for info in bundle.infolist()}
    assert REQUEST_ID.encode() in received and b"RECIBIDA" in answered
    outcomes = [a["resultado"] for a in attempts]
    assert "Error HTTP del servicio de la UGPP" in outcomes  # the 500
    assert "Rechazado por la UGPP (error en los datos)" in outcomes  # the Client fault
    assert "Desconocido: el proceso se detuvo durante el envío" in outcomes  # the crash
    assert corrections and corrections[0]["diferencias"]["resumen"]["cambiados"] > 0
    assert request["fechaRecepcion"].endswith("-05:00")
    assert {"sello.json", "sello.firma", "clave-publica.pem", "constancia.pdf"} <= set(listed)
    received_at = datetime.fromisoformat(request["fechaRecepcion"]).replace(tzinfo=None)
    entry_time = datetime(*times["paso1/01-solicitud-ugpp.xml"])  # zip times: Bogotá, 2 s steps
    assert abs((entry_time - received_at).total_seconds()) <= 2


def test_the_certificate_reads_back_with_radicado_deadline_and_verdict(scene: Scene) -> None:
    with zipfile.ZipFile(scene.bundle) as bundle:
        inside = bundle.read("constancia.pdf")
        manifest = bundle.read("manifiesto.json")
    for pdf in (inside, scene.certificate.read_bytes()):
        text = " ".join(
            " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split()
        )
        assert "Constancia de atención de la solicitud" in text
        assert scene.filing in text and REQUEST_ID in text and "NIT 800.197.268-4" in text
        assert "Vence 07/12/2026" in text
        assert "ENTREGADA" in text or "VENCIDA" in text or "PENDIENTE" in text
        assert "Firmado" in text or "firmado" in text
    import hashlib

    assert hashlib.sha256(manifest).hexdigest().encode() in inside


@pytest.mark.parametrize("change", ["flip", "remove"])
def test_changing_or_removing_any_file_fails_naming_it(scene: Scene, change: str) -> None:
    for name in names(scene):
        altered = rewritten(scene, name, flip if change == "flip" else None)
        code, output = verify(scene, altered)
        assert code == 1, f"{change} {name}: {output}"
        assert "NO VERIFICADO" in output and name in output, f"{change} {name}: {output}"


def test_an_altered_or_removed_audit_entry_breaks_the_chain(scene: Scene) -> None:
    def alter(data: bytes) -> bytes:
        audit = json.loads(data)
        audit["entradas"][1]["actor"] = "otra persona"
        return json.dumps(audit).encode()

    def remove(data: bytes) -> bytes:
        audit = json.loads(data)
        del audit["entradas"][1]
        return json.dumps(audit).encode()

    _, altered = verify(scene, rewritten(scene, "auditoria.json", alter))
    assert "auditoria.json" in altered and "fue alterada" in altered
    _, removed = verify(scene, rewritten(scene, "auditoria.json", remove))
    assert "auditoria.json" in removed and "faltan las entradas" in removed


def test_a_signature_by_another_key_or_none_at_all_fails(scene: Scene) -> None:
    other = Ed25519PrivateKey.generate()
    with zipfile.ZipFile(scene.bundle) as bundle:
        seal = bundle.read("sello.json")
    forged = rewritten(scene, "sello.firma", lambda _: base64.b64encode(other.sign(seal)))
    code, output = verify(scene, forged)
    assert code == 1 and "sello.firma" in output and "no corresponde" in output
    code, output = verify(scene, rewritten(scene, "sello.firma", None))
    assert code == 1 and "la firma no está" in output


def test_with_the_source_it_rebuilds_the_same_lotes_until_a_row_changes(scene: Scene) -> None:
    code, output = verify(scene, scene.bundle, "--source", scene.source_url)
    assert code == 0, output
    assert "reconstruidos desde el origen con el mismo SHA-256" in output
    change_source(scene.source_url,
                  "UPDATE transactions SET amount = amount + 1 WHERE account_id = 'A1'")  # fmt: skip
    code, output = verify(scene, scene.bundle, "--source", scene.source_url)
    assert code == 1 and "los datos cambiaron desde la construcción" in output
    assert f"lotes/{scene.filing}-G2-L1.xml" in output


def test_a_file_that_is_not_a_bundle_is_refused_in_one_line(scene: Scene) -> None:
    junk = scene.tmp / "no-es-zip.zip"
    junk.write_bytes(b"hola")
    result = CliRunner().invoke(main, ["evidence", "verify", str(junk)], env=scene.env)
    assert result.exit_code == 1 and result.output.startswith("BundleUnreadableError: ")


def test_an_unchanged_rebuild_keeps_the_acknowledged_lotes_and_sends_no_correction(
    tmp_path: Path, sqlite_url: str
) -> None:
    simulator = UgppSimulator(SimulatorConfig())
    ugpp = make_server(simulator)
    threading.Thread(target=ugpp.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{ugpp.server_address[1]}"
    env = bridge_env(sqlite_url, f"sqlite:///{tmp_path / 'bank.db'}", base)
    try:
        run(env, "source", "import", str(DATA / "source_csv"))
        run(env, "db", "upgrade")
        from tests.conftest import register_golden_request

        stores = state_stores(sqlite_url)
        try:
            filing = register_golden_request(stores)
            run(env, "build", filing)
            run(env, "send", filing)
            posts = simulator.posts
            run(env, "build", filing)  # nothing changed in the source
            stored = stores.requests.find(filing)
            assert (stored.state, stored.generation) == (RequestState.SENT, 1)
            assert stores.lotes.corrections(stored.key) == []
            run(env, "send", filing)
            assert simulator.posts == posts  # nothing went to UGPP
            trail = [e.action for e in stores.audit.audit_trail(filing)]
            assert "request.rebuild_unchanged" in trail
            change_source(
                env["UGPP_BRIDGE_SOURCE_URL"], "UPDATE transactions SET amount = amount * 2"
            )
            run(env, "build", filing)  # now a correction, numbered after every build so far
            stored = stores.requests.find(filing)
            assert stored.generation == 3 and stores.lotes.corrections(stored.key)
            builds = stores.builds.builds(stored.key)
            assert [(b.generation, b.kept_generation) for b in builds] == [(1, None), (2, 1),
                                                                         (3, None)]  # fmt: skip
        finally:
            stores.close()
    finally:
        ugpp.shutdown()
        ugpp.server_close()


def test_report_with_a_fixed_generation_time_gives_the_same_bytes(tmp_path: Path) -> None:
    env = {"UGPP_BRIDGE_SOURCE_URL": f"sqlite:///{tmp_path / 'bank.db'}",
           "UGPP_BRIDGE_OPERATOR_NIT": "800197268", "UGPP_BRIDGE_OPERATOR_NAME": "Banco de Ejemplo S.A.",
           "UGPP_BRIDGE_LOTE_MAX_RECORDS": "4"}  # fmt: skip
    run(env, "source", "import", str(DATA / "source_csv"))
    outputs = []
    for n in range(2):
        out = tmp_path / f"out{n}"
        run(env, "report", "--request", str(DATA / "wire" / "solicitud.xml"), "--out", str(out),
            "--generated-at", "2026-11-06T08:00:00-0500")  # fmt: skip
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] and outputs[0] == outputs[1]
