"""Operator actions shared by the CLI and the dashboard: resend, confirm (art. 7).

Each runs under the request's work lease, so an operator never races a scheduler sending
the same request, and each is written to the audit trail with the operator's name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ugpp_bridge.domain.filing import RequestKey, StoredRequest
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.errors import InvalidInputError
from ugpp_bridge.service.ports import RequestStore
from ugpp_bridge.service.work import Leasing, run_claimed

Send = Callable[[RequestKey, bool], StoredRequest]  # (key, resend_all) -> the request after


def resend_request(
    key: RequestKey, *, leasing: Leasing, requests: RequestStore, send: Send, actor: str
) -> StoredRequest:
    """Send what is not yet acknowledged; a request already ``sent`` is resent whole, with the
    same ``idEnvio`` and bytes (UGPP answers with the same acknowledgement)."""

    def action(key: RequestKey) -> StoredRequest:
        stored = requests.get(key)
        resend_all = stored.state is RequestState.SENT
        requests.record_action(
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
    radicado = radicado.strip()
    if not radicado or len(radicado) > 120:
        raise InvalidInputError(
            "Enter UGPP's radicado from its confirmation e-mail (1 to 120 characters).",
            field="radicado",
        )
    return requests.transition(
        key,
        RequestState.CONFIRMED,
        at=clock(),
        actor=actor,
        confirmation=radicado,
    )
