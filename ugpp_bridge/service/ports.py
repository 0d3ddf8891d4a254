"""The ports the use cases talk to; adapters implement them, tests fake them."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from ugpp_bridge.domain.alerts import DeadlineAlert
from ugpp_bridge.domain.audit import AuditEntry, AuditSegment, AuditVerification
from ugpp_bridge.domain.corrections import WireRecord
from ugpp_bridge.domain.filing import (
    Approval,
    Attempt,
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
    ReceivedMessage,
    RequestKey,
    RequestSummary,
    StoredLote,
    StoredRequest,
    WrittenLote,
)
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.lifecycle import LoteState, RequestState
from ugpp_bridge.domain.report import PersonReport, Record
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.domain.source import SourceData
from ugpp_bridge.domain.throttling import Scope, ThrottleStatus
from ugpp_bridge.domain.users import Role, User
from ugpp_bridge.domain.work import Claim, WorkKind
from ugpp_bridge.errors import SourceProblem


@dataclass
class WriteCounts:
    """Rows written per relation."""

    rows: dict[str, int] = field(default_factory=dict)

    def add(self, relation: str, count: int) -> None:
        self.rows[relation] = self.rows.get(relation, 0) + count

    @property
    def total(self) -> int:
        return sum(self.rows.values())


class SourceReader(abc.ABC):
    """Read-only access to the entity's six relations (SPEC §3)."""

    @abc.abstractmethod
    def check(self) -> list[SourceProblem]:
        """Every breach of the contract found: missing relations or columns, bad codes."""

    @abc.abstractmethod
    def load(self, persons: Sequence[PersonId]) -> SourceData:
        """The records of ``persons`` (their accounts, movements, balances, titles, yields)."""

    @abc.abstractmethod
    def holders(self, limit: int, relation: str = "accounts") -> list[PersonId]:
        """Up to ``limit`` holders found in ``relation`` (accounts, titles or
        trust_yield_payments), in a stable order."""


class ReportSource(abc.ABC):
    """The build's access to the source: R1–R3 computed where the data lives."""

    @abc.abstractmethod
    def check(self) -> list[SourceProblem]:
        """Every breach of the source contract (SPEC §3)."""

    @abc.abstractmethod
    def person_reports(
        self, request: FinancialInfoRequest, *, account_number_digits: int
    ) -> Iterator[PersonReport]:
        """One report per requested person, in the request's order, streamed."""


class LoteWriter(abc.ABC):
    """Turns records into finished, validated lote files of the wire format."""

    @abc.abstractmethod
    def write(
        self,
        records: Iterable[Record],
        context: LoteContext,
        max_records: int,
        directory: Path,
        file_name: str = "lote-{number:05d}.xml",
    ) -> list[WrittenLote]:
        """Every lote of ``records`` in order; each file is complete and validated."""

    @abc.abstractmethod
    def records_of(self, xml: bytes) -> list[WireRecord]:
        """The records of a written lote, as sent (for the diff of a correction)."""


class UgppGateway(abc.ABC):
    """UGPP's Paso 2 service, seen from the sender: a call is prepared (its exact bytes known,
    so it can be stored as an attempt first), then made."""

    @abc.abstractmethod
    def prepare(self, lote_xml: bytes, answering: Mapping[str, str] | None = None) -> PreparedCall:
        """The call that sends one lote's exact bytes; ``answering`` names the lote
        (``idSolicitud``, ``idEnvio``, ``numeroLote``, ``totalRegistros``) for reading its
        acknowledgement. May fetch a token: raises
        ``CredentialsRefusedError`` when the token service refuses the credentials and
        ``RemoteUnavailableError`` when it cannot be reached."""

    @abc.abstractmethod
    def post(self, call: PreparedCall) -> Exchange:
        """Make the call; its outcome, classified (never raises for a remote failure)."""

    @property
    @abc.abstractmethod
    def renews_token(self) -> bool:
        """True when an HTTP 401 should be answered by renewing the token once."""

    @abc.abstractmethod
    def forget_token(self) -> None:
        """Drop the current token, so the next ``prepare`` fetches a new one."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connections."""


