"""The Spanish words for where a request, a lote and an attempt stand — the same in the
dashboard, the console and the evidence, so an officer reads one vocabulary everywhere."""

from __future__ import annotations

from ugpp_bridge.domain.filing import AttemptOutcome
from ugpp_bridge.domain.lifecycle import LoteState, RequestState

STATE_LABELS = {
    RequestState.RECEIVED: "Recibida",
    RequestState.BUILDING: "En construcción",
    RequestState.BUILT: "Lista para enviar",
    RequestState.BUILD_FAILED: "Falló la construcción",
    RequestState.SENDING: "Enviando",
    RequestState.SENT: "Enviada",
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
