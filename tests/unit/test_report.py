"""R4 completeness, R5 scope, the record order of the wire and lotes."""

from __future__ import annotations

from datetime import date

import pytest

from tests.unit.builders import ANA, BETO, account, balance, event, move, payment, title
from ugpp_bridge.domain.accounts import AccountMonthRecord
from ugpp_bridge.domain.codes import InformationType, TitleEventKind
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.domain.report import (
    PersonWithoutInformation,
    build_report,
    split_into_lotes,
)
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.domain.source import SourceData
from ugpp_bridge.domain.titles import TitleMonthRecord
from ugpp_bridge.domain.trust import TrustYieldRecord
from ugpp_bridge.errors import InvalidInputError, InvalidRequestError

CARLA = PersonId("PT", "7788990")
ALL = frozenset(InformationType)


def request(
    persons: tuple[PersonId, ...] = (ANA, BETO),
    types: frozenset[InformationType] = ALL,
    periods: tuple[Period, ...] = (Period(2025, 1), Period(2025, 2)),
) -> FinancialInfoRequest:
    return FinancialInfoRequest(
        request_id="SOL-1",
        operator_nit="800197268",
        requested_on=date(2026, 11, 2),
        term_starts_on=date(2026, 11, 5),
        information_types=types,
        periods=periods,
        persons=persons,
    )


SOURCE = SourceData(
    accounts=(account("A1", ANA), account("B1", BETO, number="5555")),
    transactions=(move("2025-01-03", "10", account_id="A1"),),
    daily_balances=(balance("2024-12-01", "50", account_id="A1"),),
    titles=(title("T1", ANA),),
    title_events=(event("2024-06-01", TitleEventKind.ISSUE, "1000"),),
    trust_yield_payments=(payment("2025-03-01", "42", holder=ANA),),
)


def kinds(records: list[object]) -> list[str]:
    return [type(record).__name__ for record in records]


def test_a_person_with_nothing_is_listed_as_without_information() -> None:
    report = build_report(request(persons=(ANA, CARLA)), SOURCE)
    assert report.persons_without_information == [CARLA]
    assert PersonWithoutInformation(CARLA) in list(report.records())


def test_a_person_with_only_fideicomiso_yields_is_without_information() -> None:
    source = SourceData(trust_yield_payments=(payment("2025-01-01", "5", True, holder=CARLA),))
    assert build_report(request(persons=(CARLA,)), source).persons_without_information == [CARLA]


def test_only_requested_sections_are_built() -> None:
    report = build_report(request(types=frozenset({InformationType.ACCOUNTS})), SOURCE)
    assert set(kinds(list(report.records()))) == {"AccountMonthRecord"}


def test_a_person_whose_data_is_only_in_unrequested_sections_is_without_information() -> None:
    source = SourceData(titles=SOURCE.titles, title_events=SOURCE.title_events)
    report = build_report(
        request(persons=(ANA,), types=frozenset({InformationType.ACCOUNTS})), source
    )
    assert report.persons_without_information == [ANA]


def test_data_of_persons_not_requested_is_ignored() -> None:
    report = build_report(request(persons=(BETO,)), SOURCE)
    assert {record.person for record in report.records()} == {BETO}  # type: ignore[union-attr]


def test_records_are_ordered_by_person_then_section_then_period() -> None:
    report = build_report(request(persons=(BETO, CARLA, ANA)), SOURCE)
    records = list(report.records())
    assert kinds(records) == [
        "AccountMonthRecord", "AccountMonthRecord",  # BETO: Jan, Feb
        "PersonWithoutInformation",  # CARLA
        "AccountMonthRecord", "AccountMonthRecord",  # ANA accounts
        "TitleMonthRecord", "TitleMonthRecord",  # ANA titles
        "TrustYieldRecord",  # ANA yields
    ]  # fmt: skip
    accounts = [r for r in records if isinstance(r, AccountMonthRecord)]
    assert [(r.person, str(r.period)) for r in accounts] == [
        (BETO, "2025-01"), (BETO, "2025-02"), (ANA, "2025-01"), (ANA, "2025-02"),
    ]  # fmt: skip
    assert [str(r.period) for r in records if isinstance(r, TitleMonthRecord)] == [
        "2025-01",
        "2025-02",
    ]
    assert [r.year for r in records if isinstance(r, TrustYieldRecord)] == [2025]


def test_within_a_month_accounts_are_ordered_by_type_and_number() -> None:
    source = SourceData(accounts=(account("A2", number="9999"), account("A1", number="1111")))
    report = build_report(request(persons=(ANA,), periods=(Period(2025, 1),)), source)
    assert [r.account_number for r in report.records()] == ["1111", "9999"]  # type: ignore[union-attr]


def test_the_same_request_on_the_same_data_gives_the_same_records() -> None:
    first = list(build_report(request(), SOURCE).records())
    second = list(build_report(request(), SOURCE).records())
    assert first == second


@pytest.mark.parametrize(
    ("total", "size", "expected"), [(0, 3, []), (5, 2, [2, 2, 1]), (4, 4, [4])]
)
def test_lotes_hold_at_most_the_maximum_and_never_are_empty(
    total: int, size: int, expected: list[int]
) -> None:
    records = iter([PersonWithoutInformation(ANA)] * total)
    assert [len(lote) for lote in split_into_lotes(records, size)] == expected


def test_a_lote_must_allow_at_least_one_record() -> None:
    with pytest.raises(InvalidInputError):
        list(split_into_lotes(iter([]), 0))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"request_id": ""}, "idSolicitud"),
        ({"request_id": "x" * 37}, "idSolicitud"),
        ({"operator_nit": "80019726-8"}, "NIT"),
        ({"persons": ()}, "personas"),
        ({"persons": (ANA, ANA)}, "same person"),
        ({"periods": (Period(2025, 1), Period(2025, 1))}, "same period"),
        ({"information_types": frozenset()}, "tiposInformacion"),
    ],
)
def test_an_invalid_request_is_refused_with_a_clear_message(changes: dict, message: str) -> None:  # type: ignore[type-arg]
    fields = {
        "request_id": "SOL-1",
        "operator_nit": "800197268",
        "requested_on": date(2026, 11, 2),
        "term_starts_on": date(2026, 11, 5),
        "information_types": ALL,
        "periods": (Period(2025, 1),),
        "persons": (ANA,),
    }
    fields.update(changes)
    with pytest.raises(InvalidInputError, match=message):
        FinancialInfoRequest(**fields)  # type: ignore[arg-type]


def test_request_errors_are_request_errors() -> None:
    with pytest.raises(InvalidRequestError):
        request(persons=())
