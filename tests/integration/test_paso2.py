"""Paso 2 against the UGPP stand-in on 127.0.0.1: tokens, retries, rejections, evidence."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import DATA, GOLDEN_RECEIVED_AT, key_of, register_golden_request
from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.adapters.soap.xml_lotes import LxmlLoteWriter
from ugpp_bridge.adapters.soap.zeep_gateway import GatewaySettings, ZeepUgppGateway
from ugpp_bridge.adapters.source.csv_import import import_csv_directory
from ugpp_bridge.adapters.source.engines import make_engine
from ugpp_bridge.adapters.source.report_source import SqlAlchemyReportSource
from ugpp_bridge.adapters.source.sql import SqlAlchemySource
from ugpp_bridge.adapters.state.lotes import SqlAlchemyLoteStore
from ugpp_bridge.bootstrap import StateStores
from ugpp_bridge.domain.filing import AttemptOutcome
from ugpp_bridge.domain.lifecycle import LoteState, RequestState
from ugpp_bridge.entrypoints.ugpp_sim import SimulatorConfig, UgppSimulator, make_server
from ugpp_bridge.errors import StoreUnavailableError
from ugpp_bridge.service.build import BuildOptions, build_request
from ugpp_bridge.service.submit import RetryPolicy, SendContext, submit_request

NO_WAIT = RetryPolicy(max_attempts=3, base_seconds=0.0, max_seconds=0.0, jitter=0.0)


@dataclass
class Ugpp:
    simulator: UgppSimulator
    base: str

    def gateway(
        self, clock: Callable[[], float] = time.monotonic, **changes: object
    ) -> ZeepUgppGateway:
        settings = GatewaySettings(
            wsdl=wire.UGPP_REPORTE_WSDL, endpoint=f"{self.base}/ugpp/reporte", auth="token",
            token_url=f"{self.base}/ugpp/token", username="bridge", password="bridge-secret",
            client_id="ugpp-bridge", timeout=10,
        )  # fmt: skip
        return ZeepUgppGateway(GatewaySettings(**{**settings.__dict__, **changes}), clock=clock)


@pytest.fixture
def ugpp() -> Iterator[Ugpp]:
    simulator = UgppSimulator(SimulatorConfig())
    server = make_server(simulator)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Ugpp(simulator, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def filing(stores: StateStores, tmp_path: Path) -> str:
    """A request built into three lotes (at most four records each) from the golden data."""
    url = f"sqlite:///{tmp_path / 'bank.db'}"
    writer = SqlAlchemySource(make_engine(url))
    import_csv_directory(DATA / "source_csv", writer)
    number = register_golden_request(stores)
    received = GOLDEN_RECEIVED_AT
    source = SqlAlchemyReportSource(writer.engine)
    build_request(key_of(stores, number), requests=stores.requests, builds=stores.builds, lotes=stores.lotes, source=source, writer=LxmlLoteWriter(),
                  options=BuildOptions("800197268", "Banco de Ejemplo S.A.", 4, 4, require_approval=False), clock=lambda: received)  # fmt: skip
    writer.close()
    return number


def send(stores: StateStores, filing: str, gateway: ZeepUgppGateway, **options: object):  # type: ignore[no-untyped-def]
    context = SendContext(
        stores.requests,
        stores.lotes,
        gateway,
        lambda: datetime.now(UTC),
        lambda _s: None,
        NO_WAIT,
        "test",
    )
    try:
        return submit_request(key_of(stores, filing), context, **options)  # type: ignore[arg-type]
    finally:
        gateway.close()


def reporte_c14n(envelope: bytes) -> bytes:
    """The Reporte inside a sent envelope, canonical, to compare with the stored lote."""
    reporte = etree.fromstring(envelope, wire.secure_parser()).find(
        f"{{*}}Body/{{{wire.REPORTE_NS}}}Reporte"
    )
    assert reporte is not None
    copy = etree.fromstring(etree.tostring(reporte))
    etree.cleanup_namespaces(copy)
    return bytes(etree.tostring(copy, method="c14n"))


def outcomes(stores: StateStores, filing: str) -> list[str]:
    return [a.outcome.value for a in stores.lotes.attempts(key_of(stores, filing))]


def test_every_lote_is_acknowledged_with_one_token_and_the_exact_bytes_kept(
    stores: StateStores, filing: str, ugpp: Ugpp
) -> None:
    sent = send(stores, filing, ugpp.gateway())
    lotes = stores.lotes.lotes(key_of(stores, filing))
    assert sent.state is RequestState.SENT and len(lotes) == 3
    assert [lote.state for lote in lotes] == [LoteState.ACKNOWLEDGED] * 3
    assert [lote.ugpp_filing_number for lote in lotes] == [
        "UGPP-R-000001",
        "UGPP-R-000002",
        "UGPP-R-000003",
    ]
    assert ugpp.simulator.token_requests == 1
    attempts = stores.lotes.attempts(key_of(stores, filing))
    assert [a.outcome for a in attempts] == [AttemptOutcome.ACKNOWLEDGED] * 3
    for lote, attempt in zip(lotes, attempts, strict=True):
        assert lote.submission_id.encode() in attempt.request_bytes
        assert b"<radicadoUGPP>" in (attempt.response_bytes or b"")
        assert attempt.http_status == 200 and attempt.duration_ms >= 0
        assert reporte_c14n(attempt.request_bytes) == etree.tostring(
            etree.fromstring(lote.xml), method="c14n"
        )


def test_a_token_is_renewed_before_it_expires(stores: StateStores, filing: str, ugpp: Ugpp) -> None:
    now = [0.0]
    gateway = ugpp.gateway(clock=lambda: now[0])
    assert gateway.tokens is not None
    first = gateway.tokens.current()
    now[0] = 20 * 60 - 30  # inside the minute before expiry
    assert gateway.tokens.current() != first
    assert send(stores, filing, gateway).state is RequestState.SENT
    assert ugpp.simulator.token_requests == 2
    assert "http_error" not in outcomes(stores, filing)


def test_a_token_refused_with_401_is_renewed_once_and_the_lote_goes_through(
    stores: StateStores, filing: str, ugpp: Ugpp
) -> None:
    ugpp.simulator.config.token_lifetime_seconds = (
        0.5  # dies early, still advertised for 20 minutes
    )
    gateway = ugpp.gateway()
    assert gateway.tokens is not None
    gateway.tokens.current()
    time.sleep(0.6)
    assert send(stores, filing, gateway).state is RequestState.SENT
    attempts = stores.lotes.attempts(key_of(stores, filing))
    assert (attempts[0].outcome, attempts[0].http_status, attempts[1].outcome) == (
        AttemptOutcome.HTTP_ERROR,
        401,
        AttemptOutcome.ACKNOWLEDGED,
    )
    assert ugpp.simulator.token_requests >= 2


def test_a_500_then_success_is_retried_and_both_attempts_are_kept(
    stores: StateStores, filing: str, ugpp: Ugpp
) -> None:
    ugpp.simulator.config.faults.http_500 = 1
    assert send(stores, filing, ugpp.gateway()).state is RequestState.SENT
    assert outcomes(stores, filing) == [
        "http_error",
        "acknowledged",
        "acknowledged",
        "acknowledged",
    ]


def test_a_server_fault_is_retried(stores: StateStores, filing: str, ugpp: Ugpp) -> None:
    ugpp.simulator.config.faults.server_fault = 2
    assert send(stores, filing, ugpp.gateway()).state is RequestState.SENT
    assert outcomes(stores, filing)[:3] == ["server_fault", "server_fault", "acknowledged"]


def test_a_client_fault_rejects_without_retrying_and_says_why(
    stores: StateStores, filing: str, ugpp: Ugpp
) -> None:
    ugpp.simulator.config.faults.client_fault = 1
    rejected = send(stores, filing, ugpp.gateway())
    assert rejected.state is RequestState.REJECTED
    assert "La UGPP rechazó el lote 1" in (rejected.last_error or "")
    assert "LoteRechazado" in (rejected.last_error or "")
    assert "reconstruya" in (rejected.last_error or "")  # a rejected lote needs a rebuild
    assert outcomes(stores, filing) == ["client_fault"]
    assert [lote.state for lote in stores.lotes.lotes(key_of(stores, filing))] == [
        LoteState.REJECTED,
        LoteState.STORED,
        LoteState.STORED,
    ]
    resent = send(
        stores, filing, ugpp.gateway()
    )  # the operator resends once UGPP's problem is solved
    assert resent.state is RequestState.SENT


def test_a_reset_after_the_body_is_retried_with_the_same_bytes_and_no_duplicate(
    stores: StateStores, filing: str, ugpp: Ugpp
) -> None:
    ugpp.simulator.config.faults.reset_after_body = 1
    assert send(stores, filing, ugpp.gateway()).state is RequestState.SENT
    attempts = stores.lotes.attempts(key_of(stores, filing))
    assert [a.outcome for a in attempts[:2]] == [
        AttemptOutcome.CONNECTION_ERROR,
        AttemptOutcome.ACKNOWLEDGED,
    ]
    assert attempts[0].request_bytes == attempts[1].request_bytes
    assert len(ugpp.simulator.received) == 3  # the first lote was received once, though sent twice


def test_when_attempts_run_out_the_request_is_parked_not_dropped(
    stores: StateStores, filing: str, ugpp: Ugpp
) -> None:
    ugpp.simulator.config.faults.http_500 = 10
    parked = send(stores, filing, ugpp.gateway())
    assert parked.state is RequestState.SENDING
    assert "3 intentos; se reintentará automáticamente" in (parked.last_error or "")
    ugpp.simulator.config.faults.http_500 = 0
    assert send(stores, filing, ugpp.gateway()).state is RequestState.SENT


def test_an_unreachable_ugpp_is_a_connection_error_and_parks(
    stores: StateStores, filing: str, ugpp: Ugpp
) -> None:
    gateway = ugpp.gateway(endpoint="http://127.0.0.1:9/ugpp/reporte", auth="none")
    parked = send(stores, filing, gateway)
    assert parked.state is RequestState.SENDING
    assert outcomes(stores, filing) == ["connection_error"] * 3


def test_resubmitting_repeats_the_same_id_envio_and_bytes(
    stores: StateStores, filing: str, ugpp: Ugpp
) -> None:
    send(stores, filing, ugpp.gateway())
    first = stores.lotes.attempts(key_of(stores, filing))
    again = send(stores, filing, ugpp.gateway(), resend_all=True)
    assert again.state is RequestState.SENT
    second = stores.lotes.attempts(key_of(stores, filing))[3:]
    assert [a.submission_id for a in second] == [a.submission_id for a in first]
    assert [ugpp.simulator.received[a.submission_id].filing_number for a in second] == [
        "UGPP-R-000001",
        "UGPP-R-000002",
        "UGPP-R-000003",
    ]
    assert len(ugpp.simulator.received) == 3


def test_wsse_sends_a_fresh_username_token_and_timestamp_each_call(
    stores: StateStores, filing: str, ugpp: Ugpp
) -> None:
    ugpp.simulator.config.auth = "wsse"
    assert send(stores, filing, ugpp.gateway(auth="wsse")).state is RequestState.SENT
    created = []
    for attempt in stores.lotes.attempts(key_of(stores, filing)):
        security = etree.fromstring(attempt.request_bytes, wire.secure_parser()).find(
            ".//{*}Security"
        )
        assert security is not None and security.find(".//{*}UsernameToken") is not None
        created.append(
            (security.findtext(".//{*}Timestamp/{*}Created"), security.findtext(".//{*}Nonce"))
        )
    assert len({nonce for _, nonce in created}) == 3, "a fresh nonce per call"
    assert all(stamp for stamp, _ in created)


def test_a_wrong_wsse_password_holds_the_request_without_talking_of_a_token(
    stores: StateStores, filing: str, ugpp: Ugpp
) -> None:
    ugpp.simulator.config.auth = "wsse"
    held = send(stores, filing, ugpp.gateway(auth="wsse", password="otra"))
    assert held.state is RequestState.SENDING and held.held_reason
    assert "Credenciales rechazadas" in held.held_reason and "token" not in held.held_reason
    assert outcomes(stores, filing) == ["credentials_refused"]  # no retry


def test_a_rebuild_after_new_source_data_is_a_correction_with_its_diff(
    stores: StateStores, filing: str, ugpp: Ugpp, tmp_path: Path
) -> None:
    assert send(stores, filing, ugpp.gateway()).state is RequestState.SENT
    originals = stores.lotes.lotes(key_of(stores, filing))
    bank = SqlAlchemySource(make_engine(f"sqlite:///{tmp_path / 'bank.db'}"))
    with bank.engine.begin() as connection:  # the entity fixes a deposit that was booked wrong
        connection.exec_driver_sql(
            "UPDATE transactions SET amount = 1600000.50 WHERE account_id = 'A1' AND booked_on = '2025-01-05'"
        )
    rebuilt = build_request(key_of(stores, filing), requests=stores.requests, builds=stores.builds, lotes=stores.lotes, source=SqlAlchemyReportSource(bank.engine),
                            writer=LxmlLoteWriter(), options=BuildOptions("800197268", "Banco de Ejemplo S.A.", 4, 4, require_approval=False),
                            clock=lambda: datetime.now(UTC))  # fmt: skip
    bank.close()
    assert (rebuilt.state, rebuilt.generation) == (RequestState.APPROVED, 2)
    corrections = stores.lotes.lotes(key_of(stores, filing))
    assert [lote.submission_type.value for lote in corrections] == ["CORRECCION"] * 3
    assert [lote.corrects_submission_id for lote in corrections] == [
        lote.submission_id for lote in originals
    ]
    header = etree.fromstring(corrections[0].xml).find(f"{{{wire.REPORTE_NS}}}encabezado")
    assert header is not None
    assert (header.findtext(f"{{{wire.REPORTE_NS}}}tipoEnvio"), header.findtext(f"{{{wire.REPORTE_NS}}}idEnvioCorregido")) == (
        "CORRECCION", originals[0].submission_id,
    )  # fmt: skip
    kept = stores.lotes.corrections(key_of(stores, filing))
    assert [c.correcting_submission_id for c in kept] == [
        lote.submission_id for lote in corrections
    ]
    diff = kept[0].diff
    assert diff["resumen"] == {"agregados": 0, "eliminados": 0, "cambiados": 1}
    (change,) = diff["cambiados"]  # type: ignore[misc]
    assert change["clave"]["numeroCuenta"] == "6789" and change["clave"]["mes"] == "1"
    assert (change["antes"], change["despues"]) == (
        {"valorCreditos": "1500001"},
        {"valorCreditos": "1600001"},
    )
    assert [lote.state for lote in stores.lotes.lotes(key_of(stores, filing), generation=1)] == [
        LoteState.ACKNOWLEDGED
    ] * 3
    assert send(stores, filing, ugpp.gateway()).state is RequestState.SENT
    assert len(ugpp.simulator.received) == 6  # three originals, three corrections


def test_an_acknowledgement_with_an_unknown_element_acknowledges_once_with_a_warning(
    stores: StateStores, filing: str, ugpp: Ugpp
) -> None:
    ugpp.simulator.config.faults.extra_element = 3
    sent = send(stores, filing, ugpp.gateway())
    assert sent.state is RequestState.SENT
    attempts = stores.lotes.attempts(key_of(stores, filing))
    assert [a.outcome for a in attempts] == [AttemptOutcome.ACKNOWLEDGED] * 3  # sent once each
    assert attempts[0].warnings == ("elemento desconocido en el acuse: observaciones",)
    assert ugpp.simulator.posts == 3
    assert [lote.ugpp_filing_number for lote in stores.lotes.lotes(key_of(stores, filing))] == [
        "UGPP-R-000001", "UGPP-R-000002", "UGPP-R-000003",
    ]  # fmt: skip


@pytest.mark.parametrize("faultcode", ["Client.DatosInvalidos", "Client.Esquema.Totales"])
def test_a_dotted_client_faultcode_rejects_without_retrying(
    stores: StateStores, filing: str, ugpp: Ugpp, faultcode: str
) -> None:
    ugpp.simulator.config.faults.client_fault = 1
    ugpp.simulator.config.faults.client_fault_code = faultcode
    rejected = send(stores, filing, ugpp.gateway())
    assert rejected.state is RequestState.REJECTED
    assert outcomes(stores, filing) == ["client_fault"] and ugpp.simulator.posts == 1


def test_refused_token_credentials_hold_the_request_for_an_operator(
    stores: StateStores, filing: str, ugpp: Ugpp
) -> None:
    held = send(stores, filing, ugpp.gateway(password="otra-clave"))
    assert (held.state, ugpp.simulator.token_requests, ugpp.simulator.posts) == (
        RequestState.SENDING,
        1,
        0,
    )  # fmt: skip  — not retried, and no lote left
    assert held.held_reason and "rechazó las credenciales" in held.held_reason
    (attempt,) = stores.lotes.attempts(key_of(stores, filing))
    assert (attempt.outcome, attempt.http_status, attempt.request_bytes) == (
        AttemptOutcome.CREDENTIALS_REFUSED, 400, b"",
    )  # fmt: skip
    trail = [e.action for e in stores.audit.audit_trail(filing)]
    assert "request.held" in trail
    again = send(stores, filing, ugpp.gateway(), operator=True)  # fixed, and resent by a person
    assert again.state is RequestState.SENT and again.held_reason is None
    assert "request.released" in [e.action for e in stores.audit.audit_trail(filing)]


def test_the_scheduler_leaves_a_held_request_alone(
    stores: StateStores, filing: str, ugpp: Ugpp
) -> None:
    from datetime import timedelta

    from ugpp_bridge.domain.work import WorkKind

    send(stores, filing, ugpp.gateway(password="otra-clave"))
    later = datetime.now(UTC) + timedelta(days=2)
    claim = stores.work.claim_next(WorkKind.SEND, owner="w", now=later, lease=timedelta(minutes=5))
    assert claim is None


def test_a_short_token_is_renewed_at_ten_percent_of_its_life(
    stores: StateStores, filing: str, ugpp: Ugpp
) -> None:
    from ugpp_bridge.adapters.soap.zeep_gateway import renew_margin

    assert (renew_margin(5), renew_margin(300), renew_margin(1200)) == (0.5, 30.0, 60.0)
    ugpp.simulator.config.token_ttl_seconds = 5
    now = [0.0]
    gateway = ugpp.gateway(clock=lambda: now[0])
    assert gateway.tokens is not None
    first = gateway.tokens.current()
    now[0] = 4.4
    assert gateway.tokens.current() == first  # 9 lotes in 4 s: one token, not nine
    now[0] = 4.6
    assert gateway.tokens.current() != first


def test_every_attempt_is_stored_before_its_call(
    stores: StateStores, filing: str, ugpp: Ugpp
) -> None:
    """While UGPP holds the POST, the attempt is already there, outcome unknown."""
    ugpp.simulator.config.faults.hold = 1
    ugpp.simulator.config.faults.hold_seconds = 3
    sender = threading.Thread(target=send, args=(stores, filing, ugpp.gateway()))
    sender.start()
    try:
        for _ in range(200):  # bounded: 10 s
            seen = stores.lotes.attempts(key_of(stores, filing))
            if seen:
                break
            time.sleep(0.05)
        assert [(a.outcome, a.attempt_number) for a in seen] == [(AttemptOutcome.UNKNOWN, 1)]
        assert seen[0].request_bytes and ugpp.simulator.posts == 1
    finally:
        sender.join(timeout=60)
    assert stores.requests.find(filing).state is RequestState.SENT
    assert outcomes(stores, filing)[0] in ("connection_error", "timeout")  # completed afterwards


class LosesTheDatabaseAfterTheCall(SqlAlchemyLoteStore):
    """The state database fails once, just after UGPP answered (not a mock: the real store,
    with one write that fails)."""

    failed = False

    def finish_attempt(self, attempt, exchange, *, actor):  # type: ignore[no-untyped-def]
        if not self.failed:
            self.failed = True
            raise StoreUnavailableError("the state database went away for a moment")
        return super().finish_attempt(attempt, exchange, actor=actor)


def test_an_attempt_survives_the_state_database_failing_after_the_call(
    stores: StateStores, filing: str, ugpp: Ugpp
) -> None:
    flaky = LosesTheDatabaseAfterTheCall(stores.lotes.engine)
    context = SendContext(stores.requests, flaky, ugpp.gateway(), lambda: datetime.now(UTC),
                          lambda _s: None, NO_WAIT, "test")  # fmt: skip
    with pytest.raises(StoreUnavailableError):
        submit_request(key_of(stores, filing), context)
    (kept,) = stores.lotes.attempts(key_of(stores, filing))
    assert kept.outcome is AttemptOutcome.UNKNOWN and ugpp.simulator.posts == 1
    assert send(stores, filing, ugpp.gateway()).state is RequestState.SENT  # resumed later
    assert len(stores.lotes.attempts(key_of(stores, filing))) == ugpp.simulator.posts == 4
