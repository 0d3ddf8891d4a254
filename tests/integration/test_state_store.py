"""The bridge's memory on SQLite and PostgreSQL: registration, lifecycle, lotes, attempts, audit."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tests.conftest import DATA, key_of
from ugpp_bridge.adapters.state import tables as state_tables
from ugpp_bridge.adapters.state.engine import state_engine
from ugpp_bridge.adapters.state.migrations import (
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from ugpp_bridge.bootstrap import StateStores
from ugpp_bridge.domain.codes import InformationType
from ugpp_bridge.domain.filing import (
    Attempt,
    AttemptOutcome,
    Correction,
    Decision,
    LoteDraft,
    ReceiptStatus,
    SubmissionType,
    submission_id,
)
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.lifecycle import LoteState, RequestState
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.errors import (
    ConflictingRequestError,
    IllegalTransitionError,
    RequestNotFoundError,
)

T0 = datetime(2026, 11, 5, 14, 0, tzinfo=UTC)
DUE = date(2026, 12, 7)
ANA, PEDRO, RAUL = PersonId("CC", "52123456"), PersonId("PT", "7788990"), PersonId("RC", "1234")
SYSTEM = "system"


def solicitud(
    request_id: str = "UGPP-1", persons: tuple[PersonId, ...] = (ANA, PEDRO, RAUL)
) -> FinancialInfoRequest:
    return FinancialInfoRequest(
        request_id=request_id,
        operator_nit="800197268",
        requested_on=date(2026, 11, 2),
        term_starts_on=date(2026, 11, 5),
        information_types=frozenset(InformationType),
        periods=(Period(2025, 1), Period(2025, 2)),
        persons=persons,
    )


def drafts(filing: str, generation: int = 1, count: int = 2) -> list[LoteDraft]:
    xml = (DATA / "wire" / "reporte.xml").read_bytes()
    return [
        LoteDraft(
            n,
            count,
            submission_id(filing, generation, n),
            SubmissionType.ORIGINAL,
            10,
            xml + bytes([n]),
        )
        for n in range(1, count + 1)
    ]


def built(stores: StateStores, request_id: str = "UGPP-1") -> str:
    filing = stores.requests.register(
        solicitud(request_id), received_at=T0, due_date=DUE, actor=SYSTEM
    ).filing_number
    stores.requests.start_build(key_of(stores, filing), at=T0, actor=SYSTEM)
    stores.lotes.store_lotes(key_of(stores, filing), drafts(filing), at=T0, actor=SYSTEM)
    return filing


def test_migrations_go_up_down_and_up_again(db_url: str) -> None:
    upgrade(db_url)
    assert current_revision(db_url) == head_revision()
    downgrade(db_url, "base")
    assert current_revision(db_url) is None
    upgrade(db_url)
    assert current_revision(db_url) == head_revision()


def test_the_models_and_the_migrations_agree(state_url: str) -> None:
    engine = state_engine(state_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, state_tables.metadata) == []
    finally:
        engine.dispose()


def test_a_new_request_gets_a_readable_radicado_and_is_stored_whole(stores: StateStores) -> None:
    receipt = stores.requests.register(solicitud(), received_at=T0, due_date=DUE, actor=SYSTEM)
    assert (receipt.filing_number, receipt.status, receipt.total_persons) == (
        "UB-2026-000001",
        ReceiptStatus.RECEIVED,
        3,
    )
    assert receipt.received_at == T0 and receipt.due_date == DUE
    for identifier in ("UB-2026-000001", "UGPP-1"):
        stored = stores.requests.find(identifier)
        assert stored.request == solicitud()
        assert (stored.state, stored.due_date, stored.received_at) == (
            RequestState.RECEIVED,
            DUE,
            T0,
        )


def test_the_same_request_again_is_a_duplicate_with_the_original_radicado(
    stores: StateStores,
) -> None:
    first = stores.requests.register(solicitud(), received_at=T0, due_date=DUE, actor=SYSTEM)
    again = stores.requests.register(
        solicitud(persons=(RAUL, ANA, PEDRO)),
        received_at=T0 + timedelta(hours=1),
        due_date=DUE,
        actor=SYSTEM,
    )
    assert (again.status, again.filing_number, again.received_at) == (
        ReceiptStatus.DUPLICATE,
        first.filing_number,
        T0,
    )
    assert [e.action for e in stores.audit.audit_trail()] == [
        "request.received",
        "request.duplicate",
    ]
    assert len(stores.requests.list_requests()) == 1


def test_the_same_id_with_different_content_is_refused_and_stores_nothing(
    stores: StateStores,
) -> None:
    stores.requests.register(solicitud(), received_at=T0, due_date=DUE, actor=SYSTEM)
    with pytest.raises(ConflictingRequestError, match="UB-2026-000001"):
        stores.requests.register(
            solicitud(persons=(ANA,)), received_at=T0, due_date=DUE, actor=SYSTEM
        )
    assert len(stores.audit.audit_trail()) == 1
    assert stores.requests.find("UGPP-1").request.persons == (ANA, PEDRO, RAUL)


def test_radicados_count_per_year_in_bogota_time(stores: StateStores) -> None:
    late_2026 = datetime(2027, 1, 1, 4, 59, tzinfo=UTC)  # 23:59 on 31 Dec in Bogotá
    early_2027 = datetime(2027, 1, 1, 5, 0, tzinfo=UTC)  # 00:00 on 1 Jan in Bogotá
    numbers = [
        stores.requests.register(
            solicitud(f"R{n}"), received_at=at, due_date=DUE, actor=SYSTEM
        ).filing_number
        for n, at in enumerate([T0, late_2026, early_2027, early_2027])
    ]
    assert numbers == ["UB-2026-000001", "UB-2026-000002", "UB-2027-000001", "UB-2027-000002"]


def test_an_unknown_request_is_named_in_the_error(stores: StateStores) -> None:
    with pytest.raises(RequestNotFoundError, match="UB-1999-000001"):
        stores.requests.find("UB-1999-000001")


def test_the_lifecycle_runs_from_received_to_confirmed(stores: StateStores) -> None:
    filing = built(stores)
    approved = stores.builds.decide(
        key_of(stores, filing), Decision.APPROVED, at=T0, actor="web:oficial1"
    )
    assert approved.state is RequestState.APPROVED
    for target in (RequestState.SENDING, RequestState.SENT):
        stores.requests.transition(key_of(stores, filing), target, at=T0, actor="operador1")
    done = stores.requests.transition(
        key_of(stores, filing),
        RequestState.CONFIRMED,
        at=T0,
        actor="operador1",
        confirmation="UGPP-R-778812",
    )
    assert (done.state, done.confirmation, done.confirmed_at, done.generation) == (
        RequestState.CONFIRMED, "UGPP-R-778812", T0, 1,
    )  # fmt: skip
    (decision,) = stores.builds.approvals(key_of(stores, filing))
    assert (decision.decision, decision.actor, decision.generation) == (
        Decision.APPROVED, "web:oficial1", 1,
    )  # fmt: skip
    actions = [entry.action for entry in stores.audit.audit_trail(filing)]
    assert actions == [
        "request.received", "request.building", "lote.stored", "lote.stored", "request.built",
        "request.approved", "request.sending", "request.sent", "request.confirmed",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "target", [RequestState.SENT, RequestState.BUILT, RequestState.CONFIRMED, RequestState.SENDING]
)
def test_an_illegal_transition_raises_and_writes_nothing(
    stores: StateStores, target: RequestState
) -> None:
    filing = stores.requests.register(
        solicitud(), received_at=T0, due_date=DUE, actor=SYSTEM
    ).filing_number
    with pytest.raises(IllegalTransitionError, match="'received'"):
        stores.requests.transition(key_of(stores, filing), target, at=T0, actor=SYSTEM)
    assert stores.requests.find(filing).state is RequestState.RECEIVED
    assert len(stores.audit.audit_trail()) == 1


def test_a_failed_build_keeps_its_error_and_can_be_rebuilt(stores: StateStores) -> None:
    filing = stores.requests.register(
        solicitud(), received_at=T0, due_date=DUE, actor=SYSTEM
    ).filing_number
    stores.requests.start_build(key_of(stores, filing), at=T0, actor=SYSTEM)
    failed = stores.requests.transition(
        key_of(stores, filing),
        RequestState.BUILD_FAILED,
        at=T0,
        actor=SYSTEM,
        error="accounts.account_type: 9",
    )
    assert (failed.state, failed.last_error) == (
        RequestState.BUILD_FAILED,
        "accounts.account_type: 9",
    )
    again = stores.requests.start_build(
        key_of(stores, filing), at=T0 + timedelta(hours=1), actor="operador1"
    )
    assert (again.state, again.generation, again.last_error) == (RequestState.BUILDING, 2, None)
    assert again.generated_at == T0 + timedelta(hours=1)


def test_lotes_are_stored_with_their_exact_bytes_and_hash(stores: StateStores) -> None:
    filing = built(stores)
    stored = stores.lotes.lotes(key_of(stores, filing))
    expected = drafts(filing)
    assert [(lote.xml, lote.sha256, lote.state) for lote in stored] == [
        (draft.xml, draft.sha256, LoteState.STORED) for draft in expected
    ]
    assert stores.requests.find(filing).state is RequestState.BUILT


def test_lotes_can_only_be_stored_while_building(stores: StateStores) -> None:
    filing = stores.requests.register(
        solicitud(), received_at=T0, due_date=DUE, actor=SYSTEM
    ).filing_number
    with pytest.raises(IllegalTransitionError):
        stores.lotes.store_lotes(key_of(stores, filing), drafts(filing), at=T0, actor=SYSTEM)
    assert stores.lotes.lotes(key_of(stores, filing)) == []


def test_every_attempt_is_kept_with_its_bytes_in_order(stores: StateStores) -> None:
    filing = built(stores)
    lote = stores.lotes.lotes(key_of(stores, filing))[0]
    failures = Attempt(
        lote.submission_id,
        T0,
        30_000,
        "https://ugpp.example/reporte",
        AttemptOutcome.TIMEOUT,
        b"<env/>",
        error="read timed out",
    )
    ok = Attempt(lote.submission_id, T0 + timedelta(minutes=1), 420, "https://ugpp.example/reporte", AttemptOutcome.ACKNOWLEDGED,
                 b"<env/>", b"<acuse/>", http_status=200)  # fmt: skip
    numbers = [stores.lotes.record_attempt(a, actor=SYSTEM).attempt_number for a in (failures, ok)]
    assert numbers == [1, 2]
    kept = stores.lotes.attempts(key_of(stores, filing))
    assert [
        (a.outcome, a.request_bytes, a.response_bytes, a.http_status, a.duration_ms) for a in kept
    ] == [
        (AttemptOutcome.TIMEOUT, b"<env/>", None, None, 30_000),
        (AttemptOutcome.ACKNOWLEDGED, b"<env/>", b"<acuse/>", 200, 420),
    ]


def test_lote_states_follow_their_lifecycle(stores: StateStores) -> None:
    filing = built(stores)
    first = stores.lotes.lotes(key_of(stores, filing))[0].submission_id
    acknowledged = stores.lotes.set_lote_state(
        first, LoteState.ACKNOWLEDGED, at=T0, actor=SYSTEM, ugpp_filing_number="R-1"
    )
    assert (acknowledged.state, acknowledged.ugpp_filing_number, acknowledged.acknowledged_at) == (
        LoteState.ACKNOWLEDGED,
        "R-1",
        T0,
    )
    with pytest.raises(IllegalTransitionError):
        stores.lotes.set_lote_state(first, LoteState.REJECTED, at=T0, actor=SYSTEM)


def test_a_correction_keeps_what_it_corrects_and_the_diff(stores: StateStores) -> None:
    filing = built(stores)
    diff = {"changed": [{"numeroDocumento": "52123456", "saldoFinal": [2130000, 2130001]}]}
    stores.lotes.record_correction(
        Correction(
            key_of(stores, filing),
            submission_id(filing, 1, 1),
            submission_id(filing, 2, 1),
            diff,
            T0,
        ),
        actor="operador1",
    )
    (kept,) = stores.lotes.corrections(key_of(stores, filing))
    assert (kept.corrected_submission_id, kept.correcting_submission_id, kept.diff) == (
        f"{filing}-G1-L1", f"{filing}-G2-L1", diff,
    )  # fmt: skip


def test_the_audit_chain_verifies(stores: StateStores) -> None:
    built(stores)
    stores.audit.record_action(at=T0, actor="operador1", action="evidence.exported", filing_number="UB-2026-000001",
                                  details={"file": "bundle.zip"}, reason="solicitud de auditoría")  # fmt: skip
    result = stores.audit.verify_audit()
    assert result.ok and result.entries == 6, result.problems


@pytest.mark.parametrize(
    ("tamper", "found"),
    [
        ("UPDATE audit_log SET actor = 'intruso' WHERE seq = 2", "entry 2 was altered"),
        ("UPDATE audit_log SET details = '{}' WHERE seq = 3", "entry 3 was altered"),
        ("DELETE FROM audit_log WHERE seq = 3", "entries 3–3 are missing"),
        ("DELETE FROM audit_log WHERE seq = 5", "the chain ends at entry 4"),
    ],
)
def test_an_edited_or_deleted_audit_entry_is_detected(
    stores: StateStores, tamper: str, found: str
) -> None:
    built(stores)
    with stores.requests.engine.begin() as connection:
        connection.execute(sa.text(tamper))
    result = stores.audit.verify_audit()
    assert not result.ok
    assert any(found in problem for problem in result.problems), result.problems


def test_concurrent_registrations_of_one_request_give_one_receipt_and_one_duplicate(
    stores: StateStores,
) -> None:
    barrier = threading.Barrier(2)
    results: list[object] = []

    def register() -> None:
        barrier.wait(timeout=10)
        try:
            results.append(
                stores.requests.register(
                    solicitud(), received_at=T0, due_date=DUE, actor=SYSTEM
                ).status
            )
        except Exception as exc:  # collected and asserted below
            results.append(exc)

    threads = [threading.Thread(target=register) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(map(str, results)) == sorted([ReceiptStatus.RECEIVED, ReceiptStatus.DUPLICATE])
    assert len(stores.requests.list_requests()) == 1


def test_concurrent_registrations_get_unique_contiguous_radicados(stores: StateStores) -> None:
    count = 8
    barrier = threading.Barrier(count)
    numbers: list[str] = []

    def register(n: int) -> None:
        barrier.wait(timeout=10)
        receipt = stores.requests.register(
            solicitud(f"P-{n}"), received_at=T0, due_date=DUE, actor=SYSTEM
        )
        numbers.append(receipt.filing_number)

    threads = [threading.Thread(target=register, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(numbers) == [f"UB-2026-{n:06d}" for n in range(1, count + 1)]
    assert stores.audit.verify_audit().ok
