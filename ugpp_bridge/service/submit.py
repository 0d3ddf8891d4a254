"""Use case: Paso 2 — send a request's stored lotes to UGPP, keeping every attempt as evidence.

Failure classes (SPEC §5, issue 6): a connection refused, a timeout, a reset after the body was
sent, an HTTP 5xx or a Server fault are retried with exponential backoff and jitter, always
with the same ``idEnvio`` and bytes (UGPP de-duplicates by ``idEnvio``); a Client fault
rejects the lote — no retry — and the request goes to ``rejected`` with the reason in plain
words. When the attempts run out the request stays in ``sending``, parked for an operator:
never dropped. Acknowledged lotes are never sent twice by a resumed run, so a process killed
mid-run and started again completes with each lote acknowledged once.
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
from ugpp_bridge.errors import IllegalTransitionError
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
    PARKED = "parked"


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
    key: RequestKey, context: SendContext, *, resend_all: bool = False
) -> StoredRequest:
    """Send every lote of the current build not yet acknowledged (``resend_all``: every lote,
    same ``idEnvio`` and bytes — UGPP answers an acknowledged one with the same receipt)."""
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
        outcome, reason = _deliver(context, lote)
        if outcome is Delivery.REJECTED:
            return context.requests.transition(
                key, RequestState.REJECTED, at=context.clock(), actor=context.actor, error=reason
            )
        if outcome is Delivery.PARKED:
            context.requests.record_error(key, reason, at=context.clock())
            logger.warning("Request %s parked for an operator after %s", filing, reason)
            return context.requests.get(key)
    return context.requests.transition(
        key, RequestState.SENT, at=context.clock(), actor=context.actor
    )


def _start(context: SendContext, key: RequestKey) -> StoredRequest:
    stored = context.requests.get(key)
    if stored.state is RequestState.SENDING:
        return stored  # a run that was interrupted, or parked: resume it
    if stored.state not in (RequestState.BUILT, RequestState.SENT, RequestState.REJECTED):
        raise IllegalTransitionError("request", stored.state.value, RequestState.SENDING.value)
    return context.requests.transition(
        key, RequestState.SENDING, at=context.clock(), actor=context.actor
    )


def _deliver(context: SendContext, lote: StoredLote) -> tuple[Delivery, str]:
    reason = ""
    for attempt in range(1, context.policy.max_attempts + 1):
        exchanges = context.gateway.send(lote.xml)
        for exchange in exchanges:
            context.lotes.record_attempt(
                exchange.as_attempt(lote.submission_id), actor=context.actor
            )
        last = exchanges[-1]
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
        if attempt < context.policy.max_attempts:
            context.sleep(context.policy.delay(attempt))
    return (
        Delivery.PARKED,
        f"{reason} ({context.policy.max_attempts} attempts; waiting for an operator)",
    )


def plain_reason(lote: StoredLote, exchange: Exchange) -> str:
    """What went wrong, in words an operator can act on."""
    subject = f"lote {lote.lote_number} ({lote.submission_id})"
    match exchange.outcome:
        case AttemptOutcome.CLIENT_FAULT:
            return f"UGPP rejected {subject}: {exchange.fault_message}. Fix the data and resend."
        case AttemptOutcome.SERVER_FAULT:
            return f"UGPP's service failed on {subject}: {exchange.fault_message}"
        case AttemptOutcome.TIMEOUT:
            return f"UGPP did not answer {subject} in time"
        case AttemptOutcome.CONNECTION_ERROR:
            return f"could not reach UGPP, or the connection broke, sending {subject}: " + str(
                exchange.error
            )
        case AttemptOutcome.HTTP_ERROR:
            return f"UGPP answered HTTP {exchange.http_status} to {subject}: {exchange.error}"
        case _:
            return ""
