"""The operating use cases — Paso 2's sends and retries, the scheduler's sweeps and leases,
deadline alerts, sign-in, the operator's actions — through fakes of their ports."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.unit.fakes import (
    FakeAuditStore,
    FakeBuildStore,
    FakeLoteStore,
    FakeLoteWriter,
    FakeReportSource,
    FakeRequestStore,
)
from tests.unit.fakes_operations import (
    FakeAlertStore,
    FakeDirectory,
    FakeUgppGateway,
    FakeUserStore,
    FakeWorkQueue,
)
from tests.unit.test_use_cases import DATA, OPTIONS, receive
from ugpp_bridge.domain.filing import AttemptOutcome, RequestKey, StoredRequest
from ugpp_bridge.domain.lifecycle import LoteState, RequestState
from ugpp_bridge.domain.users import Role
from ugpp_bridge.errors import InvalidInputError, RemoteUnavailableError, WorkInProgressError
from ugpp_bridge.service.alerting import raise_deadline_alerts
from ugpp_bridge.service.build import build_request
from ugpp_bridge.service.operations import (
    ask_for_rebuild,
    confirm_request,
    correct_confirmation,
    resend_request,
)
from ugpp_bridge.service.sign_in import sign_in
from ugpp_bridge.service.submit import RetryPolicy, SendContext, SendResult, submit_request
from ugpp_bridge.service.work import Leasing, WorkContext, build_due, run_claimed, send_due

NOW = datetime(2026, 11, 5, 14, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=3, base_seconds=2.0, max_seconds=300.0, jitter=0.0)


class Bank:
    """One received request in the fake stores, built and approved on demand."""

    def __init__(self) -> None:
        self.requests = FakeRequestStore()
        self.builds = FakeBuildStore(self.requests)
        self.lotes = FakeLoteStore(self.requests)
        self.audit = FakeAuditStore(self.requests)
        self.key = self.requests.find(receive(self.requests).filing_number).key
        self.slept: list[float] = []

    def build(self, key: RequestKey | None = None, actor: str = "system") -> StoredRequest:
        return build_request(
            key or self.key, requests=self.requests, builds=self.builds, lotes=self.lotes,
            source=FakeReportSource(DATA), writer=FakeLoteWriter(),
            options=replace(OPTIONS, require_approval=False), clock=lambda: NOW, actor=actor,
        )  # fmt: skip

    def send(self, gateway: FakeUgppGateway, **kwargs: bool) -> StoredRequest:
        context = SendContext(self.requests, self.lotes, gateway, lambda: NOW,
                              self.slept.append, POLICY, "worker")  # fmt: skip
        return submit_request(self.key, context, **kwargs)


# -- Paso 2: sends and retries (SPEC §5, §9) ---------------------------------------------------


def test_a_lote_is_retried_with_the_same_bytes_until_acknowledged() -> None:
    bank = Bank()
    bank.build()
    gateway = FakeUgppGateway(AttemptOutcome.CONNECTION_ERROR, AttemptOutcome.TIMEOUT,
                              AttemptOutcome.ACKNOWLEDGED)  # fmt: skip
    done = bank.send(gateway)
    assert SendResult.of(done) is SendResult.SENT
    first = bank.lotes.lotes(bank.key)[0]
    tries = [a for a in bank.lotes.attempts(bank.key) if a.submission_id == first.submission_id]
    assert [a.outcome for a in tries] == [AttemptOutcome.CONNECTION_ERROR, AttemptOutcome.TIMEOUT,
                                          AttemptOutcome.ACKNOWLEDGED]  # fmt: skip
    assert len({a.request_bytes for a in tries}) == 1  # the same idEnvio and bytes every time
    assert bank.slept == [2.0, 4.0]  # exponential backoff (no jitter in this policy)
    assert {lote.state for lote in bank.lotes.lotes(bank.key)} == {LoteState.ACKNOWLEDGED}


def test_a_client_fault_rejects_the_lote_and_the_request_without_a_retry() -> None:
    bank = Bank()
    bank.build()
    done = bank.send(FakeUgppGateway(AttemptOutcome.CLIENT_FAULT))
    assert SendResult.of(done) is SendResult.REJECTED and "datos inválidos" in (
        done.last_error or ""
    )
    assert len(bank.lotes.attempts(bank.key)) == 1 and bank.slept == []
    assert bank.lotes.lotes(bank.key)[0].state is LoteState.REJECTED


def test_refused_credentials_hold_the_request_for_an_operator() -> None:
    bank = Bank()
    bank.build()
    done = bank.send(FakeUgppGateway(token_refused=True))
    assert SendResult.of(done) is SendResult.FAILED and done.state is RequestState.SENDING
    assert "Credenciales rechazadas" in (done.held_reason or "")
    (unsent,) = bank.lotes.attempts(bank.key)  # kept as evidence, with no bytes sent
    assert (unsent.outcome, unsent.request_bytes) == (AttemptOutcome.CREDENTIALS_REFUSED, b"")
    resumed = bank.send(FakeUgppGateway(), operator=True)  # an operator takes it back
    assert resumed.state is RequestState.SENT and resumed.held_reason is None


def test_a_send_that_runs_out_of_attempts_is_parked_not_dropped() -> None:
    bank = Bank()
    bank.build()
    done = bank.send(FakeUgppGateway(AttemptOutcome.SERVER_FAULT))
    assert SendResult.of(done) is SendResult.PARKED
    assert "se reintentará automáticamente" in (done.last_error or "")
    assert len(bank.lotes.attempts(bank.key)) == POLICY.max_attempts


def test_a_resumed_send_never_resends_an_acknowledged_lote() -> None:
    bank = Bank()
    bank.build()
    bank.send(FakeUgppGateway(AttemptOutcome.ACKNOWLEDGED, AttemptOutcome.SERVER_FAULT))
    gateway = FakeUgppGateway()
    assert bank.send(gateway).state is RequestState.SENT
    acknowledged_first = bank.lotes.lotes(bank.key)[0]
    assert [call.request_bytes for call in gateway.posted] == [
        b"<Envelope>" + lote.xml + b"</Envelope>"
        for lote in bank.lotes.lotes(bank.key)
        if lote.submission_id != acknowledged_first.submission_id
    ]


# -- the scheduler's sweeps and leases ---------------------------------------------------------


def context_of(bank: Bank, queue: FakeWorkQueue, gateway: FakeUgppGateway) -> WorkContext:
    leasing = Leasing(queue, "worker:1", timedelta(minutes=5), lambda: NOW)
    return WorkContext(bank.requests, leasing, lambda key, actor: bank.build(key, actor),
                       lambda key: submit_request(key, SendContext(
                           bank.requests, bank.lotes, gateway, lambda: NOW, bank.slept.append,
                           POLICY, "worker:1")),
                       timedelta(minutes=30))  # fmt: skip


def test_a_sweep_builds_then_sends_what_is_due_and_gives_every_lease_back() -> None:
    bank = Bank()
    queue = FakeWorkQueue(bank.requests)
    context = context_of(bank, queue, FakeUgppGateway())
    built = build_due(context)
    assert [s.state for s in built] == [RequestState.APPROVED] and queue.held == {}
    sent = send_due(context)
    assert [s.state for s in sent] == [RequestState.SENT] and not sent[0].parked
    assert build_due(context) == [] and send_due(context) == []


def test_a_parked_send_is_due_again_only_after_its_wait() -> None:
    bank = Bank()
    queue = FakeWorkQueue(bank.requests)
    context = context_of(bank, queue, FakeUgppGateway(AttemptOutcome.SERVER_FAULT))
    build_due(context)
    (parked,) = send_due(context)
    assert parked.retry_at == NOW + timedelta(minutes=30)
    assert send_due(context) == []  # not before its retry time


def test_a_build_left_mid_way_by_a_dead_process_is_marked_and_built_again() -> None:
    bank = Bank()
    bank.requests.start_build(bank.key, at=NOW, actor="worker:dead")  # then the process died
    queue = FakeWorkQueue(bank.requests)
    (swept,) = build_due(context_of(bank, queue, FakeUgppGateway()))
    assert swept.state is RequestState.APPROVED
    actions = [action for _, action in bank.requests.actions]
    failed = actions.index("request.build_failed")  # marked interrupted first
    assert actions[failed - 1 : failed + 2] == [
        "request.building", "request.build_failed", "request.building",
    ]  # fmt: skip


def test_an_operator_waits_while_another_process_holds_the_request() -> None:
    bank = Bank()
    queue = FakeWorkQueue(bank.requests)
    leasing = Leasing(queue, "web:ana", timedelta(minutes=5), lambda: NOW)
    queue.claim(bank.key, owner="worker:1", now=NOW, lease=timedelta(minutes=5))
    with pytest.raises(WorkInProgressError, match="worker:1"):
        run_claimed(leasing, bank.key, bank.requests.get)
    queue.held.clear()
    assert run_claimed(leasing, bank.key, bank.requests.get).key == bank.key
    assert queue.held == {}  # released afterwards


def test_a_rebuild_asked_by_a_person_is_built_in_their_name() -> None:
    bank = Bank()
    bank.build()
    ask_for_rebuild(bank.key, requests=bank.requests, clock=lambda: NOW, actor="web:ana")
    bank.requests.requests[bank.key] = replace(bank.requests.get(bank.key),
                                               state=RequestState.RECEIVED)  # fmt: skip
    build_due(context_of(bank, FakeWorkQueue(bank.requests), FakeUgppGateway()))
    assert bank.requests.get(bank.key).built_by == "web:ana"  # four eyes: ana cannot approve it


# -- deadline alerts ---------------------------------------------------------------------------


def test_an_alert_is_raised_once_and_delivered_on_each_channel_until_it_goes_through() -> None:
    bank = Bank()  # due 2026-12-07
    alerts, sent = FakeAlertStore(), []
    failing = iter([RemoteUnavailableError("webhook down"), None])

    def webhook(alert: object) -> None:
        error = next(failing)
        if error is not None:
            raise error

    channels = {"webhook": webhook, "email": sent.append}
    today = date(2026, 12, 4)  # one business day left
    raised = raise_deadline_alerts(bank.requests, alerts, today=today, holidays=set(),
                                   clock=lambda: NOW, channels=channels)  # fmt: skip
    assert [a.business_days_left for a in raised] == [1] and len(sent) == 1
    again = raise_deadline_alerts(bank.requests, alerts, today=today, holidays=set(),
                                  clock=lambda: NOW, channels=channels)  # fmt: skip
    assert again == [] and len(sent) == 1  # raised once, e-mailed once
    assert alerts.tries[(1, "webhook")] == ["webhook down", None]  # retried until delivered


def test_a_delivered_request_raises_no_alert() -> None:
    bank = Bank()
    bank.build()
    bank.send(FakeUgppGateway())
    assert raise_deadline_alerts(bank.requests, FakeAlertStore(), today=date(2026, 12, 8),
                                 holidays=set(), clock=lambda: NOW) == []  # fmt: skip


# -- sign-in (SPEC §11) ------------------------------------------------------------------------


def signed(users: FakeUserStore, directory: FakeDirectory | None, name: str, password: str,
           local: bool = True):  # type: ignore[no-untyped-def]  # fmt: skip
    return sign_in(name, password, users=users, directory=directory, local_accounts=local,
                   clock=lambda: NOW)  # fmt: skip


def test_a_local_account_signs_in_only_while_local_accounts_are_on() -> None:
    users = FakeUserStore()
    users.add("root", Role.OFFICER, "clave-larga", at=NOW, actor="cli")
    assert signed(users, None, "root", "clave-larga").user.name == "root"
    assert signed(users, None, "root", "otra") is None
    assert signed(users, None, "root", "clave-larga", local=False) is None


def test_the_directory_decides_for_everyone_else_and_its_groups_give_the_role() -> None:
    users = FakeUserStore()
    directory = FakeDirectory([("ana", "s3creta", Role.OFFICER), ("leo", "x", None)])
    ana = signed(users, directory, "ana", "s3creta")
    assert (ana.user.role, ana.user.directory, ana.directory_dn) == (
        Role.OFFICER, True, "uid=ana,ou=people,dc=banco,dc=co",
    )  # fmt: skip
    assert signed(users, directory, "leo", "x") is None  # in none of the bridge's groups
    assert signed(users, directory, "ana", "") is None and directory.asked == ["ana", "leo"]
    users.disable("ana", at=NOW, actor="cli")  # a local stop beats the directory
    assert signed(users, directory, "ana", "s3creta") is None


# -- the operator's actions --------------------------------------------------------------------


def test_a_resend_is_audited_and_resends_a_sent_request_whole() -> None:
    bank = Bank()
    bank.build()
    bank.send(FakeUgppGateway())
    leasing = Leasing(FakeWorkQueue(bank.requests), "web:ana", timedelta(minutes=5), lambda: NOW)
    asked: list[bool] = []

    def send(key: RequestKey, resend_all: bool) -> StoredRequest:
        asked.append(resend_all)
        return bank.requests.get(key)

    resend_request(bank.key, leasing=leasing, requests=bank.requests, audit=bank.audit,
                   send=send, actor="web:ana")  # fmt: skip
    assert asked == [True]
    (entry,) = bank.audit.audit_trail()
    assert (entry.action, entry.actor, entry.details) == (
        "operator.resend", "web:ana", {"resend_all": True},
    )  # fmt: skip
    assert bank.audit.verify_audit().ok


def test_a_confirmation_radicado_is_checked_trimmed_and_correctable() -> None:
    bank = Bank()
    bank.build()
    bank.send(FakeUgppGateway())
    with pytest.raises(InvalidInputError):
        confirm_request(bank.key, "  ", requests=bank.requests, clock=lambda: NOW, actor="a")
    with pytest.raises(InvalidInputError):
        confirm_request(bank.key, "9" * 121, requests=bank.requests, clock=lambda: NOW, actor="a")
    done = confirm_request(bank.key, " 2026-EE-1 ", requests=bank.requests, clock=lambda: NOW,
                           actor="a")  # fmt: skip
    assert (done.state, done.confirmation) == (RequestState.CONFIRMED, "2026-EE-1")
    fixed = correct_confirmation(bank.key, "2026-EE-2 ", requests=bank.requests,
                                 clock=lambda: NOW, actor="a")  # fmt: skip
    assert fixed.confirmation == "2026-EE-2"
