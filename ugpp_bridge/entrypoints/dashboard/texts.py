"""What the dashboard says beyond ``domain.labels``: the headline of a request (what happened,
what to do next), the deadline's class and symbol (so colour never carries meaning alone), and
links that name a request unambiguously."""

from __future__ import annotations

from ugpp_bridge.domain.deadlines import DeadlineKind, DeadlineStatus
from ugpp_bridge.domain.filing import RADICADO_PREFIX, Attempt, AttemptOutcome, RequestSummary
from ugpp_bridge.domain.labels import (
    LOTE_LABELS,
    OUTCOME_LABELS,
    STATE_LABELS,
    day,
    deadline_text,
    moment,
    number,
    pesos,
    plural,
)
from ugpp_bridge.domain.lifecycle import RequestState

__all__ = [
    "LOTE_LABELS", "OUTCOME_LABELS", "STATE_LABELS", "day", "deadline_text", "moment", "number",
    "pesos", "plural", "deadline_class", "deadline_symbol", "next_step", "plain_error", "ref",
]  # fmt: skip

_NEXT_STEPS = {
    RequestState.RECEIVED: "El programador la construirá en unos segundos.",
    RequestState.BUILDING: "Se está construyendo la respuesta con los datos de origen.",
    RequestState.BUILT: "Un oficial de cumplimiento debe revisar la vista previa y aprobarla.",
    RequestState.APPROVED: "Aprobada: se enviará a la UGPP en unos segundos, o envíela ahora.",
    RequestState.RETURNED: "Un oficial la devolvió: atienda el motivo y reconstrúyala.",
    RequestState.BUILD_FAILED: (
        "No se pudo construir: revise los datos de origen (ugpp-bridge source check) y reconstruya."
    ),
    RequestState.SENDING: "Se está enviando a la UGPP; si se detuvo, se reintentará solo.",
    RequestState.SENT: (
        "Entregada: registre el radicado del correo de confirmación de la UGPP (art. 7)."
    ),
    RequestState.CONFIRMED: "Confirmada por la UGPP. Guarde la evidencia.",
    RequestState.REJECTED: (
        "La UGPP rechazó un lote: corrija los datos de origen y reconstruya; los lotes nuevos "
        "reemplazan al rechazado y necesitan aprobación."
    ),
}
_STATE_ERRORS = {
    RequestState.BUILD_FAILED: (
        "No se pudo construir el reporte: revise los datos de origen "
        "(ugpp-bridge source check) y reconstruya."
    ),
    RequestState.REJECTED: _NEXT_STEPS[RequestState.REJECTED],
    RequestState.SENDING: (
        "El envío está en espera: la UGPP no respondió; se reintentará automáticamente."
    ),
}


def next_step(request: RequestSummary) -> str:
    if request.held_reason:
        return (
            "En espera de un operador: la UGPP rechazó las credenciales. Corríjalas en la "
            "configuración y reintente el envío; mientras tanto no se reintenta."
        )
    return _NEXT_STEPS[request.state]


def plain_error(request: RequestSummary, last_attempt: Attempt | None = None) -> str:
    """The request's last error in plain Spanish, or "" when there is none."""
    if request.held_reason:
        return next_step(request)
    if not request.last_error:
        return ""
    if last_attempt is not None and last_attempt.outcome is not AttemptOutcome.ACKNOWLEDGED:
        outcome = OUTCOME_LABELS[last_attempt.outcome]
        return (
            f"{outcome} (lote {last_attempt.submission_id}, intento {last_attempt.attempt_number})."
        )
    return _STATE_ERRORS.get(request.state, "Hubo un error; vea el detalle técnico.")


def ref(filing_number: str) -> str:
    """The dashboard's own links name a request by radicado explicitly, so they can never
    land on another request whose idSolicitud happens to equal it (SPEC §9)."""
    return RADICADO_PREFIX + filing_number


def deadline_class(status: DeadlineStatus) -> str:
    """A CSS class: late, today, urgent (≤ 2 business days), soon (≤ 5), ok, done, done-late."""
    match status.kind:
        case DeadlineKind.OVERDUE:
            return "late"
        case DeadlineKind.TODAY:
            return "today"
        case DeadlineKind.AHEAD:
            return "urgent" if status.days <= 2 else "soon" if status.days <= 5 else "ok"
        case DeadlineKind.LATE:
            return "done-late"
        case _:
            return "done"


def deadline_symbol(status: DeadlineStatus) -> str:
    """A symbol beside the colour (WCAG 1.4.1): ⚠ late, ● today or urgent, ✓ on time."""
    return {
        "late": "⚠", "today": "●", "urgent": "●", "soon": "◐", "ok": "○", "done": "✓",
        "done-late": "⚠",
    }[deadline_class(status)]  # fmt: skip


def deadline_words(status: DeadlineStatus) -> str:
    return deadline_text(status)


def when(value: object) -> str:
    """dd/mm/aaaa for dates, dd/mm/aaaa hh:mm:ss (Bogotá) for moments."""
    from datetime import date, datetime  # only on this path

    if isinstance(value, datetime):
        return moment(value)
    if isinstance(value, date):
        return day(value)
    return ""
