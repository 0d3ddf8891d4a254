"""``SqlAlchemyReportSource``: the build's view of the source — the SQL of ``report_sql``
executed a chunk of persons at a time, its rows turned into the domain's records.

Python only touches output records (a few per person and month), never transactions or days.
"""

from __future__ import annotations

import logging
import os
import queue
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, FromClause, Table
from sqlalchemy.exc import SQLAlchemyError

from ugpp_bridge.adapters.database import describe_error
from ugpp_bridge.adapters.source import engines
from ugpp_bridge.adapters.source import report_sql as q
from ugpp_bridge.adapters.source.check import misfiled_holders, value_problems
from ugpp_bridge.adapters.source.read_ahead import read_ahead
from ugpp_bridge.adapters.source.shape import shape_problems
from ugpp_bridge.adapters.source.sql import chunked, source_unavailable
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

# Engines that run one query on one core (``SourceEngine.parallel``) build chunks side by side,
# one connection per core, and run the value checks on the idle one beside the first chunk's
# SQL. DuckDB and Spark spread every query over all cores already and would only split their
# memory budget (DuckDB ran out of its 128 MB doing so).
MAX_PARALLEL_CHUNKS = 4
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
        parallel_chunks: int | None = None,
        max_connections: int | None = None,
    ) -> None:
        """``max_connections`` caps the connections a build holds on the source at once
        (``UGPP_BRIDGE_SOURCE_CONNECTIONS``, for a source behind a tight pooler): the chunks
        built side by side take all but one, the contract checks the last; with one, the checks
        run first on the build's own connection."""
        self.engine = engine
        self.max_connections = max_connections
        self.parallel_chunks = parallel_chunks or min(MAX_PARALLEL_CHUNKS, os.cpu_count() or 1)
        if max_connections is not None:
            self.parallel_chunks = min(self.parallel_chunks, max(1, max_connections - 1))
        self.kind = engines.of(engine)
        self.chunk_persons = chunk_persons or self.kind.chunk_persons
        # None: not tried yet; False: refused (or switched off), persons go inline.
        self._temporary_ok: bool | None = None if temporary_persons else False

    def close(self) -> None:
        self.engine.dispose()

    def check(self) -> list[SourceProblem]:
        """The shape of the source (relations and columns), cheap whatever its size.

        Values are checked during the build, once over the requested persons' rows only, so
        that the cost follows the request and not the size of the bank.
        """
        try:
            with self.engine.connect() as connection:
                return shape_problems(connection)
        except SQLAlchemyError as exc:
            raise source_unavailable(self.engine, exc) from exc

    def person_reports(
        self, request: FinancialInfoRequest, *, account_number_digits: int
    ) -> Iterator[PersonReport]:
        """Reports in request order; later chunks' SQL runs while this one is consumed."""
        chunks = list(chunked(list(enumerate(request.persons)), self.chunk_persons))
        workers = self._workers(len(chunks))

        def produce() -> Iterator[tuple[PersonReport, ...]]:
            with ExitStack() as stack:
                connection = stack.enter_context(self.engine.connect())
                checker = stack.enter_context(
                    ThreadPoolExecutor(max_workers=1, thread_name_prefix="ugpp-bridge-build-checks")
                )
                # The contract's checks (misfiled holders, then the values), once over every
                # requested person's rows (not per chunk), on a connection of their own while
                # the first chunks' SQL runs: a breach anywhere stops the build before any
                # record leaves this source.
                checks: Future[list[SourceProblem]] | None = self._start_checks(
                    checker, request, connection
                )
                idle: queue.SimpleQueue[Connection] = queue.SimpleQueue()
                idle.put(connection)
                for _ in range(workers - 1):
                    idle.put(stack.enter_context(self.engine.connect()))
                sql = stack.enter_context(
                    ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ugpp-bridge-build")
                )
                stack.callback(sql.shutdown, cancel_futures=True)  # on a failure, stop early

                def build(chunk: list[tuple[int, PersonId]]) -> tuple[PersonReport, ...]:
                    started = time.perf_counter()
                    own = idle.get()
                    try:
                        reports = self._chunk(own, request, chunk, account_number_digits)
                    finally:
                        idle.put(own)
                    logger.info(
                        "Built %d persons of request %s in %.2f s",
                        len(chunk),
                        request.request_id,
                        time.perf_counter() - started,
                    )
                    return reports

                # One chunk more than connections in flight, so that no connection waits for
                # the checks or for the lotes to be written; memory stays a few chunks.
                ahead = workers + 1
                pending = deque(sql.submit(build, chunk) for chunk in chunks[:ahead])
                following = iter(chunks[ahead:])
                while pending:
                    try:
                        reports = pending.popleft().result()
                    except BaseException:  # a breach explains a failed query better
                        _stop_on_problems(checks)
                        raise
                    if (chunk := next(following, None)) is not None:
                        pending.append(sql.submit(build, chunk))
                    waiting, checks = checks, None
                    _stop_on_problems(waiting)  # nothing leaves before the checks pass
                    yield reports
                _stop_on_problems(checks)

        try:
            for reports in read_ahead(produce, name="ugpp-bridge-build-sql"):
                yield from reports
        except SQLAlchemyError as exc:
            message = f"the build query failed: {describe_error(exc)}"
            raise SourceDataError([SourceProblem("(query)", None, message)]) from exc

    def _workers(self, chunks: int) -> int:
        """Connections building chunks side by side: one per core on engines that run a query
        on one core (SQLite, PostgreSQL), where the build's SQL is the critical path."""
        if not self.kind.parallel or self._in_memory():
            return 1
        return max(1, min(chunks, self.parallel_chunks))

    def _in_memory(self) -> bool:
        return self.kind.single_connection(self.engine)

    def _start_checks(
        self, checker: ThreadPoolExecutor, request: FinancialInfoRequest, own: Connection
    ) -> Future[list[SourceProblem]]:
        done: Future[list[SourceProblem]] = Future()
        if self.max_connections == 1:  # on the build's own connection, before any chunk
            done.set_result(self._checks_on(own, request))
            return done
        if not self.kind.parallel or self._in_memory():
            done.set_result(self._value_checks(request))
            return done
        return checker.submit(self._value_checks, request)

    def _value_checks(self, request: FinancialInfoRequest) -> list[SourceProblem]:
        with self.engine.connect() as connection:
            return self._checks_on(connection, request)

    def _checks_on(
        self, connection: Connection, request: FinancialInfoRequest
    ) -> list[SourceProblem]:
        misfiled = misfiled_holders(connection, request.persons)
        if misfiled:  # the value checks would miss these rows: they are named alone
            return misfiled
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
        if self.kind.register_rows is not None and self._temporary_ok is not False:
            self.kind.register_rows(connection, table.name, rows)  # e.g. a Spark broadcast view
            return table
        if self._temporary_ok is not False:
            try:
                # DuckDB has no savepoints, and always allows a temporary table.
                no_savepoint = not self.kind.savepoints
                with nullcontext() if no_savepoint else connection.begin_nested():
                    table.create(connection, checkfirst=True)
                    connection.execute(table.delete())
                    connection.execute(table.insert(), rows)
                    if self.kind.after_load is not None:  # the planner then joins them well
                        self.kind.after_load(connection, [table.name])
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
                persons, periods, correlated_carry_in=self.kind.correlated_carry_in
            )
            suffix = _Suffixes(digits)
            accounts = [
                _account(by_pos, row, period_of, suffix)
                for row in _rows(connection, statement, q.ACCOUNT_MONTH_COLUMNS)
            ]
        if request.asks_for(InformationType.INVESTMENTS):
            statement = q.title_months_query(persons, periods)
            titles = [
                _title(by_pos, row, period_of)
                for row in _rows(connection, statement, q.TITLE_MONTH_COLUMNS)
            ]
        if request.asks_for(InformationType.TRUST):
            statement = q.trust_years_query(persons, request.years)
            trust = [
                _trust(by_pos, row) for row in _rows(connection, statement, q.TRUST_YIELD_COLUMNS)
            ]
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


