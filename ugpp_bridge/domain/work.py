"""Work on a request that one process at a time may do, and the lease that says who does it.

A build (``received``, or ``building`` left behind by a process that died) and a send
(``approved``, or ``sending`` — interrupted, or parked until its next attempt is due) are claimed
with a lease: the owner renews it while it works; when the owner dies the lease runs out and
another process takes the work over. ``build_failed`` and ``rejected`` wait for an operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ugpp_bridge.domain.filing import RequestKey
from ugpp_bridge.domain.lifecycle import RequestState


class WorkKind(StrEnum):
    BUILD = "build"
    SEND = "send"


DUE_STATES: dict[WorkKind, frozenset[RequestState]] = {
    WorkKind.BUILD: frozenset({RequestState.RECEIVED, RequestState.BUILDING}),
    WorkKind.SEND: frozenset({RequestState.APPROVED, RequestState.SENDING}),
}


@dataclass(frozen=True)
class Claim:
    """The right to work on one request until ``until`` (renewable)."""

    key: RequestKey
    filing_number: str
    state: RequestState
    owner: str
    until: datetime
    rebuild_requested_by: str | None = None  # a person asked for this build (a correction)

    @property
    def interrupted(self) -> bool:
        """The request was left mid-build by a process that died (or was killed)."""
        return self.state is RequestState.BUILDING
