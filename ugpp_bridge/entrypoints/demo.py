"""``ugpp-bridge demo``: what exists of the whole job, on embedded defaults, in a temp folder.

Today that is: a sample bank written to a SQLite source and checked against the contract, a
SQLite state database migrated to head, one sample request registered as Paso 1 would
(account holders, title holders and trust beneficiaries of the bank, and one stranger; the
twelve months of the sample year; every section), built with the SQL build into validated XML
lotes that are stored and also written to ``lotes/``, and a summary with the deadline. It says
plainly that nothing was received over SOAP and nothing was sent to UGPP.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.panel import Panel

from ugpp_bridge.adapters.database import make_engine
from ugpp_bridge.adapters.report_source import SqlAlchemyReportSource
from ugpp_bridge.adapters.xml_lotes import LxmlLoteWriter
from ugpp_bridge.bootstrap import (
    StateStores,
    holiday_calendar,
    source_for,
    state_stores,
    system_clock,
)
from ugpp_bridge.config import Settings
from ugpp_bridge.domain.codes import InformationType
from ugpp_bridge.domain.deadlines import business_days_until, due_date
from ugpp_bridge.domain.filing import StoredRequest
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.domain.report import Record
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.domain.source import SourceData
from ugpp_bridge.entrypoints import console as view
from ugpp_bridge.service.build import BuildOptions, build_request, report_records
from ugpp_bridge.service.sample_bank import DEFAULT_SAMPLE_YEAR, sample_bank

DEMO_OPERATOR_NIT = "800197268"
DEMO_OPERATOR_NAME = "Banco de Demostración S.A."
STRANGER = PersonId("CC", "99999999")  # no sample person has this number
SHOWN_ROWS = 12
ACTOR = "demo"


def run(settings: Settings, *, persons: int, seed: int, console: Console) -> StoredRequest:
    folder = Path(tempfile.mkdtemp(prefix="ugpp-bridge-demo-"))
    source_url = f"sqlite:///{folder / 'source.db'}"
    state_url = f"sqlite:///{folder / 'state.db'}"
    parts = list(sample_bank(persons, seed, DEFAULT_SAMPLE_YEAR))
    with source_for(source_url) as bank:
        with view.progress_bar(console, "Writing the sample bank", persons) as advance:
            counts = bank.write(advance(parts))
        console.print(view.write_counts_table(counts, f"Sample bank in {folder / 'source.db'}"))
    chosen = _sample_persons(parts)
    from ugpp_bridge.adapters.migrations import upgrade  # alembic loads slowly

    upgrade(state_url)
    stores = state_stores(state_url)
    source = SqlAlchemyReportSource(make_engine(source_url))
    try:
        built, records = _register_and_build(settings, stores, source, chosen, console)
        _export_lotes(stores, built, folder / "lotes")
        _show(console, settings, built, records, folder)
    finally:
        source.close()
        stores.close()
    return built


def _register_and_build(
    settings: Settings,
    stores: StateStores,
    source: SqlAlchemyReportSource,
    persons: tuple[PersonId, ...],
    console: Console,
) -> tuple[StoredRequest, list[Record]]:
    now = system_clock()
    request = FinancialInfoRequest(
        request_id=f"DEMO-{now:%Y%m%d-%H%M%S}",
        operator_nit=settings.operator_nit or DEMO_OPERATOR_NIT,
        requested_on=now.date(),
        term_starts_on=now.date(),
        information_types=frozenset(InformationType),
        periods=tuple(Period(DEFAULT_SAMPLE_YEAR, month) for month in range(1, 13)),
        persons=persons,
    )
    due = due_date(now.date(), holiday_calendar(), starts_next_day=settings.term_starts_next_day)
    receipt = stores.requests.register(request, received_at=now, due_date=due, actor=ACTOR)
    options = BuildOptions(
        operator_nit=request.operator_nit,
        operator_name=settings.operator_name or DEMO_OPERATOR_NAME,
        lote_max_records=settings.lote_max_records,
        account_number_digits=settings.account_number_digits,
    )
    with view.progress_counter(console, "Building lotes", len(persons)) as progress:
        built = build_request(
            receipt.filing_number,
            requests=stores.requests,
            lotes=stores.lotes,
            source=source,
            writer=LxmlLoteWriter(),
            options=options,
            clock=system_clock,
            actor=ACTOR,
            progress=progress,
        )
    records = list(report_records(request, source, options, lambda _done: None))
    return built, records


def _sample_persons(parts: list[SourceData]) -> tuple[PersonId, ...]:
    """Account holders, title holders and trust beneficiaries of the sample, and a stranger."""
    with_accounts = [p.accounts[0].holder for p in parts if p.accounts and p.transactions]
    with_titles = [p.titles[0].holder for p in parts if p.titles]
    with_yields = [
        p.trust_yield_payments[0].holder
        for p in parts
        if any(
            not y.from_fideicomiso and y.paid_on.year == DEFAULT_SAMPLE_YEAR
            for y in p.trust_yield_payments
        )
    ]
    chosen = [*with_accounts[:3], *with_titles[:2], *with_yields[:2]]
    return (*dict.fromkeys(chosen), STRANGER)


def _export_lotes(stores: StateStores, built: StoredRequest, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for lote in stores.lotes.lotes(built.filing_number):
        (folder / f"{lote.submission_id}.xml").write_bytes(lote.xml)


def _show(
    console: Console, settings: Settings, built: StoredRequest, records: list[Record], folder: Path
) -> None:
    for table in (
        view.accounts_table(records, SHOWN_ROWS),
        view.titles_table(records, SHOWN_ROWS),
        view.trust_table(records, SHOWN_ROWS),
        view.without_information_table(records),
    ):
        console.print(table)
    request = built.request
    left = business_days_until(system_clock().date(), built.due_date, holiday_calendar())
    kinds = Counter(type(record).__name__ for record in records)
    console.print(
        Panel.fit(
            "\n".join(
                [
                    f"Request {request.request_id} registered as {built.filing_number}: "
                    f"{len(request.persons)} persons × {len(request.periods)} months, "
                    "sections CUENTAS, INVERSIONES, FIDUCIARIA",
                    f"Records: {kinds['AccountMonthRecord']} cuentas, "
                    f"{kinds['TitleMonthRecord']} inversiones, "
                    f"{kinds['TrustYieldRecord']} rendimientos, "
                    f"{kinds['PersonWithoutInformation']} personas sin información",
                    f"State: {built.state.value}; lotes stored and validated against the XSD, "
                    f"copies in {folder / 'lotes'}",
                    f"Term starts {request.term_starts_on}; due {built.due_date} "
                    f"({left} business days, Colombian holidays counted)",
                    f"State database: {folder / 'state.db'} (try: UGPP_BRIDGE_DATABASE_URL="
                    f"sqlite:///{folder / 'state.db'} ugpp-bridge audit verify)",
                    "",
                    "Nothing was received over SOAP and nothing was sent to UGPP: the request was "
                    "registered directly, and the Paso 1 endpoint and the Paso 2 client are not "
                    "built yet.",
                ]
            ),
            title="Demo summary",
        )
    )
