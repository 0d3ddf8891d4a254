"""The whole job through a wire profile alone (SPEC §10), on an annex unlike v1 that the tests
wrote (``tests/data/profiles/anexo-prueba``): Paso 1 in the annex's shape over SOAP 1.1 →
build → an officer approves → send over SOAP 1.2 with a UsernameToken to the stand-in speaking
the profile → acknowledged → evidence that names the profile and verifies, from the source too.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from lxml import etree
from stdnum.co import nit

from tests.conftest import DATA, bridge_env, standin_process
from tests.integration.test_paso1 import serving
from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.adapters.soap.paso1_client import send_profile_request
from ugpp_bridge.adapters.soap.profile import load_profile
from ugpp_bridge.bootstrap import state_stores
from ugpp_bridge.config import load_settings
from ugpp_bridge.domain.lifecycle import LoteState, RequestState
from ugpp_bridge.entrypoints.cli import main

PROFILE = DATA / "profiles" / "anexo-prueba"
ANNEX = "urn:anexo-prueba:entrega:2019"
PETICION = "urn:anexo-prueba:peticion:2019"
INBOUND_USER, INBOUND_PASSWORD = "ugpp-cliente", "clave-de-prueba-123"
OFFICER_PASSWORD = "una clave bien larga"


@pytest.fixture
def ugpp(tmp_path: Path) -> Iterator[str]:
    """The stand-in speaking the profile's Paso 2, WS-Security on; its base URL."""
    with standin_process(tmp_path / "sim.log", "--auth", "wsse", "--profile", str(PROFILE)) as base:
        yield base


@pytest.fixture
def env(tmp_path: Path, sqlite_url: str, ugpp: str) -> dict[str, str]:
    environment = bridge_env(
        sqlite_url, f"sqlite:///{tmp_path / 'bank.db'}", ugpp,
        wire_profile=str(PROFILE), ugpp_auth="wsse", require_approval="true",
        inbound_username=INBOUND_USER, inbound_password=INBOUND_PASSWORD,
    )  # fmt: skip
    runner = CliRunner()
    imported = runner.invoke(main, ["source", "import", str(DATA / "source_csv")], env=environment)
    assert imported.exit_code == 0, imported.output
    assert runner.invoke(main, ["db", "upgrade"], env=environment).exit_code == 0
    for name, role in (("olga", "officer"), ("ana", "operator")):
        added = runner.invoke(main, ["user", "add", name, "--role", role, "--password-stdin"],
                              input=OFFICER_PASSWORD + "\n", env=environment)  # fmt: skip
        assert added.exit_code == 0, added.output
    return environment


def annex_request() -> etree._Element:
    """The golden request in the annex's shape (the profile's own simulator transform)."""
    profile = load_profile(PROFILE)
    assert profile.simulator_request is not None
    v1 = etree.parse(str(DATA / "wire" / "solicitud.xml"), wire.secure_parser()).getroot()
    return profile.simulator_request(v1)


