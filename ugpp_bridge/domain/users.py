"""Dashboard accounts and what each role may do (SPEC §7, §9).

A *viewer* — often the auditor — sees every request, deadline and attempt and downloads the
evidence bundle (art. 12); an *operator* also builds, sends, resends and records UGPP's
confirmation (art. 7); an *officer* (the compliance officer who signs for what the entity
sends) does all that and approves or returns a build before it is sent — never one they asked
for themselves (four eyes).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    OFFICER = "officer"


ROLE_LABELS = {Role.VIEWER: "consulta", Role.OPERATOR: "operador", Role.OFFICER: "oficial"}


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    disabled: bool = False
    directory: bool = False  # its password and role are the directory's (SPEC §11)

    @property
    def may_act(self) -> bool:
        return self.role in (Role.OPERATOR, Role.OFFICER)

    @property
    def may_approve(self) -> bool:
        return self.role is Role.OFFICER


def same_person(account: str, actor: str) -> bool:
    """Whether the actor who asked for a build (``web:ana``, ``cli:ana``, ``officer:ana``) is
    the account ``ana``: the four-eyes rule compares names across the dashboard and the CLI."""
    return actor.split(":", 1)[-1] == account
