"""Dashboard accounts and what each role may do (SPEC §7).

A *viewer* sees every request, deadline and attempt; an *operator* may also act — resend,
record UGPP's confirmation (art. 7) and download the evidence bundle (art. 12), which holds
personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"


@dataclass(frozen=True)
class User:
    name: str
    role: Role

    @property
    def may_act(self) -> bool:
        return self.role is Role.OPERATOR
