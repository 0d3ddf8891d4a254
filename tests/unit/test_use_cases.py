"""The use cases (Paso 1 reception, the build) through fakes of their ports."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.unit.builders import ANA, BETO, account, balance, event, move, payment, title
from tests.unit.fakes import (
    FakeBuildStore,
    FakeLoteStore,
    FakeLoteWriter,
    FakeReportSource,
    FakeRequestStore,
)
from ugpp_bridge.domain.codes import InformationType, TitleEventKind
from ugpp_bridge.domain.deadlines import DeadlineKind
from ugpp_bridge.domain.filing import Decision, ReceiptStatus
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.domain.source import SourceData
from ugpp_bridge.domain.users import Role, User
from ugpp_bridge.errors import (
    ApprovalRefusedError,
    ConflictingRequestError,
    IllegalTransitionError,
    InvalidRequestError,
    RequestTooLargeError,
    SourceDataError,
    SourceProblem,
    WrongOperatorError,
)
from ugpp_bridge.service.approval import approve_build, return_build
from ugpp_bridge.service.build import BuildOptions, build_request, preview_lotes
from ugpp_bridge.service.register import ReceptionPolicy, receive_request

NOW = datetime(2026, 11, 5, 14, 0, tzinfo=UTC)
POLICY = ReceptionPolicy(operator_nit="800197268", term_starts_next_day=False, max_persons=3)
OPTIONS = BuildOptions("800197268", "Banco de Ejemplo S.A.", 4, 4, require_approval=True)
REQUEST = FinancialInfoRequest(
    "SOL-9", "800197268", date(2026, 11, 2), date(2026, 11, 5), frozenset(InformationType),
    (Period(2025, 1), Period(2025, 2)), (ANA, BETO, PersonId("RC", "77")),
)  # fmt: skip
DATA = SourceData(
    accounts=(account("A1", ANA),),
    transactions=(move("2025-01-03", "10"),),
    daily_balances=(balance("2024-12-01", "50"),),
    titles=(title("T1", BETO),),
    title_events=(event("2024-06-01", TitleEventKind.ISSUE, "1000"),),
    trust_yield_payments=(payment("2025-03-01", "42", holder=ANA),),
)


def receive(
    store: FakeRequestStore,
    request: FinancialInfoRequest = REQUEST,
    policy: ReceptionPolicy = POLICY,
):  # type: ignore[no-untyped-def]
    return receive_request(
        request, requests=store, holidays=set(), clock=lambda: NOW, policy=policy, actor="ugpp"
    )


def test_a_received_request_gets_the_deadline_of_its_term() -> None:
    receipt = receive(FakeRequestStore())
    assert (receipt.status, receipt.due_date, receipt.received_at) == (
        ReceiptStatus.RECEIVED,
        date(2026, 12, 7),
        NOW,
    )


def test_the_next_day_option_moves_the_deadline() -> None:
    receipt = receive(
        FakeRequestStore(),
        replace(REQUEST, term_starts_on=date(2026, 11, 4)),
        replace(POLICY, term_starts_next_day=True),
    )
    assert receipt.due_date == date(2026, 12, 7)  # counted from Nov 5: Dec 5 is a Saturday


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        (replace(REQUEST, operator_nit="900123456"), WrongOperatorError),
        (replace(REQUEST, persons=(*REQUEST.persons, PersonId("CC", "5"))), RequestTooLargeError),
    ],
)
def test_a_refused_request_is_never_stored(
    request_: FinancialInfoRequest, error: type[Exception]
) -> None:
    store = FakeRequestStore()
    with pytest.raises(error):
        receive(store, request_)
    assert store.requests == {}


def test_duplicates_and_conflicts_are_the_store_s_to_tell() -> None:
    store = FakeRequestStore()
    first = receive(store)
    assert receive(store).status is ReceiptStatus.DUPLICATE
    with pytest.raises(ConflictingRequestError):
        receive(store, replace(REQUEST, persons=(ANA,)))
    assert len(store.requests) == 1 and store.find(first.filing_number).key in store.requests


def built(source: FakeReportSource, options: BuildOptions = OPTIONS):  # type: ignore[no-untyped-def]
    requests = FakeRequestStore()
    lotes = FakeLoteStore(requests)
    key = requests.find(receive(requests).filing_number).key
    clock = iter(NOW + timedelta(seconds=n) for n in range(1000))
    writer = FakeLoteWriter()
    outcome = build_request(key, requests=requests, builds=FakeBuildStore(requests), lotes=lotes, source=source, writer=writer,
                            options=options, clock=lambda: next(clock))  # fmt: skip
    return outcome, requests, lotes, writer


def test_a_build_stores_every_lote_and_ends_built_with_all_persons_done() -> None:
    outcome, requests, lotes, writer = built(FakeReportSource(DATA))
    assert (outcome.state, outcome.generation, outcome.persons_done) == (RequestState.BUILT, 1, 3)
    assert [d.record_count for d in lotes.stored] == [4, 2]  # 6 records, at most 4 a lote
    assert [d.submission_id for d in lotes.stored] == [
        f"{outcome.filing_number}-G1-L{n}" for n in (1, 2)
    ]
    assert (
        writer.contexts[0].generated_at == outcome.generated_at == NOW
    )  # the first reading: the build start
    assert requests.progress == [1, 2, 3]


def test_source_problems_fail_the_build_with_the_reason_and_store_nothing() -> None:
    problem = SourceProblem("accounts", "account_type", "unknown code", ("A9",))
    with pytest.raises(SourceDataError):
        built(FakeReportSource(DATA, problems=[problem]))


def test_a_failure_half_way_leaves_the_request_build_failed_with_its_error() -> None:
    requests = FakeRequestStore()
    lotes = FakeLoteStore(requests)
    key = requests.find(receive(requests).filing_number).key
    with pytest.raises(SourceDataError):
        build_request(key, requests=requests, builds=FakeBuildStore(requests), lotes=lotes, source=FakeReportSource(DATA, fail_after=2),
                      writer=FakeLoteWriter(), options=OPTIONS, clock=lambda: NOW)  # fmt: skip
    failed = requests.get(key)
    assert failed.state is RequestState.BUILD_FAILED and "transactions.kind" in (
        failed.last_error or ""
    )
    assert lotes.stored == []
    assert [action for _, action in requests.actions] == [
        "request.received",
        "request.building",
        "request.build_failed",
    ]


def test_a_request_for_another_operator_fails_the_build() -> None:
    with pytest.raises(InvalidRequestError, match="UGPP_BRIDGE_OPERATOR_NIT"):
        built(FakeReportSource(DATA), replace(OPTIONS, operator_nit="900123456"))


def test_a_preview_names_files_after_the_request_and_is_not_filed(tmp_path: Path) -> None:
    writer = FakeLoteWriter()
    written = preview_lotes(replace(REQUEST, request_id="SOL/9 x"), source=FakeReportSource(DATA), writer=writer,
                            options=OPTIONS, out_dir=tmp_path, generated_at=NOW)  # fmt: skip
    assert [lote.path.name for lote in written] == ["SOL_9_x-1.xml", "SOL_9_x-2.xml"]
    assert writer.contexts[0].filing_number == "SIN-RADICAR"


def test_the_overview_estimates_exposure_from_delivery_or_today() -> None:
    from ugpp_bridge.service.overview import overview

    requests = FakeRequestStore()
    receive(requests)
    lotes = FakeLoteStore(requests)
    lotes.summaries = lambda _filing: []  # type: ignore[method-assign]  # not built yet
    lotes.attempt_count = lambda _filing: 0  # type: ignore[method-assign]
    (late,) = overview(
        requests, lotes, today=date(2026, 12, 8), holidays=set(), uvt_values={2026: 52_374}
    )
    assert (late.status.kind, late.status.days, late.exposure.uvt, late.exposure.cop, late.open) == (
        DeadlineKind.OVERDUE, 1, 30, 30 * 52_374, True,
    )  # fmt: skip
    (on_time,) = overview(
        requests, lotes, today=date(2026, 12, 4), holidays=set(), uvt_values={2026: 52_374}
    )
    assert (on_time.status.kind, on_time.status.days, on_time.exposure.is_late) == (
        DeadlineKind.AHEAD, 1, False,
    )  # fmt: skip


def built_by(actor: str, require_approval: bool = True):  # type: ignore[no-untyped-def]
    requests = FakeRequestStore()
    lotes = FakeLoteStore(requests)
    key = requests.find(receive(requests).filing_number).key
    options = replace(OPTIONS, require_approval=require_approval)
    build_request(key, requests=requests, builds=FakeBuildStore(requests), lotes=lotes, source=FakeReportSource(DATA),
                  writer=FakeLoteWriter(), options=options, clock=lambda: NOW, actor=actor)  # fmt: skip
    return requests, key


ANA_OFFICER, BETO_OFFICER = User("ana", Role.OFFICER), User("beto", Role.OFFICER)


def test_a_build_waits_for_an_officer_who_approves_it() -> None:
    requests, key = built_by("system")
    assert requests.get(key).state is RequestState.BUILT  # «Por aprobar»
    done = approve_build(
        key,
        requests=requests,
        builds=FakeBuildStore(requests),
        officer=ANA_OFFICER,
        channel="web",
        clock=lambda: NOW,
    )
    assert done.state is RequestState.APPROVED
    assert [
        (d.decision, d.actor, d.generation) for d in FakeBuildStore(requests).approvals(key)
    ] == [(Decision.APPROVED, "web:ana", 1)]


@pytest.mark.parametrize("asked_by", ["web:ana", "cli:ana"])
def test_the_officer_who_asked_for_a_build_cannot_approve_it(asked_by: str) -> None:
    requests, key = built_by(asked_by)
    with pytest.raises(ApprovalRefusedError, match="four eyes"):
        approve_build(
            key,
            requests=requests,
            builds=FakeBuildStore(requests),
            officer=ANA_OFFICER,
            channel="web",
            clock=lambda: NOW,
        )
    assert (
        requests.get(key).state is RequestState.BUILT
        and FakeBuildStore(requests).approvals(key) == []
    )
    approve_build(
        key,
        requests=requests,
        builds=FakeBuildStore(requests),
        officer=BETO_OFFICER,
        channel="cli",
        clock=lambda: NOW,
    )
    assert requests.get(key).state is RequestState.APPROVED


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.VIEWER])
def test_only_an_officer_approves_or_returns(role: Role) -> None:
    requests, key = built_by("system")
    with pytest.raises(ApprovalRefusedError, match="not an officer"):
        approve_build(
            key,
            requests=requests,
            builds=FakeBuildStore(requests),
            officer=User("op", role),
            channel="web",
            clock=lambda: NOW,
        )
    with pytest.raises(ApprovalRefusedError, match="not an officer"):
        return_build(
            key,
            "no",
            requests=requests,
            builds=FakeBuildStore(requests),
            officer=User("op", role),
            channel="web",
            clock=lambda: NOW,
        )


def test_a_returned_build_keeps_its_reason_and_awaits_a_rebuild() -> None:
    requests, key = built_by("system")
    with pytest.raises(ApprovalRefusedError):
        return_build(
            key,
            "   ",
            requests=requests,
            builds=FakeBuildStore(requests),
            officer=ANA_OFFICER,
            channel="web",
            clock=lambda: NOW,
        )
    done = return_build(key, "Faltan las cuentas AFC", requests=requests, builds=FakeBuildStore(requests), officer=ANA_OFFICER,
                        channel="web", clock=lambda: NOW)  # fmt: skip
    assert done.state is RequestState.RETURNED
    assert FakeBuildStore(requests).approvals(key)[-1].reason == "Faltan las cuentas AFC"
    with pytest.raises(IllegalTransitionError):  # nothing to approve until it is rebuilt
        approve_build(
            key,
            requests=requests,
            builds=FakeBuildStore(requests),
            officer=BETO_OFFICER,
            channel="web",
            clock=lambda: NOW,
        )


def test_without_required_approval_a_build_approves_itself_and_says_so() -> None:
    requests, key = built_by("worker:h:1:x", require_approval=False)
    assert requests.get(key).state is RequestState.APPROVED
    (decision,) = FakeBuildStore(requests).approvals(key)
    assert decision.actor == "worker:h:1:x" and "no requerida" in (decision.reason or "")
