"""``ugpp-bridge demo``: what exists of the whole job, on embedded defaults, in a temp folder.

Today that is: a sample bank written to a SQLite source, the contract check, one sample request
(account holders, title holders and trust beneficiaries of the bank, and one stranger; the
twelve months of the sample year; every section) computed with the reference rules, its legal
deadline and a summary. It says plainly
that nothing was received over SOAP and nothing was sent to UGPP.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.panel import Panel

from ugpp_bridge.adapters.source_sql import SqlAlchemySource
from ugpp_bridge.bootstrap import holiday_calendar, source_for, system_clock
from ugpp_bridge.config import Settings
from ugpp_bridge.domain.codes import InformationType
from ugpp_bridge.domain.deadlines import business_days_until, due_date
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.domain.report import Report, split_into_lotes
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.entrypoints import console as view
from ugpp_bridge.service.preview import preview_report
from ugpp_bridge.service.sample_bank import DEFAULT_SAMPLE_YEAR, sample_bank

DEMO_OPERATOR_NIT = "800197268"
STRANGER = PersonId("CC", "99999999")  # no sample person has this number
SHOWN_ROWS = 12


def run(settings: Settings, *, persons: int, seed: int, console: Console) -> Report:
    folder = Path(tempfile.mkdtemp(prefix="ugpp-bridge-demo-"))
    source_url = f"sqlite:///{folder / 'source.db'}"
    with source_for(source_url) as source:
        return _run(settings, source, folder, persons=persons, seed=seed, console=console)


def _run(
    settings: Settings,
    source: SqlAlchemySource,
    folder: Path,
    *,
    persons: int,
    seed: int,
    console: Console,
) -> Report:
    with view.progress_bar(console, "Writing the sample bank", persons) as advance:
        counts = source.write(advance(sample_bank(persons, seed, DEFAULT_SAMPLE_YEAR)))
    console.print(view.write_counts_table(counts, f"Sample bank in {folder / 'source.db'}"))

    today = system_clock().date()
    request = FinancialInfoRequest(
        request_id=f"DEMO-{today:%Y%m%d}-0001",
        operator_nit=settings.operator_nit or DEMO_OPERATOR_NIT,
        requested_on=today,
        term_starts_on=today,
        information_types=frozenset(InformationType),
        periods=tuple(Period(DEFAULT_SAMPLE_YEAR, month) for month in range(1, 13)),
        persons=_sample_persons(source),
    )
    report = preview_report(request, source, settings.account_number_digits)
    _show(console, settings, report)
    return report


def _sample_persons(source: SqlAlchemySource) -> tuple[PersonId, ...]:
    """Account holders, title holders and trust beneficiaries of the sample, and a stranger."""
    chosen = [
        *source.holders(3, "accounts"),
        *source.holders(2, "titles"),
        *source.holders(3, "trust_yield_payments"),
    ]
    return (*dict.fromkeys(chosen), STRANGER)


def _show(console: Console, settings: Settings, report: Report) -> None:
    records = list(report.records())
    for table in (
        view.accounts_table(records, SHOWN_ROWS),
        view.titles_table(records, SHOWN_ROWS),
        view.trust_table(records, SHOWN_ROWS),
        view.without_information_table(records),
    ):
        console.print(table)
    request = report.request
    holidays = holiday_calendar()
    due = due_date(request.term_starts_on, holidays, starts_next_day=settings.term_starts_next_day)
    left = business_days_until(request.term_starts_on, due, holidays)
    kinds = Counter(type(record).__name__ for record in records)
    lotes = len(list(split_into_lotes(iter(records), settings.lote_max_records)))
    console.print(
        Panel.fit(
            "\n".join(
                [
                    f"Request {request.request_id}: {len(request.persons)} persons × "
                    f"{len(request.periods)} months, sections CUENTAS, INVERSIONES, FIDUCIARIA",
                    f"Records: {kinds['AccountMonthRecord']} cuentas, "
                    f"{kinds['TitleMonthRecord']} inversiones, "
                    f"{kinds['TrustYieldRecord']} rendimientos, "
                    f"{kinds['PersonWithoutInformation']} personas sin información "
                    f"→ {lotes} lote(s) of at most {settings.lote_max_records:,} records",
                    f"Term starts {request.term_starts_on}; due {due} "
                    f"({left} business days, Colombian holidays counted)",
                    "",
                    "Nothing was received over SOAP and nothing was sent to UGPP: this build of "
                    "ugpp-bridge has the rules, the deadline and the source contract; the Paso 1 "
                    "endpoint, the XML lotes and the Paso 2 client are not built yet.",
                ]
            ),
            title="Demo summary",
        )
    )
