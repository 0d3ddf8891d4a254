"""The build use cases end to end: stored request → SQL build → XML lotes → stored lotes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from lxml import etree

from tests.conftest import DATA, key_of
from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.adapters.soap.xml_lotes import LxmlLoteWriter
from ugpp_bridge.adapters.source import schema as source_schema
from ugpp_bridge.adapters.source.csv_import import import_csv_directory
from ugpp_bridge.adapters.source.engines import make_engine
from ugpp_bridge.adapters.source.report_source import SqlAlchemyReportSource
from ugpp_bridge.adapters.source.sql import SqlAlchemySource
from ugpp_bridge.adapters.state.engine import state_engine
from ugpp_bridge.bootstrap import StateStores
from ugpp_bridge.domain.codes import InformationType
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.lifecycle import LoteState, RequestState
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.domain.report import PersonReport, build_report
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.domain.source import SourceData
from ugpp_bridge.errors import SchemaValidationError, SourceDataError
from ugpp_bridge.service.build import BuildOptions, build_request, preview_lotes
from ugpp_bridge.service.sample_bank import sample_bank

T0 = datetime(2026, 11, 5, 14, 0, tzinfo=UTC)
OPTIONS = BuildOptions("800197268", "Banco de Ejemplo S.A.", 5000, 4)
Sources = Callable[[str], SqlAlchemySource]


class Clock:
    """A clock that moves a second per reading."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def bank(tmp_path: Path) -> Iterator[tuple[SqlAlchemyReportSource, SourceData]]:
    """A sample bank in a SQLite source (the state database is what varies per engine)."""
    url = f"sqlite:///{tmp_path / 'bank.db'}"
    writer = SqlAlchemySource(make_engine(url))
    parts = list(sample_bank(60, 4))
    writer.write(parts)
    writer.close()
    source = SqlAlchemyReportSource(make_engine(url), chunk_persons=16)
    yield source, SourceData.merge(parts)
    source.close()


def solicitud(persons: tuple[PersonId, ...]) -> FinancialInfoRequest:
    return FinancialInfoRequest(
        "UGPP-77", "800197268", date(2026, 11, 2), date(2026, 11, 5),
        frozenset(InformationType), tuple(Period(2025, m) for m in range(1, 13)), persons,
    )  # fmt: skip


def register(stores: StateStores, request: FinancialInfoRequest) -> str:
    return stores.requests.register(
        request, received_at=T0, due_date=date(2026, 12, 7), actor="test"
    ).filing_number


def test_a_stored_request_is_built_into_valid_lotes_with_progress(
    stores: StateStores, bank: tuple[SqlAlchemyReportSource, SourceData]
) -> None:
    source, data = bank
    persons = tuple(sorted({a.holder for a in data.accounts}))
    filing = register(stores, solicitud(persons))
    seen: list[int] = []
    options = BuildOptions("800197268", "Banco de Ejemplo S.A.", 200, 4)
    built = build_request(key_of(stores, filing), requests=stores.requests, builds=stores.builds, lotes=stores.lotes, source=source,
                          writer=LxmlLoteWriter(), options=options, clock=Clock(), progress=seen.append)  # fmt: skip
    assert (built.state, built.generation, built.persons_done) == (
        RequestState.BUILT,
        1,
        len(persons),
    )
    assert seen == list(range(1, len(persons) + 1))
    lotes = stores.lotes.lotes(key_of(stores, filing))
    expected = list(build_report(solicitud(persons), data).records())
    assert [lote.total_lotes for lote in lotes] == [len(lotes)] * len(lotes)
    assert sum(lote.record_count for lote in lotes) == len(expected)
    assert all(lote.record_count <= 200 for lote in lotes) and len(lotes) > 1
    for lote in lotes:
        wire.validate(etree.fromstring(lote.xml, wire.secure_parser()), wire.REPORTE_XSD)
        assert (
            lote.state is LoteState.STORED
            and lote.submission_id == f"{filing}-G1-L{lote.lote_number}"
        )


def test_the_same_request_on_the_same_data_gives_byte_identical_lotes(
    bank: tuple[SqlAlchemyReportSource, SourceData], tmp_path: Path
) -> None:
    source, data = bank
    request = solicitud(tuple(sorted({a.holder for a in data.accounts}))[:20])
    runs = [
        preview_lotes(
            request,
            source=source,
            writer=LxmlLoteWriter(),
            options=OPTIONS,
            out_dir=tmp_path / f"run{n}",
            generated_at=T0,
        )  # fmt: skip
        for n in (1, 2)
    ]
    assert [lote.path.read_bytes() for lote in runs[0]] == [
        lote.path.read_bytes() for lote in runs[1]
    ]
    assert [lote.path.name for lote in runs[0]] == ["UGPP-77-1.xml"]


