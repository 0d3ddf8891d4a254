"""Use cases of the four eyes (SPEC §9): an officer approves a build before anything leaves,
or returns it with a reason; the account that asked for the build cannot approve it.

Each decision is kept with the build it applies to and written to the audit trail with who
made it and when; ``show``, the dashboard and the evidence bundle show it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ugpp_bridge.domain.filing import Decision, RequestKey, StoredRequest
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.domain.users import User, same_person
from ugpp_bridge.errors import ApprovalRefusedError, IllegalTransitionError
from ugpp_bridge.service.ports import BuildStore, RequestStore

MAX_REASON = 1_000


def approve_build(
    key: RequestKey,
    *,
    requests: RequestStore,
    builds: BuildStore,
    officer: User,
    channel: str,
    clock: Callable[[], datetime],
) -> StoredRequest:
    """``built → approved`` by ``officer`` (``channel``: ``web`` or ``cli``), never the one who
    asked for the build."""
    stored = _decidable(requests, key, officer)
    if stored.built_by and same_person(officer.name, stored.built_by):
        raise ApprovalRefusedError(
            f"{officer.name} asked for build {stored.generation} of {stored.filing_number} and "
            "cannot approve it too: another officer must (four eyes).",
            reason="own_build",
        )
    return builds.decide(key, Decision.APPROVED, at=clock(), actor=f"{channel}:{officer.name}")


def return_build(
    key: RequestKey,
    reason: str,
    *,
    requests: RequestStore,
    builds: BuildStore,
    officer: User,
    channel: str,
    clock: Callable[[], datetime],
) -> StoredRequest:
    """``built → returned`` with a reason an operator will answer with a rebuild."""
    reason = " ".join(reason.split())
    if not reason or len(reason) > MAX_REASON:
        raise ApprovalRefusedError(
            f"Say why the build is returned (1 to {MAX_REASON} characters).", reason="no_reason"
        )
    _decidable(requests, key, officer)
    return builds.decide(
        key, Decision.RETURNED, at=clock(), actor=f"{channel}:{officer.name}", reason=reason
    )


def _decidable(requests: RequestStore, key: RequestKey, officer: User) -> StoredRequest:
    if not officer.may_approve or officer.disabled:
        raise ApprovalRefusedError(
            f"{officer.name} is not an officer: only an account with the role officer may "
            "approve or return a build.",
            reason="not_officer",
        )
    stored = requests.get(key)
    if stored.state is not RequestState.BUILT:
        raise IllegalTransitionError("request", stored.state.value, RequestState.APPROVED.value)
    return stored