def test_a_second_annex_runs_end_to_end_through_a_profile_alone(
    env: dict[str, str], tmp_path: Path
) -> None:
    settings = load_settings(env, None)
    stores = state_stores(env["UGPP_BRIDGE_DATABASE_URL"])
    try:
        # Paso 1: UGPP sends the annex's PeticionInformacion; the receipt is the annex's.
        served = serving(stores, settings)
        server = next(served)
        try:
            wsdl = requests.get(f"{server.url}?wsdl", timeout=10).content
            assert PETICION.encode() in wsdl and b"?xsd=peticion.xsd" in wsdl
            included = requests.get(f"{server.url}?xsd=tipos/comunes.xsd", timeout=10)
            assert included.status_code == 200 and b"NitConDv" in included.content
            answer = send_profile_request(
                server.url, annex_request(), username=INBOUND_USER, password=INBOUND_PASSWORD
            )
            again = send_profile_request(
                server.url, annex_request(), username=INBOUND_USER, password=INBOUND_PASSWORD
            )
        finally:
            next(served, None)
        assert answer.tag == f"{{{PETICION}}}RespuestaPeticion"
        assert answer.get("estado") == "RECIBIDA" and answer.get("personas") == "3"
        assert again.get("estado") == "REPETIDA" and again.get("radicado") == answer.get("radicado")
        filing = answer.get("radicado")
        assert filing is not None
        stored = stores.requests.find(filing)
        assert stored.request.request_id == "UGPP-2026-000451"
        assert stored.request.operator_nit == "800197268"
    finally:
        stores.close()

    runner = CliRunner()
    built = runner.invoke(main, ["build", filing, "--as", "ana", "--password-stdin"],
                          input=OFFICER_PASSWORD + "\n", env=env)  # fmt: skip
    assert built.exit_code == 0, built.output
    approved = runner.invoke(main, ["approve", filing, "--as", "olga", "--password-stdin"],
                             input=OFFICER_PASSWORD + "\n", env=env)  # fmt: skip
    assert approved.exit_code == 0, approved.output
    sent = runner.invoke(main, ["send", filing], env=env)
    assert sent.exit_code == 0, sent.output

    stores = state_stores(env["UGPP_BRIDGE_DATABASE_URL"])
    try:
        key = stores.requests.find(filing).key
        assert stores.requests.get(key).state is RequestState.SENT
        lotes = stores.lotes.lotes(key)
        attempts = stores.lotes.attempts(key)
    finally:
        stores.close()
    assert lotes and all(lote.state is LoteState.ACKNOWLEDGED for lote in lotes)
    assert [lote.ugpp_filing_number for lote in lotes] == [
        f"UGPP-R-{n:06d}" for n in range(1, len(lotes) + 1)
    ]
    for lote in lotes:
        document = etree.fromstring(lote.xml, wire.secure_parser())
        assert document.tag == f"{{{ANNEX}}}EntregaInformacion"  # what was stored and sent
        assert lote.canonical is not None and b"urn:ugpp-bridge:reporte:v1" in lote.canonical
    call = etree.fromstring(attempts[0].request_bytes, wire.secure_parser())
    assert call.tag == f"{{{wire.SOAP12_ENV}}}Envelope"
    assert b"UsernameToken" in attempts[0].request_bytes

    bundle = tmp_path / "evidencia.zip"
    exported = runner.invoke(main, ["evidence", filing, "--out", str(bundle)], env=env)
    assert exported.exit_code == 0, exported.output
    with zipfile.ZipFile(bundle) as archive:
        builds = archive.read("construcciones.json").decode()
    assert '"nombre": "anexo-prueba"' in builds and "entrega-desde-v1.xsl" in builds
    verified = runner.invoke(
        main, ["evidence", "verify", str(bundle), "--source", env["UGPP_BRIDGE_SOURCE_URL"]],
        env=env,
    )  # fmt: skip
    assert verified.exit_code == 0, verified.output
    assert "perfil de intercambio anexo-prueba 2019-10" in " ".join(verified.output.split())
    assert "reconstruidos desde el origen con el mismo" in " ".join(verified.output.split())

    # Verified under another profile, the bundle names the files that differ.
    other = {**env, "UGPP_BRIDGE_WIRE_PROFILE": "v1"}
    wrong = runner.invoke(main, ["evidence", "verify", str(bundle)], env=other)
    assert wrong.exit_code == 1
    said = " ".join(wrong.output.split())
    assert "no es el configurado (v1 1.0)" in said and "entrega-desde-v1.xsl" in said


