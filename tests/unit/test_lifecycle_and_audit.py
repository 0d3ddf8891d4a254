"""The lifecycle state machines (SPEC §5) and the audit hash chain, as pure rules."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import product

import pytest

from ugpp_bridge.domain.audit import GENESIS_HASH, AuditEntry, entry_hash, verify_chain
from ugpp_bridge.domain.codes import InformationType
from ugpp_bridge.domain.corrections import diff_records
from ugpp_bridge.domain.filing import (
    CorrectedLotes,
    filing_number,
    request_fingerprint,
    submission_id,
)
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.lifecycle import (
    LoteState,
    RequestState,
    check_lote_transition,
    check_request_transition,
)
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.errors import IllegalTransitionError

R = RequestState
ALLOWED = {
    (R.RECEIVED, R.BUILDING),
    (R.BUILDING, R.BUILT),
    (R.BUILDING, R.BUILD_FAILED),
    (R.BUILD_FAILED, R.BUILDING),
    (R.BUILT, R.APPROVED),  # an officer approves (SPEC §9)
    (R.BUILT, R.RETURNED),  # or returns it with a reason
    (R.BUILT, R.BUILDING),
    (R.APPROVED, R.SENDING),  # only an approved build is sent
    (R.APPROVED, R.BUILDING),
    (R.RETURNED, R.BUILDING),
    (R.SENDING, R.SENT),
    (R.SENDING, R.REJECTED),
    (R.SENT, R.CONFIRMED),
    (R.SENT, R.SENDING),
    (R.SENT, R.BUILDING),
    (R.REJECTED, R.SENDING),
    (R.REJECTED, R.BUILDING),
    (R.CONFIRMED, R.BUILDING),
}


@pytest.mark.parametrize(("current", "target"), sorted(product(RequestState, RequestState)))
def test_only_the_spec_transitions_are_allowed(current: RequestState, target: RequestState) -> None:
    if (current, target) in ALLOWED:
        check_request_transition(current, target)
    else:
        with pytest.raises(
            IllegalTransitionError, match=f"'{current.value}' cannot move to '{target.value}'"
        ):
            check_request_transition(current, target)


def test_a_superseded_lote_never_comes_back() -> None:
    for target in LoteState:
        with pytest.raises(IllegalTransitionError):
            check_lote_transition(LoteState.SUPERSEDED, target)
    check_lote_transition(LoteState.STORED, LoteState.ACKNOWLEDGED)


def test_radicado_and_id_envio_formats() -> None:
    assert filing_number(2026, 123) == "UB-2026-000123"
    assert filing_number(2026, 9) < filing_number(2026, 10)
    assert submission_id("UB-2026-000123", 2, 3) == "UB-2026-000123-G2-L3"


def _request(persons: tuple[PersonId, ...], nit: str = "800197268") -> FinancialInfoRequest:
    return FinancialInfoRequest(
        "S-1", nit, datetime(2026, 11, 2).date(), datetime(2026, 11, 5).date(),
        frozenset(InformationType), (Period(2025, 1), Period(2025, 2)), persons,
    )  # fmt: skip


def test_the_fingerprint_ignores_order_but_not_content() -> None:
    a, b = PersonId("CC", "1"), PersonId("CC", "2")
    assert request_fingerprint(_request((a, b))) == request_fingerprint(_request((b, a)))
    assert request_fingerprint(_request((a, b))) != request_fingerprint(_request((a,)))
    assert request_fingerprint(_request((a,))) != request_fingerprint(
        _request((a,), nit="900123456")
    )


def chain(length: int) -> list[AuditEntry]:
    entries, previous = [], GENESIS_HASH
    for seq in range(1, length + 1):
        draft = AuditEntry(
            seq, datetime(2026, 11, seq, tzinfo=UTC), "op", "x", None, {"n": seq}, None, previous
        )
        entry = AuditEntry(**{**draft.__dict__, "hash": entry_hash(previous, draft)})
        entries.append(entry)
        previous = entry.hash
    return entries


def test_an_intact_chain_verifies() -> None:
    entries = chain(4)
    result = verify_chain(entries, 4, entries[-1].hash)
    assert result.ok and result.entries == 4


def test_an_empty_chain_verifies_against_the_genesis_head() -> None:
    assert verify_chain([], 0, GENESIS_HASH).ok


def test_a_changed_entry_a_missing_entry_and_a_cut_tail_are_each_detected() -> None:
    entries = chain(4)
    edited = [*entries[:1], AuditEntry(**{**entries[1].__dict__, "actor": "x"}), *entries[2:]]
    assert "entry 2 was altered" in verify_chain(edited, 4, entries[-1].hash).problems[0]
    gap = verify_chain([entries[0], entries[2], entries[3]], 4, entries[-1].hash).problems
    assert "entries 2–2 are missing" in gap[0] and "entry 3 does not link" in gap[1]
    cut = verify_chain(entries[:3], 4, entries[-1].hash).problems
    assert cut and "the head says 4" in cut[0]


def test_a_changed_amount_is_a_change_not_a_removal_and_an_addition() -> None:
    person = {"tipoDocumento": "CC", "numeroDocumento": "1"}
    cuenta = {
        **person,
        "anio": "2025",
        "mes": "1",
        "tipoCuenta": "1",
        "numeroCuenta": "6789",
        "valorCreditos": "10",
    }
    before = [("cuenta", cuenta), ("persona", {"tipoDocumento": "RC", "numeroDocumento": "9"})]
    after = [
        ("cuenta", {**cuenta, "valorCreditos": "12"}),
        ("rendimiento", {**person, "anio": "2025", "valorGirado": "5"}),
    ]
    diff = diff_records(before, after)
    assert diff["resumen"] == {"agregados": 1, "eliminados": 1, "cambiados": 1}
    assert diff["cambiados"][0]["antes"] == {"valorCreditos": "10"}  # type: ignore[index]
    assert diff_records(before, before)["resumen"] == {
        "agregados": 0,
        "eliminados": 0,
        "cambiados": 0,
    }


def test_two_movements_of_a_kind_in_one_month_are_told_apart_by_order() -> None:
    renewal = {
        "tipoDocumento": "CC",
        "numeroDocumento": "1",
        "anio": "2025",
        "mes": "3",
        "numeroTitulo": "T",
        "tipoMovimiento": "2",
    }
    before = [("inversion", {**renewal, "valor": "5"}), ("inversion", {**renewal, "valor": "7"})]
    after = [("inversion", {**renewal, "valor": "5"}), ("inversion", {**renewal, "valor": "8"})]
    assert diff_records(before, after)["resumen"] == {
        "agregados": 0,
        "eliminados": 0,
        "cambiados": 1,
    }


def test_lote_n_of_a_correction_replaces_lote_n_and_extra_lotes_the_last() -> None:
    replaced = CorrectedLotes(["G1-L1", "G1-L2"])
    assert [replaced[n] for n in (1, 2, 3, 7)] == ["G1-L1", "G1-L2", "G1-L2", "G1-L2"]
    assert replaced.get(0) is None and list(replaced) == [1, 2]
