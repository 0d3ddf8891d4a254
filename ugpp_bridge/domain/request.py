"""A Solicitud: what UGPP asks for (SPEC §4, Paso 1), validated as a whole."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from ugpp_bridge.domain.codes import InformationType
from ugpp_bridge.domain.identifiers import PersonId, validate_operator_nit
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.errors import InvalidRequestError

MAX_REQUEST_ID_LENGTH = 36
FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2100, 12, 31)


@dataclass(frozen=True)
class FinancialInfoRequest:
    """One request from UGPP: persons × periods × sections, and the date the term starts.

    Persons keep the order UGPP sent them in; the report follows it.
    """

    request_id: str
    operator_nit: str
    requested_on: date
    term_starts_on: date
    information_types: frozenset[InformationType]
    periods: tuple[Period, ...]
    persons: tuple[PersonId, ...]

    def __post_init__(self) -> None:
        if not 1 <= len(self.request_id) <= MAX_REQUEST_ID_LENGTH:
            raise InvalidRequestError(
                f"idSolicitud must have 1 to {MAX_REQUEST_ID_LENGTH} characters.",
                field="idSolicitud",
                reason="length",
            )
        validate_operator_nit(self.operator_nit)
        _require_in_range(self.requested_on, "fechaSolicitud")
        _require_in_range(self.term_starts_on, "fechaInicioTermino")
        _require_some(self.information_types, "tiposInformacion")
        _require_some(self.periods, "periodos")
        _require_some(self.persons, "personas")
        _require_unique(self.periods, "periodos", "period")
        _require_unique(self.persons, "personas", "person")

    @property
    def person_keys(self) -> tuple[str, ...]:
        """The persons in order as ``TIPO:NUMERO`` (SPEC §10, a profile's ``ordenPersonas``)."""
        return tuple(f"{p.doc_type}:{p.doc_number}" for p in self.persons)

    @property
    def years(self) -> list[int]:
        return sorted({period.year for period in self.periods})

    def asks_for(self, information_type: InformationType) -> bool:
        return information_type in self.information_types


def _require_some(values: object, field: str) -> None:
    if not values:
        raise InvalidRequestError(
            f"{field} must list at least one item.", field=field, reason="missing"
        )


def _require_unique(values: Sequence[object], field: str, noun: str) -> None:
    if len(set(values)) != len(values):
        raise InvalidRequestError(
            f"{field} lists the same {noun} more than once; send each {noun} once.",
            field=field,
            reason="duplicated",
        )


def _require_in_range(day: date, field: str) -> None:
    """SPEC §9: dates outside 2000-01-01 … 2100-12-31 are refused (a deadline in year 1 or a
    term that overflows the calendar is no request)."""
    if not FIRST_DATE <= day <= LAST_DATE:
        raise InvalidRequestError(
            f"{field} {day.isoformat()} is outside {FIRST_DATE} … {LAST_DATE}.",
            field=field,
            value=day,
            reason="out_of_range",
        )
