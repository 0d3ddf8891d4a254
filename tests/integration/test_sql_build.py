"""The SQL build (R1–R3 inside the source database) against the pure rules, on both engines."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.conftest import DATA, editing
from ugpp_bridge.adapters.soap.xml_lotes import write_lotes
from ugpp_bridge.adapters.source import check, report_source
from ugpp_bridge.adapters.source import schema as source_schema
from ugpp_bridge.adapters.source.csv_import import import_csv_directory
from ugpp_bridge.adapters.source.engines import make_engine
from ugpp_bridge.adapters.source.report_source import SqlAlchemyReportSource
from ugpp_bridge.adapters.source.sql import SqlAlchemySource
from ugpp_bridge.domain.codes import (
    AccountType,
    InformationType,
    TitleEventKind,
    TitleType,
    TransactionKind,
)
from ugpp_bridge.domain.filing import LoteContext
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.domain.report import build_report
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
from ugpp_bridge.errors import SourceDataError
from ugpp_bridge.service.sample_bank import sample_bank

PEOPLE = (PersonId("CC", "100"), PersonId("PT", "200"), PersonId("PA", "X300"))
STRANGER = PersonId("RC", "999")
# Holds data but is never requested: equal to PA X300 under a case-insensitive collation
# (MariaDB's default), so a build that compares documents that way reports it as X300's.
OTHER_CASE = PersonId("PA", "x300")
HOLDERS = (*PEOPLE, OTHER_CASE)
MONTHS = [Period(2025, m) for m in (1, 2, 3)]
Sources = Callable[[str], SqlAlchemySource]


def request_for(
    persons: tuple[PersonId, ...],
    periods: list[Period],
    types: frozenset[InformationType] = frozenset(InformationType),
) -> FinancialInfoRequest:
    return FinancialInfoRequest(
        "SOL-PROP",
        "800197268",
        date(2026, 11, 2),
        date(2026, 11, 5),
        types,
        tuple(periods),
        persons,
    )


def sql_records(
    url: str, request: FinancialInfoRequest, chunk: int = 500, *, temporary: bool = True
) -> list[object]:
    source = SqlAlchemyReportSource(
        make_engine(url), chunk_persons=chunk, temporary_persons=temporary
    )
    try:
        return [
            r
            for person in source.person_reports(request, account_number_digits=4)
            for r in person.records()
        ]
    finally:
        source.close()


# -- generated source data --------------------------------------------------------------------

days = st.dates(min_value=date(2024, 11, 20), max_value=date(2025, 4, 10))
money = st.integers(min_value=-300_000, max_value=300_000).map(lambda c: Decimal(c).scaleb(-2))
positive_money = st.integers(min_value=0, max_value=300_000).map(lambda c: Decimal(c).scaleb(-2))


@st.composite
def source_data(draw: st.DrawFn) -> SourceData:
    accounts = []
    for n in range(draw(st.integers(0, 4))):
        opened = draw(days)
        closed = draw(st.none() | st.dates(min_value=opened, max_value=date(2025, 4, 30)))
        accounts.append(
            Account(f"A{n}", draw(st.sampled_from(HOLDERS)), draw(st.sampled_from(list(AccountType))),
                    f"00-{n}{draw(st.integers(1000, 9999))}", opened, closed)
        )  # fmt: skip
    ids = [a.account_id for a in accounts]
    transactions = []
    for _ in range(draw(st.integers(0, 25))) if ids else []:
        counterparty = draw(st.none() | st.sampled_from([*ids, "EXTERNAL"]))
        transactions.append(
            Transaction(draw(st.sampled_from(ids)), draw(days), draw(money),
                        draw(st.sampled_from(list(TransactionKind))), counterparty)
        )  # fmt: skip
    balances = []
    for account_id in ids:
        for day in draw(st.sets(days, max_size=8)):
            balances.append(DailyBalance(account_id, day, draw(money)))
    titles, events = [], []
    for n in range(draw(st.integers(0, 3))):
        titles.append(
            Title(
                f"T{n}",
                draw(st.sampled_from(HOLDERS)),
                draw(st.sampled_from(list(TitleType))),
                f"N-{n}",
            )
        )
        for _ in range(draw(st.integers(0, 4))):
            events.append(
                TitleEvent(
                    f"T{n}",
                    draw(days),
                    draw(st.sampled_from(list(TitleEventKind))),
                    draw(positive_money),
                )
            )
    payments = [
        TrustYieldPayment(
            draw(st.sampled_from(HOLDERS)), draw(days), draw(positive_money), draw(st.booleans())
        )
        for _ in range(draw(st.integers(0, 5)))
    ]
    return SourceData(
        tuple(accounts),
        tuple(transactions),
        tuple(balances),
        tuple(titles),
        tuple(events),
        tuple(payments),
    )


def emptied(source: SqlAlchemySource, url: str) -> tuple[SqlAlchemySource, str]:
    with editing(source) as connection:
        source_schema.metadata.create_all(connection)
    return source, url


@pytest.fixture
def empty_source(sources: Sources, quick_source_url: str) -> tuple[SqlAlchemySource, str]:
    return emptied(sources(quick_source_url), quick_source_url)


@pytest.fixture
def empty_spark_source(sources: Sources, spark_url: str) -> tuple[SqlAlchemySource, str]:
    return emptied(sources(spark_url), spark_url)


def replace_data(source: SqlAlchemySource, data: SourceData) -> None:
    source.write([data], replace=True)


def agrees_with_the_rules(
    empty: tuple[SqlAlchemySource, str],
    data: SourceData,
    periods: list[Period],
    types: frozenset[InformationType],
) -> None:
    source, url = empty
    replace_data(source, data)
    request = request_for((*PEOPLE, STRANGER), periods, types)
    assert sql_records(url, request, chunk=2) == list(build_report(request, data).records())


REQUESTS = {
    "data": source_data(),
    "periods": st.lists(st.sampled_from(MONTHS), min_size=1, max_size=3, unique=True),
    "types": st.sets(st.sampled_from(list(InformationType)), min_size=1).map(frozenset),
}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(**REQUESTS)
def test_the_sql_build_agrees_exactly_with_the_pure_rules(
    empty_source: tuple[SqlAlchemySource, str],
    data: SourceData,
    periods: list[Period],
    types: frozenset[InformationType],
) -> None:
    agrees_with_the_rules(empty_source, data, periods, types)


@pytest.mark.spark
@pytest.mark.duckdb
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(**REQUESTS)
def test_the_spark_build_agrees_exactly_with_the_pure_rules(
    empty_spark_source: tuple[SqlAlchemySource, str],
    data: SourceData,
    periods: list[Period],
    types: frozenset[InformationType],
) -> None:
    # Fewer examples than the other engines (a Spark job takes ~1 s in local mode); the sample
    # bank and the golden test below cover the breadth.
    agrees_with_the_rules(empty_spark_source, data, periods, types)


def test_the_sql_build_agrees_with_the_pure_rules_on_a_sample_bank(
    sources: Sources, source_url: str
) -> None:
    source = sources(source_url)
    parts = list(sample_bank(150, 21))
    source.write(parts)
    data = SourceData.merge(parts)
    persons = (*sorted({a.holder for a in data.accounts}), STRANGER)
    request = request_for(persons, [Period(2025, m) for m in range(1, 13)])
    expected = list(build_report(request, data).records())
    assert len(expected) > 1500
    assert sql_records(source_url, request, chunk=40) == expected
    assert sql_records(source_url, request, chunk=40, temporary=False) == expected, "inline persons"


def test_the_imported_golden_data_gives_the_golden_lote(
    sources: Sources, source_url: str, tmp_path: Path
) -> None:
    import_csv_directory(DATA / "source_csv", sources(source_url))
    request = request_for(
        (PersonId("CC", "52123456"), PersonId("PT", "7788990"), PersonId("RC", "1234")),
        [Period(2025, 1), Period(2025, 2)],
    )
    context = LoteContext(
        request_id="UGPP-2026-000451", filing_number="UB-2026-000123", generation=1,
        operator_nit="800197268", operator_name="Banco de Ejemplo S.A.",
        generated_at=datetime(2026, 11, 6, 13, 0, tzinfo=UTC),
    )  # fmt: skip
    (lote,) = write_lotes(sql_records(source_url, request), context, 5000, tmp_path)
    written = etree.canonicalize(lote.path.read_text(encoding="utf-8"), strip_text=True)
    golden = etree.canonicalize(
        (DATA / "wire" / "reporte.xml").read_text(encoding="utf-8"),
        strip_text=True,
        with_comments=False,
    )
    assert written == golden


@pytest.mark.parametrize(
    ("statement", "where", "key"),
    [
        (
            "UPDATE accounts SET account_type = 9 WHERE account_id = 'A2'",
            "accounts.account_type",
            "A2",
        ),
        (
            "UPDATE transactions SET kind = 'refund' WHERE amount = 0",
            "transactions.kind",
            "B1@2025-01-25",
        ),
        (
            "INSERT INTO daily_balances VALUES ('A1', '2025-01-05', 1)",
            "daily_balances.balance_date",
            "A1@2025-01-05",
        ),
        (
            "UPDATE title_events SET event = 'rollover' WHERE event = 'issue'",
            "title_events.event",
            "T1@2024-10-01",
        ),
    ],
)
def test_bad_rows_of_requested_persons_stop_the_build_naming_relation_column_and_key(
    sources: Sources, source_url: str, statement: str, where: str, key: str
) -> None:
    source = sources(source_url)
    import_csv_directory(DATA / "source_csv", source)
    with editing(source) as connection:
        connection.execute(sa.text(statement))
    request = request_for((PersonId("CC", "52123456"), PersonId("PT", "7788990")), MONTHS)
    with pytest.raises(SourceDataError) as caught:
        sql_records(source_url, request)
    assert [(f"{p.relation}.{p.column}", p.example_keys) for p in caught.value.problems] == [
        (where, (key,))
    ]


# SPEC §9 "Readings made precise": data that breaks the contract stops the build, naming the
# relation, the column and example keys; `source check` names the same rows.
BREACHES = [
    ("UPDATE accounts SET holder_doc_type = 'cc' WHERE account_id = 'A1'",
     "accounts.holder_doc_type", "A1"),
    ("UPDATE accounts SET holder_doc_type = 'C.C.' WHERE account_id = 'A2'",
     "accounts.holder_doc_type", "A2"),
    ("UPDATE titles SET holder_doc_type = 'NIT' WHERE title_id = 'T1'",
     "titles.holder_doc_type", "T1"),
    ("UPDATE accounts SET holder_doc_number = '52.123.456' WHERE account_id = 'A1'",
     "accounts.holder_doc_number", "A1"),
    ("UPDATE trust_yield_payments SET holder_doc_type = 'pt' WHERE amount > 50000",
     "trust_yield_payments.holder_doc_type", "pt@2025-02-28"),
    ("UPDATE accounts SET account_number = 'CTA-١٢٣٤٥' WHERE account_id = 'A1'",
     "accounts.account_number", "A1"),
    ("UPDATE titles SET title_number = '' WHERE title_id = 'T1'", "titles.title_number", "T1"),
    (f"UPDATE titles SET title_number = '{'9' * 41}' WHERE title_id = 'T1'",
     "titles.title_number", "T1"),
    ("UPDATE transactions SET amount = 50000000000000000 WHERE account_id = 'B1'",
     "transactions.amount", "B1@2025-01-25"),
]  # fmt: skip


def breach_problems(sources: Sources, source_url: str, statements: list[str]) -> tuple[list, list]:  # type: ignore[type-arg]
    """(the problems that stop the build, the problems `source check` names)."""
    source = sources(source_url)
    import_csv_directory(DATA / "source_csv", source)
    with editing(source) as connection:
        for statement in statements:
            connection.execute(sa.text(statement))
    request = request_for((PersonId("CC", "52123456"), PersonId("PT", "7788990")), MONTHS)
    with pytest.raises(SourceDataError) as caught:
        sql_records(source_url, request)
    return caught.value.problems, source.check()


@pytest.mark.parametrize(("statement", "where", "key"), BREACHES)
def test_data_breaking_the_contract_stops_the_build_and_source_check_names_it(
    sources: Sources, source_url: str, statement: str, where: str, key: str
) -> None:
    stopped, checked = breach_problems(sources, source_url, [statement])
    assert [f"{p.relation}.{p.column}" for p in stopped] == [where], stopped
    assert key in stopped[0].example_keys, stopped
    assert any(f"{p.relation}.{p.column}" == where and key in p.example_keys for p in checked), (
        checked
    )


SQLITE_BREACHES = [
    # A view exposing amounts as text: '0.00' would count as a credit, compared as text.
    (["ALTER TABLE transactions RENAME TO transactions_base",
      "CREATE VIEW transactions AS SELECT account_id, booked_on, CAST(amount AS TEXT) AS amount, "
      "kind, counterparty_account_id FROM transactions_base"],
     "transactions.amount"),
    (["UPDATE transactions SET booked_on = booked_on || ' 10:30:00' WHERE account_id = 'A1'"],
     "transactions.booked_on"),
    (["UPDATE trust_yield_payments SET from_fideicomiso = 'true'"],
     "trust_yield_payments.from_fideicomiso"),
    (["UPDATE transactions SET amount = 10.005 WHERE account_id = 'B1'"], "transactions.amount"),
]  # fmt: skip


@pytest.mark.parametrize(("statements", "where"), SQLITE_BREACHES)
def test_values_sqlite_lets_through_stop_the_build(
    sources: Sources, sqlite_url: str, statements: list[str], where: str
) -> None:
    stopped, checked = breach_problems(sources, sqlite_url, statements)
    assert where in [f"{p.relation}.{p.column}" for p in stopped], stopped
    assert where in [f"{p.relation}.{p.column}" for p in checked], checked


@pytest.mark.postgresql
def test_a_postgresql_view_with_timestamps_for_dates_stops_the_build(
    sources: Sources, postgres_url: str
) -> None:
    stopped, checked = breach_problems(sources, postgres_url, [
        "ALTER TABLE transactions RENAME TO transactions_base",
        "CREATE VIEW transactions AS SELECT account_id, booked_on + interval '22 hours' AS "
        "booked_on, amount, kind, counterparty_account_id FROM transactions_base",
    ])  # fmt: skip
    assert "transactions.booked_on" in [f"{p.relation}.{p.column}" for p in stopped], stopped
    assert "transactions.booked_on" in [f"{p.relation}.{p.column}" for p in checked], checked


def test_source_check_names_rows_of_unknown_accounts_and_titles(
    sources: Sources, source_url: str
) -> None:
    source = sources(source_url)
    import_csv_directory(DATA / "source_csv", source)
    with editing(source) as connection:
        connection.execute(sa.text("UPDATE transactions SET account_id = 'Z9' WHERE amount = 0"))
        connection.execute(sa.text("DELETE FROM titles"))
    found = {(p.relation, p.column, p.example_keys) for p in source.check()}
    assert ("transactions", "account_id", ("Z9@2025-01-25",)) in found
    assert ("title_events", "title_id", ("T1@2024-10-01", "T1@2025-01-01")) in found


def test_bad_rows_of_other_persons_do_not_stop_a_build_but_source_check_names_them(
    sources: Sources, source_url: str
) -> None:
    source = sources(source_url)
    import_csv_directory(DATA / "source_csv", source)
    with editing(source) as connection:
        connection.execute(sa.text("UPDATE accounts SET account_type = 9 WHERE account_id = 'B1'"))
    records = sql_records(source_url, request_for((PersonId("CC", "52123456"),), MONTHS))
    assert records and all(r.person == PersonId("CC", "52123456") for r in records)  # type: ignore[attr-defined]
    assert [(p.relation, p.column, p.example_keys) for p in source.check()] == [
        ("accounts", "account_type", ("B1",))
    ]


def test_negative_fiduciary_totals_stop_the_sql_build_like_the_rules(
    sources: Sources, source_url: str
) -> None:
    source = sources(source_url)
    person = PEOPLE[0]
    source.write([SourceData(trust_yield_payments=(
        TrustYieldPayment(person, date(2025, 1, 5), Decimal("10.00"), False),
        TrustYieldPayment(person, date(2025, 1, 6), Decimal("-30.00"), False),
    ))])  # fmt: skip
    with pytest.raises(SourceDataError, match="trust_yield_payments.amount"):
        sql_records(source_url, request_for((person,), MONTHS))


def test_every_day_of_a_long_sparse_history_is_carried_exactly(
    sources: Sources, source_url: str
) -> None:
    # One balance row a year before the month, one in it: the carry-in must reach across.
    source = sources(source_url)
    person = PEOPLE[0]
    rows = (
        DailyBalance("A0", date(2024, 1, 15), Decimal("-12.50")),
        DailyBalance("A0", date(2025, 2, 20), Decimal("7.49")),
    )
    account = Account("A0", person, AccountType.CURRENT, "123456", date(2023, 1, 1))
    source.write([SourceData(accounts=(account,), daily_balances=rows)])
    (record,) = sql_records(
        source_url, request_for((person,), [Period(2025, 2)], frozenset({InformationType.ACCOUNTS}))
    )
    assert (record.median_daily_balance, record.end_balance) == (-13, 7)  # type: ignore[union-attr]


@pytest.mark.parametrize(("statement", "where", "key"), BREACHES[:1] + BREACHES[-1:])
def test_checks_running_beside_the_first_chunk_still_stop_the_build(
    sources: Sources, db_url: str, monkeypatch: pytest.MonkeyPatch,
    statement: str, where: str, key: str,
) -> None:  # fmt: skip
    # Requests are checked on a second connection while the first chunks' SQL runs (SQLite
    # files, PostgreSQL).
    threads: list[str] = []
    checks = report_source.value_problems

    def value_problems(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return checks(*args, **kwargs)

    monkeypatch.setattr(report_source, "value_problems", value_problems)
    clean = sources(db_url)
    import_csv_directory(DATA / "source_csv", clean)
    request = request_for((PersonId("CC", "52123456"), PersonId("PT", "7788990")), MONTHS)
    engine_of = report_source.engines.of
    with monkeypatch.context() as patch:  # first as an engine that checks in turn
        patch.setattr(report_source.engines, "of", lambda b: replace(engine_of(b), parallel=False))
        expected = sql_records(db_url, request)
    assert sql_records(db_url, request, chunk=1) == expected
    with editing(clean) as connection:
        connection.execute(sa.text(statement))
    with pytest.raises(SourceDataError) as caught:
        sql_records(db_url, request, chunk=1)
    stopped = caught.value.problems
    assert [f"{p.relation}.{p.column}" for p in stopped] == [where], stopped
    assert key in stopped[0].example_keys
    # In turn while the engine said it checks in turn, then beside the first chunk (a misfiled
    # holder is found before the value checks start).
    assert [name.split("_")[0] for name in threads][:2] == [
        "ugpp-bridge-build-sql",
        "ugpp-bridge-build-checks",
    ]
    assert all(name.startswith("ugpp-bridge-build-checks") for name in threads[1:])


def test_chunks_built_side_by_side_come_back_in_request_order(
    sources: Sources, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite files and PostgreSQL build chunks on one connection per core; the records, their
    # order and the persons without information are those of one connection in turn.
    source = sources(db_url)
    parts = list(sample_bank(40, 7))
    source.write(parts)
    data = SourceData.merge(parts)
    persons = (STRANGER, *sorted({a.holder for a in data.accounts}))
    request = request_for(persons, [Period(2025, m) for m in (1, 6, 12)])
    threads: set[str] = set()
    chunk = SqlAlchemyReportSource._chunk

    def recorded(self: SqlAlchemyReportSource, *args: Any) -> Any:
        threads.add(threading.current_thread().name)
        return chunk(self, *args)

    monkeypatch.setattr(SqlAlchemyReportSource, "_chunk", recorded)

    def records(workers: int) -> list[object]:
        built = SqlAlchemyReportSource(make_engine(db_url), chunk_persons=3,
                                       parallel_chunks=workers)  # fmt: skip
        try:
            return [r for p in built.person_reports(request, account_number_digits=4)
                    for r in p.records()]  # fmt: skip
        finally:
            built.close()

    one_by_one = records(1)
    assert len(threads) == 1
    threads.clear()
    assert records(3) == one_by_one == list(build_report(request, data).records())
    assert len(threads) == 3, threads


def test_a_failing_chunk_built_side_by_side_stops_the_build(
    sources: Sources, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = sources(db_url)
    source.write(list(sample_bank(30, 5)))
    persons = tuple(PersonId("CC", str(10_000 + n)) for n in range(12))
    request = request_for(persons, MONTHS)
    chunk = SqlAlchemyReportSource._chunk
    started: list[int] = []

    def failing(self: SqlAlchemyReportSource, connection: Any, request: Any, part: Any,
                digits: int) -> Any:  # fmt: skip
        started.append(part[0][0])
        if part[0][0] == 4:  # the third chunk
            connection.exec_driver_sql("SELECT * FROM no_such_relation")
        return chunk(self, connection, request, part, digits)

    monkeypatch.setattr(SqlAlchemyReportSource, "_chunk", failing)
    built = SqlAlchemyReportSource(make_engine(db_url), chunk_persons=2, parallel_chunks=2)
    reports = built.person_reports(request, account_number_digits=4)
    try:
        with pytest.raises(SourceDataError, match="the build query failed"):
            for _ in reports:
                pass
    finally:
        built.close()
    # Chunks are handed out in order, at most one more than connections ahead of the one
    # consumed: the failure stopped the build before the last chunk was started.
    assert 4 in started and 10 not in started, started


def test_sqlite_memory_statistics_are_off_in_a_process_that_builds_from_sqlite_first(
    sqlite_url: str,
) -> None:
    # Their global mutex serialised the connections that build side by side; they can only be
    # switched off before Python's sqlite3 is imported, so a process that imported it earlier
    # builds as before (the same records), only slower.
    probe = (
        "import ctypes, sys\n"
        "from ugpp_bridge.adapters.source.engines import make_engine\n"
        "from ugpp_bridge.adapters.source.engines.sqlite import without_memory_statistics as sqlite_without_memory_statistics\n"
        "if sys.argv[2] == 'late':\n"
        "    import sqlite3\n"
        "engine = make_engine(sys.argv[1])\n"
        "with engine.connect() as connection:\n"
        "    connection.exec_driver_sql('SELECT count(*) FROM sqlite_master').all()\n"
        "library = ctypes.CDLL('libsqlite3.so.0')\n"
        "library.sqlite3_memory_used.restype = ctypes.c_int64\n"
        "print(sqlite_without_memory_statistics(), library.sqlite3_memory_used() > 0)\n"
    )
    answers = {
        when: subprocess.run(
            [sys.executable, "-c", probe, sqlite_url, when],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.split()  # fmt: skip
        for when in ("first", "late")
    }
    assert answers == {"first": ["off", "False"], "late": ["too", "late", "True"]}


@pytest.mark.parametrize(
    ("number", "flagged"),
    [("52123456", False), ("X300", False), ("52123456\n", True), ("52.123.456", True),
     ("", True), ("1234567890123456", False), ("12345678901234567", True), ("Ñ300", True)],
)  # fmt: skip
def test_document_numbers_are_checked_alike_on_every_engine(
    quick_source_url: str, number: str, flagged: bool
) -> None:
    # SQLite checks them with GLOB and length(), the other engines with a regular expression:
    # the same answer, including a trailing line break (which Python's REGEXP, SQLite's
    # former check, let through).
    rows = sa.select(
        sa.literal("PA", sa.Text).label("holder_doc_type"),
        sa.literal(number, sa.Text).label("holder_doc_number"),
    ).subquery("v")
    bad = check._doc_number("accounts").bad(rows)  # type: ignore[arg-type]
    engine = make_engine(quick_source_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(sa.select(bad).select_from(rows)).scalar()
    finally:
        engine.dispose()
    assert bool(found) is flagged


# Tables as a MariaDB DBA would write them (DECIMAL, DATE, BOOLEAN, and text compared under the
# server's default case-insensitive collation), not as `source import` creates them.
MARIADB_DDL = [
    "CREATE TABLE accounts (account_id VARCHAR(40) PRIMARY KEY, holder_doc_type VARCHAR(4),"
    " holder_doc_number VARCHAR(20), account_type INT, account_number VARCHAR(40),"
    " opened_on DATE, closed_on DATE NULL)",
    "CREATE TABLE transactions (account_id VARCHAR(40), booked_on DATE, amount DECIMAL(20,2),"
    " kind VARCHAR(20), counterparty_account_id VARCHAR(40) NULL)",
    "CREATE TABLE daily_balances (account_id VARCHAR(40), balance_date DATE,"
    " balance DECIMAL(20,2))",
    "CREATE TABLE titles (title_id VARCHAR(40) PRIMARY KEY, holder_doc_type VARCHAR(4),"
    " holder_doc_number VARCHAR(20), title_type INT, title_number VARCHAR(60))",
    "CREATE TABLE title_events (title_id VARCHAR(40), event_date DATE, event VARCHAR(20),"
    " amount DECIMAL(20,2))",
    "CREATE TABLE trust_yield_payments (holder_doc_type VARCHAR(4), holder_doc_number"
    " VARCHAR(20), paid_on DATE, amount DECIMAL(20,2), from_fideicomiso BOOLEAN)",
]


@pytest.mark.mysql
def test_a_mariadb_bank_in_its_own_tables_gives_the_golden_lote_and_compares_exactly(
    sources: Sources, mysql_url: str, tmp_path: Path
) -> None:
    from tests.conftest import change_source

    change_source(make_engine(mysql_url).url.render_as_string(False), *MARIADB_DDL)
    # mariadb:// URLs take SQLAlchemy's MariaDB dialect (another name than mysql://'s).
    mariadb_url = mysql_url.replace("mysql://", "mariadb://", 1)
    assert make_engine(mariadb_url).dialect.name == "mariadb"
    test_the_imported_golden_data_gives_the_golden_lote(sources, mariadb_url, tmp_path)
    # Under the default collation 'x300' = 'X300' and 'cc' = 'CC': neither may pass for the other.
    change_source(
        make_engine(mysql_url).url.render_as_string(False),
        "INSERT INTO accounts VALUES ('P1', 'PA', 'x300', 1, '0001', '2020-01-01', NULL)",
        "INSERT INTO daily_balances VALUES ('P1', '2025-01-01', 5)",
    )
    request = request_for((PersonId("PA", "X300"),), [Period(2025, 1)])
    nobody = list(build_report(request, SourceData.merge([])).records())
    assert sql_records(mysql_url, request) == nobody
    assert sql_records(mariadb_url, request, temporary=False) == nobody, "inline persons"
    change_source(
        make_engine(mysql_url).url.render_as_string(False),
        "UPDATE accounts SET holder_doc_type = 'cc' WHERE account_id = 'A1'",
    )
    with pytest.raises(SourceDataError) as caught:
        sql_records(mysql_url, request_for((PersonId("CC", "52123456"),), MONTHS))
    assert [(p.relation, p.column, p.example_keys) for p in caught.value.problems] == [
        ("accounts", "holder_doc_type", ("A1",))
    ]


@pytest.mark.parametrize("cap", [1, 2, 3])
def test_a_build_holds_at_most_the_connections_it_is_allowed(
    sources: Sources, db_url: str, cap: int
) -> None:
    # UGPP_BRIDGE_SOURCE_CONNECTIONS (SPEC §11): a source behind a tight pooler.
    source = sources(db_url)
    parts = list(sample_bank(120, 8))
    source.write(parts)
    data = SourceData.merge(parts)
    request = request_for((*sorted({a.holder for a in data.accounts}), STRANGER), MONTHS)
    engine = make_engine(db_url)
    held, peak = 0, 0
    lock = threading.Lock()

    def checkout(*_: object) -> None:
        nonlocal held, peak
        with lock:
            held += 1
            peak = max(peak, held)

    def checkin(*_: object) -> None:
        nonlocal held
        with lock:
            held -= 1

    sa.event.listen(engine, "checkout", checkout)
    sa.event.listen(engine, "checkin", checkin)
    built = SqlAlchemyReportSource(engine, chunk_persons=10, parallel_chunks=4, max_connections=cap)
    try:
        records = [
            r for p in built.person_reports(request, account_number_digits=4) for r in p.records()
        ]
    finally:
        built.close()
    assert records == list(build_report(request, data).records())
    assert 1 <= peak <= cap
    if db_url.startswith("postgresql") and cap > 1:
        assert peak >= 2  # the checks on a connection of their own beside the build's
