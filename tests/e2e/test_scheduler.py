"""The scheduler as operators run it: `worker` processes against one state database and the
UGPP stand-in. Two workers do no work twice; a worker killed mid-send leaves its work to the
other; `worker --once` catches up on everything due."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import DATA, GOLDEN_RECEIVED_AT, key_of
from ugpp_bridge.adapters.soap.solicitud_xml import parse_solicitud
from ugpp_bridge.bootstrap import StateStores, state_stores
from ugpp_bridge.domain.filing import AttemptOutcome
from ugpp_bridge.domain.lifecycle import LoteState, RequestState
from ugpp_bridge.entrypoints.cli import main
from ugpp_bridge.entrypoints.ugpp_sim import SimulatorConfig, UgppSimulator, make_server


@dataclass
class Bench:
    env: dict[str, str]
    simulator: UgppSimulator
    stores: StateStores

    def register(self, count: int, due: date = date(2026, 12, 7)) -> list[str]:
        golden = parse_solicitud((DATA / "wire" / "solicitud.xml").read_bytes())
        return [
            self.stores.requests.register(
                replace(golden, request_id=f"UGPP-2026-{n:06d}"),
                received_at=GOLDEN_RECEIVED_AT, due_date=due, actor="test",
            ).filing_number
            for n in range(1, count + 1)
        ]  # fmt: skip

    def worker(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:  # the child keeps its own descriptor
            return subprocess.Popen([sys.executable, "-m", "ugpp_bridge", "worker", *args],
                                    env=self.env, stdout=out, stderr=out)  # fmt: skip

    def actors(self, filing: str, action: str) -> list[str]:
        return [e.actor for e in self.stores.audit.audit_trail(filing) if e.action == action]


@pytest.fixture
def bench(tmp_path: Path, state_url: str) -> Iterator[Bench]:
    simulator = UgppSimulator(SimulatorConfig())
    server = make_server(simulator)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    env = {
        **os.environ,
        "UGPP_BRIDGE_DATABASE_URL": state_url,
        "UGPP_BRIDGE_SOURCE_URL": f"sqlite:///{tmp_path / 'bank.db'}",
        "UGPP_BRIDGE_OPERATOR_NAME": "Banco de Ejemplo S.A.",
        "UGPP_BRIDGE_LOTE_MAX_RECORDS": "4",
        "UGPP_BRIDGE_UGPP_ENDPOINT": f"{base}/ugpp/reporte",
        "UGPP_BRIDGE_UGPP_TOKEN_URL": f"{base}/ugpp/token",
        "UGPP_BRIDGE_UGPP_USERNAME": "bridge",
        "UGPP_BRIDGE_UGPP_PASSWORD": "bridge-secret",
        "UGPP_BRIDGE_UGPP_CLIENT_ID": "ugpp-bridge",
        "UGPP_BRIDGE_SEND_BACKOFF_SECONDS": "0",
        "UGPP_BRIDGE_REQUIRE_APPROVAL": "false",
        "UGPP_BRIDGE_SWEEP_SECONDS": "1",
        "UGPP_BRIDGE_LEASE_SECONDS": "2",
    }
    imported = CliRunner().invoke(main, ["source", "import", str(DATA / "source_csv")], env=env)
    assert imported.exit_code == 0, imported.output
    stores = state_stores(state_url)
    try:
        yield Bench(env, simulator, stores)
    finally:
        stores.close()
        server.shutdown()
        server.server_close()


def wait_for(condition, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.1)):  # bounded
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


@pytest.mark.postgresql
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_workers_on_postgresql_never_do_the_same_work_twice(
    bench: Bench, tmp_path: Path
) -> None:
    filings = bench.register(6)
    bench.simulator.config.faults.latency_seconds = 0.3  # long enough for the two to overlap
    workers = [bench.worker("--once", log=tmp_path / f"worker{n}.log") for n in (1, 2)]
    for worker in workers:
        assert worker.wait(timeout=120) == 0, (tmp_path / "worker1.log").read_text()
    owners = set()
    for filing in filings:
        assert bench.stores.requests.find(filing).state is RequestState.SENT
        building, sending = (
            bench.actors(filing, "request.building"),
            bench.actors(filing, "request.sending"),
        )
        assert len(building) == 1 and len(sending) == 1, (building, sending)
        owners |= {*building, *sending}
    lotes = [
        lote
        for filing in filings
        for lote in bench.stores.lotes.lotes(key_of(bench.stores, filing))
    ]
    assert len(lotes) == 18 and {lote.state for lote in lotes} == {LoteState.ACKNOWLEDGED}
    attempts = Counter(
        a.submission_id
        for f in filings
        for a in bench.stores.lotes.attempts(key_of(bench.stores, f))
    )
    assert set(attempts.values()) == {1}, "a lote was sent more than once"
    assert len(bench.simulator.received) == 18
    assert {owner.rsplit(":", 2)[-2] for owner in owners} == {str(w.pid) for w in workers}


def test_a_worker_killed_mid_send_leaves_its_work_to_another_and_every_post_its_attempt(
    bench: Bench, tmp_path: Path
) -> None:
    (filing,) = bench.register(1)
    bench.simulator.config.faults.hold = 1  # UGPP receives the first POST and says nothing
    bench.simulator.config.faults.hold_seconds = 8
    first = bench.worker(log=tmp_path / "first.log")
    try:
        wait_for(lambda: bench.simulator.posts == 1)
        time.sleep(0.3)
    finally:
        first.send_signal(signal.SIGKILL)  # killed while UGPP holds its POST
        first.wait(timeout=30)
    key = key_of(bench.stores, filing)
    (unknown,) = bench.stores.lotes.attempts(key)
    assert unknown.outcome is AttemptOutcome.UNKNOWN and unknown.request_bytes
    second = bench.worker(log=tmp_path / "second.log")
    try:
        wait_for(lambda: bench.stores.requests.find(filing).state is RequestState.SENT)
    finally:
        second.terminate()
        second.wait(timeout=30)
    host = socket.gethostname()
    assert bench.actors(filing, "request.sending")[0].startswith(f"worker:{host}:{first.pid}:")
    assert bench.actors(filing, "request.sent")[0].startswith(f"worker:{host}:{second.pid}:")
    lotes = bench.stores.lotes.lotes(key_of(bench.stores, filing))
    assert len({lote.ugpp_filing_number for lote in lotes}) == len(lotes) == 3
    attempts = bench.stores.lotes.attempts(key)
    assert len(attempts) == bench.simulator.posts == 4  # every POST UGPP received is kept
    assert attempts[0].outcome is AttemptOutcome.UNKNOWN  # as the killed worker left it
    shown = CliRunner().invoke(main, ["show", filing], env=bench.env)
    assert "Desconocido" in shown.output  # shown as such, not as a failure or a success


def test_worker_once_catches_up_on_received_requests_and_raises_deadline_alerts(
    bench: Bench, tmp_path: Path
) -> None:
    (filing,) = bench.register(1, due=date.today() + timedelta(days=3))  # ≤ 3 business days
    done = bench.worker("--once", log=tmp_path / "once.log")
    assert done.wait(timeout=120) == 0, (tmp_path / "once.log").read_text()
    assert bench.stores.requests.find(filing).state is RequestState.SENT
    printed = (tmp_path / "once.log").read_text()  # what it did, one line per request
    assert f"send {filing}: Entregada" in printed and f"alerta {filing}" in printed
    assert "deadline.alert" in [e.action for e in bench.stores.audit.audit_trail(filing)]


def test_serve_runs_the_scheduler_so_a_request_received_over_soap_is_built_and_sent(
    bench: Bench, tmp_path: Path
) -> None:
    import requests

    from tests.conftest import free_port

    port = free_port()
    env = {**bench.env, "UGPP_BRIDGE_OPERATOR_NIT": "800197268", "UGPP_BRIDGE_INBOUND_USERNAME": "ugpp",
           "UGPP_BRIDGE_INBOUND_PASSWORD": "clave-ugpp-2026", "UGPP_BRIDGE_PORT": str(port),
           "UGPP_BRIDGE_SESSION_SECRET": "serve-test-secret-long-enough-12345"}  # fmt: skip
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "ugpp_bridge", "serve"], env=env, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(f"{base}/healthz"), 30)
        sent = CliRunner().invoke(main, ["ugpp-sim", "send-request", str(DATA / "wire" / "solicitud.xml"),
                                         "--url", f"{base}/soap/solicitudes"], env=env)  # fmt: skip
        assert sent.exit_code == 0, sent.output
        wait_for(lambda: bench.stores.requests.find("UGPP-2026-000451").state is RequestState.SENT)
        metrics = requests.get(f"{base}/metrics", timeout=5).text
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert 'ugpp_bridge_requests{state="sent"} 1.0' in metrics
    assert 'ugpp_bridge_lotes{state="acknowledged"} 3.0' in metrics
    assert 'ugpp_bridge_send_attempts_total{outcome="acknowledged"} 3.0' in metrics
    assert "ugpp_bridge_awaiting_approval_requests 0.0" in metrics
    assert "ugpp_bridge_overdue_requests 0.0" in metrics
    assert "ugpp_bridge_scheduler_last_heartbeat_timestamp_seconds" in metrics
    assert "ugpp_bridge_exposure_estimate_cop" in metrics
    actors = {e.actor.split(":")[0] for e in bench.stores.audit.audit_trail("UB-2026-000001")}
    assert actors == {"ugpp", "serve"}, (
        actors
    )  # received over SOAP; built and sent by serve's scheduler


def _answers(url: str) -> bool:
    import requests

    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.ConnectionError:
        return False
