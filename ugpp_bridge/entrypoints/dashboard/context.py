"""What every dashboard module shares: the use cases it calls (``DashboardServices``, bound by
the composition root), the signed-in account (``DashboardUser``), the session's lifetime, and
``services()`` to reach them from a view. The app and the blueprints import this; it imports
none of them."""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import IO, cast

from flask import current_app
from flask_login import UserMixin

from ugpp_bridge.domain.filing import RequestKey, StoredRequest
from ugpp_bridge.domain.users import User
from ugpp_bridge.service.evidence import EvidenceBundle
from ugpp_bridge.service.ports import (
    AlertStore,
    AuditStore,
    AuthThrottle,
    BuildStore,
    LoteStore,
    RequestStore,
    UserStore,
)
from ugpp_bridge.service.preview import Preview, PreviewTotals
from ugpp_bridge.service.sign_in import SignedIn

SESSION_LIFETIME = timedelta(hours=8)


@dataclass(frozen=True)
class DashboardServices:
    """The use cases the dashboard calls, bound to their adapters by the composition root."""

    requests: RequestStore
    builds: BuildStore
    audit: AuditStore
    lotes: LoteStore
    users: UserStore
    sign_in: Callable[[str, str], SignedIn | None]  # (name, password): local or directory
    throttle: AuthThrottle
    clock: Callable[[], datetime]
    holidays: Container[date]
    uvt_values: Mapping[int, int]
    alerts: AlertStore
    environment: str  # pruebas | produccion
    resend: Callable[[RequestKey, str], StoredRequest]  # (key, actor)
    confirm: Callable[[RequestKey, str, str], StoredRequest]  # (key, UGPP's radicado, actor)
    evidence: Callable[[RequestKey, IO[bytes], str, str], EvidenceBundle]  # key, sink, name, actor
    certificate: Callable[[RequestKey, IO[bytes], str, str], EvidenceBundle]  # the PDF alone
    preview: Callable[[RequestKey], Preview]
    export_preview: Callable[[RequestKey, IO[bytes]], PreviewTotals]
    wire_profile: str = "v1 1.0"  # SPEC §10: the configured profile's name and version


class DashboardUser(UserMixin):  # type: ignore[misc]
    """A logged-in account; its id in the cookie is the session token, not the name."""

    def __init__(self, user: User, token: str) -> None:
        self.user, self.token = user, token

    def get_id(self) -> str:
        return self.token

    @property
    def actor(self) -> str:
        return f"web:{self.user.name}"


def services() -> DashboardServices:
    """The use cases bound to the running app (``create_dashboard`` put them there)."""
    return cast(DashboardServices, current_app.extensions["ugpp_bridge"])
