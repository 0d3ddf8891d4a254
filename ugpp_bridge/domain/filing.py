"""What the bridge keeps about a request: receipts, lotes, attempts (SPEC §4, §5).

Pure values and the rules that name them: the ``radicado`` format, the ``idEnvio`` format, the
fingerprint that tells a duplicate from a conflicting request, the SHA-256 of a lote.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import NewType
from zoneinfo import ZoneInfo

from ugpp_bridge.domain.lifecycle import LoteState, RequestState
from ugpp_bridge.domain.request import FinancialInfoRequest

FILING_PREFIX = "UB"
BOGOTA = ZoneInfo("America/Bogota")  # UTC−5 all year; receipts carry this offset

RequestKey = NewType("RequestKey", int)
"""The primary key of a stored request: how internal work (scheduler, build, send, evidence)
addresses it. Never a text, so it cannot be confused with a radicado or an idSolicitud."""


class ReceiptStatus(StrEnum):
    """``estado`` of an AcuseSolicitud."""

    RECEIVED = "RECIBIDA"
    DUPLICATE = "DUPLICADA"


class SubmissionType(StrEnum):
    """``tipoEnvio`` of a lote."""

    ORIGINAL = "ORIGINAL"
    CORRECTION = "CORRECCION"


def filing_number(year: int, sequence: int) -> str:
    """Our radicado: readable, unique, and sortable within a year (``UB-2026-000123``)."""
    return f"{FILING_PREFIX}-{year:04d}-{sequence:06d}"


RADICADO_PREFIX = "radicado:"
SOLICITUD_PREFIX = "solicitud:"
MAX_OPERATOR_ID_LENGTH = 64


@dataclass(frozen=True)
class OperatorId:
    """A request as an operator names it (CLI, dashboard, API, SPEC §9): our radicado or
    UGPP's idSolicitud — two separate name spaces — or, with a ``radicado:`` or
    ``solicitud:`` prefix, exactly one of them."""

    value: str
    as_radicado: bool = True
    as_request_id: bool = True


def parse_operator_id(text: str) -> OperatorId | None:
    """The operator's ID, or None when it cannot name any request (empty, too long, or with
    control characters — an idSolicitud travels in XML, which has none)."""
    text = text.strip()
    kinds = (True, True)
    if text.startswith(RADICADO_PREFIX):
        text, kinds = text[len(RADICADO_PREFIX) :].strip(), (True, False)
    elif text.startswith(SOLICITUD_PREFIX):
        text, kinds = text[len(SOLICITUD_PREFIX) :].strip(), (False, True)
    if not text or len(text) > MAX_OPERATOR_ID_LENGTH or not text.isprintable():
        return None
    return OperatorId(text, *kinds)


def submission_id(filing: str, generation: int, lote_number: int) -> str:
    """``idEnvio``: one per lote of one build generation; a resend repeats it, never reuses it."""
    return f"{filing}-G{generation}-L{lote_number}"


def request_fingerprint(request: FinancialInfoRequest) -> str:
    """SHA-256 of the request's content in canonical form.

    Sets are compared as sets: the same persons, periods and sections in another order are the
    same request (a duplicate), anything else that differs makes it a conflicting one.
    """
    canonical = {
        "idSolicitud": request.request_id,
        "nitOperador": request.operator_nit,
        "fechaSolicitud": request.requested_on.isoformat(),
        "fechaInicioTermino": request.term_starts_on.isoformat(),
        "tiposInformacion": sorted(t.value for t in request.information_types),
        "periodos": sorted([p.year, p.month] for p in request.periods),
        "personas": sorted([p.doc_type, p.doc_number] for p in request.persons),
    }
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Receipt:
    """The answer to Paso 1 (``AcuseSolicitud``)."""

    request_id: str
    filing_number: str
    status: ReceiptStatus
    received_at: datetime
    due_date: date
    total_persons: int
    message_id: int | None = None  # the stored inbound message it answers (Paso 1 over SOAP)


@dataclass(frozen=True)
class ReceivedMessage:
    """A Paso 1 SOAP message as it arrived, zlib-compressed as it streamed in: the largest
    valid request (64 MiB) was held, copied and bound to the database whole, taking ``serve``
    past 300 MB; compressed, XML of that shape takes a few MB. ``raw()`` gives back the bytes
    exactly as they arrived (evidence, art. 12)."""

    compressed: bytes
    size: int  # bytes as they arrived

    def raw(self) -> bytes:
        return zlib.decompress(self.compressed)

    @classmethod
    def of(cls, data: bytes) -> ReceivedMessage:
        return cls(zlib.compress(data), len(data))


@dataclass(frozen=True)
class InboundMessage:
    """A Paso 1 exchange as it crossed the wire: UGPP's SOAP message and our AcuseSolicitud
    (``None`` until it was answered; a message whose answer never left stays ``None``)."""

    message_id: int
    received_at: datetime
    request_bytes: bytes
    response_bytes: bytes | None
    answered_at: datetime | None


@dataclass(frozen=True)
class BuildRecord:
    """What a build was made with — enough to rebuild its lotes byte for byte from the same
    data (SPEC §9, reproducible lotes). ``kept_generation``: the build found nothing changed
    since the lotes UGPP acknowledged, and kept those instead of sending a correction."""

    generation: int
    generated_at: datetime
    actor: str
    operator_nit: str
    operator_name: str
    lote_max_records: int
    account_number_digits: int
    kept_generation: int | None = None
    # SPEC §10: the wire profile its lotes were written in — JSON of its name, version and
    # every file's SHA-256 (None: a build made before profiles, in v1).
    wire_profile: str | None = None


@dataclass(frozen=True)
class StoredRequest:
    """A request as the store holds it, with its lifecycle and progress."""

    request: FinancialInfoRequest
    filing_number: str
    state: RequestState
    received_at: datetime
    due_date: date
    updated_at: datetime
    key: RequestKey
    generation: int = 0
    generated_at: datetime | None = None
    persons_done: int = 0
    last_error: str | None = None
    confirmation: str | None = None
    confirmed_at: datetime | None = None
    held_reason: str | None = None  # waiting for an operator (credentials refused)
    built_by: str | None = None  # who asked for the current build (four eyes)


class Decision(StrEnum):
    """An officer's decision on a build (SPEC §9, approval)."""

    APPROVED = "approved"
    RETURNED = "returned"


