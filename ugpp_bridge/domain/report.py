"""R4 (completeness), R5 (scope), the record order of the wire and the split into lotes.

``build_report`` is the reference implementation of the whole build: the SQL build that runs
inside the source database is tested against it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from ugpp_bridge.domain.accounts import (
    DEFAULT_ACCOUNT_NUMBER_DIGITS,
    AccountMonthRecord,
    account_month_records,
)
from ugpp_bridge.domain.codes import InformationType
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.domain.source import SourceData, group_by
from ugpp_bridge.domain.titles import TitleMonthRecord, title_month_records
from ugpp_bridge.domain.trust import TrustYieldRecord, trust_yield_records
from ugpp_bridge.errors import InvalidInputError

DEFAULT_LOTE_MAX_RECORDS = 5000


@dataclass(frozen=True)
class PersonWithoutInformation:
    """A requested person with no record in any requested section (R4)."""

    person: PersonId


Record = AccountMonthRecord | TitleMonthRecord | TrustYieldRecord | PersonWithoutInformation


@dataclass(frozen=True)
class PersonReport:
    """Everything reported about one person, each section in period order."""

    person: PersonId
    accounts: tuple[AccountMonthRecord, ...] = ()
    titles: tuple[TitleMonthRecord, ...] = ()
    trust_yields: tuple[TrustYieldRecord, ...] = ()

    @property
    def has_information(self) -> bool:
        return bool(self.accounts or self.titles or self.trust_yields)

    def records(self) -> Iterator[Record]:
        """Section order of the wire: cuentas, inversiones, rendimientos; else the person."""
        if not self.has_information:
            yield PersonWithoutInformation(self.person)
            return
        yield from self.accounts
        yield from self.titles
        yield from self.trust_yields


@dataclass(frozen=True)
class Report:
    """The answer to one request, person by person in the request's order."""

    request: FinancialInfoRequest
    persons: tuple[PersonReport, ...]

    def records(self) -> Iterator[Record]:
        """Every record, ordered by person, then section, then period (SPEC §4)."""
        for person in self.persons:
            yield from person.records()

    @property
    def persons_without_information(self) -> list[PersonId]:
        return [p.person for p in self.persons if not p.has_information]


def build_report(
    request: FinancialInfoRequest,
    source: SourceData,
    account_number_digits: int = DEFAULT_ACCOUNT_NUMBER_DIGITS,
) -> Report:
    """Apply R1–R5 to ``source`` for ``request``; data of unrequested persons is ignored."""
    wanted = set(request.persons)
    accounts: list[AccountMonthRecord] = []
    titles: list[TitleMonthRecord] = []
    trust: list[TrustYieldRecord] = []
    if request.asks_for(InformationType.ACCOUNTS):
        own_accounts = [a for a in source.accounts if a.holder in wanted]
        accounts = account_month_records(
            own_accounts,
            source.transactions,
            source.daily_balances,
            request.periods,
            account_number_digits,
        )
    if request.asks_for(InformationType.INVESTMENTS):
        own_titles = [t for t in source.titles if t.holder in wanted]
        titles = title_month_records(own_titles, source.title_events, request.periods)
    if request.asks_for(InformationType.TRUST):
        payments = [p for p in source.trust_yield_payments if p.holder in wanted]
        trust = trust_yield_records(payments, request.periods)
    return Report(request, person_reports(request.persons, accounts, titles, trust))


def person_reports(
    persons: Sequence[PersonId],
    accounts: list[AccountMonthRecord],
    titles: list[TitleMonthRecord],
    trust: list[TrustYieldRecord],
) -> tuple[PersonReport, ...]:
    """One report per person, in ``persons`` order, each section in the wire's order.

    Titles keep the order they come in within a title-month (their events' date order).
    """
    # Periods order as (year, month): compared as ints, the sort is several times cheaper.
    accounts.sort(key=lambda r: (r.period.year, r.period.month, r.account_type,
                                 r.account_number, r.account_id))  # fmt: skip
    # Stable: a title-month's events keep their order.
    titles.sort(key=lambda r: (r.period.year, r.period.month, r.title_number, r.title_id))
    by_person_accounts = group_by(accounts, lambda r: r.person)
    by_person_titles = group_by(titles, lambda r: r.person)
    by_person_trust = group_by(trust, lambda r: r.person)
    return tuple(
        PersonReport(
            person,
            tuple(by_person_accounts.get(person, ())),
            tuple(by_person_titles.get(person, ())),
            tuple(by_person_trust.get(person, ())),
        )
        for person in persons
    )


def split_into_lotes(
    records: Iterator[Record], max_records: int = DEFAULT_LOTE_MAX_RECORDS
) -> Iterator[list[Record]]:
    """Consecutive chunks of at most ``max_records`` records; never an empty lote."""
    if max_records < 1:
        raise InvalidInputError(
            "A lote must be allowed at least one record.", field="lote_max_records"
        )
    while chunk := list(islice(records, max_records)):
        yield chunk
