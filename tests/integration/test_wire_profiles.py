"""Wire profiles (SPEC §10): v1 byte-equal through the generic path, broken profiles named in
Spanish with their file, Paso 1 and Paso 2 outcomes under a profile."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from lxml import etree

from tests.conftest import DATA, register_golden_request
from tests.integration.test_paso1 import SETTINGS, envelope, serving
from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.adapters.soap.profile import (
    ProfileError,
    TransformTerminated,
    forget_loaded,
    load_profile,
)
from ugpp_bridge.adapters.soap.profile_check import FAIL, Step, check_profile
from ugpp_bridge.adapters.soap.xml_lotes import LxmlLoteWriter, ProfileLoteWriter
from ugpp_bridge.adapters.soap.zeep_gateway import (
    GatewaySettings,
    ZeepUgppGateway,
    _terminated_outcome,
)
from ugpp_bridge.adapters.source.csv_import import import_csv_directory
from ugpp_bridge.adapters.source.engines import make_engine
from ugpp_bridge.adapters.source.report_source import SqlAlchemyReportSource
from ugpp_bridge.adapters.source.sql import SqlAlchemySource
from ugpp_bridge.bootstrap import StateStores, source_for
from ugpp_bridge.config import Settings
from ugpp_bridge.domain.filing import AttemptOutcome
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.entrypoints.cli import main
from ugpp_bridge.entrypoints.cli.wire import sample_lotes
from ugpp_bridge.entrypoints.demo import check_request, sample_persons
from ugpp_bridge.entrypoints.ugpp_sim import SimulatorConfig, UgppSimulator, make_server
from ugpp_bridge.errors import SchemaValidationError
from ugpp_bridge.service.build import BuildOptions, build_request, preview_lotes
from ugpp_bridge.service.ports import LoteWriter
from ugpp_bridge.service.sample_bank import DEFAULT_SAMPLE_YEAR, sample_bank

ANNEX = DATA / "profiles" / "anexo-prueba"
GENERATED = datetime(2026, 11, 6, 13, tzinfo=UTC)


@pytest.fixture
def annex(tmp_path: Path) -> Iterator[Path]:
    """A copy of the second annex, to break one file at a time."""
    folder = tmp_path / "anexo"
    shutil.copytree(ANNEX, folder)
    forget_loaded()
    yield folder
    forget_loaded()


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


# -- v1: the generic path gives today's bytes ------------------------------------------------


@pytest.fixture
def bank(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'banco.db'}"
    with source_for(url) as written:
        written.write(list(sample_bank(30, 11, DEFAULT_SAMPLE_YEAR)))
    return url


def lotes_with(writer: LoteWriter, url: str, out: Path) -> list[bytes]:
    parts = list(sample_bank(30, 11, DEFAULT_SAMPLE_YEAR))
    # The demo's request names itself after the clock's second: fixed here, so two builds
    # a second apart are the same request.
    request = replace(check_request(None, SETTINGS, sample_persons(parts)), request_id="PERFIL-1")
    options = BuildOptions("800197268", "Banco de Ejemplo S.A.", 7, 12)
    source = SqlAlchemyReportSource(make_engine(url))
    try:
        written = preview_lotes(request, source=source, writer=writer, options=options,
                                out_dir=out, generated_at=GENERATED)  # fmt: skip
    finally:
        source.close()
    return [lote.path.read_bytes() for lote in written]


def test_v1_through_the_generic_profile_path_is_byte_equal_to_its_own_writer(
    bank: str, tmp_path: Path
) -> None:
    own = lotes_with(LxmlLoteWriter(), bank, tmp_path / "own")
    generic = lotes_with(ProfileLoteWriter(load_profile("v1")), bank, tmp_path / "generic")
    assert len(own) > 3
    assert generic == own


# -- broken profiles: a Spanish message naming the file --------------------------------------


def load_error(folder: Path) -> ProfileError:
    forget_loaded()
    with pytest.raises(ProfileError) as caught:
        load_profile(folder)
    return caught.value


def test_an_xslt_that_does_not_compile_is_named_with_its_line(annex: Path) -> None:
    replace_in(annex / "constancia-a-v1.xsl", '<xsl:param name="idEnvio"/>',
               '<xsl:param name="idEnvio"/><xsl:no-existe/>')  # fmt: skip
    error = load_error(annex)
    assert error.file == "constancia-a-v1.xsl"
    assert "no compila" in error.text and "mensaje" in error.text
    assert "Perfil de intercambio, constancia-a-v1.xsl" in str(error)


def test_an_xpath_libxml2_would_only_fail_at_run_time_is_named(annex: Path) -> None:
    replace_in(annex / "constancia-desde-v1.xsl", 'select="r:radicadoUGPP"',
               'select="r:radicadoUGPP["')  # fmt: skip
    error = load_error(annex)
    assert error.file == "constancia-desde-v1.xsl" and error.line is not None
    assert "XPath" in error.text


def test_an_include_reaching_outside_the_folder_is_refused(annex: Path, tmp_path: Path) -> None:
    (tmp_path / "fuera.xsl").write_text(
        '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>'
    )
    replace_in(annex / "entrega-desde-v1.xsl", '<xsl:include href="codigos.xsl"/>',
               '<xsl:include href="codigos.xsl"/><xsl:include href="../fuera.xsl"/>')  # fmt: skip
    error = load_error(annex)
    assert error.file == "entrega-desde-v1.xsl"
    assert "fuera de la carpeta del perfil" in error.text


def test_a_schema_include_reaching_outside_the_folder_is_refused(annex: Path) -> None:
    replace_in(annex / "entrega.xsd", 'schemaLocation="tipos/comunes.xsd"',
               'schemaLocation="/etc/comunes.xsd"')  # fmt: skip
    error = load_error(annex)
    assert error.file == "entrega.xsd" and "fuera de la carpeta" in error.text


def test_document_reaching_outside_the_folder_is_refused_naming_the_transform(
    annex: Path,
) -> None:
    replace_in(annex / "constancia-a-v1.xsl", "<r:AcuseReporte>",
               "<r:AcuseReporte><xsl:copy-of select=\"document('/etc/hostname')\"/>")  # fmt: skip
    profile = load_profile(annex)
    assert profile.paso2.ack is not None
    constancia = etree.parse(str(annex / "ejemplo-constancia.xml")).getroot()
    with pytest.raises(ProfileError) as caught:
        profile.paso2.ack(constancia, idSolicitud="X", idEnvio="X-1", numeroLote="1",
                          totalRegistros="1")  # fmt: skip
    assert caught.value.file == "constancia-a-v1.xsl"
    assert "/etc/hostname, fuera de la carpeta del perfil" in caught.value.text


def test_a_lookup_table_inside_the_stylesheet_or_the_folder_can_be_read(annex: Path) -> None:
    """``document('')`` (a table inside the stylesheet) and a file of the profile are the
    profile's own data; the network stays out of reach."""
    (annex / "tabla.xml").write_text('<t><fila clave="ACEPTADO">aceptado</fila></t>')
    replace_in(annex / "constancia-a-v1.xsl", "<r:AcuseReporte>",
               "<r:AcuseReporte><r:propio><xsl:value-of select=\"document('')/*/@version\"/>"
               "</r:propio><r:tabla><xsl:value-of select=\"document('tabla.xml')/t/fila\"/>"
               "</r:tabla>")  # fmt: skip
    profile = load_profile(annex)
    assert profile.paso2.ack is not None
    constancia = etree.parse(str(annex / "ejemplo-constancia.xml")).getroot()
    acuse = profile.paso2.ack(constancia, idSolicitud="X", idEnvio="X-1", numeroLote="1",
                              totalRegistros="1")  # fmt: skip
    read = wire.read_acuse_element(acuse)
    assert read is not None and read.radicado == "CR-2026-000001"
    assert acuse.findtext(f"{{{wire.REPORTE_NS}}}propio") == "1.0"
    assert acuse.findtext(f"{{{wire.REPORTE_NS}}}tabla") == "aceptado"
    replace_in(annex / "constancia-a-v1.xsl", "document('tabla.xml')",
               "document('http://127.0.0.1:9/tabla.xml')")  # fmt: skip
    forget_loaded()
    networked = load_profile(annex)
    assert networked.paso2.ack is not None
    with pytest.raises(ProfileError) as caught:
        networked.paso2.ack(constancia, idSolicitud="X", idEnvio="X-1", numeroLote="1",
                            totalRegistros="1")  # fmt: skip
    assert caught.value.file == "constancia-a-v1.xsl"


