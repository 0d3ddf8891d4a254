"""``SqlAlchemyReportSource``: the build's view of the source — the SQL of ``report_sql``
executed a chunk of persons at a time, its rows turned into the domain's records.

Python only touches output records (a few per person and month), never transactions or days.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, FromClause, Table
from sqlalchemy.exc import SQLAlchemyError

from ugpp_bridge.adapters.source import report_sql as q
from ugpp_bridge.adapters.source.check import misfiled_holders, value_problems
from ugpp_bridge.adapters.source.read_ahead import read_ahead
from ugpp_bridge.adapters.source.shape import shape_problems
from ugpp_bridge.adapters.source.sql import chunked, describe_error, source_unavailable
from ugpp_bridge.domain.accounts import AccountMonthRecord, account_number_suffix
from ugpp_bridge.domain.codes import (
    AccountType,
    InformationType,
    MovementType,
    TitleType,
)
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.money import cents_to_pesos
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.domain.report import PersonReport, person_reports
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.domain.titles import TitleMonthRecord
from ugpp_bridge.domain.trust import TrustYieldRecord
from ugpp_bridge.errors import InvalidInputError, SourceDataError, SourceProblem
from ugpp_bridge.service.ports import ReportSource

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_PERSONS = 2_000
# Each chunk is a pass over the relations where no index narrows them (Spark reads and
# shuffles every balance row whatever the chunk's size): fewer, larger chunks there.
CHUNK_PERSONS_BY_ENGINE = {"spark": 10_000}
# Engines that run one query on one core, where the value checks use the idle one beside the
# first chunk's SQL. DuckDB and Spark spread every query over all cores already and would only
# split their memory budget between the two (DuckDB ran out of its 128 MB doing so); an
# in-memory SQLite database exists once per connection, so it is checked in turn as well.
CONCURRENT_CHECKS = frozenset({"sqlite", "postgresql"})
CONCURRENT_CHECKS_FROM = 1_000  # persons; below, a second connection costs more than it saves
_MOVEMENT = {
    "issue": MovementType.ISSUE,
    "renewal": MovementType.RENEWAL,
    "cancellation": MovementType.CANCELLATION,
    "outstanding": MovementType.OUTSTANDING,
}


class SqlAlchemyReportSource(ReportSource):
    """Runs R1–R3 inside the source database, ``chunk_persons`` persons per round trip."""

    def __init__(
        self,
        engine: Engine,
        chunk_persons: int | None = None,
        *,
        temporary_persons: bool = True,
    ) -> None:
        self.engine = engine
        self.chunk_persons = chunk_persons or CHUNK_PERSONS_BY_ENGINE.get(
            engine.dialect.name, DEFAULT_CHUNK_PERSONS
        )
        # None: not tried yet; False: refused (or switched off), persons go inline.
        self._temporary_ok: bool | None = None if temporary_persons else False

    def close(self) -> None:
        self.engine.dispose()

    def check(self) -> list[SourceProblem]:
        """The shape of the source (relations and columns), cheap whatever its size.

        Values are checked chunk by chunk during the build, on the requested persons' rows
        only, so that the cost follows the request and not the size of the bank.
        """
        try:
            with self.engine.connect() as connection:
                return shape_problems(connection)
        except SQLAlchemyError as exc:
            raise source_unavailable(self.engine, exc) from exc

    def person_reports(
        self, request: FinancialInfoRequest, *, account_number_digits: int
    ) -> Iterator[PersonReport]:
        """Reports in request order; the next chunk's SQL runs while this one is consumed."""
        chunks = list(chunked(list(enumerate(request.persons)), self.chunk_persons))

        def produce() -> Iterator[tuple[PersonReport, ...]]:
            with (
                self.engine.connect() as connection,
                ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="ugpp-bridge-build-checks"
                ) as checker,
            ):
                misfiled = misfiled_holders(connection, request.persons)
                if misfiled:
                    raise SourceDataError(misfiled)
                # The contract's value checks, once over every requested person's rows (not
                # per chunk), on a connection of their own while the first chunk's SQL runs:
                # a breach anywhere stops the build before any record leaves this source.
                checks: Future[list[SourceProblem]] | None = self._start_checks(checker, request)
                for chunk in chunks:
                    started = time.perf_counter()
                    try:
                        reports = self._chunk(connection, request, chunk, account_number_digits)
                    finally:  # a breach explains a failed query better than the query's error
                        pending, checks = checks, None
                        _stop_on_problems(pending)
                    yield reports
                    logger.info(
                        "Built %d persons of request %s in %.2f s",
                        len(chunk),
                        request.request_id,
                        time.perf_counter() - started,
                    )
                _stop_on_problems(checks)

        try:
            for reports in read_ahead(produce, name="ugpp-bridge-build-sql"):
                yield from reports
        except SQLAlchemyError as exc:
            message = f"the build query failed: {describe_error(exc)}"
            raise SourceDataError([SourceProblem("(query)", None, message)]) from exc

    def _start_checks(
        self, checker: ThreadPoolExecutor, request: FinancialInfoRequest
    ) -> Future[list[SourceProblem]]:
        url = self.engine.url
        memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
        small = len(request.persons) < CONCURRENT_CHECKS_FROM
        if self.engine.dialect.name not in CONCURRENT_CHECKS or memory or small:
            done: Future[list[SourceProblem]] = Future()
            done.set_result(self._value_checks(request))
            return done
        return checker.submit(self._value_checks, request)

    def _value_checks(self, request: FinancialInfoRequest) -> list[SourceProblem]:
        with self.engine.connect() as connection:
            everyone = self._persons(
                connection, list(enumerate(request.persons)), q.request_persons_table
            )
            return value_problems(connection, q.chunk_scopes(everyone))

    def _persons(
        self,
        connection: Connection,
        chunk: list[tuple[int, PersonId]],
        table: Table = q.persons_table,
    ) -> FromClause:
        """The chunk's persons in a session temporary table; inline where that is refused.

        Writing to a temporary table leaves the source untouched (it lives in the session);
        a read-only replica refuses even that, and then the persons travel inline.
        """
        rows = [{"pos": n, "doc_type": p.doc_type, "doc_number": p.doc_number} for n, p in chunk]
        if connection.dialect.name == "spark" and self._temporary_ok is not False:
            # A broadcast view of the connection's own Spark session.
            from ugpp_bridge.adapters.source.spark import register_rows

            register_rows(connection, table.name, rows)
            return table
        if self._temporary_ok is not False:
            try:
                # DuckDB has no savepoints, and always allows a temporary table.
                no_savepoint = connection.dialect.name == "duckdb"
                with nullcontext() if no_savepoint else connection.begin_nested():
                    table.create(connection, checkfirst=True)
                    connection.execute(table.delete())
                    connection.execute(table.insert(), rows)
                    if connection.dialect.name == "postgresql":
                        connection.exec_driver_sql(f"ANALYZE {table.name}")
                self._temporary_ok = True
                return table
            except SQLAlchemyError as exc:
                if no_savepoint:
                    connection.rollback()  # nothing else was done in this transaction
                logger.info(
                    "No temporary table in the source (%s); persons go inline", describe_error(exc)
                )
                self._temporary_ok = False
        return q.persons_cte(chunk)

    def _chunk(
        self,
        connection: Connection,
        request: FinancialInfoRequest,
        chunk: list[tuple[int, PersonId]],
        digits: int,
    ) -> tuple[PersonReport, ...]:
        persons = self._persons(connection, chunk)
        periods = q.periods_cte(sorted(request.periods))
        by_pos = dict(chunk)
        accounts: list[AccountMonthRecord] = []
        titles: list[TitleMonthRecord] = []
        trust: list[TrustYieldRecord] = []
        period_of = {(p.year, p.month): p for p in request.periods}
        if request.asks_for(InformationType.ACCOUNTS):
            statement = q.account_months_query(
                persons, periods, correlated_carry_in=connection.dialect.name != "spark"
            )
            rows = connection.execute(statement).mappings()
            suffix = _Suffixes(digits)
            accounts = [_account(by_pos[row["pos"]], row, period_of, suffix) for row in rows]
        if request.asks_for(InformationType.INVESTMENTS):
            rows = connection.execute(q.title_months_query(persons, periods)).mappings()
            titles = [_title(by_pos[row["pos"]], row, period_of) for row in rows]
        if request.asks_for(InformationType.TRUST):
            rows = connection.execute(q.trust_years_query(persons, request.years)).mappings()
            trust = [_trust(by_pos[row["pos"]], row) for row in rows]
        return person_reports([person for _, person in chunk], accounts, titles, trust)


