"""R3 — fiduciary yields (Resolución 1707 art. 4).

For each requested person and each distinct year among the requested periods, ``valorGirado``
is the sum of the person's payments that year with ``from_fideicomiso = false``; there is a
record only when at least one such payment exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.money import to_pesos
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.domain.source import TrustYieldPayment, group_by
from ugpp_bridge.errors import SourceDataError, SourceProblem


@dataclass(frozen=True)
class TrustYieldRecord:
    """One ``rendimiento`` of the report: the year's total in whole pesos."""

    person: PersonId
    year: int
    amount_paid: int


def trust_yield_records(
    payments: Iterable[TrustYieldPayment], periods: Iterable[Period]
) -> list[TrustYieldRecord]:
    """R3 for every person with a counted payment, ordered by person then year."""
    years = sorted({period.year for period in periods})
    counted = [p for p in payments if not p.from_fideicomiso and p.paid_on.year in years]
    by_person_year = group_by(counted, lambda p: (p.holder, p.paid_on.year))
    records = []
    for (person, year), rows in sorted(by_person_year.items()):
        total = sum((row.amount for row in rows), Decimal(0))
        if total < 0:
            raise SourceDataError(
                [
                    SourceProblem(
                        "trust_yield_payments",
                        "amount",
                        f"the payments of one person in {year} add up to a negative amount",
                        (person.masked(),),
                    )
                ]
            )
        records.append(TrustYieldRecord(person=person, year=year, amount_paid=to_pesos(total)))
    return records
