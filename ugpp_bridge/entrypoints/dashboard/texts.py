"""What the dashboard says, in Spanish (es-CO): states, outcomes, plain-language errors,
pesos and dates."""

from __future__ import annotations

from datetime import date, datetime

from ugpp_bridge.domain.filing import (
    BOGOTA,
    RADICADO_PREFIX,
    Attempt,
    AttemptOutcome,
    RequestSummary,
)
from ugpp_bridge.domain.labels import LOTE_LABELS, OUTCOME_LABELS, STATE_LABELS
from ugpp_bridge.domain.lifecycle import RequestState

__all__ = ["LOTE_LABELS", "OUTCOME_LABELS", "STATE_LABELS"]

_STATE_ERRORS = {
    RequestState.BUILD_FAILED: (
        "No se pudo construir el reporte: revise los datos de origen "
        "(ugpp-bridge source check) y reconstruya."
    ),
    RequestState.REJECTED: (
        "La UGPP rechazó un lote: corrija los datos de origen y reconstruya la solicitud; "
        "los lotes nuevos reemplazan al rechazado."
    ),
    RequestState.SENDING: (
        "El envío está en espera: la UGPP no respondió; se reintentará automáticamente."
    ),
}


def plain_error(request: RequestSummary, last_attempt: Attempt | None = None) -> str:
    """The request's last error in plain Spanish, or "" when there is none."""
    if request.held_reason:
        return (
            "En espera de un operador: la UGPP rechazó las credenciales. Corríjalas en la "
            "configuración y reenvíe; mientras tanto no se reintenta."
        )
    if not request.last_error:
        return ""
    if last_attempt is not None and last_attempt.outcome is not AttemptOutcome.ACKNOWLEDGED:
        outcome = OUTCOME_LABELS[last_attempt.outcome]
        return (
            f"{outcome} (lote {last_attempt.submission_id}, intento {last_attempt.attempt_number})."
        )
    return _STATE_ERRORS.get(request.state, "Hubo un error; vea el detalle.")


def ref(filing_number: str) -> str:
    """The dashboard's own links name a request by radicado explicitly, so they can never
    land on another request whose idSolicitud happens to equal it (SPEC §9)."""
    return RADICADO_PREFIX + filing_number


def pesos(amount: int) -> str:
    """``$ 1.571.220`` — Colombian thousands separators."""
    return "$ " + f"{amount:,}".replace(",", ".")


def number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def day(value: date) -> str:
    return value.isoformat()


def moment(value: datetime | None) -> str:
    return "" if value is None else f"{value.astimezone(BOGOTA):%Y-%m-%d %H:%M:%S}"


def days_left(value: int, open_: bool) -> str:
    if not open_:
        return "Entregada"
    if value < 0:
        return f"Vencida hace {-value} día(s) hábil(es)"
    if value == 0:
        return "Vence hoy"
    return f"{value} día(s) hábil(es)"


def urgency(value: int, open_: bool) -> str:
    """A CSS class for the deadline: done, late, urgent (≤ 2), soon (≤ 5) or ok."""
    if not open_:
        return "done"
    if value <= 0:
        return "late"
    return "urgent" if value <= 2 else "soon" if value <= 5 else "ok"
