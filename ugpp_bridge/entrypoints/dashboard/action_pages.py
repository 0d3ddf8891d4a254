"""Actions on a request, each in two steps: a page that says what will happen (and asks for the
reason or the radicado when one is needed), then the POST that does it — CSRF-protected,
allowed only when the state and the role allow it, audited by the use case it calls."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ugpp_bridge.domain.filing import StoredRequest
from ugpp_bridge.domain.labels import STATE_LABELS
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.entrypoints.dashboard.actions import ACTIONS, Action, allowed
from ugpp_bridge.entrypoints.dashboard.context import services
from ugpp_bridge.entrypoints.dashboard.pages import get_request
from ugpp_bridge.entrypoints.dashboard.texts import ref
from ugpp_bridge.errors import (
    ApprovalRefusedError,
    IllegalTransitionError,
    InvalidInputError,
    UgppBridgeError,
    WorkInProgressError,
)
from ugpp_bridge.service.approval import approve_build, return_build
from ugpp_bridge.service.operations import ask_for_rebuild, correct_confirmation
from ugpp_bridge.service.submit import SendResult

logger = logging.getLogger(__name__)
action_pages = Blueprint("actions", __name__)


@action_pages.get("/solicitudes/<identifier>/acciones/<slug>")
@login_required
def confirm_page(identifier: str, slug: str) -> Any:
    stored = get_request(identifier)
    action = _allowed_or_403(slug, stored)
    return render_template("confirm.html", stored=stored, action=action)


@action_pages.post("/solicitudes/<identifier>/acciones/<slug>")
@login_required
def perform(identifier: str, slug: str) -> Any:
    stored = get_request(identifier)
    action = _allowed_or_403(slug, stored)
    value = " ".join(request.form.get(action.needs or "", "").split())
    try:
        flash(_DO[slug](stored, value), "info")
    except ApprovalRefusedError as exc:
        flash(_REFUSALS.get(exc.reason, "La acción no se pudo completar."), "error")
    except WorkInProgressError as exc:
        flash(f"No se pudo: otro proceso ({exc.owner}) está trabajando en esta solicitud hasta "
              f"{exc.until}. Intente de nuevo en unos minutos.", "error")  # fmt: skip
    except IllegalTransitionError as exc:
        current = STATE_LABELS[RequestState(exc.current)]
        flash(f"No se pudo: esa acción no es posible en el estado «{current}».", "error")
    except InvalidInputError:
        flash(_INVALID.get(action.needs or "", "Revise los datos del formulario."), "error")
    except UgppBridgeError as exc:
        logger.warning("Dashboard action %s failed: %s", slug, type(exc).__name__)
        flash(f"No se pudo completar «{action.label}». Detalle técnico: {exc}", "error")
    return redirect(url_for("pages.request_page", identifier=ref(stored.filing_number)))


def _allowed_or_403(slug: str, stored: StoredRequest) -> Action:
    if slug not in ACTIONS:
        abort(404)
    action = allowed(slug, stored, current_user.user)
    if action is None:
        abort(403)
    return action


def _send(stored: StoredRequest, _value: str) -> str:
    done = services().resend(stored.key, current_user.actor)
    return {
        SendResult.SENT: "Envío hecho: la UGPP acusó recibo de cada lote.",
        SendResult.PARKED: "Envío intentado; quedó pendiente y se reintentará automáticamente.",
        SendResult.REJECTED: "La UGPP rechazó un lote: vea el motivo y corrija.",
        SendResult.FAILED: "El envío no se hizo; vea el motivo y lo que debe hacer.",
    }[SendResult.of(done)]


def _approve(stored: StoredRequest, _value: str) -> str:
    s = services()
    approve_build(stored.key, requests=s.requests, builds=s.builds, officer=current_user.user,
                  channel="web", clock=s.clock)  # fmt: skip
    return "Construcción aprobada: se enviará a la UGPP."


def _return(stored: StoredRequest, reason: str) -> str:
    s = services()
    return_build(stored.key, reason, requests=s.requests, builds=s.builds,
                 officer=current_user.user, channel="web", clock=s.clock)  # fmt: skip
    return "Construcción devuelta con su motivo; un operador debe reconstruirla."


def _rebuild(stored: StoredRequest, _value: str) -> str:
    s = services()
    ask_for_rebuild(stored.key, requests=s.requests, clock=s.clock, actor=current_user.actor)
    return "Reconstrucción en cola: el programador la hará en unos segundos."


def _confirm(stored: StoredRequest, radicado: str) -> str:
    services().confirm(stored.key, radicado, current_user.actor)
    return f"Confirmación registrada con el radicado UGPP {radicado}."


def _correct_confirmation(stored: StoredRequest, radicado: str) -> str:
    s = services()
    done = correct_confirmation(
        stored.key, radicado, requests=s.requests, clock=s.clock, actor=current_user.actor
    )
    return f"Radicado de confirmación corregido: {done.confirmation}."


_DO: dict[str, Callable[[StoredRequest, str], str]] = {
    "aprobar": _approve,
    "devolver": _return,
    "enviar": _send,
    "reintentar": _send,
    "reenviar": _send,
    "corregir": _rebuild,
    "reconstruir": _rebuild,
    "confirmar": _confirm,
    "corregir-radicado": _correct_confirmation,
}
_REFUSALS = {
    "own_build": "Usted pidió esta construcción: debe aprobarla otro oficial (cuatro ojos).",
    "not_officer": "Solo un oficial de cumplimiento puede aprobar o devolver una construcción.",
    "no_reason": "Escriba el motivo de la devolución (hasta 1.000 caracteres).",
}
_INVALID = {
    "radicado": "Escriba el radicado del correo de confirmación de la UGPP (1 a 120 caracteres).",
    "reason": "Escriba el motivo de la devolución (hasta 1.000 caracteres).",
}
