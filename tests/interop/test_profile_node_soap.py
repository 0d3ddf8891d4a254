"""The second annex's Paso 2 against a UGPP written with node-soap (``interop/
profile_ugpp_server.js``), built from that profile's own WSDL: the bridge builds the golden
request under the profile, sends over the SOAP 1.2 port with a UsernameToken, reads the
ConstanciaRecibo through the profile's ``ack`` transform; a RECHAZADO constancia and a
``Sender`` fault reject, a refused token is «credenciales rechazadas». Every lote node-soap
received and every answer it sent is validated with xmlschema against the profile's XSD."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import DATA, GOLDEN_RECEIVED_AT, key_of, register_golden_request
from tests.interop.conftest import NodeAdmin, node_server, valid_by_xmlschema
from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.adapters.soap.profile import load_profile
from ugpp_bridge.adapters.soap.xml_lotes import ProfileLoteWriter
from ugpp_bridge.adapters.soap.zeep_gateway import GatewaySettings, ZeepUgppGateway
from ugpp_bridge.adapters.source.csv_import import import_csv_directory
from ugpp_bridge.adapters.source.engines import make_engine
from ugpp_bridge.adapters.source.report_source import SqlAlchemyReportSource
from ugpp_bridge.adapters.source.sql import SqlAlchemySource
from ugpp_bridge.bootstrap import StateStores
from ugpp_bridge.bootstrap_source import profile_identity
from ugpp_bridge.domain.filing import AttemptOutcome
from ugpp_bridge.domain.lifecycle import LoteState, RequestState
from ugpp_bridge.service.build import BuildOptions, build_request
from ugpp_bridge.service.submit import RetryPolicy, SendContext, submit_request

PROFILE = DATA / "profiles" / "anexo-prueba"
ENTREGA_XSD = PROFILE / "entrega.xsd"
ANNEX = "urn:anexo-prueba:entrega:2019"


class NodeUgpp(NodeAdmin):
    def gateway(self, password: str = "bridge-secret") -> ZeepUgppGateway:
        return ZeepUgppGateway(GatewaySettings(
            wsdl=PROFILE / "entrega.wsdl", endpoint=f"{self.base}/ugpp/reporte", auth="wsse",
            username="bridge", password=password, timeout=10, profile=load_profile(PROFILE),
        ))  # fmt: skip


@pytest.fixture
def node_ugpp() -> Iterator[NodeUgpp]:
    with node_server("profile_ugpp_server.js", str(PROFILE / "entrega.wsdl"), "EntregaService",
                     "EntregarInformacion", "EntregaSoap11", "EntregaSoap12") as base:  # fmt: skip
        yield NodeUgpp(base)


@pytest.fixture
def filing(stores: StateStores, tmp_path: Path) -> str:
    """The golden request built under the annex into lotes of three records."""
    bank = SqlAlchemySource(make_engine(f"sqlite:///{tmp_path / 'bank.db'}"))
    import_csv_directory(DATA / "source_csv", bank)
    number = register_golden_request(stores)
    profile = load_profile(PROFILE)
    source = SqlAlchemyReportSource(make_engine(f"sqlite:///{tmp_path / 'bank.db'}"))
    try:
        build_request(
            key_of(stores, number), requests=stores.requests, builds=stores.builds,
            lotes=stores.lotes, source=source, writer=ProfileLoteWriter(profile),
            options=BuildOptions("800197268", "Banco de Ejemplo S.A.", 3, 12,
                                 require_approval=False, wire_profile=profile_identity(profile)),
            clock=lambda: GOLDEN_RECEIVED_AT,
        )  # fmt: skip
    finally:
        source.close()
        bank.close()
    return number


def send(stores: StateStores, filing: str, node: NodeUgpp, **gateway: str):  # type: ignore[no-untyped-def]
    context = SendContext(
        requests=stores.requests, lotes=stores.lotes, gateway=node.gateway(**gateway),
        clock=lambda: GOLDEN_RECEIVED_AT, sleep=lambda _s: None,
        policy=RetryPolicy(max_attempts=2, base_seconds=0, max_seconds=0), actor="test",
    )  # fmt: skip
    try:
        return submit_request(key_of(stores, filing), context)
    finally:
        context.gateway.close()


def test_every_lote_reaches_node_soap_and_every_constancia_is_read(
    stores: StateStores, filing: str, node_ugpp: NodeUgpp
) -> None:
    sent = send(stores, filing, node_ugpp)
    assert sent.state is RequestState.SENT
    lotes = stores.lotes.lotes(key_of(stores, filing))
    assert len(lotes) > 1 and all(lote.state is LoteState.ACKNOWLEDGED for lote in lotes)
    assert [lote.ugpp_filing_number for lote in lotes] == [
        f"CR-{n:06d}" for n in range(1, len(lotes) + 1)
    ]
    stats = node_ugpp.stats()
    bodies, answers = stats["bodies"], stats["answers"]
    assert isinstance(bodies, list) and isinstance(answers, list)
    assert len(bodies) == len(lotes) == len(answers)
    for body in bodies:
        root = etree.fromstring(body.encode(), wire.secure_parser(inbound=True))
        assert root.tag == f"{{{wire.SOAP12_ENV}}}Envelope"
        child = wire.body_child(root)
        assert child is not None
        valid_by_xmlschema(etree.tostring(child), ENTREGA_XSD)
    for answer in answers:
        root = etree.fromstring(answer.encode(), wire.secure_parser(inbound=True))
        child = wire.body_child(root)
        assert child is not None and child.tag == f"{{{ANNEX}}}ConstanciaRecibo"
        valid_by_xmlschema(etree.tostring(child), ENTREGA_XSD)
    attempts = stores.lotes.attempts(key_of(stores, filing))
    assert all(a.warnings == ("elemento desconocido en el acuse: observacion",) for a in attempts)


def test_a_rechazado_constancia_rejects_the_request_with_its_reason(
    stores: StateStores, filing: str, node_ugpp: NodeUgpp
) -> None:
    node_ugpp.mode(reject=1)
    sent = send(stores, filing, node_ugpp)
    assert sent.state is RequestState.REJECTED
    assert sent.last_error is not None and "Registros duplicados." in sent.last_error


def test_a_sender_fault_rejects_and_a_refused_token_holds_for_an_operator(
    stores: StateStores, filing: str, node_ugpp: NodeUgpp
) -> None:
    node_ugpp.mode(senderFault=1)
    sent = send(stores, filing, node_ugpp)
    assert sent.state is RequestState.REJECTED
    assert sent.last_error is not None and "DatosInvalidos" in sent.last_error
    held = send(stores, filing, node_ugpp, password="otra-clave")
    assert held.state is not RequestState.SENT
    attempts = stores.lotes.attempts(key_of(stores, filing))
    assert attempts[-1].outcome is AttemptOutcome.CREDENTIALS_REFUSED
