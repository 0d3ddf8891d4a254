"""``/healthz``: what a load balancer or a monitor may trust, answered in at most a few seconds.

It says ``200`` only when the state database answers, is at the migration head this version
ships, and — in a process that runs the scheduler — the scheduler has run a job recently.
Reads never queue behind a writer and PostgreSQL statements are capped, so a stalled database
makes ``/healthz`` say 503 quickly instead of hanging with it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ugpp_bridge.errors import UgppBridgeError

if TYPE_CHECKING:
    from ugpp_bridge.entrypoints.soap import WsgiApp


@dataclass
class Heartbeat:
    """When this process's scheduler last started or finished a job."""

    last: datetime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def beat(self, now: datetime) -> None:
        with self._lock:
            self.last = now


@dataclass(frozen=True)
class HealthChecks:
    revision: Callable[[], str | None]  # the state database's migration revision
    head: str  # the one this version ships
    clock: Callable[[], datetime]
    heartbeat: Heartbeat | None = None  # None: no scheduler in this process
    stale_after: timedelta = timedelta(minutes=5)

    def report(self) -> tuple[bool, dict[str, str]]:
        checks: dict[str, str] = {}
        try:
            revision = self.revision()
            checks["database"] = "ok"
            checks["migrations"] = (
                "ok" if revision == self.head else f"at {revision}, needs {self.head}"
            )
        except UgppBridgeError:
            checks["database"] = "unavailable"
            checks["migrations"] = "unknown"
        checks["scheduler"] = self._scheduler()
        healthy = all(value in ("ok", "off") for value in checks.values())
        return healthy, checks

    def _scheduler(self) -> str:
        if self.heartbeat is None:
            return "off"
        last = self.heartbeat.last
        if last is None or self.clock() - last > self.stale_after:
            return "stale"
        return "ok"


def health_app(checks: HealthChecks) -> WsgiApp:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        healthy, detail = checks.report()
        data = json.dumps({"status": "ok" if healthy else "unavailable", **detail}).encode()
        start_response(
            "200 OK" if healthy else "503 Service Unavailable",
            [("Content-Type", "application/json"), ("Cache-Control", "no-store"),
             ("Content-Length", str(len(data)))],
        )  # fmt: skip
        return [data]

    return app
