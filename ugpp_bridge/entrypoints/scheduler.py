"""The scheduler: APScheduler 3.11 runs the sweeps of ``service/work.py`` and the deadline
alerts inside ``serve`` (unless ``--no-scheduler``) or ``worker``.

APScheduler only keeps time here. Its in-memory job store holds three interval jobs and
nothing else: what is due lives in the state database, and every job asks the database
(claiming rows, SKIP LOCKED on PostgreSQL), so any number of schedulers may run side by side
and none of them does a piece of work another holds. Every job first runs at start-up — the
catch-up after downtime — and then every ``UGPP_BRIDGE_SWEEP_SECONDS``.

A job that fails is logged with its traceback and runs again at its next interval; the
scheduler stays up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from ugpp_bridge.adapters.scratch import remove_abandoned
from ugpp_bridge.bootstrap import (
    StateStores,
    alert_channels,
    holiday_calendar,
    work_context,
)
from ugpp_bridge.bootstrap_source import system_clock
from ugpp_bridge.config import Settings
from ugpp_bridge.domain.filing import BOGOTA
from ugpp_bridge.domain.labels import STATE_LABELS, moment
from ugpp_bridge.entrypoints.health import Heartbeat
from ugpp_bridge.service.alerting import raise_deadline_alerts
from ugpp_bridge.service.work import Swept, build_due, send_due

logger = logging.getLogger(__name__)

ALERT_EVERY_SECONDS = 15 * 60


class Jobs:
    """The scheduler's jobs over one process's stores; each one guarded."""

    def __init__(
        self,
        settings: Settings,
        stores: StateStores,
        owner: str,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        # What the sweeps cannot run without fails now, not at the first sweep.
        settings.require("source_url", "build the requests the scheduler finds")
        settings.require("operator_name", "write the lote headers (razonSocialOperador)")
        self.settings, self.stores, self.owner = settings, stores, owner
        self.heartbeat = heartbeat or Heartbeat()
        remove_abandoned()  # a killed build's folder holds personal data
        self.context = work_context(settings, stores, owner)
        self.channels = alert_channels(settings)
        self.holidays = holiday_calendar()
        self.done: list[str] = []  # what the sweeps did, one line per request (worker --once)

    def build(self) -> None:
        self._run("build", lambda: self._report("build", build_due(self.context)))

    def send(self) -> None:
        self._run("send", lambda: self._report("send", send_due(self.context)))

    def _report(self, job: str, swept: list[Swept]) -> None:
        lines = sweep_lines(job, swept)
        for line in lines:
            logger.info("%s", line)
        self.done.extend(lines)

    def alerts(self) -> None:
        def raise_alerts() -> None:
            raised = raise_deadline_alerts(
                self.stores.requests,
                self.stores.alerts,
                today=system_clock().date(),
                holidays=self.holidays,
                clock=system_clock,
                channels=self.channels,
            )
            self.done.extend(f"alerta {a.filing_number}: {a.message()}" for a in raised)

        self._run("alerts", raise_alerts)

    def run_once(self) -> list[str]:
        """Every job once, in order: alerts, builds, sends (``worker --once``); what was done,
        one line per request."""
        self.done = []
        self.alerts()
        self.build()
        self.send()
        return self.done

    def _run(self, name: str, job: Callable[[], object]) -> None:
        self._beat()
        _guarded(name, job)
        self._beat()

    def _beat(self) -> None:
        now = system_clock()
        self.heartbeat.beat(now)
        _guarded("heartbeat", lambda: self.stores.work.beat(self.owner, now))


def make_scheduler(jobs: Jobs, sweep_seconds: int, *, blocking: bool) -> BaseScheduler:
    """A scheduler whose jobs run now (catch-up) and then at their intervals."""
    scheduler_type = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_type(
        timezone=BOGOTA,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    now = datetime.now(BOGOTA)
    for job, seconds in (
        (jobs.alerts, ALERT_EVERY_SECONDS),
        (jobs.build, sweep_seconds),
        (jobs.send, sweep_seconds),
    ):
        scheduler.add_job(job, "interval", seconds=seconds, next_run_time=now, id=job.__name__)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per run is noise
    return scheduler


def _guarded(name: str, job: Callable[[], object]) -> None:
    try:
        job()
    except Exception:
        logger.exception("The scheduled job %r failed; it runs again at its next interval", name)


def sweep_lines(job: str, swept: list[Swept]) -> list[str]:
    """One line per request, saying where it ended — a parked send is never called sent."""
    lines = []
    for item in swept:
        where = STATE_LABELS[item.state] if item.state is not None else "estado desconocido"
        if item.parked and item.retry_at is not None:
            where = f"en espera: se reintenta el {moment(item.retry_at)}"
        lines.append(f"{job} {item.filing_number}: {where}")
    return lines
