"""The dashboard's Flask application: login, sessions, CSRF, roles and security headers.

- Accounts come from ``ugpp-bridge user add`` (``UserStore``; scrypt hashes). The signed
  session cookie (HttpOnly, SameSite=Lax, Secure when ``UGPP_BRIDGE_COOKIE_SECURE``) carries
  only a random session token whose hash the server keeps: logout, a password change or the
  end of the eight hours ends the session on the server, so a copied cookie opens nothing.
- Failed logins are throttled per user name and per client address, through the state
  database (every process sees them), and audited with both.
- Every POST carries a CSRF token (Flask-WTF's ``CSRFProtect``); a missing or wrong one is
  refused with 400 before any view runs.
- A *viewer* sees and downloads evidence; an *operator* also builds, sends, resends and
  confirms; an *officer* also approves or returns a build (four eyes). Every page says which
  environment it is (``UGPP_BRIDGE_ENVIRONMENT``: «AMBIENTE DE PRUEBAS» unless production).
- Pages say ``no-store`` (they show balances' owners' requests) and may not be framed.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify, redirect, render_template, request, url_for
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from ugpp_bridge.domain.audit import ORIGIN
from ugpp_bridge.domain.users import ROLE_LABELS
from ugpp_bridge.entrypoints.dashboard import texts
from ugpp_bridge.entrypoints.dashboard.action_pages import action_pages
from ugpp_bridge.entrypoints.dashboard.auth import auth
from ugpp_bridge.entrypoints.dashboard.context import (
    SESSION_LIFETIME,
    DashboardServices,
    DashboardUser,
)
from ugpp_bridge.entrypoints.dashboard.pages import pages

logger = logging.getLogger(__name__)


def create_dashboard(
    services: DashboardServices, *, secret_key: str, cookie_secure: bool = False
) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key,
        SESSION_COOKIE_NAME="ugpp_bridge_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=cookie_secure,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    app.extensions["ugpp_bridge"] = services
    CSRFProtect(app)
    _login_manager(services).init_app(app)
    for blueprint in (auth, pages, action_pages):
        app.register_blueprint(blueprint)
    app.jinja_env.filters.update(
        pesos=texts.pesos, number=texts.number, moment=texts.moment, day=texts.day,
        when=texts.when,
    )  # fmt: skip
    app.jinja_env.globals.update(
        texts=texts, ref=texts.ref, roles=ROLE_LABELS, testing=services.environment != "produccion",
        wire_profile=services.wire_profile,
    )  # fmt: skip
    app.after_request(_security_headers)
    app.before_request(_audit_origin)
    app.teardown_request(_end_audit_origin)
    app.register_error_handler(CSRFError, _csrf_refused)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    return app


def _login_manager(services: DashboardServices) -> LoginManager:
    manager = LoginManager()
    manager.login_view = "auth.login"
    manager.login_message = "Inicie sesión para ver las solicitudes."
    manager.session_protection = "strong"

    @manager.user_loader
    def load(token: str) -> DashboardUser | None:
        user = services.users.session_user(token, now=services.clock())
        return None if user is None else DashboardUser(user, token)

    @manager.unauthorized_handler
    def unauthorized() -> Any:
        if request.path.startswith("/api/"):
            return jsonify(error="Se requiere iniciar sesión."), 401
        return redirect(url_for("auth.login", next=request.path))

    return manager


def _audit_origin() -> None:
    """Every audit entry a dashboard request writes records the client's address."""
    g.audit_origin = ORIGIN.set(request.remote_addr)


def _end_audit_origin(_error: BaseException | None) -> None:
    token = g.pop("audit_origin", None)
    if token is not None:
        ORIGIN.reset(token)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
    )
    return response


def _csrf_refused(error: CSRFError) -> tuple[str, int]:
    logger.warning("Dashboard refused a POST without a valid CSRF token: %s", error.description)
    message = (
        "El formulario venció o no es válido. Vuelva a la página, recárguela e intente de nuevo."
    )
    return _error_page(400, "No se pudo completar la acción", message)


_HTTP_TEXTS = {
    403: ("Sin permiso", "Su cuenta no tiene permiso para esta acción. Pida a un oficial de "
          "cumplimiento que la haga, o que le asigne el rol necesario."),
    404: ("No encontrada", "No hay ninguna solicitud ni página con esa dirección. Búsquela en "
          "la lista de solicitudes."),
    405: ("Acción no permitida", "Esa dirección no admite esta acción."),
    409: ("Identificador ambiguo", "Ese identificador es el radicado de una solicitud y el "
          "idSolicitud de otra; escriba radicado:… o solicitud:… para elegir una."),
    413: ("Demasiado grande", "El formulario enviado es demasiado grande."),
    429: ("Demasiados intentos", "Hubo demasiados intentos fallidos; espere unos minutos."),
}  # fmt: skip


def _http_error(error: HTTPException) -> Any:
    code = error.code or 500
    if code in (401, 302, 301) or code not in _HTTP_TEXTS:
        return error if code < 500 else _error_page(500, *_SERVER_TEXT)
    title, message = _HTTP_TEXTS[code]
    if code == 409 and error.description and "radicado:" in str(error.description):
        message = _ambiguous_in_spanish(str(error.description))
    if request.path.startswith("/api/"):
        return jsonify(error=message), code
    return _error_page(code, title, message)


_SERVER_TEXT = (
    "Error del servicio",
    "Algo falló en el servidor y la acción no se completó. Intente de nuevo; si se repite, "
    "avise al equipo técnico (el detalle quedó en el registro del servidor).",
)


def _unexpected(error: Exception) -> Any:
    if isinstance(error, HTTPException):
        return _http_error(error)
    logger.exception("Dashboard: unexpected failure on %s", request.path)
    if request.path.startswith("/api/"):
        return jsonify(error=_SERVER_TEXT[1]), 500
    return _error_page(500, *_SERVER_TEXT)


def _ambiguous_in_spanish(description: str) -> str:
    names = [word.strip(".,;") for word in description.split() if word.startswith("UB-")]
    found = ", ".join(dict.fromkeys(names))
    return (
        f"Ese identificador corresponde a dos solicitudes ({found}): es el radicado de una y "
        "el idSolicitud de otra. Escriba radicado:… o solicitud:… delante para elegir una."
    )


def _error_page(code: int, title: str, message: str) -> tuple[str, int]:
    return render_template("error.html", title=title, message=message, code=code), code
