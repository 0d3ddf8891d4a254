"""What an officer reads, in es-CO: the words for where a request, a lote and an attempt
stand, deadlines in words, dates ``dd/mm/aaaa``, numbers ``1.234.567`` — the same in the
dashboard, the console, the alerts and the evidence, so one vocabulary is read everywhere."""

from __future__ import annotations

from datetime import date, datetime

from ugpp_bridge.domain.deadlines import DeadlineKind, DeadlineStatus
from ugpp_bridge.domain.filing import BOGOTA, AttemptOutcome
from ugpp_bridge.domain.lifecycle import LoteState, RequestState

STATE_LABELS = {
    RequestState.RECEIVED: "Recibida",
    RequestState.BUILDING: "En construcción",
    RequestState.BUILT: "Por aprobar",
    RequestState.BUILD_FAILED: "Falló la construcción",
    RequestState.APPROVED: "Aprobada, por enviar",
    RequestState.RETURNED: "Devuelta",
    RequestState.SENDING: "Enviando",
    RequestState.SENT: "Entregada",
    RequestState.CONFIRMED: "Confirmada por la UGPP",
    RequestState.REJECTED: "Rechazada por la UGPP",
}

LOTE_LABELS = {
    LoteState.STORED: "Pendiente de envío",
    LoteState.ACKNOWLEDGED: "Con acuse de la UGPP",
    LoteState.REJECTED: "Rechazado",
    LoteState.SUPERSEDED: "Reemplazado por una corrección",
}

OUTCOME_LABELS = {
    AttemptOutcome.UNKNOWN: "Desconocido: el proceso se detuvo durante el envío",
    AttemptOutcome.CREDENTIALS_REFUSED: "Credenciales rechazadas por la UGPP",
    AttemptOutcome.ACKNOWLEDGED: "Acuse recibido",
    AttemptOutcome.CLIENT_FAULT: "Rechazado por la UGPP (error en los datos)",
    AttemptOutcome.SERVER_FAULT: "Falla del servicio de la UGPP",
    AttemptOutcome.HTTP_ERROR: "Error HTTP del servicio de la UGPP",
    AttemptOutcome.TIMEOUT: "La UGPP no respondió a tiempo",
    AttemptOutcome.CONNECTION_ERROR: "Sin conexión con la UGPP",
}


def number(value: int) -> str:
    """``1.234.567`` (es-CO thousands separator), sign kept."""
    return ("-" if value < 0 else "") + f"{abs(value):,}".replace(",", ".")


def pesos(value: int) -> str:
    """``$ 1.571.220``; ``-$ 3.000`` when negative."""
    return ("-" if value < 0 else "") + "$ " + number(abs(value))


def day(value: date) -> str:
    """``07/12/2026``."""
    return f"{value:%d/%m/%Y}"


def moment(value: datetime | None) -> str:
    """``05/11/2026 09:00:00`` in Bogotá time (``""`` for none)."""
    return "" if value is None else f"{value.astimezone(BOGOTA):%d/%m/%Y %H:%M:%S}"


def plural(count: int, one: str, many: str) -> str:
    """``1 día``, ``2 días``, with the count in es-CO digits."""
    return f"{number(count)} {one if count == 1 else many}"


def deadline_text(status: DeadlineStatus) -> str:
    """The deadline in words (SPEC §9): «Faltan 3 días hábiles», «Vence hoy», «Vencida hace 2
    días (vencía el 04/12/2026)», «Entregada tarde (3 días)», «Entregada a tiempo»."""
    match status.kind:
        case DeadlineKind.AHEAD if status.days == 1:
            return "Falta 1 día hábil"
        case DeadlineKind.AHEAD if status.days == 0:
            return f"Vence el {day(status.due)}"
        case DeadlineKind.AHEAD:
            return f"Faltan {plural(status.days, 'día hábil', 'días hábiles')}"
        case DeadlineKind.TODAY:
            return "Vence hoy"
        case DeadlineKind.OVERDUE:
            return (
                f"Vencida hace {plural(status.days, 'día', 'días')} (vencía el {day(status.due)})"
            )
        case DeadlineKind.LATE:
            return f"Entregada tarde ({plural(status.days, 'día', 'días')})"
        case _:
            return "Entregada a tiempo"
