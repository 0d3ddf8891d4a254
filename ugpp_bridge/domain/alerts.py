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

from ugpp_bridge.domain.filing import RequestKey

THRESHOLDS = (10, 5, 2, 1, 0)  # business days left; 0: due today or already late


@dataclass(frozen=True)
class DeadlineAlert:
    filing_number: str
    request_id: str
    state: str
    due_date: date
    threshold: int
    business_days_left: int
    key: RequestKey
    alert_id: int | None = None  # assigned by the store

    def message(self) -> str:
        """One line for the log and the webhook; no personal data."""
        if self.business_days_left < 0:
            when = f"venció hace {-self.business_days_left} día(s) hábil(es)"
        elif self.business_days_left == 0:
            when = "vence hoy"
        else:
            when = f"vence en {self.business_days_left} día(s) hábil(es)"
        return (
            f"Solicitud {self.request_id} (radicado {self.filing_number}, estado {self.state}): "
            f"{when}, el {self.due_date.isoformat()}."
        )


def alert_threshold(business_days_left: int) -> int | None:
    """The tightest threshold reached with ``business_days_left`` left, or None."""
    reached = [t for t in THRESHOLDS if business_days_left <= t]
    return min(reached) if reached else None
