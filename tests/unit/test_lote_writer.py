"""The lote writer writes text directly; lxml's incremental writer is the reference it must
equal byte for byte, for any records and context (generated), and refuse what lxml refuses."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ugpp_bridge.adapters.soap.xml_lotes import write_lote, write_lote_lxml
from ugpp_bridge.domain.accounts import AccountMonthRecord
from ugpp_bridge.domain.codes import AccountType, MovementType, TitleType
from ugpp_bridge.domain.filing import LoteContext, SubmissionType
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.domain.report import PersonWithoutInformation, Record
from ugpp_bridge.domain.titles import TitleMonthRecord
from ugpp_bridge.domain.trust import TrustYieldRecord

# Text the XML may hold (what lxml writes): escapes, carriage returns, tabs, line breaks,
# accents, signs outside the BMP.
texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",),
                           exclude_characters="\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c"
                           "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d"
                           "\x1e\x1f\ufffe\uffff"),
    max_size=12,
) | st.sampled_from(["a&b", "<x>", "R&D <S.A.>", "línea\r\nnueva", "\t"])  # fmt: skip
persons = st.builds(
    PersonId, st.just("CC"), st.from_regex(r"[0-9]{1,16}", fullmatch=True)
) | st.builds(
    PersonId, st.sampled_from(["PA", "PT"]), st.from_regex(r"[A-Z0-9]{1,16}", fullmatch=True)
)
amounts = st.integers(min_value=-(10**14), max_value=10**14)
periods = st.builds(Period, st.integers(2000, 2100), st.integers(1, 12))

records = st.one_of(
    st.builds(AccountMonthRecord, persons, periods, st.sampled_from(list(AccountType)),
              st.from_regex(r"[0-9]{4,8}", fullmatch=True), amounts, st.integers(0, 999),
              amounts, st.integers(0, 999), amounts, amounts, st.just("A1")),
    st.builds(TitleMonthRecord, persons, periods, texts.filter(bool),
              st.sampled_from(list(TitleType)), st.sampled_from(list(MovementType)), amounts,
              amounts, st.just("T1")),
    st.builds(TrustYieldRecord, persons, st.integers(2000, 2100), amounts),
    st.builds(PersonWithoutInformation, persons),
)  # fmt: skip


def _bytes(writer: object, batch: list[Record], context: LoteContext, total: int | None) -> bytes:
    handle = io.BytesIO()
    writer(handle, batch, context, 3, total)  # type: ignore[operator]
    return handle.getvalue()


@settings(max_examples=150, deadline=None)
@given(st.lists(records, max_size=25), texts, st.booleans(), st.none() | st.integers(3, 99))
def test_the_writer_equals_lxmls_byte_for_byte(
    batch: list[Record], operator_name: str, correction: bool, total: int | None
) -> None:
    context = LoteContext(
        "SOL-1&2", "UB-2026-000001", 2, "800197268", operator_name,
        datetime(2026, 11, 6, 13, 0, tzinfo=UTC),
        submission_type=SubmissionType.CORRECTION if correction else SubmissionType.ORIGINAL,
        corrects={3: "UB-2026-000001-G1-L3"} if correction else {},
    )  # fmt: skip
    assert _bytes(write_lote, batch, context, total) == _bytes(
        write_lote_lxml, batch, context, total
    )


@pytest.mark.parametrize("bad", ["x\x01y", "nul\x00", "\ufffe"])
def test_text_xml_cannot_hold_is_refused_as_lxml_refuses_it(bad: str) -> None:
    person = PersonId("CC", "1")
    batch: list[Record] = [TitleMonthRecord(person, Period(2025, 1), bad, TitleType(4),
                                            MovementType(1), 1, 1, "T1")]  # fmt: skip
    context = LoteContext("S", "UB-1", 1, "800197268", "Banco", datetime(2026, 1, 1, tzinfo=UTC))
    for writer in (write_lote, write_lote_lxml):
        with pytest.raises(ValueError, match="XML compatible"):
            _bytes(writer, batch, context, None)
