"""Deadline-alert thresholds, the dashboard's Spanish formats, the timeline chart, and the
scheduler's guarded, catch-up-at-start jobs."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest

from ugpp_bridge.domain.alerts import DeadlineAlert, alert_threshold, days_for_alerts
from ugpp_bridge.domain.deadlines import DeadlineKind, DeadlineStatus, deadline_status
from ugpp_bridge.domain.exposure import ExposureEstimate
from ugpp_bridge.domain.filing import RequestKey, RequestSummary
from ugpp_bridge.domain.labels import deadline_text, number, pesos
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.entrypoints.dashboard.texts import deadline_class, plain_error
from ugpp_bridge.entrypoints.dashboard.timeline import timeline
from ugpp_bridge.service.overview import RequestOverview


@pytest.mark.parametrize(
    ("days", "threshold"),
    [(30, None), (11, None), (10, 10), (6, 10), (5, 5), (3, 5), (2, 2), (1, 1), (0, 0), (-4, 0)],
)
def test_the_tightest_threshold_reached_is_the_one_raised(days: int, threshold: int | None) -> None:
    assert alert_threshold(days) == threshold


@pytest.mark.parametrize(
    ("left", "words"),
    [(2, "faltan 2 días hábiles"), (1, "falta 1 día hábil"), (0, "vence hoy"),
     (-3, "vencida hace 3 días")],
)  # fmt: skip
def test_an_alert_names_the_request_not_a_person_in_spanish(left: int, words: str) -> None:
    alert = DeadlineAlert(
        "UB-2026-000001", "UGPP-1", "sending", date(2026, 12, 7), 2, left, RequestKey(1)
    )
    assert alert.message() == (
        f"Solicitud UGPP-1 (radicado UB-2026-000001, Enviando): {words}; vence el 07/12/2026."
    )
    assert alert.subject().startswith("[UGPP] ") and alert.subject().endswith("UB-2026-000001")


HOLIDAYS = {date(2026, 12, 8)}  # Inmaculada Concepción, a Tuesday


@pytest.mark.parametrize(
    ("today", "delivered", "kind", "days", "text"),
    [
        (date(2026, 12, 1), None, DeadlineKind.AHEAD, 4, "Faltan 4 días hábiles"),
        (date(2026, 12, 4), None, DeadlineKind.AHEAD, 1, "Falta 1 día hábil"),  # Friday
        (date(2026, 12, 5), None, DeadlineKind.AHEAD, 1, "Falta 1 día hábil"),  # Saturday
        (date(2026, 12, 7), None, DeadlineKind.TODAY, 0, "Vence hoy"),  # the day itself
        (date(2026, 12, 8), None, DeadlineKind.OVERDUE, 1, "Vencida hace 1 día (vencía el 07/12/2026)"),
        (date(2026, 12, 13), None, DeadlineKind.OVERDUE, 6, "Vencida hace 6 días (vencía el 07/12/2026)"),
        (date(2027, 1, 1), date(2026, 12, 7), DeadlineKind.ON_TIME, 0, "Entregada a tiempo"),
        (date(2027, 1, 1), date(2026, 12, 9), DeadlineKind.LATE, 2, "Entregada tarde (2 días)"),
    ],
)  # fmt: skip
def test_the_deadline_in_words_on_a_controlled_clock(
    today: date, delivered: date | None, kind: DeadlineKind, days: int, text: str
) -> None:
    status = deadline_status(date(2026, 12, 7), today, HOLIDAYS, delivered)
    assert (status.kind, status.days, deadline_text(status)) == (kind, days, text)


def test_a_friday_deadline_is_overdue_on_the_weekend_never_due_today() -> None:
    friday = date(2026, 12, 4)
    for weekend_day, late in ((date(2026, 12, 5), 1), (date(2026, 12, 6), 2)):
        status = deadline_status(friday, weekend_day, set())
        assert (status.kind, status.days) == (DeadlineKind.OVERDUE, late)
        assert days_for_alerts(status) == -late and alert_threshold(-late) == 0


def test_the_business_days_before_a_holiday_skip_it() -> None:
    status = deadline_status(date(2026, 12, 9), date(2026, 12, 7), HOLIDAYS)
    assert (status.kind, status.days) == (DeadlineKind.AHEAD, 1)  # the 8th does not count


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0, "$ 0"), (999, "$ 999"), (1_571_220, "$ 1.571.220"), (785_610_000, "$ 785.610.000")],
)
def test_pesos_use_colombian_thousands_separators(amount: int, text: str) -> None:
    assert pesos(amount) == text


def test_numbers_use_colombian_thousands_separators() -> None:
    assert (number(1_234_567), number(-3_000), pesos(-3_000)) == ("1.234.567", "-3.000", "-$ 3.000")


@pytest.mark.parametrize(
    ("kind", "days", "css"),
    [(DeadlineKind.AHEAD, 12, "ok"), (DeadlineKind.AHEAD, 5, "soon"), (DeadlineKind.AHEAD, 2, "urgent"),
     (DeadlineKind.TODAY, 0, "today"), (DeadlineKind.OVERDUE, 3, "late"), (DeadlineKind.ON_TIME, 0, "done"),
     (DeadlineKind.LATE, 2, "done-late")],
)  # fmt: skip
def test_each_deadline_has_its_class(kind: DeadlineKind, days: int, css: str) -> None:
    assert deadline_class(DeadlineStatus(kind, days, date(2026, 12, 7))) == css


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
    today = date(2026, 11, 24)
    items = [
        RequestOverview(summary(RequestState.SENDING, due=date(2026, 12, 7)),
                        deadline_status(date(2026, 12, 7), today, set()), 1, 0, 3, None, on_time),
        RequestOverview(summary(RequestState.SENT, due=date(2026, 12, 1)),
                        deadline_status(date(2026, 12, 1), today, set(), date(2026, 11, 20)), 1, 1, 1,
                        date(2026, 11, 20), on_time),
    ]  # fmt: skip
    chart = timeline(items, today)
    assert chart is not None
    assert [row.css for row in chart.rows] == ["ok", "done"]
    assert [row.words for row in chart.rows] == ["Faltan 9 días hábiles", "Entregada a tiempo"]
    sending = chart.rows[0]
    assert sending.left < chart.today < sending.due
    assert timeline([], today) is None


def test_the_timeline_starts_early_enough_to_show_the_most_overdue_request() -> None:
    today = date(2026, 11, 24)
    overdue = RequestOverview(
        summary(RequestState.SENDING, due=date(2026, 10, 1)),
        deadline_status(date(2026, 10, 1), today, set()), 1, 0, 3, None, ExposureEstimate(0, 0, 0, 2026),
    )  # fmt: skip
    chart = timeline([overdue], today)
    assert chart is not None and 0 <= chart.rows[0].due < chart.today <= 100


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


def test_a_sweep_never_calls_a_parked_send_sent() -> None:
    from datetime import datetime

    from ugpp_bridge.domain.filing import BOGOTA
    from ugpp_bridge.domain.lifecycle import RequestState
    from ugpp_bridge.entrypoints.scheduler import sweep_lines
    from ugpp_bridge.service.work import Swept

    retry = datetime(2026, 12, 4, 15, 30, tzinfo=BOGOTA)
    lines = sweep_lines("send", [Swept("UB-1", RequestState.SENT),
                                 Swept("UB-2", RequestState.SENDING, retry)])  # fmt: skip
    assert lines == [
        "send UB-1: Entregada",
        "send UB-2: en espera: se reintenta el 04/12/2026 15:30:00",
    ]


def test_a_table_too_wide_for_the_terminal_leaves_out_the_least_important_columns() -> None:
    from rich.console import Console

    from ugpp_bridge.entrypoints.cli.console import FitColumn, fitted_table

    columns = (FitColumn("radicado", 1), FitColumn("estado", 1, wrap=True),
               FitColumn("último error", 3, wrap=True), FitColumn("idSolicitud", 2))  # fmt: skip
    rows = [("UB-2026-000001", "Aprobada, por enviar", "La UGPP no respondió a tiempo", "X-1")]
    for width, kept in ((120, 4), (50, 3), (30, 2)):
        console = Console(width=width, record=True)
        console.print(fitted_table("Solicitudes", columns, rows, width))
        text = console.export_text()
        assert max(len(line) for line in text.splitlines()) <= width
        assert "UB-2026-000001" in text  # never cut
        left_out = 4 - kept
        assert ("Sin espacio para" in text) is (left_out > 0)
    table, caption = text.split("Sin espacio para")
    assert "idSolicitud" in " ".join(caption.split()) and "último error" in " ".join(
        caption.split()
    )
    assert "idSolicitud" not in table
