"""Use case: Paso 2 — send a request's stored lotes to UGPP, keeping every attempt as evidence.

Every attempt is stored before its HTTP call — endpoint, start time, the exact request bytes,
outcome ``unknown`` — and completed after it (SPEC §9), so a process killed during the call, or
a state database lost for a moment after it, still leaves the attempt's trace.

Failure classes (SPEC §5, §9): a connection refused, a timeout, a reset after the body was
sent, an HTTP 5xx or a fault that is not the sender's are retried with exponential backoff and
jitter, always with the same ``idEnvio`` and bytes (UGPP de-duplicates by ``idEnvio``); a
``Client``/``Client.*`` fault (SOAP 1.2 ``Sender``) rejects the lote — no retry — and the
request goes to ``rejected`` with the reason in plain words; refused credentials hold the
request for an operator (no retry can fix them). When the attempts run out the request stays
in ``sending``, parked for the scheduler: never dropped. Acknowledged lotes are never sent
twice by a resumed run, so a process killed mid-run and started again completes with each
lote acknowledged once.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from ugpp_bridge.domain.filing import (
    AttemptOutcome,
    Exchange,
    RequestKey,
    StoredLote,
    StoredRequest,
)
from ugpp_bridge.domain.lifecycle import LoteState, RequestState
from ugpp_bridge.errors import (
    CredentialsRefusedError,
    IllegalTransitionError,
    RemoteUnavailableError,
)
from ugpp_bridge.service.ports import LoteStore, RequestStore, UgppGateway

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per lote and the exponential backoff between them (seconds)."""

    max_attempts: int = 6
    base_seconds: float = 2.0
    max_seconds: float = 300.0
    jitter: float = 0.5

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Before attempt ``attempt + 1``: base · 2^(attempt−1), capped, times 1..1+jitter."""
        return min(self.max_seconds, self.base_seconds * 2.0 ** (attempt - 1)) * (
            1 + self.jitter * rand()
        )


class Delivery(Enum):
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    PARKED = "parked"  # retried later by the scheduler
    HELD = "held"  # waits for an operator (credentials refused)


@dataclass(frozen=True)
class SendContext:
    requests: RequestStore
    lotes: LoteStore
    gateway: UgppGateway
    clock: Callable[[], datetime]
    sleep: Callable[[float], None]
    policy: RetryPolicy
    actor: str


def submit_request(
    key: RequestKey, context: SendContext, *, resend_all: bool = False, operator: bool = False
) -> StoredRequest:
    """Send every lote of the current build not yet acknowledged (``resend_all``: every lote,
    same ``idEnvio`` and bytes — UGPP answers an acknowledged one with the same receipt).
    ``operator``: a person asked for it, which takes back a request held for one."""
    if operator:
        context.requests.release(key, at=context.clock(), actor=context.actor)
    stored = _start(context, key)
    filing = stored.filing_number
    for lote in context.lotes.lotes(key):
        if lote.state is LoteState.SUPERSEDED:
            continue
        if lote.state is LoteState.ACKNOWLEDGED and not resend_all:
            continue
        if lote.state is LoteState.REJECTED:
            context.lotes.set_lote_state(
                lote.submission_id,
                LoteState.STORED,
                at=context.clock(),
                actor=context.actor,
                reason="resent after a rejection",
            )
        outcome, reason = _deliver(context, lote, stored.request.request_id)
        if outcome is Delivery.REJECTED:
            return context.requests.transition(
                key, RequestState.REJECTED, at=context.clock(), actor=context.actor, error=reason
            )
        if outcome is Delivery.HELD:
            logger.warning("Request %s held for an operator: credentials refused", filing)
            return context.requests.hold(key, reason, at=context.clock(), actor=context.actor)
        if outcome is Delivery.PARKED:
            context.requests.record_error(key, reason, at=context.clock())
            logger.warning(
                "Request %s parked after %d attempts", filing, context.policy.max_attempts
            )
            return context.requests.get(key)
    return context.requests.transition(
        key, RequestState.SENT, at=context.clock(), actor=context.actor
    )


def _start(context: SendContext, key: RequestKey) -> StoredRequest:
    stored = context.requests.get(key)
    if stored.state is RequestState.SENDING:
        return stored  # a run that was interrupted, or parked: resume it
    if stored.state not in (RequestState.APPROVED, RequestState.SENT, RequestState.REJECTED):
        # A build is sent once an officer approved it (SPEC §9); a sent or rejected one again.
        raise IllegalTransitionError("request", stored.state.value, RequestState.SENDING.value)
    return context.requests.transition(
        key, RequestState.SENDING, at=context.clock(), actor=context.actor
    )


def answering(lote: StoredLote, request_id: str) -> dict[str, str]:
    """What an acknowledgement of ``lote`` answers (SPEC §10: the ``ack`` transform's
    parameters, for an annex whose acknowledgement omits them)."""
    return {
        "idSolicitud": request_id,
        "idEnvio": lote.submission_id,
        "numeroLote": str(lote.lote_number),
        "totalRegistros": str(lote.record_count),
    }


def _deliver(context: SendContext, lote: StoredLote, request_id: str) -> tuple[Delivery, str]:
    reason = ""
    for attempt in range(1, context.policy.max_attempts + 1):
        last = _attempt(context, lote, request_id)
        if last.http_status == 401 and last.outcome is AttemptOutcome.HTTP_ERROR:
            if context.gateway.renews_token:  # once after a 401, with a new token
                context.gateway.forget_token()
                last = _attempt(context, lote, request_id)
        reason = plain_reason(lote, last)
        if last.outcome is AttemptOutcome.ACKNOWLEDGED:
            if lote.state is not LoteState.ACKNOWLEDGED:
                context.lotes.set_lote_state(
                    lote.submission_id,
                    LoteState.ACKNOWLEDGED,
                    at=context.clock(),
                    actor=context.actor,
                    ugpp_filing_number=last.ugpp_filing_number,
                )
            return Delivery.ACKNOWLEDGED, ""
        if last.outcome is AttemptOutcome.CLIENT_FAULT:
            context.lotes.set_lote_state(
                lote.submission_id,
                LoteState.REJECTED,
                at=context.clock(),
                actor=context.actor,
                reason=reason,
            )
            return Delivery.REJECTED, reason
        if last.outcome is AttemptOutcome.CREDENTIALS_REFUSED:
            return Delivery.HELD, reason
        if attempt < context.policy.max_attempts:
            context.sleep(context.policy.delay(attempt))
    attempts = context.policy.max_attempts
    return Delivery.PARKED, f"{reason} ({attempts} intentos; se reintentará automáticamente)"


def _attempt(context: SendContext, lote: StoredLote, request_id: str) -> Exchange:
    """One try: the call prepared, stored as an attempt, made, and the attempt completed."""
    started = context.clock()
    try:
        call = context.gateway.prepare(lote.xml, answering(lote, request_id))
    except CredentialsRefusedError as exc:
        refused = AttemptOutcome.CREDENTIALS_REFUSED
        return _unsent(context, lote, started, exc.endpoint, exc, refused, exc.http_status)
    except RemoteUnavailableError as exc:
        return _unsent(context, lote, started, "(token)", exc, AttemptOutcome.CONNECTION_ERROR)
    attempt = context.lotes.begin_attempt(
        lote.submission_id, call, started_at=started, actor=context.actor
    )
    exchange = context.gateway.post(call)
    context.lotes.finish_attempt(attempt, exchange, actor=context.actor)
    return exchange


def _unsent(
    context: SendContext,
    lote: StoredLote,
    started: datetime,
    endpoint: str,
    exc: Exception,
    outcome: AttemptOutcome,
    http_status: int | None = None,
) -> Exchange:
    """A try that ended before the lote left (the token service refused or failed): kept as
    an attempt too, with no request bytes — it is evidence of what UGPP's side did."""
    exchange = Exchange(started, 0, endpoint, outcome, b"", http_status=http_status, error=str(exc))
    context.lotes.record_attempt(exchange.as_attempt(lote.submission_id), actor=context.actor)
    return exchange


