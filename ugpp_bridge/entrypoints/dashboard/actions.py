"""What an account may do to a request in its state (SPEC §9, "actions by state"), and what
each action will do, said before it is done.

Only what the state and the role allow is offered; the main actions that are missing are
listed with the reason. Every action goes through a confirmation page ("revise antes de
continuar", after GOV.UK's "check your answers") that says what will happen; nothing
irreversible happens in one click.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ugpp_bridge.domain.filing import StoredRequest
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.domain.users import User, same_person

S = RequestState


@dataclass(frozen=True)
class Action:
    slug: str
    label: str
    explains: str  # what will happen, in full sentences
    needs: str | None = None  # "reason" or "radicado": what the confirmation page asks for
    irreversible: bool = False
    why_not: str = ""  # when it is not offered: why


ACTIONS = {
    "aprobar": Action(
        "aprobar", "Aprobar el envío",
        "La construcción queda aprobada y se enviará a la UGPP: el programador la envía en unos "
        "segundos, o un operador puede enviarla ya. Su nombre y la hora quedan en la auditoría y "
        "en la evidencia.",
        irreversible=True,
    ),
    "devolver": Action(
        "devolver", "Devolver con un motivo",
        "La construcción no se enviará. El motivo queda en la auditoría y un operador la "
        "reconstruirá para atenderlo; la nueva construcción volverá a necesitar aprobación.",
        needs="reason",
    ),
    "enviar": Action(
        "enviar", "Enviar a la UGPP",
        "Se enviarán a la UGPP los lotes aprobados que aún no tienen acuse, un intento por lote "
        "ahora; lo que quede pendiente lo reintenta el programador. Cada intento queda como "
        "evidencia.",
        irreversible=True,
    ),
    "reintentar": Action(
        "reintentar", "Reintentar el envío ahora",
        "Se intentará de nuevo enviar los lotes que no tienen acuse, con el mismo idEnvio y los "
        "mismos bytes; la UGPP no los recibe dos veces.",
        irreversible=True,
    ),
    "reenviar": Action(
        "reenviar", "Reenviar lo ya entregado",
        "Se reenviarán todos los lotes con el mismo idEnvio y los mismos bytes; la UGPP responde "
        "con el mismo acuse. No es una corrección: para corregir datos use «Corregir».",
        irreversible=True,
    ),
    "corregir": Action(
        "corregir", "Corregir (reconstruir con los datos actuales)",
        "Se reconstruirá la respuesta con los datos de origen actuales. Si la UGPP ya acusó "
        "lotes, los nuevos serán una CORRECCIÓN que los reemplaza, con el detalle de lo que "
        "cambió. La nueva construcción necesitará la aprobación de otro oficial.",
    ),
    "reconstruir": Action(
        "reconstruir", "Reconstruir",
        "Se construirá de nuevo la respuesta con los datos de origen actuales; la nueva "
        "construcción necesitará aprobación.",
    ),
    "confirmar": Action(
        "confirmar", "Registrar la confirmación de la UGPP",
        "Se registrará el radicado del correo de confirmación de la UGPP (art. 7) y la "
        "solicitud quedará confirmada.",
        needs="radicado",
    ),
    "corregir-radicado": Action(
        "corregir-radicado", "Corregir el radicado de confirmación",
        "Se reemplazará el radicado registrado; los dos valores quedan en la auditoría.",
        needs="radicado",
    ),
}  # fmt: skip

_BY_STATE = {
    S.BUILT: ("aprobar", "devolver", "reconstruir"),
    S.APPROVED: ("enviar", "reconstruir"),
    S.RETURNED: ("reconstruir",),
    S.BUILD_FAILED: ("reconstruir",),
    S.SENDING: ("reintentar",),
    S.SENT: ("confirmar", "reenviar", "corregir"),
    S.CONFIRMED: ("corregir-radicado", "corregir"),
    S.REJECTED: ("corregir", "reintentar"),
}


def actions_for(stored: StoredRequest, user: User) -> tuple[list[Action], list[Action]]:
    """(offered, missing with why) for ``user`` on ``stored``."""
    offered, missing = [], []
    for slug in _BY_STATE.get(stored.state, ()):
        action = ACTIONS[slug]
        why = _why_not(action, stored, user)
        if why:
            missing.append(replace(action, why_not=why))
        else:
            offered.append(action)
    if stored.state is S.BUILT:
        missing.append(replace(ACTIONS["enviar"], why_not=_APPROVE_FIRST))
    if stored.state in (S.RECEIVED, S.BUILDING):
        missing.append(replace(ACTIONS["aprobar"], why_not=_NOTHING_YET))
    return offered, missing


_APPROVE_FIRST = "Primero debe aprobarla un oficial de cumplimiento."
_NOTHING_YET = "Todavía no hay una construcción que aprobar."


def allowed(slug: str, stored: StoredRequest, user: User) -> Action | None:
    """The action if ``user`` may do it now on ``stored``, else None."""
    offered, _ = actions_for(stored, user)
    return next((action for action in offered if action.slug == slug), None)


def _why_not(action: Action, stored: StoredRequest, user: User) -> str:
    if not user.may_act:
        return "Su cuenta es de consulta: puede ver y descargar la evidencia, no actuar."
    if action.slug in ("aprobar", "devolver") and not user.may_approve:
        return "Solo un oficial de cumplimiento puede aprobar o devolver una construcción."
    if action.slug == "aprobar" and stored.built_by and same_person(user.name, stored.built_by):
        return "Usted pidió esta construcción: debe aprobarla otro oficial (cuatro ojos)."
    if action.slug == "reintentar" and stored.state is S.REJECTED:
        return "" if stored.held_reason is None else "Corrija primero las credenciales."
    return ""