@dataclass(frozen=True)
class Approval:
    """Who approved or returned which build of a request, when, and why."""

    generation: int
    decision: Decision
    actor: str
    at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class RequestSummary:
    """A request without its persons and periods, for lists (requests, deadlines, dashboard)."""

    filing_number: str
    request_id: str
    state: RequestState
    received_at: datetime
    due_date: date
    updated_at: datetime
    persons: int
    key: RequestKey
    persons_done: int = 0
    generation: int = 0
    last_error: str | None = None
    confirmation: str | None = None
    held_reason: str | None = None

    @classmethod
    def of(cls, stored: StoredRequest) -> RequestSummary:
        shared = {f.name: getattr(stored, f.name) for f in fields(cls) if hasattr(stored, f.name)}
        return cls(
            **shared, request_id=stored.request.request_id, persons=len(stored.request.persons)
        )


@dataclass(frozen=True)
class LoteDraft:
    """A lote ready to store: its XML bytes and what they are."""

    lote_number: int
    total_lotes: int
    submission_id: str
    submission_type: SubmissionType
    record_count: int
    xml: bytes
    corrects_submission_id: str | None = None
    # The v1 lote the profile's document was made from (SPEC §10), when they differ: what the
    # preview and a correction's diff read. None under v1, where ``xml`` is that lote.
    canonical: bytes | None = None

    @property
    def sha256(self) -> str:
        return sha256_hex(self.xml)


@dataclass(frozen=True)
class StoredLote:
    """A lote as stored: the exact bytes, their hash and where it stands."""

    filing_number: str
    generation: int
    lote_number: int
    total_lotes: int
    submission_id: str
    submission_type: SubmissionType
    corrects_submission_id: str | None
    record_count: int
    xml: bytes
    sha256: str
    state: LoteState
    created_at: datetime
    ugpp_filing_number: str | None = None
    acknowledged_at: datetime | None = None
    canonical: bytes | None = None  # the v1 lote, when a profile's document differs from it

    @property
    def v1_xml(self) -> bytes:
        """The lote in the canonical form (SPEC §10): what the rules' readers read."""
        return self.xml if self.canonical is None else self.canonical


@dataclass(frozen=True)
class LoteSummary:
    """A lote without its bytes, for overviews."""

    submission_id: str
    lote_number: int
    record_count: int
    state: LoteState
    ugpp_filing_number: str | None
    acknowledged_at: datetime | None


