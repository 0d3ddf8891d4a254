"""The lifecycle of a request and of its lotes (SPEC §5, §9), as state machines.

``received → building → built → approved → sending → sent → confirmed``, with
``build_failed`` (a source problem: rebuild once fixed), ``returned`` (an officer sent the
build back with a reason: rebuild) and ``rejected`` (UGPP answered a Client fault). Only an
approved build is sent: with ``UGPP_BRIDGE_REQUIRE_APPROVAL=false`` the build approves itself,
audited as such. A rebuild after new source data (a correction) may start from ``built``,
``approved``, ``sent``, ``rejected`` or ``confirmed``, and needs a new approval. Transport
failures never move a request backwards: it stays in ``sending`` until every lote is
acknowledged or an operator acts.

An illegal transition raises ``IllegalTransitionError``; nothing is ever written silently.
"""

from __future__ import annotations

from enum import StrEnum

from ugpp_bridge.errors import IllegalTransitionError


class RequestState(StrEnum):
    RECEIVED = "received"
    BUILDING = "building"
    BUILT = "built"
    BUILD_FAILED = "build_failed"
    APPROVED = "approved"
    RETURNED = "returned"
    SENDING = "sending"
    SENT = "sent"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


_REQUEST_TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    RequestState.RECEIVED: frozenset({RequestState.BUILDING}),
    RequestState.BUILDING: frozenset({RequestState.BUILT, RequestState.BUILD_FAILED}),
    RequestState.BUILD_FAILED: frozenset({RequestState.BUILDING}),
    RequestState.BUILT: frozenset(
        {RequestState.APPROVED, RequestState.RETURNED, RequestState.BUILDING}
    ),
    RequestState.APPROVED: frozenset({RequestState.SENDING, RequestState.BUILDING}),
    RequestState.RETURNED: frozenset({RequestState.BUILDING}),
    RequestState.SENDING: frozenset({RequestState.SENT, RequestState.REJECTED}),
    RequestState.SENT: frozenset(
        {RequestState.CONFIRMED, RequestState.SENDING, RequestState.BUILDING}
    ),
    RequestState.REJECTED: frozenset({RequestState.SENDING, RequestState.BUILDING}),
    RequestState.CONFIRMED: frozenset({RequestState.BUILDING}),
}


class LoteState(StrEnum):
    """A stored lote waits to be sent; UGPP acknowledges or rejects it; a correction supersedes."""

    STORED = "stored"
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


_LOTE_TRANSITIONS: dict[LoteState, frozenset[LoteState]] = {
    LoteState.STORED: frozenset({LoteState.ACKNOWLEDGED, LoteState.REJECTED, LoteState.SUPERSEDED}),
    LoteState.REJECTED: frozenset({LoteState.STORED, LoteState.SUPERSEDED}),
    LoteState.ACKNOWLEDGED: frozenset({LoteState.SUPERSEDED}),
    LoteState.SUPERSEDED: frozenset(),
}


def check_request_transition(current: RequestState, target: RequestState) -> None:
    """Raise ``IllegalTransitionError`` unless SPEC §5 allows ``current → target``."""
    if target not in _REQUEST_TRANSITIONS[current]:
        raise IllegalTransitionError("request", current.value, target.value)


def check_lote_transition(current: LoteState, target: LoteState) -> None:
    if target not in _LOTE_TRANSITIONS[current]:
        raise IllegalTransitionError("lote", current.value, target.value)


def allowed_request_targets(current: RequestState) -> frozenset[RequestState]:
    return _REQUEST_TRANSITIONS[current]


def decision_target(current: RequestState, approved: bool) -> RequestState:
    """An officer's decision on the current build (SPEC §9, four eyes): ``built → approved``,
    or ``built → returned`` for an operator to rebuild."""
    target = RequestState.APPROVED if approved else RequestState.RETURNED
    check_request_transition(current, target)
    return target


def unchanged_rebuild_target(current: RequestState, confirmed: bool) -> RequestState:
    """A rebuild that found no record changed goes back to the acknowledged lotes it would have
    corrected (SPEC §5: UGPP never gets an empty correction): ``building → confirmed`` when
    UGPP's confirmation (art. 7) was recorded, else ``building → sent``."""
    target = RequestState.CONFIRMED if confirmed else RequestState.SENT
    if current is not RequestState.BUILDING:
        raise IllegalTransitionError("request", current.value, target.value)
    return target
