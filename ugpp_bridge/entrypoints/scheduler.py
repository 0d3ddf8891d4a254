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
    system_clock,
    work_context,
)
from ugpp_bridge.config import Settings
from ugpp_bridge.domain.filing import BOGOTA
from ugpp_bridge.entrypoints.health import Heartbeat
from ugpp_bridge.service.alerting import raise_deadline_alerts
from ugpp_bridge.service.work import build_due, send_due

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

    def build(self) -> None:
        self._run("build", lambda: _log_done("Built", build_due(self.context)))

    def send(self) -> None:
        self._run("send", lambda: _log_done("Sent", send_due(self.context)))

    def alerts(self) -> None:
        self._run(
            "alerts",
            lambda: raise_deadline_alerts(
                self.stores.requests,
                self.stores.alerts,
                today=system_clock().date(),
                holidays=self.holidays,
                clock=system_clock,
                channels=self.channels,
            ),
        )

    def run_once(self) -> None:
        """Every job once, in order: alerts, builds, sends (``worker --once``)."""
        self.alerts()
        self.build()
        self.send()

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


def _log_done(verb: str, filings: list[str]) -> None:
    if filings:
        logger.info("%s %d request(s): %s", verb, len(filings), ", ".join(filings))