class AttemptOutcome(StrEnum):
    """How one try at sending a lote ended (SPEC §5, §9). ``unknown`` is stored before the HTTP
    call and stays when the process stopped before it could record the answer."""

    UNKNOWN = "unknown"
    ACKNOWLEDGED = "acknowledged"
    CLIENT_FAULT = "client_fault"
    SERVER_FAULT = "server_fault"
    CREDENTIALS_REFUSED = "credentials_refused"
    HTTP_ERROR = "http_error"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"


@dataclass(frozen=True)
class Attempt:
    """One try at sending one lote: the evidence art. 12 asks for."""

    submission_id: str
    started_at: datetime
    duration_ms: int
    endpoint: str
    outcome: AttemptOutcome
    request_bytes: bytes
    response_bytes: bytes | None = None
    http_status: int | None = None
    fault_code: str | None = None
    fault_message: str | None = None
    error: str | None = None
    attempt_number: int = 0  # assigned by the store
    warnings: tuple[str, ...] = ()  # what a tolerant reading of the answer set aside


@dataclass(frozen=True)
class PreparedCall:
    """One call to UGPP ready to go: where, the exact bytes (after WS-Security) and headers.
    It is stored as an attempt before it is made."""

    endpoint: str
    request_bytes: bytes
    headers: Mapping[str, str]
    # Which lote the answer acknowledges (SPEC §10: the profile's ``ack`` parameters).
    answering: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Exchange:
    """One HTTP exchange with UGPP (what a gateway reports); stored as an ``Attempt``."""

    started_at: datetime
    duration_ms: int
    endpoint: str
    outcome: AttemptOutcome
    request_bytes: bytes
    response_bytes: bytes | None = None
    http_status: int | None = None
    fault_code: str | None = None
    fault_message: str | None = None
    error: str | None = None
    ugpp_filing_number: str | None = None
    warnings: tuple[str, ...] = ()

    def as_attempt(self, submission_id: str) -> Attempt:
        return Attempt(
            submission_id=submission_id,
            started_at=self.started_at,
            duration_ms=self.duration_ms,
            endpoint=self.endpoint,
            outcome=self.outcome,
            request_bytes=self.request_bytes,
            response_bytes=self.response_bytes,
            http_status=self.http_status,
            fault_code=self.fault_code,
            fault_message=self.fault_message,
            error=self.error,
            warnings=self.warnings,
        )


@dataclass(frozen=True)
class Correction:
    """A correction lote and the one it replaces, with what changed."""

    key: RequestKey
    corrected_submission_id: str
    correcting_submission_id: str
    diff: dict[str, object]
    created_at: datetime


class CorrectedLotes(Mapping[int, str]):
    """Which acknowledged lote each lote of a correction replaces: lote n replaces lote n, and
    lotes beyond the acknowledged count replace the last one."""

    def __init__(self, submission_ids: Sequence[str]) -> None:
        if not submission_ids:
            raise ValueError("a correction corrects at least one acknowledged lote")
        self.ids = tuple(submission_ids)

    def __getitem__(self, lote_number: int) -> str:
        if lote_number < 1:
            raise KeyError(lote_number)
        return self.ids[min(lote_number, len(self.ids)) - 1]

    def __iter__(self) -> Iterator[int]:
        return iter(range(1, len(self.ids) + 1))

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class LoteContext:
    """What every lote header of one build says (``encabezado``)."""

    request_id: str
    filing_number: str
    generation: int
    operator_nit: str
    operator_name: str
    generated_at: datetime
    submission_type: SubmissionType = SubmissionType.ORIGINAL
    corrects: Mapping[int, str] = field(default_factory=dict)  # lote number → idEnvio corrected
    # The request's persons in order, ``TIPO:NUMERO`` (SPEC §10: a profile's ``ordenPersonas``).
    persons: tuple[str, ...] = ()

    def submission_id(self, lote_number: int) -> str:
        return submission_id(self.filing_number, self.generation, lote_number)


@dataclass(frozen=True)
class WrittenLote:
    """A finished, validated lote file."""

    lote_number: int
    total_lotes: int
    record_count: int
    submission_id: str
    path: Path
    sha256: str
    submission_type: SubmissionType = SubmissionType.ORIGINAL
    corrects_submission_id: str | None = None
    canonical_path: Path | None = None  # the v1 lote, when ``path`` holds a profile's document

    @property
    def v1_path(self) -> Path:
        return self.path if self.canonical_path is None else self.canonical_path