def checked_step(folder: Path, what: str) -> Step:
    """The step ``what`` of ``wire check`` on ``folder``, compiled afresh."""
    forget_loaded()
    return {step.what: step for step in check_profile(folder, sample_lotes(SETTINGS))}[what]


def test_a_wsdl_without_the_operation_fails_wire_check_naming_it(annex: Path) -> None:
    replace_in(annex / "profile.toml", 'operation = "EntregarInformacion"',
               'operation = "EntregarTodo"')  # fmt: skip
    step = checked_step(annex, "WSDL de Paso 2")
    assert step.status == FAIL
    assert "entrega.wsdl" in step.detail and "EntregarTodo" in step.detail


def test_a_lote_the_schema_refuses_fails_wire_check_and_the_build(annex: Path) -> None:
    replace_in(annex / "entrega-desde-v1.xsl", 'clase="{r:tipoCuenta}"', 'clase="cero"')
    step = checked_step(annex, "Lotes del banco de ejemplo")
    assert step.status == FAIL
    assert "entrega.xsd" in step.detail and "Cuenta" in step.detail


def test_a_transform_that_terminates_fails_wire_check_with_its_text(annex: Path) -> None:
    replace_in(annex / "codigos.xsl", "' RC TI CC SC CE NI PA CD PE PT '", "' RC TI SC CE NI PA '")
    forget_loaded()
    steps = list(check_profile(annex, sample_lotes(SETTINGS)))
    failed = [step for step in steps if step.status == FAIL]
    assert failed, steps
    assert any("se detuvo" in step.detail and "tipo de documento sin código" in step.detail
               for step in failed)  # fmt: skip


