"""The dashboard's Flask application: login, sessions, CSRF, roles and security headers.

- Accounts come from ``ugpp-bridge user add`` (``UserStore``; scrypt hashes). A signed
  session cookie (HttpOnly, SameSite=Lax, Secure when ``UGPP_BRIDGE_COOKIE_SECURE``) keeps the
  login for eight hours at most.
- Every POST carries a CSRF token (Flask-WTF's ``CSRFProtect``); a missing or wrong one is
  refused with 400 before any view runs.
- A *viewer* sees; an *operator* may also resend, confirm and download evidence.
- Pages say ``no-store`` (they show balances' owners' requests) and may not be framed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin
from flask_wtf.csrf import CSRFError, CSRFProtect

from ugpp_bridge.domain.filing import RequestKey, StoredRequest
from ugpp_bridge.domain.users import User
from ugpp_bridge.entrypoints.dashboard import texts
from ugpp_bridge.service.evidence import EvidenceBundle
from ugpp_bridge.service.ports import LoteStore, RequestStore, UserStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DashboardServices:
    """The use cases the dashboard calls, bound to their adapters by the composition root."""

    requests: RequestStore
    lotes: LoteStore
    users: UserStore
    clock: Callable[[], datetime]
    holidays: Container[date]
    uvt_values: Mapping[int, int]
    resend: Callable[[RequestKey, str], StoredRequest]  # (key, actor)
    confirm: Callable[[RequestKey, str, str], StoredRequest]  # (key, UGPP's radicado, actor)
    evidence: Callable[[RequestKey, Path, str], EvidenceBundle]  # (key, zip path, actor)


class DashboardUser(UserMixin):  # type: ignore[misc]
    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return self.user.name

    @property
    def actor(self) -> str:
        return f"web:{self.user.name}"


def create_dashboard(
    services: DashboardServices, *, secret_key: str, cookie_secure: bool = False
) -> Flask:
    from ugpp_bridge.entrypoints.dashboard.pages import pages

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key,
        SESSION_COOKIE_NAME="ugpp_bridge_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    app.extensions["ugpp_bridge"] = services
    CSRFProtect(app)
    _login_manager(services).init_app(app)
    app.register_blueprint(pages)
    app.jinja_env.filters.update(
        pesos=texts.pesos, number=texts.number, moment=texts.moment, day=texts.day
    )
    app.jinja_env.globals.update(texts=texts, ref=texts.ref)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_refused)
    return app


def _login_manager(services: DashboardServices) -> LoginManager:
    manager = LoginManager()
    manager.login_view = "pages.login"
    manager.login_message = "Inicie sesión para ver las solicitudes."
    manager.session_protection = "strong"

    @manager.user_loader
    def load(name: str) -> DashboardUser | None:
        user = services.users.get(name)
        return None if user is None else DashboardUser(user)

    @manager.unauthorized_handler
    def unauthorized() -> Any:
        if request.path.startswith("/api/"):
            return jsonify(error="Se requiere iniciar sesión."), 401
        return redirect(url_for("pages.login", next=request.path))

    return manager


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
    return render_template("error.html", message=message), 400