class SourceWriter(abc.ABC):
    """Writes the six relations; used for sample data and CSV imports, never by the build."""

    @abc.abstractmethod
    def write(self, parts: Iterable[SourceData], *, replace: bool = False) -> WriteCounts:
        """Create the relations if missing and write every part in one transaction;
        ``replace`` empties the six relations first, in the same transaction."""

    @abc.abstractmethod
    def existing_keys(self, relation: str, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` (``account_id`` of accounts, ``title_id`` of titles) the source
        already holds; none when the relation does not exist yet."""


class RequestStore(abc.ABC):
    """The bridge's memory of requests (SPEC §5): registration, lookup and lifecycle.

    Every method of every store is one transaction; every state change writes its audit entry
    in the same transaction, so the trail can never miss an action that happened.
    """

    @abc.abstractmethod
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
        """Store a new request, or recognise a duplicate; a conflicting one raises. ``answer``
        is called with the receipt inside the transaction, before it commits: if it raises,
        nothing is stored (SPEC §10: a profile's receipt is made and validated first). ``nonce``
        (the WS-Security nonce that carried it) is recorded in the same transaction; one seen
        before raises ``NotAuthorizedError`` and nothing is stored. ``message`` (the SOAP
        message as it arrived) is kept with the request, duplicates too; the receipt names it
        (``message_id``) for ``record_answer``."""

    @abc.abstractmethod
    def find(self, identifier: str) -> StoredRequest:
        """A request as an operator names it: our radicado or UGPP's idSolicitud, or either
        alone with a ``radicado:`` / ``solicitud:`` prefix (SPEC §9). An ID that is one
        request's radicado and another's idSolicitud raises ``AmbiguousIdentifierError``."""

    @abc.abstractmethod
    def get(self, key: RequestKey) -> StoredRequest:
        """A request by its primary key: how internal work addresses it."""

    @abc.abstractmethod
    def list_requests(self) -> list[RequestSummary]:
        """Every request without its persons, most urgent deadline first."""

    @abc.abstractmethod
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
        """Move a request along its lifecycle; an illegal move raises and writes nothing.

        ``error`` is kept as the request's last error; ``confirmation`` is UGPP's radicado from
        its confirmation e-mail (art. 7), kept when the target is ``confirmed``.
        """

    @abc.abstractmethod
    def start_build(self, key: RequestKey, *, at: datetime, actor: str) -> StoredRequest:
        """``→ building`` with a new generation (one past every generation used) whose
        ``fechaGeneracion`` is ``at``."""

    @abc.abstractmethod
    def record_progress(self, key: RequestKey, persons_done: int, *, at: datetime) -> None:
        """How many persons of the current build are done (for the dashboard)."""

    @abc.abstractmethod
    def record_error(self, key: RequestKey, error: str | None, *, at: datetime) -> None:
        """The request's last error in plain words, without a change of state."""

    @abc.abstractmethod
    def request_rebuild(self, key: RequestKey, *, at: datetime, actor: str) -> StoredRequest:
        """Ask the scheduler to build the request again (a correction after new data, or an
        answer to a returned build); ``actor`` becomes who asked for that build."""

    @abc.abstractmethod
    def search(self, text: str) -> set[RequestKey]:
        """Requests whose radicado or idSolicitud contains ``text``, or that ask about a person
        whose document number is ``text``."""

    @abc.abstractmethod
    def correct_confirmation(
        self, key: RequestKey, radicado: str, *, at: datetime, actor: str
    ) -> StoredRequest:
        """Replace a mistyped confirmation radicado (art. 7); audited with both values."""

    @abc.abstractmethod
    def hold(self, key: RequestKey, reason: str, *, at: datetime, actor: str) -> StoredRequest:
        """Park the request for an operator (credentials refused): the scheduler leaves it
        alone until ``release``; audited."""

    @abc.abstractmethod
    def release(self, key: RequestKey, *, at: datetime, actor: str) -> None:
        """An operator takes a held request back (a send or resend); audited when held."""


class BuildStore(abc.ABC):
    """Each build of a request and the officers' decisions on it (four eyes, SPEC §9)."""

    @abc.abstractmethod
    def record_build(self, key: RequestKey, build: BuildRecord) -> None:
        """What the current build is made with (generation, fechaGeneracion, settings)."""

    @abc.abstractmethod
    def builds(self, key: RequestKey) -> list[BuildRecord]:
        """Every recorded build of a request, by generation."""

    @abc.abstractmethod
    def keep_acknowledged(
        self, key: RequestKey, generation: int, *, at: datetime, actor: str
    ) -> StoredRequest:
        """``building → sent`` (or ``confirmed``) back on ``generation``, whose acknowledged
        lotes already say what the data says: no correction is sent; audited."""

    @abc.abstractmethod
    def decide(
        self,
        key: RequestKey,
        decision: Decision,
        *,
        at: datetime,
        actor: str,
        reason: str | None = None,
    ) -> StoredRequest:
        """An officer's decision on the current build: ``built → approved`` or ``→ returned``
        (with the reason), kept with the generation it applies to; audited."""

    @abc.abstractmethod
    def approvals(self, key: RequestKey) -> list[Approval]:
        """Every decision on every build of a request, oldest first."""


class InboundStore(abc.ABC):
    """Paso 1 as it happened: each inbound message and the exact answer (art. 12)."""

    @abc.abstractmethod
    def record_answer(self, message_id: int, response: bytes, *, at: datetime) -> None:
        """The exact AcuseSolicitud bytes answered to an inbound message."""

    @abc.abstractmethod
    def inbound_messages(self, key: RequestKey) -> list[InboundMessage]:
        """Every Paso 1 exchange that carried this request, oldest first."""


class AuditStore(abc.ABC):
    """The hash-chained audit trail: read, verified, and actions that change no state."""

    @abc.abstractmethod
    def audit_trail(self, filing_number: str | None = None) -> list[AuditEntry]:
        """Audit entries in order: all, or one request's."""

    @abc.abstractmethod
    def audit_segment(self, filing_number: str) -> AuditSegment:
        """One request's entries with the links that make them a verifiable chain segment,
        up to the head as read now."""

    @abc.abstractmethod
    def record_action(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        filing_number: str | None = None,
        details: dict[str, object] | None = None,
        reason: str | None = None,
    ) -> AuditEntry:
        """Audit an action that changes no state (an evidence export, a login)."""

    @abc.abstractmethod
    def verify_audit(self) -> AuditVerification:
        """Walk the hash chain and report every break."""


class LoteStore(abc.ABC):
    """Lotes, send attempts and corrections: the evidence of what was sent, and when."""

    @abc.abstractmethod
    def store_lotes(
        self, key: RequestKey, drafts: Iterable[LoteDraft], *, at: datetime, actor: str
    ) -> int:
        """Store every lote of the current generation and move ``building → built``, atomically.

        Lotes of earlier generations that were never acknowledged become ``superseded``.
        Returns how many lotes were stored (read them back with ``lotes``).
        """

    @abc.abstractmethod
    def lotes(self, key: RequestKey, *, generation: int | None = None) -> list[StoredLote]:
        """The lotes of a generation (default: the current one), by number."""

    @abc.abstractmethod
    def summaries(self, key: RequestKey) -> list[LoteSummary]:
        """The current build's lotes without their bytes, and how many attempts were made."""

    @abc.abstractmethod
    def attempt_count(self, key: RequestKey) -> int:
        """How many attempts were made for every lote of a request."""

    @abc.abstractmethod
    def record_attempt(self, attempt: Attempt, *, actor: str) -> Attempt:
        """Keep one finished send attempt (its number assigned here) as evidence."""

    @abc.abstractmethod
    def begin_attempt(
        self, submission_id: str, call: PreparedCall, *, started_at: datetime, actor: str
    ) -> Attempt:
        """Keep an attempt before its HTTP call: endpoint, start, exact request bytes, outcome
        ``unknown`` — so a process that dies during the call still leaves its trace."""

    @abc.abstractmethod
    def finish_attempt(self, attempt: Attempt, exchange: Exchange, *, actor: str) -> Attempt:
        """Complete an attempt begun with ``begin_attempt`` with what came back."""

    @abc.abstractmethod
    def attempts(self, key: RequestKey, *, with_bytes: bool = True) -> list[Attempt]:
        """Every attempt of every lote of a request, in the order they happened
        (``with_bytes=False``: without the request and response bytes, for overviews)."""

    @abc.abstractmethod
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
        """Acknowledge, reject or supersede a lote along its lifecycle."""

    @abc.abstractmethod
    def record_correction(self, correction: Correction, *, actor: str) -> None:
        """Keep which idEnvio corrects which, with the diff of what changed."""

    @abc.abstractmethod
    def corrections(self, key: RequestKey) -> list[Correction]:
        """Corrections of a request, oldest first."""


class WorkQueue(abc.ABC):
    """Claims on requests (leases), so that no two processes build or send the same one.

    On PostgreSQL a claim locks the candidate row with ``FOR UPDATE SKIP LOCKED``; on SQLite
    the write lock serialises claims. Either way a claimed request is skipped by the others
    until its lease is released or runs out.
    """

    @abc.abstractmethod
    def claim_next(
        self, kind: WorkKind, *, owner: str, now: datetime, lease: timedelta
    ) -> Claim | None:
        """The most urgent request due for ``kind`` that nobody holds, now held by ``owner``."""

    @abc.abstractmethod
    def claim(self, key: RequestKey, *, owner: str, now: datetime, lease: timedelta) -> Claim:
        """One request, whatever its state (an operator's action); raises
        ``WorkInProgressError`` while anyone — this owner too — holds a live lease on it."""

    @abc.abstractmethod
    def renew(self, claim: Claim, *, now: datetime, lease: timedelta) -> Claim | None:
        """Extend a held lease; None when it was lost (it ran out and someone took it)."""

    @abc.abstractmethod
    def release(self, claim: Claim, *, retry_at: datetime | None = None) -> None:
        """Give the request back; ``retry_at``: not due again before then (a parked send)."""

    @abc.abstractmethod
    def beat(self, owner: str, at: datetime) -> None:
        """A scheduler says it is alive."""

    @abc.abstractmethod
    def last_beat(self) -> datetime | None:
        """When any scheduler last said so (None: never)."""


class AlertStore(abc.ABC):
    """Deadline alerts, each raised once per request, threshold and due date."""

    @abc.abstractmethod
    def raise_alert(self, alert: DeadlineAlert, *, at: datetime) -> bool:
        """Record the alert (and audit it); False when it had been raised already."""

    @abc.abstractmethod
    def undelivered(self, channel: str, max_attempts: int) -> list[DeadlineAlert]:
        """Alerts not yet delivered by ``channel`` (``webhook``, ``email``), with fewer than
        ``max_attempts`` tries."""

    @abc.abstractmethod
    def record_delivery(
        self, alert: DeadlineAlert, channel: str, *, at: datetime, error: str | None
    ) -> None:
        """One try on ``channel`` for ``alert``: delivered when ``error`` is None."""

    @abc.abstractmethod
    def recent(self, since: datetime) -> list[DeadlineAlert]:
        """Alerts raised since then for requests not yet delivered, newest first (the
        dashboard's banner)."""


class UserStore(abc.ABC):
    """Dashboard accounts (SPEC §7): names, roles and password hashes, never passwords."""

    @abc.abstractmethod
    def add(self, name: str, role: Role, password: str, *, at: datetime, actor: str,
            update: bool = False) -> User:  # fmt: skip
        """Create an account (or, with ``update``, change its role and password)."""

    @abc.abstractmethod
    def authenticate(self, name: str, password: str) -> User | None:
        """The account when the password matches, else None (in constant-ish time)."""

    @abc.abstractmethod
    def get(self, name: str) -> User | None:
        """An account by name."""

    @abc.abstractmethod
    def sync_directory_account(self, name: str, role: Role, *, at: datetime) -> User:
        """The row of a directory account (created on its first sign-in, its role as the
        directory gave it now); audited when created or when its role changes."""

    @abc.abstractmethod
    def list_users(self) -> list[User]:
        """Every account, by name (disabled ones too)."""

    @abc.abstractmethod
    def set_password(self, name: str, password: str, *, at: datetime, actor: str) -> User:
        """A new password; every session of the account ends; audited."""

    @abc.abstractmethod
    def disable(self, name: str, *, at: datetime, actor: str) -> User:
        """The account can no longer log in; its sessions end; audited."""

    @abc.abstractmethod
    def open_session(
        self, name: str, *, at: datetime, lifetime: timedelta, address: str | None
    ) -> str:
        """A new session of ``name``; the token its cookie carries (kept only as a hash)."""

    @abc.abstractmethod
    def session_user(self, token: str, *, now: datetime) -> User | None:
        """Who a live session belongs to; None once it ended, expired or was revoked."""

    @abc.abstractmethod
    def close_session(self, token: str) -> None:
        """End one session (logout): its cookie opens nothing any more, even if copied."""


class AuthThrottle(abc.ABC):
    """Authentication failures per user name and client address, shared by every process
    (SPEC §9); a locked-out subject is refused before its password is even checked."""

    @abc.abstractmethod
    def status(
        self, scope: Scope, *, user: str | None, address: str | None, now: datetime
    ) -> ThrottleStatus:
        """One look: the end of the longest lockout on ``user`` or ``address`` (or None), and
        whether ``user`` has failures to clear on success."""

    @abc.abstractmethod
    def record_failure(
        self, scope: Scope, *, user: str | None, address: str | None, now: datetime
    ) -> datetime | None:
        """Count one failure; the end of a lockout it started (audited), else None."""

    @abc.abstractmethod
    def record_success(self, scope: Scope, *, user: str) -> None:
        """A success clears the user name's count (not the address's)."""


@dataclass(frozen=True)
class StoreCounts:
    """What ``/metrics`` reports from the state database, counted when it is scraped."""

    requests_by_state: dict[str, int]
    lotes_by_state: dict[str, int]
    attempts_by_outcome: dict[str, int]
    duration_buckets: list[tuple[float, int]]  # (upper bound in seconds, attempts ≤ it)
    duration_sum_seconds: float
    duration_count: int


class MetricsReader(abc.ABC):
    @abc.abstractmethod
    def counts(self, bounds: Sequence[float]) -> StoreCounts:
        """Counts by state and outcome, and the UGPP call durations against ``bounds`` (s)."""


@dataclass(frozen=True)
class DirectoryAccount:
    """A person the directory vouched for: their sign-in name, their entry's DN (named in
    the audit trail), and the highest role their groups give (None: no group, no entry)."""

    name: str
    dn: str
    role: Role | None


class Directory(abc.ABC):
    """The entity's directory (LDAP / Active Directory), SPEC §11."""

    @abc.abstractmethod
    def authenticate(self, name: str, password: str) -> DirectoryAccount | None:
        """The account when ``password`` binds as ``name``'s entry, its role read now from
        group membership; None for an unknown name or a wrong password. Raises
        ``DirectoryUnavailableError`` when the directory cannot be asked."""

    @abc.abstractmethod
    def check(self) -> str:
        """The service account binds and the user base answers: a short description, or
        ``DirectoryUnavailableError`` (``doctor``)."""


class SelftestStore(abc.ABC):
    """Source self-tests that passed (SPEC §11: engines proven where they run)."""

    @abc.abstractmethod
    def record_pass(
        self, engine: str, fingerprint: str, *, source: str, records: int, at: datetime
    ) -> None:
        """A self-test passed on ``engine`` with the build statements ``fingerprint``."""

    @abc.abstractmethod
    def has_passed(self, engine: str, fingerprint: str) -> bool:
        """Whether one has, on that engine, with those statements."""
