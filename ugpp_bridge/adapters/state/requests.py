"""``SqlAlchemyRequestStore``: requests and their lifecycle on SQLite or PostgreSQL (SPEC §5).

One transaction per method; the audit entry of a change is written in the same transaction.
Registration is idempotent (SPEC §4) and allocates the radicado under a row lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

from sqlalchemy import Connection, RowMapping, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from ugpp_bridge.adapters.state import tables as t
from ugpp_bridge.adapters.state.audit import (
    append_audit,
)
from ugpp_bridge.adapters.state.base import SqlAlchemyStateBase
from ugpp_bridge.adapters.state.defences import record_nonce
from ugpp_bridge.adapters.state.rows import insert_sequence_row, summary_from_row
from ugpp_bridge.domain.filing import (
    BOGOTA,
    Receipt,
    ReceiptStatus,
    ReceivedMessage,
    RequestKey,
    RequestSummary,
    StoredRequest,
    filing_number,
    request_fingerprint,
)
from ugpp_bridge.domain.lifecycle import RequestState, check_request_transition
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.errors import (
    ConflictingRequestError,
    IllegalTransitionError,
    NotAuthorizedError,
    StoreUnavailableError,
)
from ugpp_bridge.service.ports import RequestStore

REGISTER_RETRIES = 3


class SqlAlchemyRequestStore(SqlAlchemyStateBase, RequestStore):
    """Requests on SQLite or PostgreSQL (an engine with serialised writes)."""

    # -- requests ---------------------------------------------------------------------------

    def register(
        self,
        request: FinancialInfoRequest,
        *,
        received_at: datetime,
        due_date: date,
        actor: str,
        nonce: str | None = None,
        message: ReceivedMessage | None = None,
        answer: Callable[[Receipt], object] | None = None,
    ) -> Receipt:
        fingerprint = request_fingerprint(request)
        for _ in range(REGISTER_RETRIES):
            try:
                with self._tx() as connection:
                    if nonce is not None:
                        _spend_nonce(connection, nonce, received_at)
                    receipt = self._register(
                        connection, request, fingerprint, received_at, due_date, actor
                    )
                    if answer is not None:
                        answer(receipt)  # raising here rolls the whole registration back
                    if message is None:
                        return receipt
                    return replace(
                        receipt,
                        message_id=_store_message(connection, receipt, message, received_at),
                    )
            except StoreUnavailableError as exc:
                if not isinstance(exc.__cause__, IntegrityError):
                    raise
                # Another process stored the same idSolicitud first: read what it stored.
        raise StoreUnavailableError("The request could not be registered; try again.")

    def _register(
        self,
        connection: Connection,
        request: FinancialInfoRequest,
        fingerprint: str,
        received_at: datetime,
        due_date: date,
        actor: str,
    ) -> Receipt:
        existing = (
            connection.execute(
                select(t.requests).where(t.requests.c.request_id == request.request_id)
            )
            .mappings()
            .first()
        )
        if existing is not None:
            if existing["fingerprint"] != fingerprint:
                raise ConflictingRequestError(request.request_id, existing["filing_number"])
            append_audit(
                connection,
                at=received_at,
                actor=actor,
                action="request.duplicate",
                filing_number=existing["filing_number"],
            )
            return _receipt(existing, ReceiptStatus.DUPLICATE, len(request.persons))
        year = received_at.astimezone(BOGOTA).year
        filing = filing_number(year, self._next_sequence(connection, year))
        request_pk = connection.execute(
            t.requests.insert().values(
                filing_number=filing,
                request_id=request.request_id,
                fingerprint=fingerprint,
                operator_nit=request.operator_nit,
                requested_on=request.requested_on,
                term_starts_on=request.term_starts_on,
                information_types=",".join(sorted(x.value for x in request.information_types)),
                due_date=due_date,
                state=RequestState.RECEIVED.value,
                received_at=received_at,
                updated_at=received_at,
                generation=0,
                persons_done=0,
            )
        ).inserted_primary_key
        assert request_pk is not None
        request_pk = request_pk[0]
        persons = request.persons
        for start in range(0, len(persons), PERSON_ROWS_PER_INSERT):  # bounded memory
            connection.execute(
                t.request_persons.insert(),
                [
                    {"request_pk": request_pk, "position": n, "doc_type": p.doc_type,
                     "doc_number": p.doc_number}
                    for n, p in enumerate(persons[start : start + PERSON_ROWS_PER_INSERT], start)
                ],
            )  # fmt: skip
        connection.execute(
            t.request_periods.insert(),
            [{"request_pk": request_pk, "year": p.year, "month": p.month} for p in request.periods],
        )
        append_audit(
            connection,
            at=received_at,
            actor=actor,
            action="request.received",
            filing_number=filing,
            details={
                "idSolicitud": request.request_id,
                "persons": len(request.persons),
                "periods": len(request.periods),
                "due_date": due_date.isoformat(),
            },
        )
        row = (
            connection.execute(select(t.requests).where(t.requests.c.id == request_pk))
            .mappings()
            .one()
        )
        return _receipt(row, ReceiptStatus.RECEIVED, len(request.persons))

    def _next_sequence(self, connection: Connection, year: int) -> int:
        """The next radicado number of ``year``; the row lock serialises concurrent callers."""
        insert_sequence_row(connection, year)
        connection.execute(
            update(t.filing_sequences)
            .where(t.filing_sequences.c.year == year)
            .values(last_value=t.filing_sequences.c.last_value + 1)
        )
        value: int = connection.execute(
            select(t.filing_sequences.c.last_value).where(t.filing_sequences.c.year == year)
        ).scalar_one()
        return value

    def find(self, identifier: str) -> StoredRequest:
        with self._read() as connection:
            key = self._find_key(connection, identifier)
            return self._load(connection, self._row(connection, key))

    def get(self, key: RequestKey) -> StoredRequest:
        with self._read() as connection:
            return self._load(connection, self._row(connection, key))

    def list_requests(self) -> list[RequestSummary]:
        persons = (
            select(func.count())
            .where(t.request_persons.c.request_pk == t.requests.c.id)
            .scalar_subquery()
            .label("persons")
        )
        query = select(t.requests, persons).order_by(
            t.requests.c.due_date, t.requests.c.filing_number
        )
        with self._read() as connection:
            return [summary_from_row(row) for row in connection.execute(query).mappings()]

    def transition(
        self,
        key: RequestKey,
        target: RequestState,
        *,
        at: datetime,
        actor: str,
        reason: str | None = None,
        error: str | None = None,
        confirmation: str | None = None,
    ) -> StoredRequest:
        with self._tx() as connection:
            row = self._row(connection, key, lock=True)
            values: dict[str, object] = {"last_error": error}
            if target is RequestState.CONFIRMED:
                values.update(confirmation=confirmation, confirmed_at=at)
            self._move(connection, row, target, at=at, actor=actor, reason=reason, values=values)
            return self._load(connection, self._row(connection, key))

    def start_build(self, key: RequestKey, *, at: datetime, actor: str) -> StoredRequest:
        with self._tx() as connection:
            row = self._row(connection, key, lock=True)
            values = {
                "generation": _next_generation(connection, row),
                "generated_at": at,
                "persons_done": 0,
                "last_error": None,
                "built_by": actor,
                "rebuild_requested_by": None,
            }
            self._move(connection, row, RequestState.BUILDING, at=at, actor=actor, values=values)
            return self._load(connection, self._row(connection, key))

    def record_progress(self, key: RequestKey, persons_done: int, *, at: datetime) -> None:
        with self._tx() as connection:
            connection.execute(
                update(t.requests)
                .where(t.requests.c.id == key)
                .values(persons_done=persons_done, updated_at=at)
            )

    def record_error(self, key: RequestKey, error: str | None, *, at: datetime) -> None:
        with self._tx() as connection:
            connection.execute(
                update(t.requests)
                .where(t.requests.c.id == key)
                .values(last_error=error, updated_at=at)
            )

    def request_rebuild(self, key: RequestKey, *, at: datetime, actor: str) -> StoredRequest:
        with self._tx() as connection:
            row = self._row(connection, key, lock=True)
            check_request_transition(RequestState(row["state"]), RequestState.BUILDING)
            connection.execute(
                update(t.requests)
                .where(t.requests.c.id == key)
                .values(rebuild_requested_by=actor, updated_at=at)
            )
            append_audit(connection, at=at, actor=actor, action="request.rebuild_requested",
                         filing_number=row["filing_number"])  # fmt: skip
            return self._load(connection, self._row(connection, key))

    def search(self, text: str) -> set[RequestKey]:
        text = text.strip()
        if not text or len(text) > 64 or not text.isprintable():
            return set()
        r, p = t.requests, t.request_persons
        pattern = "%" + text.replace("\\", "").replace("%", "").replace("_", "") + "%"
        by_person = select(p.c.request_pk).where(p.c.doc_number == text)
        query = select(r.c.id).where(
            or_(
                r.c.filing_number.ilike(pattern),
                r.c.request_id.ilike(pattern),
                r.c.id.in_(by_person),
            )
        )
        with self._read() as connection:
            return {RequestKey(row[0]) for row in connection.execute(query)}

    def correct_confirmation(
        self, key: RequestKey, radicado: str, *, at: datetime, actor: str
    ) -> StoredRequest:
        with self._tx() as connection:
            row = self._row(connection, key, lock=True)
            if RequestState(row["state"]) is not RequestState.CONFIRMED:
                raise IllegalTransitionError("request", row["state"], RequestState.CONFIRMED.value)
            connection.execute(
                update(t.requests)
                .where(t.requests.c.id == key)
                .values(confirmation=radicado, updated_at=at)
            )
            append_audit(
                connection, at=at, actor=actor, action="request.confirmation_corrected",
                filing_number=row["filing_number"],
                details={"antes": row["confirmation"], "despues": radicado},
            )  # fmt: skip
            return self._load(connection, self._row(connection, key))

    def hold(self, key: RequestKey, reason: str, *, at: datetime, actor: str) -> StoredRequest:
        with self._tx() as connection:
            row = self._row(connection, key, lock=True)
            connection.execute(
                update(t.requests)
                .where(t.requests.c.id == key)
                .values(held_reason=reason, last_error=reason, next_attempt_at=None, updated_at=at)
            )
            append_audit(
                connection, at=at, actor=actor, action="request.held",
                filing_number=row["filing_number"], reason=reason,
            )  # fmt: skip
            return self._load(connection, self._row(connection, key))

    def release(self, key: RequestKey, *, at: datetime, actor: str) -> None:
        with self._tx() as connection:
            row = self._row(connection, key, lock=True)
            if row["held_reason"] is None:
                return
            connection.execute(
                update(t.requests)
                .where(t.requests.c.id == key)
                .values(held_reason=None, updated_at=at)
            )
            append_audit(
                connection, at=at, actor=actor, action="request.released",
                filing_number=row["filing_number"], details={"was": row["held_reason"]},
            )  # fmt: skip


def _spend_nonce(connection: Connection, nonce: str, at: datetime) -> None:
    """The WS-Security nonce that carried the request, recorded in the same transaction (one
    write, and atomic): a replay that raced past the check is refused, nothing stored."""
    try:
        with connection.begin_nested():
            record_nonce(connection, nonce, at)
    except IntegrityError as exc:
        raise NotAuthorizedError() from exc


def _next_generation(connection: Connection, row: RowMapping) -> int:
    """One past every generation used so far: an unchanged rebuild sends the request back to
    an earlier generation, and the next build must not reuse a later one's number."""
    used = [
        row["generation"],
        connection.execute(
            select(func.max(t.lotes.c.generation)).where(t.lotes.c.request_pk == row["id"])
        ).scalar(),
        connection.execute(
            select(func.max(t.builds.c.generation)).where(t.builds.c.request_pk == row["id"])
        ).scalar(),
    ]
    return max(value or 0 for value in used) + 1


ZLIB = "zlib"  # inbound_messages.request_encoding of a compressed message (NULL: as it arrived)


# A 200,000-person request's rows as one parameter list held about 100 MB at once.
PERSON_ROWS_PER_INSERT = 5_000


def _store_message(
    connection: Connection, receipt: Receipt, message: ReceivedMessage, received_at: datetime
) -> int:
    """The inbound SOAP message as it arrived, kept with the request it carried (evidence)."""
    request_pk = connection.execute(
        select(t.requests.c.id).where(t.requests.c.filing_number == receipt.filing_number)
    ).scalar_one()
    inserted = connection.execute(
        t.inbound_messages.insert().values(
            request_pk=request_pk,
            received_at=received_at,
            request_bytes=message.compressed,
            request_encoding=ZLIB,
        )
    ).inserted_primary_key
    assert inserted is not None
    return int(inserted[0])


def _receipt(row: RowMapping, status: ReceiptStatus, persons: int) -> Receipt:
    return Receipt(
        request_id=row["request_id"],
        filing_number=row["filing_number"],
        status=status,
        received_at=row["received_at"],
        due_date=row["due_date"],
        total_persons=persons,
    )