def test_wire_check_passes_on_both_profiles_and_exits_1_on_a_broken_one(annex: Path) -> None:
    runner = CliRunner()
    for folder in (None, ANNEX):
        args = ["wire", "check"] + ([] if folder is None else [str(folder)])
        result = runner.invoke(main, args, env={"UGPP_BRIDGE_OPERATOR_NAME": "Banco"})
        assert result.exit_code == 0, result.output
        assert "✗" not in result.output and "El perfil está listo." in result.output
    (annex / "peticion-a-v1.xsl").write_text("<xsl:stylesheet")
    broken = runner.invoke(main, ["wire", "check", str(annex)])
    assert broken.exit_code == 1
    assert "✗ Perfil: peticion-a-v1.xsl, línea" in broken.output
    assert "no es XML bien formado" in broken.output


def test_a_folder_without_profile_toml_is_refused_as_a_setting(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["wire", "check"],
                                env={"UGPP_BRIDGE_WIRE_PROFILE": str(tmp_path)})  # fmt: skip
    assert result.exit_code != 0
    assert "profile.toml" in result.output


# -- Paso 1 under the profile ---------------------------------------------------------------


def annex_body(folder: Path = ANNEX, **changes: str) -> bytes:
    text = (folder / "ejemplo-peticion.xml").read_text()
    for old, new in changes.items():
        text = text.replace(old, new)
    return text.encode()


def post(url: str, data: bytes) -> tuple[int, bytes]:
    answer = requests.post(url, data=data, headers={"Content-Type": "text/xml"}, timeout=30)
    return answer.status_code, answer.content


def fault_text(data: bytes) -> str:
    root = etree.fromstring(data, wire.secure_parser())
    return root.findtext(f".//{{{wire.SOAP_ENV}}}Fault/faultstring") or ""


def annex_settings(folder: Path) -> Settings:
    return replace(SETTINGS, operator_nit="900123456", wire_profile=str(folder))


def test_a_transform_refusing_the_request_is_solicitud_invalida_and_stores_nothing(
    stores: StateStores,
) -> None:
    served = serving(stores, annex_settings(ANNEX))
    server = next(served)
    try:
        status, data = post(server.url, envelope(annex_body(**{"900123456-8": "900123456-3"})))
        assert status == 500
        assert fault_text(data).startswith("SolicitudInvalida: el dígito de verificación")
        status, data = post(server.url, envelope(annex_body(**{'codigo="1"': 'codigo="9"'})))
        assert status == 500 and fault_text(data).startswith("SolicitudInvalida: el elemento")
        v1 = (DATA / "wire" / "solicitud.xml").read_bytes()
        status, data = post(server.url, envelope(v1))  # a v1 body is not this service's
        assert fault_text(data).startswith("SolicitudInvalida: el cuerpo no contiene")
        assert stores.requests.list_requests() == []
        status, data = post(server.url, envelope(annex_body()))
        assert status == 200, data
        assert b"RespuestaPeticion" in data and b'estado="RECIBIDA"' in data
    finally:
        next(served, None)


