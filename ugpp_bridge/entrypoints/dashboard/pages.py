"""The dashboard's pages, actions and JSON API. Thin: read the form, call one use case, show.

Pages: ``/solicitudes`` (the list, sorted by deadline, and the timeline chart) and
``/solicitudes/<ID>`` (progress, lotes, attempts, response times, exposure, actions).
Actions (operators only, POST with CSRF, audited by the use cases): ``…/reenviar``,
``…/confirmar``; ``…/evidencia`` downloads the evidence bundle (audited as an export).
API: ``/api/solicitudes`` and ``/api/solicitudes/<ID>``, the same data as JSON.
"""

from __future__ import annotations

import functools
import logging
import re
import statistics
import tempfile
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from ugpp_bridge.domain.filing import BOGOTA, RequestKey, StoredRequest
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.domain.throttling import Scope
from ugpp_bridge.entrypoints.dashboard import api
from ugpp_bridge.entrypoints.dashboard.app import (
    SESSION_LIFETIME,
    DashboardServices,
    DashboardUser,
)
from ugpp_bridge.entrypoints.dashboard.texts import STATE_LABELS
from ugpp_bridge.entrypoints.dashboard.timeline import timeline
from ugpp_bridge.errors import (
    AmbiguousIdentifierError,
    IllegalTransitionError,
    RequestNotFoundError,
    UgppBridgeError,
    WorkInProgressError,
)
from ugpp_bridge.service.overview import overview, request_detail

logger = logging.getLogger(__name__)
pages = Blueprint("pages", __name__)
F = TypeVar("F", bound=Callable[..., Any])


def services() -> DashboardServices:
    return cast(DashboardServices, current_app.extensions["ugpp_bridge"])


