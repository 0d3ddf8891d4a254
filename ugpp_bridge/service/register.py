"""Use case: Paso 1 — receive UGPP's request, store it, answer with a receipt and the deadline."""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass
from datetime import date, datetime

from ugpp_bridge.domain.deadlines import due_date
from ugpp_bridge.domain.filing import Receipt, ReceivedMessage
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.errors import RequestTooLargeError, WrongOperatorError
from ugpp_bridge.service.ports import RequestStore


@dataclass(frozen=True)
class ReceptionPolicy:
    """Who this bridge answers for and how much one request may ask."""

    operator_nit: str
    term_starts_next_day: bool
    max_persons: int


def receive_request(
    request: FinancialInfoRequest,
    *,
    requests: RequestStore,
    holidays: Container[date],
    clock: Callable[[], datetime],
    policy: ReceptionPolicy,
    actor: str,
    nonce: str | None = None,
    message: ReceivedMessage | None = None,
    answer: Callable[[Receipt], object] | None = None,
) -> Receipt:
    """Register ``request`` (art. 10 deadline computed now) or recognise it as a duplicate.

    Raises ``WrongOperatorError`` when it names another NIT, ``RequestTooLargeError`` over the
    person limit, ``ConflictingRequestError`` for a known idSolicitud with other content,
    ``NotAuthorizedError`` when ``nonce`` (the WS-Security nonce that carried it, recorded with
    it) was used before. A refused request stores nothing. ``message`` (the SOAP message as
    it arrived) is kept with the request, as evidence.
    """
    if request.operator_nit != policy.operator_nit:
        raise WrongOperatorError(
            f"The request is addressed to NIT {request.operator_nit}; this bridge answers for "
            f"NIT {policy.operator_nit}.",
            field="nitOperador",
            value=request.operator_nit,
            reason="other_operator",
        )
    if len(request.persons) > policy.max_persons:
        raise RequestTooLargeError(
            f"The request lists {len(request.persons):,} persons; the limit is "
            f"{policy.max_persons:,} (UGPP_BRIDGE_MAX_PERSONS).",
            field="personas",
            value=policy.max_persons,
        )
    due = due_date(request.term_starts_on, holidays, starts_next_day=policy.term_starts_next_day)
    return requests.register(
        request,
        received_at=clock(),
        due_date=due,
        actor=actor,
        nonce=nonce,
        message=message,
        answer=answer,
    )
