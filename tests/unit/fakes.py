"""In-memory fakes of the ports, for testing the use cases without any database or file."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from ugpp_bridge.domain.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditSegment,
    AuditVerification,
    verify_chain,
)
from ugpp_bridge.domain.corrections import WireRecord
from ugpp_bridge.domain.filing import (
    Approval,
    Attempt,
    AttemptOutcome,
    BuildRecord,
    Correction,
    Decision,
    Exchange,
    InboundMessage,
    LoteContext,
    LoteDraft,
    LoteSummary,
    PreparedCall,
    Receipt,
    ReceiptStatus,
    RequestKey,
    RequestSummary,
    StoredLote,
    StoredRequest,
    WrittenLote,
    filing_number,
    request_fingerprint,
    sha256_hex,
)
from ugpp_bridge.domain.lifecycle import (
    LoteState,
    RequestState,
    check_lote_transition,
    check_request_transition,
    decision_target,
    unchanged_rebuild_target,
)
from ugpp_bridge.domain.report import PersonReport, Record, build_report, split_into_lotes
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.domain.source import SourceData
from ugpp_bridge.errors import (
    AmbiguousIdentifierError,
    ConflictingRequestError,
    IllegalTransitionError,
    RequestNotFoundError,
    SourceDataError,
    SourceProblem,
)
from ugpp_bridge.service.ports import (
    AuditStore,
    BuildStore,
    InboundStore,
    LoteStore,
    LoteWriter,
    ReportSource,
    RequestStore,
)


class FakeRequestStore(RequestStore):
    def __init__(self) -> None:
        self.requests: dict[RequestKey, StoredRequest] = {}
        self.actions: list[tuple[str, str]] = []  # (filing number, action)
        self.progress: list[int] = []
        self.decisions: list[Approval] = []
        self.messages: dict[int, tuple[RequestKey, InboundMessage]] = {}
        self.build_records: dict[RequestKey, list[BuildRecord]] = {}
        self.rebuild_asked: dict[RequestKey, str] = {}  # who asked for the next build

    def register(
        self, request: FinancialInfoRequest, *, received_at: datetime, due_date: date, actor: str,
        nonce: str | None = None, message: bytes | None = None,
        answer: Callable[[Receipt], object] | None = None,
    ) -> Receipt:  # fmt: skip
        receipt = self._register(request, received_at, due_date)
        if answer is not None:
            answer(receipt)  # the fake does not roll back; the SQL store's test shows it does
        if message is None:
            return receipt
        key = self.find(receipt.filing_number).key
        message_id = len(self.messages) + 1
        self.messages[message_id] = (
            key,
            InboundMessage(message_id, received_at, message, None, None),
        )
        return replace(receipt, message_id=message_id)

    def _register(
        self, request: FinancialInfoRequest, received_at: datetime, due_date: date
    ) -> Receipt:
        for stored in self.requests.values():
            if stored.request.request_id == request.request_id:
                if request_fingerprint(stored.request) != request_fingerprint(request):
                    raise ConflictingRequestError(request.request_id, stored.filing_number)
                return Receipt(request.request_id, stored.filing_number, ReceiptStatus.DUPLICATE,
                               stored.received_at, stored.due_date, len(request.persons))  # fmt: skip
        key = RequestKey(len(self.requests) + 1)
        filing = filing_number(received_at.year, key)
        self.requests[key] = StoredRequest(
            request, filing, RequestState.RECEIVED, received_at, due_date, received_at, key
        )
        self.actions.append((filing, "request.received"))
        return Receipt(
            request.request_id,
            filing,
            ReceiptStatus.RECEIVED,
            received_at,
            due_date,
            len(request.persons),
        )

    def find(self, identifier: str) -> StoredRequest:
        by_radicado = [r for r in self.requests.values() if r.filing_number == identifier]
        by_id = [r for r in self.requests.values() if r.request.request_id == identifier]
        if by_radicado and by_id and by_radicado[0].key != by_id[0].key:
            raise AmbiguousIdentifierError(identifier, by_radicado[0].filing_number,
                                           by_id[0].filing_number)  # fmt: skip
        for stored in by_radicado or by_id:
            return stored
        raise RequestNotFoundError(identifier)

    def get(self, key: RequestKey) -> StoredRequest:
        if key not in self.requests:
            raise RequestNotFoundError(str(key))
        return self.requests[key]

    def list_requests(self) -> list[RequestSummary]:
        return [
            RequestSummary.of(r) for r in sorted(self.requests.values(), key=lambda r: r.due_date)
        ]

    def transition(self, key: RequestKey, target: RequestState, *, at: datetime, actor: str,
                   reason: str | None = None, error: str | None = None,
                   confirmation: str | None = None) -> StoredRequest:  # fmt: skip
        stored = self.get(key)
        check_request_transition(stored.state, target)
        kept = confirmation if target is RequestState.CONFIRMED else stored.confirmation
        self.requests[key] = replace(stored, state=target, updated_at=at, last_error=error,
                                     confirmation=kept)  # fmt: skip
        self.actions.append((stored.filing_number, f"request.{target.value}"))
        return self.requests[key]

    def start_build(self, key: RequestKey, *, at: datetime, actor: str) -> StoredRequest:
        stored = self.transition(key, RequestState.BUILDING, at=at, actor=actor)
        self.rebuild_asked.pop(key, None)
        used = [stored.generation, *(b.generation for b in self.build_records.get(key, []))]
        self.requests[key] = replace(
            stored, generation=max(used) + 1, generated_at=at, built_by=actor
        )
        return self.requests[key]

    def record_progress(self, key: RequestKey, persons_done: int, *, at: datetime) -> None:
        self.progress.append(persons_done)
        self.requests[key] = replace(self.get(key), persons_done=persons_done)

    def record_error(self, key: RequestKey, error: str | None, *, at: datetime) -> None:
        self.requests[key] = replace(self.get(key), last_error=error)

    def request_rebuild(self, key: RequestKey, *, at: datetime, actor: str) -> StoredRequest:
        stored = self.get(key)
        check_request_transition(stored.state, RequestState.BUILDING)
        self.rebuild_asked[key] = actor
        self.actions.append((stored.filing_number, "request.rebuild_requested"))
        return stored

    def search(self, text: str) -> set[RequestKey]:
        return {s.key for s in self.requests.values()
                if text in s.filing_number or text in s.request.request_id}  # fmt: skip

    def correct_confirmation(self, key: RequestKey, radicado: str, *, at: datetime,
                             actor: str) -> StoredRequest:  # fmt: skip
        stored = self.get(key)
        if stored.state is not RequestState.CONFIRMED:
            raise IllegalTransitionError("request", stored.state.value, "confirmed")
        self.requests[key] = replace(stored, confirmation=radicado)
        self.actions.append((stored.filing_number, "request.confirmation_corrected"))
        return self.requests[key]

    def hold(self, key: RequestKey, reason: str, *, at: datetime, actor: str) -> StoredRequest:
        self.requests[key] = replace(self.get(key), held_reason=reason, last_error=reason)
        return self.requests[key]

    def release(self, key: RequestKey, *, at: datetime, actor: str) -> None:
        self.requests[key] = replace(self.get(key), held_reason=None)


class FakeBuildStore(BuildStore):
    """Builds and decisions, kept beside the fake requests they belong to."""

    def __init__(self, requests: FakeRequestStore) -> None:
        self.requests = requests

    def record_build(self, key: RequestKey, build: BuildRecord) -> None:
        self.requests.build_records.setdefault(key, []).append(build)

    def builds(self, key: RequestKey) -> list[BuildRecord]:
        return list(self.requests.build_records.get(key, []))

    def keep_acknowledged(self, key: RequestKey, generation: int, *, at: datetime,
                          actor: str) -> StoredRequest:  # fmt: skip
        stored = self.requests.get(key)
        target = unchanged_rebuild_target(stored.state, confirmed=stored.confirmation is not None)
        self.requests.requests[key] = replace(stored, state=target, generation=generation)
        self.requests.actions.append((stored.filing_number, "request.rebuild_unchanged"))
        return self.requests.requests[key]

    def decide(self, key: RequestKey, decision: Decision, *, at: datetime, actor: str,
               reason: str | None = None) -> StoredRequest:  # fmt: skip
        target = decision_target(self.requests.get(key).state, decision is Decision.APPROVED)
        stored = self.requests.transition(key, target, at=at, actor=actor, reason=reason)
        self.requests.decisions.append(Approval(stored.generation, decision, actor, at, reason))
        return stored

    def approvals(self, key: RequestKey) -> list[Approval]:
        return list(self.requests.decisions)


class FakeInboundStore(InboundStore):
    def __init__(self, requests: FakeRequestStore) -> None:
        self.requests = requests

    def record_answer(self, message_id: int, response: bytes, *, at: datetime) -> None:
        key, message = self.requests.messages[message_id]
        self.requests.messages[message_id] = (
            key,
            replace(message, response_bytes=response, answered_at=at),
        )

    def inbound_messages(self, key: RequestKey) -> list[InboundMessage]:
        return [message for owner, message in self.requests.messages.values() if owner == key]


class FakeAuditStore(AuditStore):
    """A hash chain in memory, linked by the domain's own ``entry_hash``; each entry is also
    listed in the fake requests' ``actions`` (what the use cases' tests read)."""

    def __init__(self, requests: FakeRequestStore) -> None:
        self.requests = requests
        self.entries: list[AuditEntry] = []

    def audit_trail(self, filing_number: str | None = None) -> list[AuditEntry]:
        return [e for e in self.entries if filing_number in (None, e.filing_number)]

    def audit_segment(self, filing_number: str) -> AuditSegment:
        head = self.entries[-1] if self.entries else None
        return AuditSegment(tuple(self.audit_trail(filing_number)), (),
                            head.seq if head else 0, head.hash if head else GENESIS_HASH)  # fmt: skip

    def record_action(self, *, at: datetime, actor: str, action: str,
                      filing_number: str | None = None, details: dict[str, object] | None = None,
                      reason: str | None = None) -> AuditEntry:  # fmt: skip
        previous = self.entries[-1].hash if self.entries else GENESIS_HASH
        entry = AuditEntry(len(self.entries) + 1, at, actor, action, filing_number,
                           details or {}, reason, previous)  # fmt: skip
        entry = replace(entry, hash=entry.computed_hash())
        self.entries.append(entry)
        self.requests.actions.append((filing_number or "", action))
        return entry

    def verify_audit(self) -> AuditVerification:
        head = self.entries[-1] if self.entries else None
        return verify_chain(self.entries, head.seq if head else 0,
                            head.hash if head else GENESIS_HASH)  # fmt: skip


class FakeLoteStore(LoteStore):
    """Lotes, their states, attempts and corrections in memory, beside the fake requests."""

    def __init__(self, requests: FakeRequestStore) -> None:
        self.requests = requests
        self.stored: list[LoteDraft] = []
        self.by_id: dict[str, tuple[RequestKey, StoredLote]] = {}
        self.attempt_log: list[Attempt] = []
        self.correction_log: list[Correction] = []

    def store_lotes(
        self, key: RequestKey, drafts: Iterable[LoteDraft], *, at: datetime, actor: str
    ) -> int:
        stored = self.requests.get(key)
        drafts = list(drafts)
        self.stored.extend(drafts)
        for d in drafts:
            self.by_id[d.submission_id] = (key, StoredLote(
                stored.filing_number, stored.generation, d.lote_number, d.total_lotes,
                d.submission_id, d.submission_type, d.corrects_submission_id, d.record_count,
                d.xml, d.sha256, LoteState.STORED, at,
            ))  # fmt: skip
        self.requests.transition(key, RequestState.BUILT, at=at, actor=actor)
        return len(self.stored)

    def lotes(self, key: RequestKey, *, generation: int | None = None) -> list[StoredLote]:
        current = generation or self.requests.get(key).generation
        return [lote for owner, lote in self.by_id.values()
                if owner == key and lote.generation == current]  # fmt: skip

    def summaries(self, key: RequestKey) -> list[LoteSummary]:
        return [
            LoteSummary(lote.submission_id, lote.lote_number, lote.record_count, lote.state)
            for lote in self.lotes(key)
        ]

    def attempt_count(self, key: RequestKey) -> int:
        return len(self.attempts(key))

    def record_attempt(self, attempt: Attempt, *, actor: str) -> Attempt:
        numbered = replace(attempt, attempt_number=len(self.attempt_log) + 1)
        self.attempt_log.append(numbered)
        return numbered

    def begin_attempt(self, submission_id: str, call: PreparedCall, *, started_at: datetime,
                      actor: str) -> Attempt:  # fmt: skip
        unknown = Attempt(submission_id, started_at, 0, call.endpoint, AttemptOutcome.UNKNOWN,
                          call.request_bytes)  # fmt: skip
        return self.record_attempt(unknown, actor=actor)

    def finish_attempt(self, attempt: Attempt, exchange: Exchange, *, actor: str) -> Attempt:
        done = replace(exchange.as_attempt(attempt.submission_id),
                       attempt_number=attempt.attempt_number)  # fmt: skip
        self.attempt_log[attempt.attempt_number - 1] = done
        return done

    def attempts(self, key: RequestKey, *, with_bytes: bool = True) -> list[Attempt]:
        mine = {sid for sid, (owner, _) in self.by_id.items() if owner == key}
        return [a for a in self.attempt_log if a.submission_id in mine]

    def set_lote_state(
        self, submission_id: str, target: LoteState, *, at: datetime, actor: str,
        reason: str | None = None, ugpp_filing_number: str | None = None,
    ) -> StoredLote:  # fmt: skip
        key, lote = self.by_id[submission_id]
        check_lote_transition(lote.state, target)
        lote = replace(lote, state=target, ugpp_filing_number=ugpp_filing_number or
                       lote.ugpp_filing_number)  # fmt: skip
        self.by_id[submission_id] = (key, lote)
        return lote

    def record_correction(self, correction: Correction, *, actor: str) -> None:
        self.correction_log.append(correction)

    def corrections(self, key: RequestKey) -> list[Correction]:
        return [c for c in self.correction_log if c.key == key]


class FakeReportSource(ReportSource):
    """The pure rules over in-memory data, with problems to report on demand."""

    def __init__(
        self,
        data: SourceData,
        problems: list[SourceProblem] | None = None,
        fail_after: int | None = None,
    ) -> None:
        self.data, self.problems, self.fail_after = data, problems or [], fail_after

    def check(self) -> list[SourceProblem]:
        return list(self.problems)

    def person_reports(
        self, request: FinancialInfoRequest, *, account_number_digits: int
    ) -> Iterator[PersonReport]:
        for n, person in enumerate(build_report(request, self.data, account_number_digits).persons):
            if self.fail_after is not None and n == self.fail_after:
                raise SourceDataError(
                    [SourceProblem("transactions", "kind", "unknown code", ("A9@2025-01-01",))]
                )
            yield person


class FakeLoteWriter(LoteWriter):
    """Writes each lote as a line per record, so tests can read what went where."""

    def records_of(self, xml: bytes) -> list[WireRecord]:
        return [(line, {}) for line in xml.decode().splitlines()]

    def __init__(self) -> None:
        self.contexts: list[LoteContext] = []

    def write(self, records: Iterable[Record], context: LoteContext, max_records: int, directory: Path,
              file_name: str = "lote-{number:05d}.xml") -> list[WrittenLote]:  # fmt: skip
        self.contexts.append(context)
        chunks = list(split_into_lotes(iter(records), max_records))
        written = []
        for number, chunk in enumerate(chunks, start=1):
            data = "\n".join(type(r).__name__ for r in chunk).encode()
            path = directory / file_name.format(number=number)
            path.write_bytes(data)
            written.append(
                WrittenLote(
                    number,
                    len(chunks),
                    len(chunk),
                    context.submission_id(number),
                    path,
                    sha256_hex(data),
                )
            )
        return written