def _sentence(text: str | None) -> str:
    return (text or "").strip().rstrip(".")


def plain_reason(lote: StoredLote, exchange: Exchange) -> str:
    """What went wrong, in Spanish, and what to do."""
    subject = f"el lote {lote.lote_number} ({lote.submission_id})"
    match exchange.outcome:
        case AttemptOutcome.CLIENT_FAULT:
            return (
                f"La UGPP rechazó {subject}: {_sentence(exchange.fault_message)}. Corrija los "
                "datos de origen y reconstruya la solicitud (ugpp-bridge build); los lotes "
                "nuevos reemplazan al rechazado."
            )
        case AttemptOutcome.CREDENTIALS_REFUSED:
            return (
                f"Credenciales rechazadas al enviar {subject}: {_sentence(exchange.error)}. "
                "Corrija la configuración y reenvíe; mientras tanto no se reintenta."
            )
        case AttemptOutcome.SERVER_FAULT:
            return f"El servicio de la UGPP falló con {subject}: {exchange.fault_message}"
        case AttemptOutcome.TIMEOUT:
            return f"La UGPP no respondió a tiempo a {subject}"
        case AttemptOutcome.CONNECTION_ERROR:
            return f"No fue posible comunicarse con la UGPP al enviar {subject} ({exchange.error})"
        case AttemptOutcome.HTTP_ERROR:
            return f"La UGPP respondió HTTP {exchange.http_status} a {subject}: {exchange.error}"
        case _:
            return ""


class SendResult(Enum):
    """How a send ended, for scripts (SPEC §9 exit codes: 0 sent, 3 parked, 4 rejected,
    1 anything else — a request held for an operator included)."""

    SENT = 0
    FAILED = 1
    PARKED = 3
    REJECTED = 4

    @classmethod
    def of(cls, stored: StoredRequest) -> SendResult:
        if stored.state is RequestState.SENT:
            return cls.SENT
        if stored.state is RequestState.REJECTED:
            return cls.REJECTED
        if stored.state is RequestState.SENDING and stored.held_reason is None:
            return cls.PARKED
        return cls.FAILED
