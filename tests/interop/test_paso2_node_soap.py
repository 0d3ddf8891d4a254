"""The bridge's Paso 2 against a UGPP written with node-soap (``interop/ugpp_server.js``): built
from our packaged WSDL with its schema inline, a token service issuing five-second tokens, and
the fault modes a real UGPP could show — extra elements, dotted fault codes, refused
credentials, HTTP 500, a POST held unanswered. Every Reporte it received and every
AcuseReporte it sent back is validated with xmlschema."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import DATA, GOLDEN_RECEIVED_AT, key_of, register_golden_request
from tests.interop.conftest import NodeAdmin, body_child, node_server, valid_by_xmlschema
from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.adapters.soap.xml_lotes import LxmlLoteWriter
from ugpp_bridge.adapters.soap.zeep_gateway import GatewaySettings, ZeepUgppGateway
from ugpp_bridge.adapters.source.csv_import import import_csv_directory
from ugpp_bridge.adapters.source.engines import make_engine
from ugpp_bridge.adapters.source.report_source import SqlAlchemyReportSource
from ugpp_bridge.adapters.source.sql import SqlAlchemySource
from ugpp_bridge.bootstrap import StateStores
from ugpp_bridge.domain.filing import AttemptOutcome
from ugpp_bridge.domain.lifecycle import LoteState, RequestState
from ugpp_bridge.service.build import BuildOptions, build_request
from ugpp_bridge.service.submit import RetryPolicy, SendContext, submit_request

INLINE_WSDL = wire.WSDL_DIR / "ugpp-reporte-v1-inline.wsdl"


class NodeUgpp(NodeAdmin):
    def gateway(self, **changes: object) -> ZeepUgppGateway:
        settings = GatewaySettings(
            wsdl=wire.UGPP_REPORTE_WSDL, endpoint=f"{self.base}/ugpp/reporte", auth="token",
            token_url=f"{self.base}/ugpp/token", username="bridge", password="bridge-secret",
            client_id="ugpp-bridge", timeout=10,
        )  # fmt: skip
        return ZeepUgppGateway(GatewaySettings(**{**settings.__dict__, **changes}))


@pytest.fixture
def node_ugpp() -> Iterator[NodeUgpp]:
    with node_server("ugpp_server.js", str(INLINE_WSDL), "5") as base:
        yield NodeUgpp(base)


@pytest.fixture
def filing(stores: StateStores, tmp_path: Path) -> str:
    """The golden request built into ten lotes of one record each."""
    bank = SqlAlchemySource(make_engine(f"sqlite:///{tmp_path / 'bank.db'}"))
    import_csv_directory(DATA / "source_csv", bank)
    number = register_golden_request(stores)
    build_request(key_of(stores, number), requests=stores.requests, builds=stores.builds, lotes=stores.lotes,
                  source=SqlAlchemyReportSource(bank.engine), writer=LxmlLoteWriter(),
                  options=BuildOptions("800197268", "Banco de Ejemplo S.A.", 1, 4, require_approval=False),
                  clock=lambda: GOLDEN_RECEIVED_AT)  # fmt: skip
    bank.close()
    return number


def send(stores: StateStores, filing: str, gateway: ZeepUgppGateway, attempts: int = 3):  # type: ignore[no-untyped-def]
    policy = RetryPolicy(max_attempts=attempts, base_seconds=0, max_seconds=0, jitter=0)
    context = SendContext(stores.requests, stores.lotes, gateway, lambda: datetime.now(UTC),
                          time.sleep, policy, "test")  # fmt: skip
    try:
        return submit_request(key_of(stores, filing), context, operator=True)
    finally:
        gateway.close()


def test_every_lote_reaches_a_node_soap_ugpp_with_short_tokens_and_all_documents_validate(
    stores: StateStores, filing: str, node_ugpp: NodeUgpp
) -> None:
    sent = send(stores, filing, node_ugpp.gateway())
    assert sent.state is RequestState.SENT
    key = key_of(stores, filing)
    lotes = stores.lotes.lotes(key)
    assert len(lotes) == 10 and {lote.state for lote in lotes} == {LoteState.ACKNOWLEDGED}
    assert [lote.ugpp_filing_number for lote in lotes] == [f"UGPP-N-{n:06d}" for n in range(1, 11)]
    stats = node_ugpp.stats()
    assert stats["posts"] == 10 and int(str(stats["tokens"])) <= 3  # not a token per lote
    for body in stats["bodies"]:  # type: ignore[union-attr]
        valid_by_xmlschema(body_child(body), wire.REPORTE_XSD)
    for attempt in stores.lotes.attempts(key):
        assert attempt.response_bytes is not None and attempt.warnings == ()
        valid_by_xmlschema(body_child(attempt.response_bytes), wire.REPORTE_XSD)


def test_an_extra_element_from_node_soap_acknowledges_once_with_a_warning(
    stores: StateStores, filing: str, node_ugpp: NodeUgpp
) -> None:
    node_ugpp.mode(extraElement=10)
    assert send(stores, filing, node_ugpp.gateway()).state is RequestState.SENT
    attempts = stores.lotes.attempts(key_of(stores, filing))
    assert len(attempts) == node_ugpp.stats()["posts"] == 10
    assert all(a.outcome is AttemptOutcome.ACKNOWLEDGED for a in attempts)
    assert attempts[0].warnings == ("elemento desconocido en el acuse: observaciones",)


def test_a_dotted_client_fault_from_node_soap_rejects_without_a_retry(
    stores: StateStores, filing: str, node_ugpp: NodeUgpp
) -> None:
    node_ugpp.mode(dottedFault=1)
    rejected = send(stores, filing, node_ugpp.gateway())
    assert rejected.state is RequestState.REJECTED and "DatosInvalidos" in (
        rejected.last_error or ""
    )
    assert node_ugpp.stats()["posts"] == 1


def test_refused_credentials_hold_the_request_and_nothing_is_retried(
    stores: StateStores, filing: str, node_ugpp: NodeUgpp
) -> None:
    node_ugpp.mode(refuseTokens=100)
    held = send(stores, filing, node_ugpp.gateway())
    assert held.state is RequestState.SENDING and "Credenciales rechazadas" in (
        held.held_reason or ""
    )
    assert node_ugpp.stats()["posts"] == 0
    (attempt,) = stores.lotes.attempts(key_of(stores, filing))
    assert attempt.outcome is AttemptOutcome.CREDENTIALS_REFUSED


def test_an_http_500_and_a_held_post_are_retried_and_every_post_is_an_attempt(
    stores: StateStores, filing: str, node_ugpp: NodeUgpp
) -> None:
    node_ugpp.mode(http500=1, hold=1, holdSeconds=1)
    assert send(stores, filing, node_ugpp.gateway()).state is RequestState.SENT
    attempts = stores.lotes.attempts(key_of(stores, filing))
    assert len(attempts) == node_ugpp.stats()["posts"] == 12
    assert [a.outcome for a in attempts[:3]] == [
        AttemptOutcome.HTTP_ERROR, AttemptOutcome.CONNECTION_ERROR, AttemptOutcome.ACKNOWLEDGED,
    ]  # fmt: skip


def test_the_shipped_inline_wsdl_is_the_packaged_one_with_its_schema_inline() -> None:
    assert INLINE_WSDL.read_bytes() == wire.served_wsdl(
        wire.UGPP_REPORTE_WSDL, "http://127.0.0.1:8090/ugpp/reporte"
    ), (
        "regenerate it: ugpp-bridge ugpp-sim wsdl > ugpp_bridge/profiles/v1/ugpp-reporte-v1-inline.wsdl"
    )