def _stop_on_problems(
    checks: Future[list[SourceProblem]] | None,
) -> None:
    """Wait for the value checks (once) and stop the build on what they found."""
    if checks is not None:
        problems = checks.result()
        if problems:
            raise SourceDataError(problems)


class _Suffixes:
    """The reported digits of each account number, computed once per account."""

    def __init__(self, digits: int) -> None:
        self.digits = digits
        self.known: dict[str, str] = {}

    def __call__(self, account_number: object) -> str:
        number = str(account_number)
        suffix = self.known.get(number)
        if suffix is None:
            suffix = self.known[number] = account_number_suffix(number, self.digits)
        return suffix


def _account(
    person: PersonId, row: Any, period_of: dict[tuple[int, int], Period], suffix: _Suffixes
) -> AccountMonthRecord:
    try:
        return AccountMonthRecord(
            person=person,
            period=period_of[(row["year"], row["month"])],
            account_type=AccountType(row["account_type"]),
            account_number=suffix(row["account_number"]),
            credits_value=cents_to_pesos(row["credits"]),
            credits_count=int(row["credits_count"]),
            debits_value=cents_to_pesos(row["debits"]),
            debits_count=int(row["debits_count"]),
            median_daily_balance=cents_to_pesos(row["median"]),
            end_balance=cents_to_pesos(row["end_balance"]),
            account_id=row["account_id"],
        )
    except (ValueError, InvalidInputError) as exc:
        problem = SourceProblem("accounts", None, str(exc), (str(row["account_id"]),))
        raise SourceDataError([problem]) from exc


def _title(
    person: PersonId, row: Any, period_of: dict[tuple[int, int], Period]
) -> TitleMonthRecord:
    try:
        return TitleMonthRecord(
            person=person,
            period=period_of[(row["year"], row["month"])],
            title_number=str(row["title_number"]),
            title_type=TitleType(row["title_type"]),
            movement_type=_MOVEMENT[row["event"]],
            value=cents_to_pesos(row["value"]),
            balance=cents_to_pesos(row["principal"]),
            title_id=row["title_id"],
        )
    except (ValueError, KeyError) as exc:
        problem = SourceProblem("titles", None, str(exc), (str(row["title_id"]),))
        raise SourceDataError([problem]) from exc


def _trust(person: PersonId, row: Any) -> TrustYieldRecord:
    total = int(row["total"])
    if total < 0:
        message = f"the payments of one person in {row['year']} add up to a negative amount"
        raise SourceDataError(
            [SourceProblem("trust_yield_payments", "amount", message, (person.masked(),))]
        )
    return TrustYieldRecord(person=person, year=row["year"], amount_paid=cents_to_pesos(total))
