"""Who a record is about: document types, document numbers and the operator's NIT.

Document types are those of the resolution (CC, NI, CE, TI, PA, RC, CD, SC, PE) plus PT
(Permiso por Protección Temporal), which is in current use. Document numbers follow the wire
pattern ``[A-Za-z0-9]{1,16}``; types that are always numeric (CC, CE, NI, TI, RC — SPEC §9)
must be all digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum.co import nit as stdnum_nit

from ugpp_bridge.errors import InvalidInputError

DOCUMENT_TYPES: dict[str, str] = {
    "CC": "Cédula de ciudadanía",
    "NI": "Número de identificación tributaria (NIT)",
    "CE": "Cédula de extranjería",
    "TI": "Tarjeta de identidad",
    "PA": "Pasaporte",
    "RC": "Registro civil de nacimiento",
    "CD": "Carné diplomático",
    "SC": "Salvoconducto de permanencia",
    "PE": "Permiso especial de permanencia",
    "PT": "Permiso por protección temporal",
}
NUMERIC_DOCUMENT_TYPES = frozenset({"CC", "CE", "NI", "TI", "RC"})  # SPEC §9
DOCUMENT_NUMBER_PATTERN = re.compile(r"[A-Za-z0-9]{1,16}")
OPERATOR_NIT_PATTERN = re.compile(r"[0-9]{6,15}")


@dataclass(frozen=True, order=True, slots=True)
class PersonId:
    """A person as UGPP names them: document type and number. Validated on creation."""

    doc_type: str
    doc_number: str

    def __post_init__(self) -> None:
        if self.doc_type not in DOCUMENT_TYPES:
            known = ", ".join(DOCUMENT_TYPES)
            raise InvalidInputError(
                f"Unknown document type {self.doc_type!r}; use one of {known}.",
                field="tipoDocumento",
                value=self.doc_type,
                reason="unknown_code",
            )
        if not DOCUMENT_NUMBER_PATTERN.fullmatch(self.doc_number):
            raise InvalidInputError(
                "A document number must be 1 to 16 letters or digits, with no spaces, dots "
                "or dashes.",
                field="numeroDocumento",
                reason="malformed",
            )
        if self.doc_type in NUMERIC_DOCUMENT_TYPES and not self.doc_number.isdigit():
            raise InvalidInputError(
                f"A document of type {self.doc_type} has digits only.",
                field="numeroDocumento",
                reason="digits_only",
            )

    def masked(self) -> str:
        """The identifier safe for logs: type and the last two characters only."""
        return f"{self.doc_type}:***{self.doc_number[-2:]}"


def nit_check_digit(nit: str) -> int:
    """The DIAN check digit of a NIT (weights 3, 7, 13, … from the right; 800197268 → 4)."""
    return int(stdnum_nit.calc_check_digit(validate_operator_nit(nit)))


def format_operator_nit(nit: str) -> str:
    """A NIT as people write it, with its check digit: ``800.197.268-4``."""
    return str(stdnum_nit.format(nit + str(nit_check_digit(nit))))


def validate_operator_nit(nit: str) -> str:
    """An operator NIT as the wire carries it: digits only, without the check digit."""
    if not OPERATOR_NIT_PATTERN.fullmatch(nit):
        raise InvalidInputError(
            "The operator NIT must be 6 to 15 digits, without the check digit, dots or dashes.",
            field="nitOperador",
            value=nit,
            reason="malformed",
        )
    return nit
