"""``SqlAlchemyLoteStore``: lotes, send attempts and corrections (SPEC §5), with their audit.

Every lote is stored, with its SHA-256, in the same transaction that moves the request to
``built``: a process that dies before sending leaves the lotes stored and unsent, never half.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, RowMapping, func, select, update

from ugpp_bridge.adapters.state import tables as t
from ugpp_bridge.adapters.state.audit import append_audit
from ugpp_bridge.adapters.state.base import SqlAlchemyStateBase
from ugpp_bridge.adapters.state.rows import attempt_from_row, lote_from_row
from ugpp_bridge.domain.filing import (
    Attempt,
    AttemptOutcome,
    Correction,
    Exchange,
    LoteDraft,
    LoteSummary,
    PreparedCall,
    RequestKey,
    StoredLote,
)
from ugpp_bridge.domain.lifecycle import LoteState, RequestState, check_lote_transition
from ugpp_bridge.errors import IllegalTransitionError, RequestNotFoundError
from ugpp_bridge.service.ports import LoteStore


class SqlAlchemyLoteStore(SqlAlchemyStateBase, LoteStore):
    """Lotes, attempts and corrections over the same state database as the requests."""

    # -- lotes and attempts -------------------------------------------------------------------

    def store_lotes(
        self, key: RequestKey, drafts: Iterable[LoteDraft], *, at: datetime, actor: str
    ) -> int:
        with self._tx() as connection:
            row = self._row(connection, key, lock=True)
            if RequestState(row["state"]) is not RequestState.BUILDING:
                raise IllegalTransitionError("request", row["state"], RequestState.BUILT.value)
            stored = 0
            for draft in drafts:  # one at a time: memory holds a single lote's bytes
                connection.execute(t.lotes.insert().values(**_lote_values(row, draft, at)))
                append_audit(
                    connection,
                    at=at,
                    actor=actor,
                    action="lote.stored",
                    filing_number=row["filing_number"],
                    details={
                        "idEnvio": draft.submission_id,
                        "sha256": draft.sha256,
                        "records": draft.record_count,
                    },
                )
                stored += 1
            self._supersede_earlier(connection, row, at=at, actor=actor)
            self._move(
                connection,
                row,
                RequestState.BUILT,
                at=at,
                actor=actor,
                values={"persons_done": row["persons_done"]},
            )
            return stored

    def _supersede_earlier(
        self, connection: Connection, row: RowMapping, *, at: datetime, actor: str
    ) -> None:
        """Unacknowledged lotes of earlier generations must never be sent any more."""
        earlier = connection.execute(
            select(t.lotes.c.id, t.lotes.c.submission_id).where(
                t.lotes.c.request_pk == row["id"],
                t.lotes.c.generation < row["generation"],
                t.lotes.c.state.in_([LoteState.STORED.value, LoteState.REJECTED.value]),
            )
        ).all()
        for lote_id, submission in earlier:
            connection.execute(
                update(t.lotes)
                .where(t.lotes.c.id == lote_id)
                .values(state=LoteState.SUPERSEDED.value)
            )
            append_audit(
                connection,
                at=at,
                actor=actor,
                action="lote.superseded",
                filing_number=row["filing_number"],
                details={"idEnvio": submission},
            )

    def lotes(self, key: RequestKey, *, generation: int | None = None) -> list[StoredLote]:
        with self._read() as connection:
            row = self._row(connection, key)
            return self._lotes(connection, row["id"], generation or row["generation"])

    def summaries(self, key: RequestKey) -> list[LoteSummary]:
        with self._read() as connection:
            row = self._row(connection, key)
            lotes = t.lotes
            rows = connection.execute(
                select(
                    lotes.c.submission_id,
                    lotes.c.lote_number,
                    lotes.c.record_count,
                    lotes.c.state,
                    lotes.c.ugpp_filing_number,
                    lotes.c.acknowledged_at,
                )
                .where(lotes.c.request_pk == row["id"], lotes.c.generation == row["generation"])
                .order_by(lotes.c.lote_number)
            ).all()
            return [LoteSummary(r[0], r[1], r[2], LoteState(r[3]), r[4], r[5]) for r in rows]

    def attempt_count(self, key: RequestKey) -> int:
        with self._read() as connection:
            row = self._row(connection, key)
            count: int = connection.execute(
                select(func.count())
                .select_from(t.attempts.join(t.lotes, t.lotes.c.id == t.attempts.c.lote_id))
                .where(t.lotes.c.request_pk == row["id"])
            ).scalar_one()
            return count

    def _lotes(self, connection: Connection, request_pk: int, generation: int) -> list[StoredLote]:
        rows = (
            connection.execute(
                select(t.lotes, t.requests.c.filing_number)
                .join(t.requests, t.requests.c.id == t.lotes.c.request_pk)
                .where(t.lotes.c.request_pk == request_pk, t.lotes.c.generation == generation)
                .order_by(t.lotes.c.lote_number)
            )
            .mappings()
            .all()
        )
        return [lote_from_row(row) for row in rows]

    def _lote_row(
        self, connection: Connection, submission_id: str, *, lock: bool = False
    ) -> RowMapping:
        query = (
            select(t.lotes, t.requests.c.filing_number)
            .join(t.requests, t.requests.c.id == t.lotes.c.request_pk)
            .where(t.lotes.c.submission_id == submission_id)
        )
        row = connection.execute(query.with_for_update() if lock else query).mappings().first()
        if row is None:
            raise RequestNotFoundError(submission_id)
        return row

    def set_lote_state(
        self,
        submission_id: str,
        target: LoteState,
        *,
        at: datetime,
        actor: str,
        ugpp_filing_number: str | None = None,
        reason: str | None = None,
    ) -> StoredLote:
        with self._tx() as connection:
            row = self._lote_row(connection, submission_id, lock=True)
            check_lote_transition(LoteState(row["state"]), target)
            values: dict[str, object] = {"state": target.value}
            if target is LoteState.ACKNOWLEDGED:
                values.update(ugpp_filing_number=ugpp_filing_number, acknowledged_at=at)
            connection.execute(update(t.lotes).where(t.lotes.c.id == row["id"]).values(**values))
            append_audit(
                connection,
                at=at,
                actor=actor,
                action=f"lote.{target.value}",
                filing_number=row["filing_number"],
                reason=reason,
                details={"idEnvio": submission_id, "radicadoUGPP": ugpp_filing_number},
            )
            return lote_from_row(self._lote_row(connection, submission_id))

    def record_attempt(self, attempt: Attempt, *, actor: str) -> Attempt:
        with self._tx() as connection:
            lote = self._lote_row(connection, attempt.submission_id, lock=True)
            kept = _insert_attempt(connection, lote["id"], attempt)
            _audit_attempt(connection, lote, kept, actor)
            return kept

    def begin_attempt(
        self, submission_id: str, call: PreparedCall, *, started_at: datetime, actor: str
    ) -> Attempt:
        draft = Attempt(
            submission_id, started_at, 0, call.endpoint, AttemptOutcome.UNKNOWN, call.request_bytes
        )
        with self._tx() as connection:
            lote = self._lote_row(connection, submission_id, lock=True)
            kept = _insert_attempt(connection, lote["id"], draft)
            append_audit(
                connection, at=started_at, actor=actor, action="lote.attempt_started",
                filing_number=lote["filing_number"],
                details={"idEnvio": submission_id, "attempt": kept.attempt_number,
                         "endpoint": call.endpoint},
            )  # fmt: skip
            return kept

    def finish_attempt(self, attempt: Attempt, exchange: Exchange, *, actor: str) -> Attempt:
        done = replace(
            exchange.as_attempt(attempt.submission_id),
            started_at=attempt.started_at,
            request_bytes=attempt.request_bytes,
            attempt_number=attempt.attempt_number,
        )
        with self._tx() as connection:
            lote = self._lote_row(connection, attempt.submission_id, lock=True)
            connection.execute(
                update(t.attempts)
                .where(
                    t.attempts.c.lote_id == lote["id"],
                    t.attempts.c.attempt_number == attempt.attempt_number,
                )
                .values(**_result_values(done))
            )
            _audit_attempt(connection, lote, done, actor)
            return done

    def attempts(self, key: RequestKey, *, with_bytes: bool = True) -> list[Attempt]:
        a = t.attempts
        columns = a.c if with_bytes else [c for c in a.c if not c.name.endswith("_bytes")]
        with self._read() as connection:
            row = self._row(connection, key)
            rows = (
                connection.execute(
                    select(*columns, t.lotes.c.submission_id)
                    .join(t.lotes, t.lotes.c.id == t.attempts.c.lote_id)
                    .where(t.lotes.c.request_pk == row["id"])
                    .order_by(t.attempts.c.started_at, t.attempts.c.id)
                )
                .mappings()
                .all()
            )
            return [attempt_from_row(r) for r in rows]

    # -- corrections and audit ----------------------------------------------------------------

    def record_correction(self, correction: Correction, *, actor: str) -> None:
        with self._tx() as connection:
            row = self._row(connection, correction.key)
            connection.execute(
                t.corrections.insert().values(
                    request_pk=row["id"],
                    corrected_submission_id=correction.corrected_submission_id,
                    correcting_submission_id=correction.correcting_submission_id,
                    diff=json.dumps(correction.diff, sort_keys=True, default=str),
                    created_at=correction.created_at,
                )
            )
            append_audit(
                connection,
                at=correction.created_at,
                actor=actor,
                action="lote.correction",
                filing_number=row["filing_number"],
                details={
                    "corrects": correction.corrected_submission_id,
                    "idEnvio": correction.correcting_submission_id,
                },
            )

    def corrections(self, key: RequestKey) -> list[Correction]:
        with self._read() as connection:
            row = self._row(connection, key)
            rows = (
                connection.execute(
                    select(t.corrections)
                    .where(t.corrections.c.request_pk == row["id"])
                    .order_by(t.corrections.c.id)
                )
                .mappings()
                .all()
            )
            return [
                Correction(
                    key,
                    r["corrected_submission_id"],
                    r["correcting_submission_id"],
                    json.loads(r["diff"]),
                    r["created_at"],
                )
                for r in rows
            ]


def _result_values(attempt: Attempt) -> dict[str, object]:
    return {
        "duration_ms": attempt.duration_ms,
        "outcome": attempt.outcome.value,
        "http_status": attempt.http_status,
        "fault_code": attempt.fault_code,
        "fault_message": attempt.fault_message,
        "error": attempt.error,
        "response_bytes": attempt.response_bytes,
        "warnings": json.dumps(list(attempt.warnings), ensure_ascii=False)
        if attempt.warnings
        else None,
    }


def _insert_attempt(connection: Connection, lote_id: int, attempt: Attempt) -> Attempt:
    """Insert an attempt with the next number of its lote (the lote row is locked)."""
    number = (
        1
        + connection.execute(
            select(func.count()).select_from(t.attempts).where(t.attempts.c.lote_id == lote_id)
        ).scalar_one()
    )
    connection.execute(
        t.attempts.insert().values(
            lote_id=lote_id,
            attempt_number=number,
            started_at=attempt.started_at,
            endpoint=attempt.endpoint,
            request_bytes=attempt.request_bytes,
            **_result_values(attempt),
        )
    )
    return replace(attempt, attempt_number=number)


def _audit_attempt(connection: Connection, lote: RowMapping, attempt: Attempt, actor: str) -> None:
    append_audit(
        connection,
        at=attempt.started_at,
        actor=actor,
        action="lote.attempt",
        filing_number=lote["filing_number"],
        details={
            "idEnvio": attempt.submission_id,
            "attempt": attempt.attempt_number,
            "outcome": attempt.outcome.value,
            "http_status": attempt.http_status,
        },
    )


def _lote_values(row: RowMapping, draft: LoteDraft, at: datetime) -> dict[str, object]:
    return {
        "request_pk": row["id"],
        "generation": row["generation"],
        "lote_number": draft.lote_number,
        "total_lotes": draft.total_lotes,
        "submission_id": draft.submission_id,
        "submission_type": draft.submission_type.value,
        "corrects_submission_id": draft.corrects_submission_id,
        "record_count": draft.record_count,
        "xml": draft.xml,
        "canonical_xml": draft.canonical,
        "sha256": draft.sha256,
        "state": LoteState.STORED.value,
        "created_at": at,
    }