def test_the_annex_lotes_group_records_by_person_in_the_request_order(
    env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "lotes"
    request = tmp_path / "peticion.xml"
    request.write_bytes(etree.tostring(annex_request()))
    made = CliRunner().invoke(
        main, ["report", "--request", str(request), "--out", str(out),
               "--generated-at", "2026-11-06T08:00:00-05:00"], env=env,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    holders: list[tuple[str | None, str | None]] = []
    for path in sorted(out.glob("*.xml")):
        root = etree.parse(str(path), wire.secure_parser()).getroot()
        control = root.find(f"{{{ANNEX}}}Control")
        assert (
            control is not None
            and control.get("entidad") == f"800197268-{nit.calc_check_digit('800197268')}"
        )
        for holder in root.iterfind(f"{{{ANNEX}}}Titular"):
            holders.append((holder.get("tipoId"), holder.get("id")))
            for cuenta in holder.iterfind(f"{{{ANNEX}}}Cuenta"):
                assert cuenta.get("periodo") in ("202501", "202502")
    # Each person in the request's order, under the annex's codes: CC 13, PT 48, RC 11.
    assert list(dict.fromkeys(holders)) == [("13", "52123456"), ("48", "7788990"), ("11", "1234")]
    same = CliRunner().invoke(
        main, ["report", "--request", str(request), "--out", str(tmp_path / "again"),
               "--generated-at", "2026-11-06T08:00:00-05:00"], env=env,
    )  # fmt: skip
    assert same.exit_code == 0, same.output
    for path in out.glob("*.xml"):  # same request, data, time and profile → same bytes
        assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes()
    assert (out / ".v1").is_dir()  # the canonical lotes they were made from, beside them


def test_the_v1_demo_request_and_the_annex_give_the_same_records(
    env: dict[str, str], tmp_path: Path
) -> None:
    """The annex's document carries every v1 record: counted per kind, the two agree."""
    out = tmp_path / "lotes"
    request = tmp_path / "peticion.xml"
    request.write_bytes(etree.tostring(annex_request()))
    made = CliRunner().invoke(
        main, ["report", "--request", str(request), "--out", str(out)], env=env
    )
    assert made.exit_code == 0, made.output
    annex = v1 = 0
    for path in out.glob("*.xml"):
        root = etree.parse(str(path), wire.secure_parser()).getroot()
        annex += sum(1 for _ in root.iter(f"{{{ANNEX}}}Cuenta", f"{{{ANNEX}}}Titulo",
                                          f"{{{ANNEX}}}Rendimiento"))  # fmt: skip
        annex += sum(1 for t in root.iter(f"{{{ANNEX}}}Titular") if t.get("sinInformacion"))
        canonical = etree.parse(str(out / ".v1" / path.name), wire.secure_parser()).getroot()
        v1 += sum(len(section) for section in list(canonical)[1:])
    assert annex == v1 > 0


def test_demo_runs_the_whole_job_in_the_profile(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["demo", "--persons", "20", "--profile", str(PROFILE)],
        env={"UGPP_BRIDGE_SOURCE_URL": None},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = " ".join(result.output.replace("│", " ").split())
    assert "→ RECIBIDA, radicado UB-" in summary and "estado «Entregada»" in summary
    assert "Formato de intercambio: anexo-prueba 2019-10" in summary
    evidence = Path(summary.split("Paquete de evidencia: ")[1].split()[0])
    with zipfile.ZipFile(evidence) as bundle:
        lotes = [n for n in bundle.namelist() if n.startswith("lotes/") and n.endswith(".xml")]
        request = bundle.read("paso1/01-solicitud-ugpp.xml")
        assert PETICION.encode() in request  # UGPP's call came in the annex's shape
        for name in lotes:
            document = etree.fromstring(bundle.read(name), wire.secure_parser())
            load_profile(PROFILE).paso2.schemas.validate(document)


def test_ugpp_sim_send_request_speaks_the_profile(env: dict[str, str]) -> None:
    settings = load_settings(env, None)
    stores = state_stores(env["UGPP_BRIDGE_DATABASE_URL"])
    served = serving(stores, settings)
    server = next(served)
    try:
        sent = CliRunner().invoke(
            main, ["ugpp-sim", "send-request", "--profile", str(PROFILE), "--url", server.url,
                   "--username", INBOUND_USER, "--password", INBOUND_PASSWORD,
                   str(DATA / "wire" / "solicitud.xml")],
        )  # fmt: skip
    finally:
        next(served, None)
        stores.close()
    assert sent.exit_code == 0, sent.output
    assert "RespuestaPeticion" in sent.output and 'estado="RECIBIDA"' in sent.output
