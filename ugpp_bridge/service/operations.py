"""Operator actions shared by the CLI and the dashboard: resend, confirm (art. 7), correct a
confirmation's radicado, ask for a rebuild.

Each runs under the request's work lease, so an operator never races a scheduler sending
the same request, and each is written to the audit trail with the operator's name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ugpp_bridge.domain.filing import RequestKey, StoredRequest
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.errors import InvalidInputError
from ugpp_bridge.service.ports import AuditStore, RequestStore
from ugpp_bridge.service.work import Leasing, run_claimed

Send = Callable[[RequestKey, bool], StoredRequest]  # (key, resend_all) -> the request after
MAX_RADICADO = 120


def resend_request(
    key: RequestKey,
    *,
    leasing: Leasing,
    requests: RequestStore,
    audit: AuditStore,
    send: Send,
    actor: str,
) -> StoredRequest:
    """Send what is not yet acknowledged; a request already ``sent`` is resent whole, with the
    same ``idEnvio`` and bytes (UGPP answers with the same acknowledgement)."""

    def action(key: RequestKey) -> StoredRequest:
        stored = requests.get(key)
        resend_all = stored.state is RequestState.SENT
        audit.record_action(
            at=leasing.clock(), actor=actor, action="operator.resend",
            filing_number=stored.filing_number, details={"resend_all": resend_all},
        )  # fmt: skip
        return send(key, resend_all)

    return run_claimed(leasing, key, action)


def confirm_request(
    key: RequestKey,
    radicado: str,
    *,
    requests: RequestStore,
    clock: Callable[[], datetime],
    actor: str,
) -> StoredRequest:
    """Record UGPP's confirmation e-mail (art. 7): ``sent → confirmed`` with its radicado."""
    radicado = _radicado(radicado)
    return requests.transition(
        key,
        RequestState.CONFIRMED,
        at=clock(),
        actor=actor,
        confirmation=radicado,
    )


def correct_confirmation(
    key: RequestKey,
    radicado: str,
    *,
    requests: RequestStore,
    clock: Callable[[], datetime],
    actor: str,
) -> StoredRequest:
    """Replace a mistyped confirmation radicado (art. 7) on a confirmed request; audited with
    both values."""
    return requests.correct_confirmation(key, _radicado(radicado), at=clock(), actor=actor)


def ask_for_rebuild(
    key: RequestKey, *, requests: RequestStore, clock: Callable[[], datetime], actor: str
) -> StoredRequest:
    """Queue a rebuild for the scheduler (a correction after new data, or the answer to a
    returned build); ``actor`` becomes who asked for that build (four eyes)."""
    return requests.request_rebuild(key, at=clock(), actor=actor)


def _radicado(radicado: str) -> str:
    """UGPP's radicado from its confirmation e-mail: 1 to 120 characters."""
    radicado = radicado.strip()
    if not radicado or len(radicado) > MAX_RADICADO:
        raise InvalidInputError(
            "Enter UGPP's radicado from its confirmation e-mail (1 to 120 characters).",
            field="radicado",
        )
    return radicado