def operator_required(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.user.may_act:
            abort(403)
        return view(*args, **kwargs)

    return cast(F, login_required(wrapper))


@pages.get("/")
def home() -> Any:
    return redirect(url_for("pages.requests_page"))


@pages.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return render_template("login.html")
    s, address = services(), request.remote_addr
    name = request.form.get("usuario", "").strip()[:80]
    status = s.throttle.status(Scope.DASHBOARD, user=name, address=address, now=s.clock())
    if (until := status.blocked_until) is not None:
        logger.warning("Dashboard login refused: throttled")
        flash(f"Demasiados intentos fallidos. Intente de nuevo después de las "
              f"{until.astimezone(BOGOTA):%H:%M} (hora de Bogotá).", "error")  # fmt: skip
        return render_template("login.html", name=name), 429
    user = s.users.authenticate(name, request.form.get("clave", ""))
    if user is None:
        logger.warning("Dashboard login refused")
        s.throttle.record_failure(Scope.DASHBOARD, user=name, address=address, now=s.clock())
        s.requests.record_action(
            at=s.clock(), actor="web:anonymous", action="dashboard.login_failed",
            details={"user": name, "address": address},
        )  # fmt: skip
        flash("Usuario o contraseña incorrectos.", "error")
        return render_template("login.html", name=name), 401
    if status.user_has_failures:
        s.throttle.record_success(Scope.DASHBOARD, user=user.name)
    token = s.users.open_session(
        user.name, at=s.clock(), lifetime=SESSION_LIFETIME, address=address
    )
    login_user(DashboardUser(user, token))
    s.requests.record_action(
        at=s.clock(), actor=f"web:{user.name}", action="dashboard.login",
        details={"address": address},
    )  # fmt: skip
    return redirect(safe_next(request.args.get("next", "")))


# A local path only: no scheme, no host, no backslash, no control or space characters —
# so that neither "//evil.example" nor "/\t/evil.example" (browsers drop the tab) gets out.
_LOCAL_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")


def safe_next(target: str) -> str:
    """Where to go after login: ``target`` when it is a path of this site, else the list."""
    return target if _LOCAL_PATH.fullmatch(target) and "%0" not in target.lower() else "/"


@pages.post("/logout")
@login_required
def logout() -> Any:
    services().users.close_session(current_user.token)
    logout_user()
    flash("Sesión cerrada.", "info")
    return redirect(url_for("pages.login"))


@pages.get("/solicitudes")
@login_required
def requests_page() -> Any:
    items = _overview()
    today = services().clock().date()
    return render_template("requests.html", items=items, chart=timeline(items, today), today=today)


@pages.get("/solicitudes/<identifier>")
@login_required
def request_page(identifier: str) -> Any:
    detail = _detail(_get(identifier).key)
    durations = detail.durations_ms
    times = {
        "median": int(statistics.median(durations)) if durations else None,
        "max": max(durations) if durations else None,
    }
    return render_template("request.html", detail=detail, times=times)


@pages.post("/solicitudes/<identifier>/reenviar")
@operator_required
def resend(identifier: str) -> Any:
    def act() -> str:
        done = services().resend(_get(identifier).key, current_user.actor)
        if done.last_error:
            return f"Reenvío intentado; sigue pendiente: {done.last_error}"
        return f"Reenvío hecho: la solicitud quedó en estado «{_label(done)}»."

    return _action(identifier, act)


@pages.post("/solicitudes/<identifier>/confirmar")
@operator_required
def confirm(identifier: str) -> Any:
    radicado = request.form.get("radicado", "")

    def act() -> str:
        services().confirm(_get(identifier).key, radicado, current_user.actor)
        return f"Confirmación registrada con el radicado UGPP {radicado.strip()}."

    return _action(identifier, act)


@pages.get("/solicitudes/<identifier>/evidencia")
@operator_required
def evidence(identifier: str) -> Response:
    stored = _get(identifier)
    name = f"evidencia-{stored.filing_number}.zip"
    # An anonymous temporary file: it has no name on disk, so nothing with personal data is
    # left behind, whatever happens to this process or the download.
    sink = tempfile.TemporaryFile(prefix="ugpp-bridge-")
    try:
        services().evidence(stored.key, sink, name, current_user.actor)
        sink.seek(0)
    except BaseException:
        sink.close()
        raise
    return send_file(sink, as_attachment=True, download_name=name, mimetype="application/zip")


@pages.get("/api/solicitudes")
@login_required
def api_requests() -> Any:
    return jsonify(solicitudes=[api.overview_json(item) for item in _overview()])


@pages.get("/api/solicitudes/<identifier>")
@login_required
def api_request(identifier: str) -> Any:
    return jsonify(api.detail_json(_detail(_get(identifier).key)))


def _action(identifier: str, act: Callable[[], str]) -> Any:
    try:
        flash(act(), "info")
    except RequestNotFoundError:
        abort(404)
    except WorkInProgressError as exc:
        flash(f"No se pudo: otro proceso ({exc.owner}) está trabajando en esta solicitud hasta "
              f"{exc.until}. Intente de nuevo en unos minutos.", "error")  # fmt: skip
    except IllegalTransitionError as exc:
        current = STATE_LABELS[RequestState(exc.current)]
        flash(f"No se pudo: esa acción no es posible en el estado «{current}».", "error")
    except UgppBridgeError as exc:
        flash(f"No se pudo: {exc}", "error")
    return redirect(url_for("pages.request_page", identifier=identifier))


def _overview() -> list[Any]:
    s = services()
    return overview(
        s.requests, s.lotes, today=s.clock().date(), holidays=s.holidays, uvt_values=s.uvt_values
    )


def _detail(key: RequestKey) -> Any:
    s = services()
    return request_detail(
        key, s.requests, s.lotes, today=s.clock().date(), holidays=s.holidays,
        uvt_values=s.uvt_values,
    )  # fmt: skip


def _get(identifier: str) -> StoredRequest:
    """The request an operator's ID names; 404 when none, 409 when it names two (SPEC §9)."""
    try:
        return services().requests.find(identifier)
    except RequestNotFoundError:
        abort(404)
    except AmbiguousIdentifierError as exc:
        abort(409, description=exc)


def _label(stored: Any) -> str:
    return STATE_LABELS[stored.state]
