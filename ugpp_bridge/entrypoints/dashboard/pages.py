"""The dashboard's pages and JSON API. Thin: read the query, call one use case, show.

``/solicitudes`` (the desk: tiles, alerts, timeline, filters, search, the list — open and at
risk first), ``/solicitudes/<ID>`` (the deadline in words, what to do next, the actions the
state allows, the preview of what will be reported, decisions, lotes, attempts),
``…/vista-previa.xlsx`` and ``…/evidencia`` (downloads), ``/auditoria`` (who did what, when,
from where; operators and officers). API: ``/api/solicitudes[/<ID>]``.
"""

from __future__ import annotations

import functools
import logging
import statistics
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from typing import IO, Any, TypeVar, cast

from flask import Blueprint, Response, abort, jsonify, render_template, request, send_file
from flask_login import current_user, login_required

from ugpp_bridge.domain.filing import StoredRequest
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.entrypoints.dashboard import api
from ugpp_bridge.entrypoints.dashboard.actions import actions_for
from ugpp_bridge.entrypoints.dashboard.context import services
from ugpp_bridge.entrypoints.dashboard.timeline import timeline
from ugpp_bridge.errors import AmbiguousIdentifierError, RequestNotFoundError
from ugpp_bridge.service.overview import DeskSummary, RequestOverview, overview, request_detail

logger = logging.getLogger(__name__)
pages = Blueprint("pages", __name__)
F = TypeVar("F", bound=Callable[..., Any])
AUDIT_PAGE = 100


def operator_required(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.user.may_act:
            abort(403)
        return view(*args, **kwargs)

    return cast(F, login_required(wrapper))


@pages.get("/solicitudes")
@login_required
def requests_page() -> Any:
    s = services()
    today = s.clock().date()
    items = _overview()
    shown = _filtered(items)
    banner = s.alerts.recent(s.clock() - timedelta(days=7))
    return render_template(
        "requests.html", items=shown, total=len(items), summary=DeskSummary.of(items),
        chart=timeline(shown, today), today=today, banner=banner[:5], states=RequestState,
        filters=request.args,
    )  # fmt: skip


@pages.get("/solicitudes/<identifier>")
@login_required
def request_page(identifier: str) -> Any:
    stored = get_request(identifier)
    detail = _detail(stored)
    durations = detail.durations_ms
    times = {
        "median": int(statistics.median(durations)) if durations else None,
        "max": max(durations) if durations else None,
    }
    offered, missing = actions_for(stored, current_user.user)
    preview = services().preview(stored.key) if stored.generation else None
    return render_template(
        "request.html", detail=detail, times=times, offered=offered, missing=missing,
        preview=preview,
    )  # fmt: skip


@pages.get("/solicitudes/<identifier>/evidencia")
@login_required
def evidence(identifier: str) -> Response:
    stored = get_request(identifier)
    name = f"evidencia-{stored.filing_number}.zip"
    return _download(
        lambda sink: services().evidence(stored.key, sink, name, current_user.actor),
        name, "application/zip",
    )  # fmt: skip


@pages.get("/solicitudes/<identifier>/constancia.pdf")
@login_required
def certificate(identifier: str) -> Response:
    stored = get_request(identifier)
    name = f"constancia-{stored.filing_number}.pdf"
    return _download(
        lambda sink: services().certificate(stored.key, sink, name, current_user.actor),
        name, "application/pdf",
    )  # fmt: skip


@pages.get("/solicitudes/<identifier>/vista-previa.xlsx")
@login_required
def preview_xlsx(identifier: str) -> Response:
    stored = get_request(identifier)
    if not stored.generation:
        abort(404)
    name = f"vista-previa-{stored.filing_number}-construccion-{stored.generation}.xlsx"
    services().audit.record_action(
        at=services().clock(), actor=current_user.actor, action="preview.exported",
        filing_number=stored.filing_number, details={"generation": stored.generation},
    )  # fmt: skip
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _download(lambda sink: services().export_preview(stored.key, sink), name, xlsx)


@pages.get("/auditoria")
@operator_required
def audit_page() -> Any:
    entries = services().audit.audit_trail()
    page = max(1, request.args.get("pagina", 1, type=int) or 1)
    newest = list(reversed(entries))
    shown = newest[(page - 1) * AUDIT_PAGE : page * AUDIT_PAGE]
    pages_total = max(1, -(-len(entries) // AUDIT_PAGE))
    return render_template("audit.html", entries=shown, page=page, pages=pages_total)


@pages.get("/api/solicitudes")
@login_required
def api_requests() -> Any:
    return jsonify(solicitudes=[api.overview_json(item) for item in _overview()])


@pages.get("/api/solicitudes/<identifier>")
@login_required
def api_request(identifier: str) -> Any:
    return jsonify(api.detail_json(_detail(get_request(identifier))))


def get_request(identifier: str) -> StoredRequest:
    """The request an operator's ID names; 404 when none, 409 when it names two (SPEC §9)."""
    try:
        return services().requests.find(identifier)
    except RequestNotFoundError:
        abort(404)
    except AmbiguousIdentifierError as exc:
        abort(409, description=exc)


def _download(write: Callable[[IO[bytes]], object], name: str, mimetype: str) -> Response:
    # An anonymous temporary file: it has no name on disk, so nothing with personal data is
    # left behind, whatever happens to this process or the download.
    sink = tempfile.TemporaryFile(prefix="ugpp-bridge-")
    try:
        write(sink)
        sink.seek(0)
    except BaseException:
        sink.close()
        raise
    return send_file(sink, as_attachment=True, download_name=name, mimetype=mimetype)


def _overview() -> list[RequestOverview]:
    s = services()
    return overview(
        s.requests, s.lotes, today=s.clock().date(), holidays=s.holidays, uvt_values=s.uvt_values
    )


def _filtered(items: list[RequestOverview]) -> list[RequestOverview]:
    """The list as the filters say: state, due from/to (dd/mm/aaaa or aaaa-mm-dd) and a search
    by radicado, idSolicitud or a person's document number."""
    state, text = request.args.get("estado", ""), request.args.get("q", "").strip()
    since, until = _date(request.args.get("desde")), _date(request.args.get("hasta"))
    keys = services().requests.search(text) if text else None
    return [
        item
        for item in items
        if (not state or item.request.state.value == state)
        and (since is None or item.request.due_date >= since)
        and (until is None or item.request.due_date <= until)
        and (keys is None or item.request.key in keys)
    ]


def _date(text: str | None) -> date | None:
    text = (text or "").strip()
    for parse in (date.fromisoformat, _day_first):
        try:
            return parse(text)
        except ValueError:
            continue
    return None


def _day_first(text: str) -> date:
    day, month, year = (int(part) for part in text.split("/"))
    return date(year, month, day)


def _detail(stored: StoredRequest) -> Any:
    s = services()
    return request_detail(
        stored.key, s.requests, s.lotes, builds=s.builds, today=s.clock().date(),
        holidays=s.holidays, uvt_values=s.uvt_values,
    )  # fmt: skip
