"""Throttling of repeated authentication failures (SPEC §9), for Paso 1 and the dashboard.

Failures are counted per user name and per client address, in a window: when a count reaches
its limit inside the window, that user name (or address) is locked out for a while, and every
attempt — the right password included — is refused until the lockout ends. A success clears
the user name's count (not the address's: one good account must not launder an address that
is guessing others). The counts live in the state database so that every process sees them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Scope(StrEnum):
    PASO1 = "paso1"
    DASHBOARD = "dashboard"


class Subject(StrEnum):
    USER = "user"
    ADDRESS = "address"


@dataclass(frozen=True)
class ThrottlePolicy:
    """``limit`` failures inside ``window`` lock the subject out for ``lockout``."""

    limit: int
    window: timedelta
    lockout: timedelta


WINDOW = timedelta(minutes=15)
POLICIES: dict[tuple[Scope, Subject], ThrottlePolicy] = {
    # UGPP's client retries on its own; a person types. Addresses may be shared (NAT, proxy).
    (Scope.PASO1, Subject.USER): ThrottlePolicy(10, WINDOW, timedelta(minutes=15)),
    (Scope.PASO1, Subject.ADDRESS): ThrottlePolicy(30, WINDOW, timedelta(minutes=15)),
    (Scope.DASHBOARD, Subject.USER): ThrottlePolicy(5, WINDOW, timedelta(minutes=15)),
    (Scope.DASHBOARD, Subject.ADDRESS): ThrottlePolicy(20, WINDOW, timedelta(minutes=15)),
}


@dataclass(frozen=True)
class FailureCount:
    failures: int
    window_started_at: datetime
    blocked_until: datetime | None = None

    def blocked_at(self, now: datetime) -> bool:
        return self.blocked_until is not None and self.blocked_until > now


@dataclass(frozen=True)
class ThrottleStatus:
    """What one look at the counts says: locked out until when (None: not locked out), and
    whether the user name has failures a success should clear."""

    blocked_until: datetime | None
    user_has_failures: bool


def after_failure(
    previous: FailureCount | None, policy: ThrottlePolicy, now: datetime
) -> FailureCount:
    """The count after one more failure at ``now``; it carries a lockout when the limit is
    reached inside the window (a new window starts when the old one has passed)."""
    if previous is None or now - previous.window_started_at > policy.window:
        previous = FailureCount(0, now)
    failures = previous.failures + 1
    blocked = now + policy.lockout if failures >= policy.limit else previous.blocked_until
    return FailureCount(failures, previous.window_started_at, blocked)