def test_bad_source_data_fails_the_build_keeps_the_request_and_a_rebuild_succeeds(
    stores: StateStores, sources: Sources, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'golden.db'}"
    writer = sources(url)
    import_csv_directory(DATA / "source_csv", writer)
    with writer.engine.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE transactions SET kind = 'refund' WHERE account_id = 'A1' AND booked_on = '2025-01-05'"
            )
        )
    source = SqlAlchemyReportSource(writer.engine)
    filing = register(stores, solicitud((PersonId("CC", "52123456"),)))
    build = lambda: build_request(key_of(stores, filing), requests=stores.requests, builds=stores.builds, lotes=stores.lotes, source=source,  # noqa: E731
                                  writer=LxmlLoteWriter(), options=OPTIONS, clock=Clock())  # fmt: skip
    with pytest.raises(SourceDataError, match=r"transactions\.kind.*A1@2025-01-05"):
        build()
    failed = stores.requests.find(filing)
    assert failed.state is RequestState.BUILD_FAILED and "transactions.kind" in (
        failed.last_error or ""
    )
    assert stores.lotes.lotes(key_of(stores, filing)) == []
    with writer.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE transactions SET kind = 'regular' WHERE kind = 'refund'")
        )
    rebuilt = build()
    assert (rebuilt.state, rebuilt.generation) == (RequestState.BUILT, 2)
    assert [e.action for e in stores.audit.audit_trail(filing)][:4] == [
        "request.received", "request.building", "request.build_failed", "request.building",
    ]  # fmt: skip


def test_a_title_number_outside_the_contract_stops_the_build_naming_the_column(
    stores: StateStores, sources: Sources, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'golden.db'}"
    writer = sources(url)
    import_csv_directory(DATA / "source_csv", writer)
    with writer.engine.begin() as connection:
        connection.execute(source_schema.titles.update().values(title_number="X" * 41))
    filing = register(stores, solicitud((PersonId("CC", "52123456"),)))
    with pytest.raises(SourceDataError, match="titles.title_number"):
        build_request(key_of(stores, filing), requests=stores.requests, builds=stores.builds, lotes=stores.lotes, source=SqlAlchemyReportSource(writer.engine),
                      writer=LxmlLoteWriter(), options=OPTIONS, clock=Clock())  # fmt: skip
    assert stores.requests.find(filing).state is RequestState.BUILD_FAILED


class _DoctoredSource(SqlAlchemyReportSource):
    """A source whose records carry a title number longer than the XSD allows: what a source
    check that missed a case would let through."""

    def person_reports(  # type: ignore[override]
        self, request: FinancialInfoRequest, *, account_number_digits: int
    ) -> Iterator[PersonReport]:
        for report in super().person_reports(request, account_number_digits=account_number_digits):
            titles = tuple(replace(title, title_number="X" * 41) for title in report.titles)
            yield replace(report, titles=titles)


def test_a_lote_that_breaks_the_xsd_stops_the_build_naming_the_element(
    stores: StateStores, sources: Sources, tmp_path: Path
) -> None:
    # The contract checks catch bad source values first; the XSD is the last line of defence.
    url = f"sqlite:///{tmp_path / 'golden.db'}"
    writer = sources(url)
    import_csv_directory(DATA / "source_csv", writer)
    filing = register(stores, solicitud((PersonId("CC", "52123456"),)))
    with pytest.raises(SchemaValidationError, match="numeroTitulo"):
        build_request(key_of(stores, filing), requests=stores.requests, builds=stores.builds, lotes=stores.lotes, source=_DoctoredSource(writer.engine),
                      writer=LxmlLoteWriter(), options=OPTIONS, clock=Clock())  # fmt: skip
    assert stores.requests.find(filing).state is RequestState.BUILD_FAILED


def test_a_rebuild_supersedes_the_unsent_lotes_of_the_earlier_generation(
    stores: StateStores, bank: tuple[SqlAlchemyReportSource, SourceData]
) -> None:
    source, data = bank
    filing = register(stores, solicitud(tuple(sorted({a.holder for a in data.accounts}))[:5]))
    kwargs = dict(requests=stores.requests, builds=stores.builds, lotes=stores.lotes, source=source, writer=LxmlLoteWriter(),
                  options=OPTIONS, clock=Clock())  # fmt: skip
    build_request(key_of(stores, filing), **kwargs)  # type: ignore[arg-type]
    build_request(key_of(stores, filing), **kwargs)  # type: ignore[arg-type]
    assert [lote.state for lote in stores.lotes.lotes(key_of(stores, filing), generation=1)] == [
        LoteState.SUPERSEDED
    ]
    assert [lote.state for lote in stores.lotes.lotes(key_of(stores, filing), generation=2)] == [
        LoteState.STORED
    ]


def test_full_account_numbers_never_reach_the_state_database(
    stores: StateStores, bank: tuple[SqlAlchemyReportSource, SourceData], state_url: str
) -> None:
    source, data = bank
    filing = register(stores, solicitud(tuple(sorted({a.holder for a in data.accounts}))))
    build_request(key_of(stores, filing), requests=stores.requests, builds=stores.builds, lotes=stores.lotes, source=source,
                  writer=LxmlLoteWriter(), options=OPTIONS, clock=Clock())  # fmt: skip
    stored = b"".join(lote.xml for lote in stores.lotes.lotes(key_of(stores, filing)))
    full_numbers = {a.account_number.replace("-", "") for a in data.accounts} | {
        a.account_number for a in data.accounts
    }
    assert not [number for number in full_numbers if number.encode() in stored]
    assert b"<numeroCuenta>" in stored
    engine = state_engine(state_url)
    try:
        with engine.connect() as connection:
            texts = [
                str(row)
                for table in ("requests", "audit_log", "lotes")
                for row in connection.execute(sa.text(f"SELECT * FROM {table}"))
            ]
    finally:
        engine.dispose()
    assert not [number for number in full_numbers if any(number in text for text in texts)]
