"""The code tables of the wire contract (SPEC §2, Codes)."""

from __future__ import annotations

from enum import Enum, IntEnum, StrEnum
from typing import TypeVar

from ugpp_bridge.errors import InvalidInputError


class InformationType(StrEnum):
    """The sections a Solicitud may ask for (tiposInformacion)."""

    ACCOUNTS = "CUENTAS"
    INVESTMENTS = "INVERSIONES"
    TRUST = "FIDUCIARIA"


class AccountType(IntEnum):
    """tipoCuenta (art. 2)."""

    SAVINGS = 1
    CURRENT = 2
    AFC = 3
    SIMPLIFIED_SAVINGS = 4
    ELECTRONIC_DEPOSIT = 5


class TitleType(IntEnum):
    """tipoTitulo (art. 3)."""

    WAREHOUSE_RECEIPT = 1  # Certificado de depósito de mercancías
    PLEDGE_BOND = 2  # Bono de prenda
    CDAT = 3
    CDT = 4
    ORDINARY_BOND = 5
    SUBORDINATED_BOND = 6
    OTHER = 7


class MovementType(IntEnum):
    """tipoMovimiento of a title record (art. 3)."""

    ISSUE = 1  # Constitución
    RENEWAL = 2  # Renovación
    CANCELLATION = 3  # Cancelación
    OUTSTANDING = 4  # Vigente


class TransactionKind(StrEnum):
    """``transactions.kind`` in the source contract (SPEC §3)."""

    REGULAR = "regular"
    RETURNED_CHEQUE = "returned_cheque"
    OWN_TRANSFER = "own_transfer"


class TitleEventKind(StrEnum):
    """``title_events.event`` in the source contract (SPEC §3)."""

    ISSUE = "issue"
    RENEWAL = "renewal"
    CANCELLATION = "cancellation"

    @property
    def movement_type(self) -> MovementType:
        return _MOVEMENT_BY_EVENT[self]


_MOVEMENT_BY_EVENT = {
    TitleEventKind.ISSUE: MovementType.ISSUE,
    TitleEventKind.RENEWAL: MovementType.RENEWAL,
    TitleEventKind.CANCELLATION: MovementType.CANCELLATION,
}


E = TypeVar("E", bound=Enum)


def parse_code(enum: type[E], value: object, field: str) -> E:
    """The member of ``enum`` whose value is ``value``, or an error naming the field."""
    try:
        return enum(value)
    except ValueError as exc:
        known = ", ".join(str(member.value) for member in enum)
        raise InvalidInputError(
            f"{value!r} is not a valid {field}; use one of {known}.", field=field, value=value
        ) from exc
