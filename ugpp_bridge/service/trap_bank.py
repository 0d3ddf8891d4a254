"""The self-test's bank (SPEC §11, ``source selftest``): small, built in, and made of the cases
an engine gets wrong when it is subtly different — hand-written traps for R1–R3 beside a
seeded sample bank for breadth.

The traps, each on an account, title or person of its own:
- medians over an even number of days with runs of equal balances, where the upper median
  differs from the lower one and from the mean (R1, art. 2);
- a balance carried into the month from a row weeks before it, and a month with no row at all;
- an account opened on the last day of a month and one closed on the first: one open day;
- February of a leap year, and a month whose balances are all negative;
- returned cheques (deposit and reversal), own transfers flagged by kind and recognisable only
  by their counterparty, a transfer to another person's account, a zero amount;
- a title issued, renewed and cancelled in one month, one merely outstanding (R2, art. 3);
- fiduciary payments from a fideicomiso and not, across years (R3, art. 4);
- document numbers that differ only in case (``PA x300`` is not ``PA X300``) and a person with
  nothing at all (R4).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ugpp_bridge.domain.codes import (
    AccountType,
    InformationType,
    TitleEventKind,
    TitleType,
    TransactionKind,
)
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.domain.source import (
    Account,
    DailyBalance,
    SourceData,
    Title,
    TitleEvent,
    Transaction,
    TrustYieldPayment,
)
from ugpp_bridge.service.sample_bank import sample_bank

ANA, BETO, CAMILA = (
    PersonId("CC", "79123456"),
    PersonId("CE", "123456"),
    PersonId("NI", "900123456"),
)
UPPER, LOWER, NOBODY = PersonId("PA", "X300"), PersonId("PA", "x300"), PersonId("RC", "1234")
PERIODS = (Period(2024, 2), Period(2025, 1), Period(2025, 2), Period(2025, 3))
SAMPLE_PERSONS, SAMPLE_SEED, SAMPLE_YEAR = 40, 1707, 2025
D = Decimal


def _traps() -> SourceData:
    accounts = (
        Account("T-EVEN", ANA, AccountType.SAVINGS, "001-000-1001", date(2020, 1, 1)),
        Account("T-OWN", ANA, AccountType.CURRENT, "001-000-1002", date(2020, 1, 1)),
        Account("T-EDGE-OPEN", BETO, AccountType.SAVINGS, "002-000-2001", date(2025, 1, 31)),
        Account(
            "T-EDGE-CLOSE",
            BETO,
            AccountType.AFC,
            "002-000-2002",
            date(2019, 5, 5),
            date(2025, 2, 1),
        ),  # fmt: skip
        Account("T-NEG", CAMILA, AccountType.CURRENT, "003-000-3001", date(2023, 6, 1)),
        Account("T-CASE-UP", UPPER, AccountType.SAVINGS, "004-000-4001", date(2024, 1, 1)),
        Account("T-CASE-LOW", LOWER, AccountType.SAVINGS, "004-000-4002", date(2024, 1, 1)),
    )
    balances = (
        # 31 days: 1,000,000 carried in (from 2024-12-03), runs of 2,250,000 and 1,950,000.
        DailyBalance("T-EVEN", date(2024, 12, 3), D("1000000.00")),
        DailyBalance("T-EVEN", date(2025, 1, 10), D("2250000.00")),
        DailyBalance("T-EVEN", date(2025, 1, 25), D("1950000.00")),
        # February (28 days): two halves of 14: the upper median is the higher one.
        DailyBalance("T-EVEN", date(2025, 2, 1), D("3849990.00")),
        DailyBalance("T-EVEN", date(2025, 2, 15), D("3850000.00")),
        # February 2024 (29 days) carried from January 2024 into a leap month.
        DailyBalance("T-EVEN", date(2024, 1, 20), D("10.01")),
        DailyBalance("T-EDGE-OPEN", date(2025, 1, 31), D("5000.00")),
        DailyBalance("T-EDGE-CLOSE", date(2025, 1, 15), D("777.77")),
        DailyBalance("T-NEG", date(2024, 12, 31), D("-60001.00")),
        DailyBalance("T-NEG", date(2025, 2, 10), D("-60000.00")),
        DailyBalance("T-NEG", date(2025, 2, 20), D("-59999.50")),
        DailyBalance("T-CASE-UP", date(2025, 1, 5), D("100.00")),
        DailyBalance("T-CASE-LOW", date(2025, 1, 5), D("999.00")),
    )
    transactions = (
        Transaction("T-EVEN", date(2025, 1, 10), D("1250000.00")),
        Transaction("T-EVEN", date(2025, 1, 12), D("400000.00"), TransactionKind.RETURNED_CHEQUE),
        Transaction("T-EVEN", date(2025, 1, 13), D("-400000.00"), TransactionKind.RETURNED_CHEQUE),
        Transaction(
            "T-EVEN", date(2025, 1, 20), D("-100000.00"), TransactionKind.OWN_TRANSFER, "T-OWN"
        ),  # fmt: skip
        Transaction(
            "T-OWN", date(2025, 1, 20), D("100000.00"), TransactionKind.OWN_TRANSFER, "T-EVEN"
        ),  # fmt: skip
        Transaction("T-EVEN", date(2025, 1, 25), D("-300000.00"), counterparty_account_id="T-OWN"),
        Transaction("T-EVEN", date(2025, 1, 26), D("-0.50"), counterparty_account_id="T-NEG"),
        Transaction("T-EVEN", date(2025, 1, 27), D("0.00")),
        Transaction("T-EVEN", date(2025, 1, 31), D("0.01")),
        Transaction("T-EVEN", date(2025, 2, 1), D("1899990.00")),
        Transaction("T-EDGE-OPEN", date(2025, 1, 31), D("5000.00")),
        Transaction("T-EDGE-CLOSE", date(2025, 2, 1), D("-777.77")),
        Transaction("T-NEG", date(2025, 2, 10), D("1.00")),
    )
    titles = (
        Title("T-CDT", ANA, TitleType.CDT, "CDT-0001"),
        Title("T-BOND", CAMILA, TitleType.ORDINARY_BOND, "BONO-77"),
    )
    events = (
        TitleEvent("T-CDT", date(2025, 1, 2), TitleEventKind.ISSUE, D("10000000.00")),
        TitleEvent("T-CDT", date(2025, 1, 30), TitleEventKind.RENEWAL, D("250000.40")),
        TitleEvent("T-CDT", date(2025, 1, 31), TitleEventKind.CANCELLATION, D("4000000.00")),
        TitleEvent("T-BOND", date(2023, 8, 1), TitleEventKind.ISSUE, D("5000000.55")),
    )
    payments = (
        TrustYieldPayment(BETO, date(2024, 12, 31), D("35000.25"), False),
        TrustYieldPayment(BETO, date(2025, 1, 1), D("99000.00"), True),
        TrustYieldPayment(BETO, date(2025, 3, 31), D("0.75"), False),
        TrustYieldPayment(CAMILA, date(2025, 2, 28), D("1234.56"), False),
    )
    return SourceData(accounts, transactions, balances, titles, events, payments)


def trap_bank() -> tuple[SourceData, FinancialInfoRequest]:
    """The self-test's data and the request that reads it all (every section, 4 months)."""
    sample = SourceData.merge(sample_bank(SAMPLE_PERSONS, SAMPLE_SEED, SAMPLE_YEAR))
    data = SourceData.merge([_traps(), sample])
    holders = {a.holder for a in data.accounts} | {t.holder for t in data.titles}
    holders |= {p.holder for p in data.trust_yield_payments}
    persons = (ANA, BETO, CAMILA, UPPER, NOBODY, *sorted(holders - {ANA, BETO, CAMILA, UPPER,
                                                                    LOWER}))  # fmt: skip
    request = FinancialInfoRequest(
        request_id="AUTOPRUEBA",
        operator_nit="800197268",
        requested_on=date(2025, 4, 1),
        term_starts_on=date(2025, 4, 1),
        information_types=frozenset(InformationType),
        periods=PERIODS,
        persons=persons,
    )
    return data, request
