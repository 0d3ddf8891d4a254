"""The preview regroups what the lotes will send by person — checked against the pure rules,
with lotes so small that every person straddles two of them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.unit.test_use_cases import DATA as SOURCE
from tests.unit.test_use_cases import REQUEST
from ugpp_bridge.adapters.xml_lotes import LxmlLoteWriter, record_fields
from ugpp_bridge.domain.filing import LoteContext
from ugpp_bridge.domain.report import build_report
from ugpp_bridge.service.preview import PreviewTotals, person_previews

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
