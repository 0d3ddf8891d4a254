"""Deadline alerts: warn the compliance team 10, 5, 2 and 1 business days before
``fechaVencimiento``, and once more on the day it falls due or is missed (SPEC §6, art. 6 of
Resolución 1707: the answer is due one month after the request).

Each alert is raised once per request, threshold and due date. After downtime only the
tightest threshold reached is raised — the team needs to hear "2 days left", not a backlog of
"10" and "5" as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ugpp_bridge.domain.deadlines import DeadlineKind, DeadlineStatus
from ugpp_bridge.domain.filing import RequestKey
from ugpp_bridge.domain.labels import STATE_LABELS, day, plural
from ugpp_bridge.domain.lifecycle import RequestState

THRESHOLDS = (10, 5, 2, 1, 0)  # business days left; 0: due today or already late


@dataclass(frozen=True)
class DeadlineAlert:
    filing_number: str
    request_id: str
    state: str
    due_date: date
    threshold: int
    business_days_left: int  # > 0 business days left; 0 due today; < 0 calendar days overdue
    key: RequestKey
    alert_id: int | None = None  # assigned by the store

    def message(self) -> str:
        """One line for the log, the webhook, the e-mail and the banner; no personal data."""
        if self.business_days_left < 0:
            when = f"vencida hace {plural(-self.business_days_left, 'día', 'días')}"
        elif self.business_days_left == 0:
            when = "vence hoy"
        elif self.business_days_left == 1:
            when = "falta 1 día hábil"
        else:
            when = f"faltan {plural(self.business_days_left, 'día hábil', 'días hábiles')}"
        state = STATE_LABELS[RequestState(self.state)]
        return (
            f"Solicitud {self.request_id} (radicado {self.filing_number}, {state}): {when}; "
            f"vence el {day(self.due_date)}."
        )

    def subject(self) -> str:
        """A short line for an e-mail subject: what happens, and to which radicado."""
        when = self.message().split(": ", 1)[1].split(";")[0]
        return f"[UGPP] {when.capitalize()}: {self.filing_number}"


def days_for_alerts(status: DeadlineStatus) -> int:
    """What ``business_days_left`` of an alert says of a deadline status (SPEC §9: overdue is
    counted in calendar days, so a weekend after the due date is never "due today")."""
    if status.kind is DeadlineKind.OVERDUE:
        return -status.days
    return status.days if status.kind is DeadlineKind.AHEAD else 0


def alert_threshold(business_days_left: int) -> int | None:
    """The tightest threshold reached with ``business_days_left`` left, or None."""
    reached = [t for t in THRESHOLDS if business_days_left <= t]
    return min(reached) if reached else None