def test_a_receipt_the_schema_refuses_stores_nothing_and_is_a_server_fault(
    stores: StateStores, annex: Path
) -> None:
    replace_in(annex / "respuesta-desde-v1.xsl", 'personas="{sol:totalPersonas}"',
               'personas="0"')  # fmt: skip
    served = serving(stores, annex_settings(annex))
    server = next(served)
    try:
        status, data = post(server.url, envelope(annex_body(annex)))
    finally:
        next(served, None)
    assert status == 500
    assert fault_text(data).startswith("ErrorInterno: no fue posible generar el acuse")
    assert b"soap11env:Server" in data
    assert stores.requests.list_requests() == []


# -- Paso 2 under the profile: outcomes -----------------------------------------------------


@dataclass
class Standin:
    simulator: UgppSimulator
    base: str


@pytest.fixture
def annex_ugpp() -> Iterator[Standin]:
    """The stand-in speaking the annex's Paso 2 with WS-Security, in this process."""
    simulator = UgppSimulator(SimulatorConfig(auth="wsse", profile=load_profile(ANNEX)))
    server = make_server(simulator)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Standin(simulator, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()


def annex_lote(tmp_path: Path, bank: str) -> bytes:
    return lotes_with(ProfileLoteWriter(load_profile(ANNEX)), bank, tmp_path / "lotes")[0]


def gateway(standin: Standin, password: str = "bridge-secret") -> ZeepUgppGateway:
    base = standin.base
    return ZeepUgppGateway(GatewaySettings(
        wsdl=f"{base}/ugpp/reporte?wsdl", endpoint=None, auth="wsse", username="bridge",
        password=password, timeout=30, profile=load_profile(ANNEX),
    ))  # fmt: skip


ANSWERING = {"idSolicitud": "S-1", "idEnvio": "S-1-G1-L1", "numeroLote": "1", "totalRegistros": "7"}


def test_the_gateway_binds_the_named_soap12_port_from_the_served_wsdl(
    annex_ugpp: Standin, tmp_path: Path, bank: str
) -> None:
    sender = gateway(annex_ugpp)
    try:
        assert sender.bound.soap12 and sender.bound.action == "urn:anexo-prueba:EntregarInformacion"
        call = sender.prepare(annex_lote(tmp_path, bank), ANSWERING)
        assert call.headers["Content-Type"].startswith("application/soap+xml")
        exchange = sender.post(call)
    finally:
        sender.close()
    assert exchange.outcome is AttemptOutcome.ACKNOWLEDGED, exchange
    assert exchange.ugpp_filing_number == "UGPP-R-000001"
    assert exchange.warnings == ("elemento desconocido en el acuse: observacion",)


def test_a_refused_usernametoken_is_credentials_refused_not_a_rejection(
    annex_ugpp: Standin, tmp_path: Path, bank: str
) -> None:
    sender = gateway(annex_ugpp, password="otra-clave")
    try:
        exchange = sender.post(sender.prepare(annex_lote(tmp_path, bank), ANSWERING))
    finally:
        sender.close()
    assert exchange.outcome is AttemptOutcome.CREDENTIALS_REFUSED


def test_a_sender_fault_rejects_and_a_receiver_fault_is_retried(
    annex_ugpp: Standin, tmp_path: Path, bank: str
) -> None:
    faults = annex_ugpp.simulator.config.faults
    faults.client_fault, faults.client_fault_code, faults.server_fault = 1, "Client.Datos", 1
    sender = gateway(annex_ugpp)
    lote = annex_lote(tmp_path, bank)
    try:
        first = sender.post(sender.prepare(lote, ANSWERING))  # server fault is taken first
        second = sender.post(sender.prepare(lote, ANSWERING))
    finally:
        sender.close()
    assert first.outcome is AttemptOutcome.SERVER_FAULT
    assert second.outcome is AttemptOutcome.CLIENT_FAULT
    assert second.fault_code == "LoteRechazado"
    assert b"soap-envelope" in (second.response_bytes or b"")


def test_an_ack_transform_saying_rechazo_rejects_and_any_other_stop_is_retried(
    annex: Path,
) -> None:
    profile = load_profile(annex)
    assert profile.paso2.ack is not None
    rejected = etree.fromstring(
        (annex / "ejemplo-constancia.xml").read_bytes().replace(b"ACEPTADO", b"RECHAZADO")
    )
    with pytest.raises(TransformTerminated) as caught:
        profile.paso2.ack(rejected, **ANSWERING)
    outcome = _terminated_outcome(caught.value)
    assert outcome["outcome"] is AttemptOutcome.CLIENT_FAULT
    assert outcome["fault_message"] == "Recibido sin novedad."
    other = etree.fromstring(b"<otra/>")
    with pytest.raises(TransformTerminated) as caught:
        profile.paso2.ack(other, **ANSWERING)
    assert _terminated_outcome(caught.value)["outcome"] is AttemptOutcome.SERVER_FAULT


def test_a_lote_transform_that_terminates_stops_the_build_naming_its_file(
    annex: Path, bank: str, tmp_path: Path
) -> None:
    replace_in(annex / "codigos.xsl", "' RC TI CC SC CE NI PA CD PE PT '", "' RC '")
    forget_loaded()
    with pytest.raises(TransformTerminated) as caught:
        lotes_with(ProfileLoteWriter(load_profile(annex)), bank, tmp_path / "out")
    assert caught.value.file == "entrega-desde-v1.xsl"  # the transform that includes it
    assert "tipo de documento sin código en el anexo" in str(caught.value)


def test_a_profile_lote_the_schema_refuses_stops_the_build_naming_the_xsd(
    annex: Path, bank: str, tmp_path: Path
) -> None:
    replace_in(annex / "entrega-desde-v1.xsl", 'mediana="{r:medianaSaldoDiario}"', 'mediana="x"')
    forget_loaded()
    with pytest.raises(SchemaValidationError) as caught:
        lotes_with(ProfileLoteWriter(load_profile(annex)), bank, tmp_path / "out")
    assert caught.value.schema == "entrega.xsd"


def test_an_annex_request_past_the_element_budget_is_too_large_and_stores_nothing(
    stores: StateStores,
) -> None:
    """The annex's persons are not known by name while the body streams: the whole request
    stays within the element budget that bounds an authenticated body's memory."""
    persons = "".join(f'<p:Persona tipoId="13" id="{n}"/>' for n in range(1, 70_001))
    body = annex_body(**{'<p:Persona tipoId="13" id="79123456"/>': persons})
    settings = replace(annex_settings(ANNEX), max_request_bytes=20_000_000)
    served = serving(stores, settings)
    server = next(served)
    try:
        status, data = post(server.url, envelope(body))
    finally:
        next(served, None)
    assert status == 500
    assert fault_text(data).startswith("SolicitudDemasiadoGrande: el mensaje tiene más de 65.000")
    assert stores.requests.list_requests() == []


def test_a_transform_failing_at_run_time_is_a_profile_error_and_the_build_fails(
    annex: Path, stores: StateStores, tmp_path: Path
) -> None:
    """An XPath that compiles and fails when it runs (an unknown function) is the profile's
    bug, named with its file — not a refusal of the data — and the build ends build_failed."""
    replace_in(annex / "entrega-desde-v1.xsl", 'saldo="{r:saldoFinal}"',
               'saldo="{no-existe(r:saldoFinal)}"')  # fmt: skip
    forget_loaded()
    bank = SqlAlchemySource(make_engine(f"sqlite:///{tmp_path / 'golden.db'}"))
    import_csv_directory(DATA / "source_csv", bank)
    bank.close()
    filing = register_golden_request(stores)
    key = stores.requests.find(filing).key
    source = SqlAlchemyReportSource(make_engine(f"sqlite:///{tmp_path / 'golden.db'}"))
    try:
        with pytest.raises(ProfileError) as caught:
            build_request(
                key, requests=stores.requests, builds=stores.builds, lotes=stores.lotes,
                source=source, writer=ProfileLoteWriter(load_profile(annex)),
                options=BuildOptions("800197268", "Banco de Ejemplo S.A.", 3, 12),
                clock=lambda: GENERATED,
            )  # fmt: skip
    finally:
        source.close()
    assert caught.value.file == "entrega-desde-v1.xsl"
    assert "falló al ejecutarse" in caught.value.text
    stored = stores.requests.get(key)
    assert stored.state is RequestState.BUILD_FAILED
    assert stored.last_error is not None and "entrega-desde-v1.xsl" in stored.last_error
    assert stores.lotes.lotes(key) == []
