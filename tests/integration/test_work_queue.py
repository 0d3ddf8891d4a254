"""Work leases, the scheduler's sweeps, deadline alerts, dashboard accounts and the metrics
counts, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import free_port, key_of
from tests.integration.test_state_store import DUE, T0, drafts, solicitud
from ugpp_bridge.adapters.mail import MailNotifier
from ugpp_bridge.adapters.state.metrics import SqlAlchemyMetricsReader
from ugpp_bridge.bootstrap import StateStores
from ugpp_bridge.domain.alerts import DeadlineAlert
from ugpp_bridge.domain.filing import (
    Attempt,
    AttemptOutcome,
    Decision,
    RequestKey,
    StoredRequest,
    submission_id,
)
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.domain.users import Role, User
from ugpp_bridge.domain.work import WorkKind
from ugpp_bridge.errors import (
    InvalidInputError,
    RemoteUnavailableError,
    UserExistsError,
    WorkInProgressError,
)
from ugpp_bridge.service.alerting import raise_deadline_alerts
from ugpp_bridge.service.work import (
    INTERRUPTED,
    Leasing,
    Swept,
    WorkContext,
    build_due,
    send_due,
)

LEASE = timedelta(minutes=5)


def names(swept: list[Swept]) -> list[str]:
    return [item.filing_number for item in swept]


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def register(stores: StateStores, request_id: str, due: date = DUE) -> str:
    return stores.requests.register(
        solicitud(request_id), received_at=T0, due_date=due, actor="test"
    ).filing_number


def test_the_most_urgent_due_request_is_claimed_and_a_held_one_is_skipped(
    stores: StateStores,
) -> None:
    later = register(stores, "UGPP-LATER", DUE + timedelta(days=3))
    sooner = register(stores, "UGPP-SOONER", DUE)
    first = stores.work.claim_next(WorkKind.BUILD, owner="a", now=T0, lease=LEASE)
    second = stores.work.claim_next(WorkKind.BUILD, owner="b", now=T0, lease=LEASE)
    assert (first and first.filing_number, second and second.filing_number) == (sooner, later)
    assert stores.work.claim_next(WorkKind.BUILD, owner="c", now=T0, lease=LEASE) is None
    assert stores.work.claim_next(WorkKind.SEND, owner="c", now=T0, lease=LEASE) is None


def test_an_expired_lease_is_due_again_and_its_old_owner_cannot_renew_it(
    stores: StateStores,
) -> None:
    filing = register(stores, "UGPP-1")
    held = stores.work.claim_next(WorkKind.BUILD, owner="dead", now=T0, lease=LEASE)
    assert held is not None
    assert stores.work.claim_next(WorkKind.BUILD, owner="b", now=T0 + LEASE, lease=LEASE) is None
    taken = stores.work.claim_next(WorkKind.BUILD, owner="b", now=T0 + LEASE * 2, lease=LEASE)
    assert taken is not None and taken.filing_number == filing
    assert stores.work.renew(held, now=T0 + LEASE * 2, lease=LEASE) is None
    assert stores.work.renew(taken, now=T0 + LEASE * 2, lease=LEASE) is not None


def test_a_parked_send_is_not_due_before_its_retry_time(stores: StateStores) -> None:
    filing = register(stores, "UGPP-1")
    stores.requests.start_build(key_of(stores, filing), at=T0, actor="test")
    stores.lotes.store_lotes(key_of(stores, filing), drafts(filing), at=T0, actor="test")
    assert (
        stores.work.claim_next(WorkKind.SEND, owner="a", now=T0, lease=LEASE) is None
    )  # unapproved
    stores.builds.decide(key_of(stores, filing), Decision.APPROVED, at=T0, actor="web:oficial")
    claim = stores.work.claim_next(WorkKind.SEND, owner="a", now=T0, lease=LEASE)
    assert claim is not None
    stores.work.release(claim, retry_at=T0 + timedelta(minutes=30))
    assert (
        stores.work.claim_next(
            WorkKind.SEND, owner="a", now=T0 + timedelta(minutes=29), lease=LEASE
        )
        is None
    )
    assert stores.work.claim_next(
        WorkKind.SEND, owner="a", now=T0 + timedelta(minutes=30), lease=LEASE
    )


def test_an_operator_waits_for_a_live_holder_but_not_for_a_dead_process_of_this_host(
    stores: StateStores,
) -> None:
    import socket

    filing = register(stores, "UGPP-1")
    assert stores.work.claim_next(
        WorkKind.BUILD, owner="worker:other-host:1:x", now=T0, lease=LEASE
    )
    with pytest.raises(WorkInProgressError, match="worker:other-host:1:x"):
        stores.work.claim(key_of(stores, filing), owner="cli", now=T0, lease=LEASE)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead_owner = f"cli:{socket.gethostname()}:{gone.stdout.strip()}:x"
    other = register(stores, "UGPP-2")
    assert stores.work.claim(key_of(stores, other), owner=dead_owner, now=T0, lease=LEASE)
    assert stores.work.claim(key_of(stores, other), owner="cli", now=T0, lease=LEASE).owner == "cli"
    with pytest.raises(WorkInProgressError):  # another thread of the same process is on it
        stores.work.claim(key_of(stores, other), owner="cli", now=T0, lease=LEASE)


@pytest.mark.postgresql
def test_skip_locked_passes_over_a_row_another_claimer_has_locked(postgres_url: str) -> None:
    from ugpp_bridge.adapters.state.migrations import upgrade
    from ugpp_bridge.bootstrap import state_stores

    upgrade(postgres_url)
    stores = state_stores(postgres_url)
    try:
        sooner = register(stores, "UGPP-SOONER", DUE)
        later = register(stores, "UGPP-LATER", DUE + timedelta(days=1))
        result: list[str | None] = []
        with stores.requests.engine.begin() as locker:  # another claimer, mid-transaction
            locker.execute(
                sa.text("SELECT id FROM requests WHERE filing_number = :f FOR UPDATE"),
                {"f": sooner},
            )
            thread = threading.Thread(target=lambda: result.append(
                getattr(stores.work.claim_next(WorkKind.BUILD, owner="b", now=T0, lease=LEASE), "filing_number", None)))  # fmt: skip
            thread.start()
            thread.join(timeout=10)
            assert not thread.is_alive(), "the claim waited for the locked row"
        assert result == [later]
    finally:
        stores.close()


def context(stores: StateStores, clock: Clock, build=None, send=None) -> WorkContext:  # type: ignore[no-untyped-def]
    return WorkContext(
        stores.requests,
        Leasing(stores.work, "worker-test", LEASE, clock),
        build or (lambda key, actor: stores.requests.get(key)),
        send or (lambda key: stores.requests.get(key)),
        timedelta(minutes=30),
    )


def fake_build(stores: StateStores, clock: Clock):  # type: ignore[no-untyped-def]
    def build(key: RequestKey, actor: str) -> StoredRequest:
        started = stores.requests.start_build(key, at=clock(), actor=actor)
        stores.lotes.store_lotes(key, drafts(started.filing_number, started.generation),
                                 at=clock(), actor=actor)  # fmt: skip
        return stores.builds.decide(key, Decision.APPROVED, at=clock(), actor="web:oficial")

    return build


def test_the_build_sweep_builds_received_requests_and_restarts_an_interrupted_build(
    stores: StateStores,
) -> None:
    clock = Clock()
    fresh, interrupted = register(stores, "UGPP-1"), register(stores, "UGPP-2")
    stores.requests.start_build(key_of(stores, interrupted), at=T0, actor="a-process-that-died")
    done = names(build_due(context(stores, clock, build=fake_build(stores, clock))))
    assert sorted(done) == sorted([fresh, interrupted])
    assert {stores.requests.find(f).state for f in done} == {RequestState.APPROVED}
    trail = [(e.action, e.details.get("error")) for e in stores.audit.audit_trail(interrupted)]
    assert ("request.build_failed", INTERRUPTED) in trail
    assert build_due(context(stores, clock, build=fake_build(stores, clock))) == []


def test_a_build_that_fails_unexpectedly_is_marked_failed_not_retried_in_a_loop(
    stores: StateStores,
) -> None:
    clock = Clock()
    filing = register(stores, "UGPP-1")

    def broken(key: RequestKey, actor: str) -> StoredRequest:
        stores.requests.start_build(key, at=clock(), actor=actor)
        raise RuntimeError("a bug")

    assert build_due(context(stores, clock, build=broken)) == [
        Swept(filing, RequestState.BUILD_FAILED)
    ]
    assert stores.requests.find(filing).state is RequestState.BUILD_FAILED
    assert build_due(context(stores, clock, build=broken)) == []


def test_the_send_sweep_parks_an_unfinished_send_until_its_retry_time(stores: StateStores) -> None:
    clock = Clock()
    filing = register(stores, "UGPP-1")
    fake_build(stores, clock)(key_of(stores, filing), "test")
    calls: list[str] = []

    def parked(key: RequestKey) -> StoredRequest:
        calls.append(stores.requests.get(key).filing_number)
        if stores.requests.get(key).state is RequestState.APPROVED:
            stores.requests.transition(key, RequestState.SENDING, at=clock(), actor="t")
        return stores.requests.get(key)

    work = context(stores, clock, send=parked)
    first = send_due(work)
    assert names(first) == [filing] and first[0].state is RequestState.SENDING
    assert first[0].parked  # a parked send is never reported as sent
    assert send_due(work) == []
    clock.now += timedelta(minutes=30)
    assert names(send_due(work)) == [filing] and calls == [filing, filing]


def test_deadline_alerts_are_raised_once_at_the_tightest_threshold_and_reach_the_webhook(
    stores: StateStores,
) -> None:
    clock = Clock()
    open_ = register(stores, "UGPP-1", date(2026, 12, 7))
    register(stores, "UGPP-FAR", date(2027, 3, 1))
    delivered: list[DeadlineAlert] = []
    failures = [RemoteUnavailableError("down")]

    def notify(alert: DeadlineAlert) -> None:
        if failures:
            raise failures.pop()
        delivered.append(alert)

    def sweep(today: date) -> list[DeadlineAlert]:
        return raise_deadline_alerts(stores.requests, stores.alerts, today=today, holidays=set(),
                                     clock=clock, channels={"webhook": notify})  # fmt: skip

    # 2026-12-02 (Wednesday): 3 business days left -> the 5-day alert only, not the 10-day one.
    (first,) = sweep(date(2026, 12, 2))
    assert (first.filing_number, first.threshold, first.business_days_left) == (open_, 5, 3)
    assert delivered == []  # the webhook failed; kept for the next sweep
    assert sweep(date(2026, 12, 2)) == [] and [a.threshold for a in delivered] == [5]
    assert [a.threshold for a in sweep(date(2026, 12, 4))] == [1]
    assert [a.threshold for a in sweep(date(2026, 12, 8))] == [0]
    assert "vencida hace 1 día; vence el 07/12/2026" in delivered[-1].message()
    assert [e.action for e in stores.audit.audit_trail(open_)].count("deadline.alert") == 3
    banner = stores.alerts.recent(T0 - timedelta(days=1))
    assert [a.threshold for a in banner] == [0, 1, 5]  # newest first, for the desk


def test_a_friday_deadline_alerts_as_overdue_over_the_weekend(stores: StateStores) -> None:
    friday = register(stores, "UGPP-V", date(2026, 12, 4))
    (alert,) = raise_deadline_alerts(stores.requests, stores.alerts, today=date(2026, 12, 6),
                                     holidays=set(), clock=Clock())  # fmt: skip
    assert (alert.filing_number, alert.threshold, alert.business_days_left) == (friday, 0, -2)
    assert "vencida hace 2 días" in alert.message()


def test_deadline_alerts_reach_the_compliance_team_by_e_mail(stores: StateStores) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list[object] = []

    class Inbox(Message):  # type: ignore[misc]
        def handle_message(self, message: object) -> None:
            received.append(message)

    port = free_port()
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        register(stores, "UGPP-1", date(2026, 12, 7))
        mail = MailNotifier(f"smtp://127.0.0.1:{port}", ["cumplimiento@banco.example"],
                            sender="ugpp-bridge@banco.example")  # fmt: skip
        raise_deadline_alerts(stores.requests, stores.alerts, today=date(2026, 12, 4),
                              holidays=set(), clock=Clock(), channels={"email": mail})  # fmt: skip
    finally:
        controller.stop()
    (message,) = received
    assert message["To"] == "cumplimiento@banco.example"  # type: ignore[index]
    from email.header import decode_header, make_header

    subject = str(make_header(decode_header(message["Subject"])))  # type: ignore[index]
    assert subject == "[UGPP] Falta 1 día hábil: UB-2026-000001"  # encoded on the wire (RFC 2047)
    body = message.get_payload(decode=True).decode()  # type: ignore[attr-defined]
    assert "Solicitud UGPP-1 (radicado UB-2026-000001, Recibida): falta 1 día hábil" in body
    assert stores.alerts.undelivered("email", 5) == []  # delivered: not sent again


def test_dashboard_accounts_keep_a_hash_and_audit_no_secret(stores: StateStores) -> None:
    stores.users.add("ana", Role.VIEWER, "una clave bien larga", at=T0, actor="cli:root")
    assert stores.users.authenticate("ana", "una clave bien larga") == User("ana", Role.VIEWER)
    assert stores.users.authenticate("ana", "otra clave") is None
    assert stores.users.authenticate("nadie", "una clave bien larga") is None
    with pytest.raises(UserExistsError):
        stores.users.add("ana", Role.OPERATOR, "una clave bien larga", at=T0, actor="cli:root")
    with pytest.raises(InvalidInputError, match="without spaces"):
        stores.users.add("ana maria", Role.VIEWER, "una clave bien larga", at=T0, actor="cli:root")
    with pytest.raises(InvalidInputError, match="12 characters"):
        stores.users.add("pedro", Role.VIEWER, "corta", at=T0, actor="cli:root")
    stores.users.add(
        "ana", Role.OPERATOR, "nueva clave bien larga", at=T0, actor="cli:root", update=True
    )
    assert stores.users.authenticate("ana", "nueva clave bien larga") == User("ana", Role.OPERATOR)
    with stores.requests.engine.connect() as connection:
        stored_hash = connection.execute(
            sa.text("SELECT password_hash FROM dashboard_users")
        ).scalar_one()
    assert "clave" not in stored_hash and stored_hash.startswith("scrypt:")
    entries = [e for e in stores.audit.audit_trail() if e.action.startswith("user.")]
    assert [(e.action, e.details) for e in entries] == [
        ("user.added", {"name": "ana", "role": "viewer"}),
        ("user.updated", {"name": "ana", "role": "operator"}),
    ]


def test_the_metrics_counts_come_from_the_database(stores: StateStores) -> None:
    filing = register(stores, "UGPP-1")
    register(stores, "UGPP-2")
    fake_build(stores, Clock())(key_of(stores, filing), "test")
    for n, (outcome, ms) in enumerate(
        [(AttemptOutcome.TIMEOUT, 60_000), (AttemptOutcome.ACKNOWLEDGED, 80)]
    ):
        stores.lotes.record_attempt(
            Attempt(
                submission_id(filing, 1, 1),
                T0 + timedelta(seconds=n),
                ms,
                "http://ugpp",
                outcome,
                b"<x/>",
            ),
            actor="test",
        )
    counts = SqlAlchemyMetricsReader(stores.requests.engine).counts([0.1, 1.0, 60.0])
    assert counts.requests_by_state == {"approved": 1, "received": 1}
    assert counts.lotes_by_state == {"stored": 2}
    assert counts.attempts_by_outcome == {"timeout": 1, "acknowledged": 1}
    assert counts.duration_buckets == [(0.1, 1), (1.0, 1), (60.0, 2)]
    assert (counts.duration_count, counts.duration_sum_seconds) == (2, 60.08)


def test_a_rebuild_asked_for_in_the_dashboard_is_built_by_the_sweep_as_that_person_s(
    stores: StateStores,
) -> None:
    clock = Clock()
    filing = register(stores, "UGPP-1")
    key = key_of(stores, filing)
    fake_build(stores, clock)(key, "test")  # built and approved once
    stores.requests.request_rebuild(key, at=T0, actor="web:ana")
    claimed: list[str] = []

    def build(key: RequestKey, actor: str) -> StoredRequest:
        claimed.append(actor)
        started = stores.requests.start_build(key, at=clock(), actor=actor)
        stores.lotes.store_lotes(key, drafts(filing, started.generation), at=clock(), actor=actor)
        return stores.requests.get(key)  # built: an officer other than ana must approve it

    assert names(build_due(context(stores, clock, build=build))) == [filing]
    assert claimed == ["web:ana"]
    assert stores.requests.get(key).built_by == "web:ana"  # so ana cannot approve it
    assert build_due(context(stores, clock, build=build)) == []  # asked once, built once


def test_schedulers_starting_together_beat_without_a_unique_violation(
    stores: StateStores,
) -> None:
    # Issue 25, item 5: serve and worker starting together sometimes logged a UniqueViolation
    # on pk_scheduler_heartbeats (an update that found no row, then two inserts).
    failures: list[Exception] = []
    for round_ in range(5):
        owner, start = f"host:{round_}", threading.Barrier(6)

        def beat(n: int, owner: str = owner, start: threading.Barrier = start) -> None:
            start.wait(timeout=10)
            try:
                stores.work.beat(owner, T0 + timedelta(seconds=n))
            except Exception as exc:  # collected for the assertion
                failures.append(exc)

        threads = [threading.Thread(target=beat, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert failures == []
    assert stores.work.last_beat() is not None