def _rows(connection: Connection, statement: Any, columns: tuple[str, ...]) -> Iterator[Any]:
    """The statement's rows, unpacked by position in the column order the record builders use
    (the statement's own, checked once): cheaper per row than mappings, 155,504 rows a build."""
    result = connection.execute(statement)
    if tuple(result.keys()) != columns:
        raise AssertionError(f"the build query returns {tuple(result.keys())}, not {columns}")
    return iter(result)


def _account(
    by_pos: dict[int, PersonId],
    row: Any,
    period_of: dict[tuple[int, int], Period],
    suffix: _Suffixes,
) -> AccountMonthRecord:
    (pos, year, month, account_type, account_number, account_id, median, end_balance,
     credits, credits_count, debits, debits_count) = row  # fmt: skip
    try:
        return AccountMonthRecord(
            person=by_pos[pos],
            period=period_of[(year, month)],
            account_type=AccountType(account_type),
            account_number=suffix(account_number),
            credits_value=cents_to_pesos(credits),
            credits_count=int(credits_count),
            debits_value=cents_to_pesos(debits),
            debits_count=int(debits_count),
            median_daily_balance=cents_to_pesos(median),
            end_balance=cents_to_pesos(end_balance),
            account_id=account_id,
        )
    except (ValueError, InvalidInputError) as exc:
        problem = SourceProblem("accounts", None, str(exc), (str(account_id),))
        raise SourceDataError([problem]) from exc


def _title(
    by_pos: dict[int, PersonId], row: Any, period_of: dict[tuple[int, int], Period]
) -> TitleMonthRecord:
    (pos, title_id, title_type, title_number, year, month, principal, _event_date, _order,
     event, value) = row  # fmt: skip
    try:
        return TitleMonthRecord(
            person=by_pos[pos],
            period=period_of[(year, month)],
            title_number=str(title_number),
            title_type=TitleType(title_type),
            movement_type=_MOVEMENT[event],
            value=cents_to_pesos(value),
            balance=cents_to_pesos(principal),
            title_id=title_id,
        )
    except (ValueError, KeyError) as exc:
        problem = SourceProblem("titles", None, str(exc), (str(title_id),))
        raise SourceDataError([problem]) from exc


def _trust(by_pos: dict[int, PersonId], row: Any) -> TrustYieldRecord:
    pos, year, total = row
    person = by_pos[pos]
    total = int(total)
    if total < 0:
        message = f"the payments of one person in {year} add up to a negative amount"
        raise SourceDataError(
            [SourceProblem("trust_yield_payments", "amount", message, (person.masked(),))]
        )
    return TrustYieldRecord(person=person, year=year, amount_paid=cents_to_pesos(total))
