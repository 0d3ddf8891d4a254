"""The preview of a build as an XLSX workbook (XlsxWriter, constant memory): what will be
reported, per person, with totals — for the officer who signs for it, in Spanish.

Sheets: «Totales» (the request and the totals per section), «Personas» (one row a person:
records per section or «sin información»), «Cuentas», «Inversiones», «Rendimientos» (every
record as it will be sent). Rows are written as persons stream in, so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import IO, Any

import xlsxwriter

from ugpp_bridge.domain.filing import StoredRequest
from ugpp_bridge.domain.labels import STATE_LABELS, day, moment
from ugpp_bridge.service.preview import PersonPreview, PreviewTotals

COLUMNS = {
    "cuenta": ("tipoDocumento", "numeroDocumento", "anio", "mes", "tipoCuenta", "numeroCuenta",
               "valorCreditos", "numeroCreditos", "valorDebitos", "numeroDebitos",
               "medianaSaldoDiario", "saldoFinal"),
    "inversion": ("tipoDocumento", "numeroDocumento", "anio", "mes", "numeroTitulo", "tipoTitulo",
                  "tipoMovimiento", "valor", "saldo"),
    "rendimiento": ("tipoDocumento", "numeroDocumento", "anio", "valorGirado"),
}  # fmt: skip
TEXT = {"tipoDocumento", "numeroDocumento", "numeroCuenta", "numeroTitulo"}
SHEETS = {"cuenta": "Cuentas", "inversion": "Inversiones", "rendimiento": "Rendimientos"}
# Every string is a text cell (SPEC §11 "Safe documents"): by default XlsxWriter turns a string
# beginning with «=» into a live formula and a URL into a hyperlink — an idSolicitud or a
# document number chosen by whoever sent them. Text cells are never evaluated, whatever they
# begin with (=, +, -, @, tab, carriage return); numbers are written as numbers on purpose.
WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "in_memory": False,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def write_preview_xlsx(
    sink: IO[bytes], stored: StoredRequest, persons: Iterable[PersonPreview]
) -> PreviewTotals:
    """Write the workbook into ``sink``; the totals it holds."""
    book = xlsxwriter.Workbook(sink, WORKBOOK_OPTIONS)
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": "#,##0"})
    totals_sheet = book.add_worksheet("Totales")
    people = book.add_worksheet("Personas")
    sections = {name: book.add_worksheet(title) for name, title in SHEETS.items()}
    people.write_row(0, 0, ["Tipo", "Número", "Cuentas", "Inversiones", "Rendimientos",
                            "Sin información"], bold)  # fmt: skip
    rows = {name: 1 for name in SECTIONS_OF}
    for name, sheet in sections.items():
        sheet.write_row(0, 0, COLUMNS[name], bold)
    totals = PreviewTotals()
    for n, person in enumerate(persons, start=1):
        totals.add(person)
        counts = [len(person.records.get(name, ())) for name in SECTIONS_OF]
        flag = "Sí" if person.without_information else ""
        people.write_row(n, 0, [person.doc_type, person.doc_number, *counts, flag])
        for name, sheet in sections.items():
            for fields in person.records.get(name, ()):
                _record(sheet, rows[name], COLUMNS[name], fields, money)
                rows[name] += 1
    _totals(totals_sheet, stored, totals, bold)
    book.close()
    return totals


SECTIONS_OF = tuple(SHEETS)


# xlsxwriter ships no annotations: its worksheets and formats are ``Any`` here, and only here.
def _record(
    sheet: Any, row: int, columns: tuple[str, ...], fields: Mapping[str, str], money: Any
) -> None:
    for column, name in enumerate(columns):
        value = fields.get(name, "")
        if name in TEXT or not value.lstrip("-").isdigit():
            sheet.write_string(row, column, value)
        else:
            sheet.write_number(row, column, int(value), money)


def _totals(sheet: Any, stored: StoredRequest, totals: PreviewTotals, bold: Any) -> None:
    write = sheet.write_row
    lines: list[list[object]] = [
        ["Vista previa de lo que se reportará a la UGPP"],
        ["Radicado", stored.filing_number],
        ["idSolicitud", stored.request.request_id],
        ["Estado", STATE_LABELS[stored.state]],
        ["Construcción n.º", stored.generation],
        ["Generada", moment(stored.generated_at)],
        ["Vence", day(stored.due_date)],
        [],
        ["Personas", totals.persons],
        ["Personas sin información", totals.without_information],
        [],
        ["Sección", "Registros", "Totales"],
    ]
    for name, title in SHEETS.items():
        section = totals.sections[name]
        sums = ", ".join(
            f"{field} {value:,}".replace(",", ".") for field, value in section.sums.items()
        )
        lines.append([title, section.records, sums])
    for row, line in enumerate(lines):
        write(row, 0, line, bold if row in (0, 11) else None)
