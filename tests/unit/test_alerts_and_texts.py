"""Deadline-alert thresholds, the dashboard's Spanish formats, the timeline chart, and the
scheduler's guarded, catch-up-at-start jobs."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest

from ugpp_bridge.domain.alerts import DeadlineAlert, alert_threshold
from ugpp_bridge.domain.exposure import ExposureEstimate
from ugpp_bridge.domain.filing import RequestKey, RequestSummary
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.entrypoints.dashboard.texts import days_left, pesos, plain_error, urgency
from ugpp_bridge.entrypoints.dashboard.timeline import timeline
from ugpp_bridge.service.overview import RequestOverview


@pytest.mark.parametrize(
    ("days", "threshold"),
    [(30, None), (11, None), (10, 10), (6, 10), (5, 5), (3, 5), (2, 2), (1, 1), (0, 0), (-4, 0)],
)
def test_the_tightest_threshold_reached_is_the_one_raised(days: int, threshold: int | None) -> None:
    assert alert_threshold(days) == threshold


def test_an_alert_names_the_request_not_a_person() -> None:
    alert = DeadlineAlert(
        "UB-2026-000001", "UGPP-1", "sending", date(2026, 12, 7), 2, 2, RequestKey(1)
    )
    assert alert.message() == (
        "Solicitud UGPP-1 (radicado UB-2026-000001, estado sending): vence en 2 día(s) hábil(es), "
        "el 2026-12-07."
    )


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0, "$ 0"), (999, "$ 999"), (1_571_220, "$ 1.571.220"), (785_610_000, "$ 785.610.000")],
)
def test_pesos_use_colombian_thousands_separators(amount: int, text: str) -> None:
    assert pesos(amount) == text


@pytest.mark.parametrize(
    ("left", "open_", "text", "css"),
    [(12, True, "12 día(s) hábil(es)", "ok"), (5, True, "5 día(s) hábil(es)", "soon"),
     (2, True, "2 día(s) hábil(es)", "urgent"), (0, True, "Vence hoy", "late"),
     (-3, True, "Vencida hace 3 día(s) hábil(es)", "late"), (-3, False, "Entregada", "done")],
)  # fmt: skip
def test_days_left_read_as_words_and_colours(left: int, open_: bool, text: str, css: str) -> None:
    assert (days_left(left, open_), urgency(left, open_)) == (text, css)


def summary(
    state: RequestState, error: str | None = None, due: date = date(2026, 12, 7)
) -> RequestSummary:
    moment = datetime(2026, 11, 5, 14, tzinfo=UTC)
    return RequestSummary(
        "UB-2026-000001", "UGPP-1", state, moment, due, moment, 3, RequestKey(1), last_error=error
    )


def test_the_last_error_is_said_in_plain_spanish() -> None:
    assert plain_error(summary(RequestState.SENT)) == ""
    assert plain_error(summary(RequestState.BUILD_FAILED, "SourceDataError: …")).startswith(
        "No se pudo construir el reporte"
    )
    assert plain_error(summary(RequestState.SENDING, "could not reach UGPP")).startswith(
        "El envío está en espera"
    )


def test_the_timeline_puts_open_requests_first_and_today_between_receipt_and_deadline() -> None:
    on_time = ExposureEstimate(0, 0, 0, 2026)
    items = [
        RequestOverview(summary(RequestState.SENT, due=date(2026, 12, 1)), 5, 1, 1, 1, date(2026, 11, 20), on_time),
        RequestOverview(summary(RequestState.SENDING, due=date(2026, 12, 7)), 9, 1, 0, 3, None, on_time),
    ]  # fmt: skip
    chart = timeline(items, date(2026, 11, 24))
    assert chart is not None
    assert [bar.css for bar in chart.bars] == ["ok", "done"]
    sending = chart.bars[0]
    assert sending.x < chart.today_x < sending.due_x
    assert timeline([], date(2026, 11, 24)) is None


def test_a_failing_scheduled_job_is_logged_and_the_scheduler_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from ugpp_bridge.entrypoints import scheduler

    def broken() -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR):
        scheduler._guarded("send", broken)
    assert "The scheduled job 'send' failed" in caplog.text


def test_every_job_first_runs_at_start_up_to_catch_up() -> None:
    from ugpp_bridge.entrypoints.scheduler import make_scheduler

    class FakeJobs:
        def alerts(self) -> None: ...
        def build(self) -> None: ...
        def send(self) -> None: ...

    made = make_scheduler(FakeJobs(), 30, blocking=False)  # type: ignore[arg-type]
    jobs = {job.id: job for job in made.get_jobs()}
    assert sorted(jobs) == ["alerts", "build", "send"]
    assert all(job.trigger.interval.total_seconds() in (30, 900) for job in jobs.values())
    made.start(paused=True)
    try:
        now = datetime.now(UTC)
        assert all(abs((job.next_run_time - now).total_seconds()) < 5 for job in made.get_jobs())
    finally:
        made.shutdown(wait=False)
