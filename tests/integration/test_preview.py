"""The preview regroups what the lotes will send by person — checked against the pure rules,
with lotes so small that every person straddles two of them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.unit.test_use_cases import DATA as SOURCE
from tests.unit.test_use_cases import REQUEST
from ugpp_bridge.adapters.soap.xml_lotes import LxmlLoteWriter, record_fields
from ugpp_bridge.bootstrap import StateStores
from ugpp_bridge.domain.filing import LoteContext
from ugpp_bridge.domain.report import build_report
from ugpp_bridge.service.preview import PersonPreview, PreviewTotals, person_previews

CONTEXT = LoteContext(
    "UGPP-1", "UB-2026-000001", 1, "800197268", "Banco", datetime(2026, 11, 5, tzinfo=UTC)
)
ELEMENT = {"AccountMonthRecord": "cuenta", "TitleMonthRecord": "inversion",
           "TrustYieldRecord": "rendimiento", "PersonWithoutInformation": "persona"}  # fmt: skip


@pytest.mark.parametrize("per_lote", [1, 2, 3, 100])
def test_the_preview_is_the_report_person_by_person_whatever_the_lote_size(
    tmp_path: Path, per_lote: int
) -> None:
    report = build_report(REQUEST, SOURCE)
    writer = LxmlLoteWriter()
    written = writer.write(report.records(), CONTEXT, per_lote, tmp_path)
    order = [(p.doc_type, p.doc_number) for p in REQUEST.persons]
    previews = list(person_previews((w.path.read_bytes() for w in written), writer, order))
    assert [(p.doc_type, p.doc_number) for p in previews] == order
    for preview, person in zip(previews, report.persons, strict=True):
        expected: dict[str, list[dict[str, str]]] = {}
        for record in person.records():
            fields = {name: str(value) for name, value in record_fields(record)}
            expected.setdefault(ELEMENT[type(record).__name__], []).append(fields)
        assert {k: [dict(f) for f in v] for k, v in preview.records.items()} == expected
        assert preview.without_information == (not person.has_information)
    totals = PreviewTotals()
    for preview in previews:
        totals.add(preview)
    assert totals.persons == 3 and totals.without_information == sum(
        not p.has_information for p in report.persons
    )
    credits = sum(r.credits_value for p in report.persons for r in p.accounts)
    assert totals.sections["cuenta"].sums.get("valorCreditos", 0) == credits


FORMULA_LIKE = ['=HYPERLINK("http://e.x","c")', "+57-1", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
                "http://e.x/", "=1+1"]  # fmt: skip


def test_a_value_that_reads_as_a_formula_is_a_text_cell_and_numbers_stay_numbers(
    stores: StateStores, tmp_path: Path
) -> None:
    # Issue 25, item 2: an idSolicitud of =HYPERLINK(...) became a live formula in «Totales» B3.
    from dataclasses import replace

    import openpyxl

    from tests.conftest import DATA as TEST_DATA
    from ugpp_bridge.adapters.soap.solicitud_xml import parse_solicitud
    from ugpp_bridge.adapters.xlsx_preview import write_preview_xlsx

    request = replace(parse_solicitud((TEST_DATA / "wire" / "solicitud.xml").read_bytes()),
                      request_id=FORMULA_LIKE[0])  # fmt: skip
    receipt = stores.requests.register(request, received_at=datetime(2026, 11, 5, tzinfo=UTC),
                                       due_date=date(2026, 12, 7), actor="test")  # fmt: skip
    stored = stores.requests.find(receipt.filing_number)
    cuenta = {"tipoDocumento": "PA", "numeroDocumento": "=1+1", "anio": "2025", "mes": "1",
              "numeroCuenta": "-123", "valorCreditos": "1500", "saldoFinal": "-20"}  # fmt: skip
    people = [PersonPreview("PA", value, {"cuenta": (cuenta,)}) for value in FORMULA_LIKE]
    path = tmp_path / "vista.xlsx"
    with path.open("wb") as sink:
        write_preview_xlsx(sink, stored, people)
    book = openpyxl.load_workbook(path)
    assert book["Totales"]["B3"].data_type == "s"
    assert book["Totales"]["B3"].value == FORMULA_LIKE[0]
    texts = [row[1] for row in book["Personas"].iter_rows(min_row=2)]
    # XlsxWriter writes a carriage return as the escape _x000D_, which openpyxl leaves as is.
    found = [(cell.data_type, cell.value.replace("_x000D_", "\r")) for cell in texts]
    assert found == [("s", v) for v in FORMULA_LIKE]
    assert not any(cell.hyperlink for row in book["Personas"].iter_rows() for cell in row)
    header, first = list(book["Cuentas"].iter_rows(max_row=2))
    by_name = {h.value: c for h, c in zip(header, first, strict=True)}
    assert (by_name["numeroDocumento"].data_type, by_name["numeroDocumento"].value) == ("s", "=1+1")
    assert (by_name["numeroCuenta"].data_type, by_name["numeroCuenta"].value) == ("s", "-123")
    assert (by_name["valorCreditos"].data_type, by_name["valorCreditos"].value) == ("n", 1500)
    assert (by_name["saldoFinal"].data_type, by_name["saldoFinal"].value) == ("n", -20)
