"""Logging in and out of the dashboard: throttled per user name and client address, audited,
sessions that end on the server, redirects that stay on the site."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ugpp_bridge.domain.filing import BOGOTA
from ugpp_bridge.domain.throttling import Scope
from ugpp_bridge.entrypoints.dashboard.context import (
    SESSION_LIFETIME,
    DashboardUser,
    services,
)
from ugpp_bridge.errors import DirectoryUnavailableError

logger = logging.getLogger(__name__)
auth = Blueprint("auth", __name__)

# A local path only: no scheme, no host, no backslash, no control or space characters —
# so that neither "//evil.example" nor "/\\t/evil.example" (browsers drop the tab) gets out.
_LOCAL_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")


def safe_next(target: str) -> str:
    """Where to go after login: ``target`` when it is a path of this site, else the list."""
    return target if _LOCAL_PATH.fullmatch(target) and "%0" not in target.lower() else "/"


@auth.get("/")
def home() -> Any:
    return redirect(url_for("pages.requests_page"))


@auth.route("/login", methods=["GET", "POST"])
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
    try:
        signed = s.sign_in(name, request.form.get("clave", ""))
    except DirectoryUnavailableError as exc:
        logger.warning("Dashboard login refused: the directory did not answer")
        flash(str(exc), "error")
        return render_template("login.html", name=name), 503
    if signed is None:
        logger.warning("Dashboard login refused")
        s.throttle.record_failure(Scope.DASHBOARD, user=name, address=address, now=s.clock())
        s.audit.record_action(
            at=s.clock(), actor="web:anonymous", action="dashboard.login_failed",
            details={"user": name, "address": address},
        )  # fmt: skip
        flash("Usuario o contraseña incorrectos.", "error")
        return render_template("login.html", name=name), 401
    user = signed.user
    if status.user_has_failures:
        s.throttle.record_success(Scope.DASHBOARD, user=user.name)
    token = s.users.open_session(
        user.name, at=s.clock(), lifetime=SESSION_LIFETIME, address=address
    )
    login_user(DashboardUser(user, token))
    details: dict[str, object] = {"address": address, "role": user.role.value}
    if signed.directory_dn is not None:
        details["directorio"] = signed.directory_dn  # the directory entry that vouched
    s.audit.record_action(
        at=s.clock(), actor=f"web:{user.name}", action="dashboard.login", details=details
    )
    return redirect(safe_next(request.args.get("next", "")))


@auth.post("/logout")
@login_required
def logout() -> Any:
    services().users.close_session(current_user.token)
    logout_user()
    flash("Sesión cerrada.", "info")
    return redirect(url_for("auth.login"))
