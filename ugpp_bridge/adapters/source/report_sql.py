"""R1–R3 pushed into the source database as SQL (SQLAlchemy Core), a chunk of persons at a time.

The same Core queries run on every SQL engine; only ``days_between`` is rendered per
dialect. Amounts are summed as integer centavos (``ROUND(amount * 100)``), exact on every
engine, and rounded to pesos in Python on the final figure only.

The upper median of carried-forward daily balances is computed without one row per calendar
day: each month splits into *segments* — the balance carried in at the first open day, then one
segment per balance row inside the open days — each weighing the days until the next segment
starts. Ordered by balance, the running sum of weights first passes ``n // 2`` (written as
``2 · cum > n``) at the upper median.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    CTE,
    BigInteger,
    Column,
    Date,
    FromClause,
    Integer,
    MetaData,
    Select,
    Table,
    Text,
    and_,
    case,
    cast,
    column,
    exists,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    tuple_,
    union_all,
    values,
)
from sqlalchemy.sql.elements import ColumnElement

from ugpp_bridge.adapters.source import schema as s
from ugpp_bridge.adapters.source.dialects import days_between
from ugpp_bridge.adapters.source.engines import postgresql, spark
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.periods import Period

EXCLUDED_KINDS = ("returned_cheque", "own_transfer")
# The columns of R1–R3, in the order the build unpacks their rows.
ACCOUNT_MONTH_COLUMNS = (
    "pos", "year", "month", "account_type", "account_number", "account_id", "median",
    "end_balance", "credits", "credits_count", "debits", "debits_count",
)  # fmt: skip
TITLE_MONTH_COLUMNS = (
    "pos", "title_id", "title_type", "title_number", "year", "month", "principal",
    "event_date", "event_order", "event", "value",
)  # fmt: skip
TRUST_YIELD_COLUMNS = ("pos", "year", "total")


def cents(amount: ColumnElement[Any]) -> ColumnElement[int]:
    """An amount as exact integer centavos on every engine."""
    return cast(func.round(amount * 100), BigInteger)


def persons_cte(persons: list[tuple[int, PersonId]]) -> CTE:
    """The chunk's persons inline (``VALUES``): the fallback where temporary tables are refused.

    Every statement carrying it is compiled afresh (about 0.15 s for 2,000 persons), so the
    build prefers ``persons_table``, a session temporary table whose statements are cached.
    """
    rows = [(position, p.doc_type, p.doc_number) for position, p in persons]
    return (
        values(
            column("pos", Integer),
            column("doc_type", Text),
            column("doc_number", Text),
            name="persons",
        )
        .data(rows)
        .cte("persons")
    )


_temporary = MetaData()


def _persons_table(name: str) -> Table:
    return Table(
        name,
        _temporary,
        Column("pos", Integer, primary_key=True, autoincrement=False),
        Column("doc_type", Text, nullable=False),
        Column("doc_number", Text, nullable=False),
        prefixes=["TEMPORARY"],
    )


persons_table = _persons_table("ugpp_bridge_persons")  # the chunk being built
request_persons_table = _persons_table("ugpp_bridge_request_persons")  # the whole request


def periods_cte(periods: list[Period]) -> CTE:
    rows = [(p.year, p.month, p.first_day, p.last_day) for p in periods]
    return (
        values(
            column("year", Integer),
            column("month", Integer),
            column("first_day", Date),
            column("last_day", Date),
            name="periods",
        )
        .data(rows)
        .cte("periods")
    )


def _holder_of(table: Any, persons: FromClause) -> ColumnElement[bool]:
    return and_(
        table.c.holder_doc_type == s.byte_exact(persons.c.doc_type),
        table.c.holder_doc_number == s.byte_exact(persons.c.doc_number),
    )


def _later(a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((a > b, a), else_=b)


def account_months_query(
    persons: FromClause, periods: CTE, *, correlated_carry_in: bool = True
) -> Select[Any]:
    """R1: one row per account of a requested person and requested month it was open.

    ``correlated_carry_in=False`` finds each month's carried-in balance with a join and an
    aggregate instead of a correlated ``ORDER BY … LIMIT 1`` subquery: SQLite and PostgreSQL
    answer the subquery with one index seek, but Spark (no indexes) decorrelates it into a
    cartesian product of the months and every balance row.
    """
    a = s.accounts
    month_key = func.row_number().over(  # one integer key per account-month, deterministic
        order_by=(persons.c.pos, a.c.account_id, periods.c.year, periods.c.month)
    )
    months = (
        select(
            month_key.label("k"),
            persons.c.pos,
            a.c.account_id,
            a.c.holder_doc_type,
            a.c.holder_doc_number,
            a.c.account_type,
            a.c.account_number,
            periods.c.year,
            periods.c.month,
            periods.c.first_day,
            periods.c.last_day,
            _later(a.c.opened_on, periods.c.first_day).label("open_from"),
            case(
                (
                    and_(a.c.closed_on.is_not(None), a.c.closed_on < periods.c.last_day),
                    a.c.closed_on,
                ),
                else_=periods.c.last_day,
            ).label("open_to"),
        )
        .select_from(persons.join(a, _holder_of(a, persons)).join(periods, true()))
        .where(
            a.c.opened_on <= periods.c.last_day,
            or_(a.c.closed_on.is_(None), a.c.closed_on >= periods.c.first_day),
        )
        .cte("account_months")
    )
    figures = _balances(months, correlated_carry_in)
    t = s.transactions
    # Only a counterparty held by the same person matches: a match means "exclude".
    own = s.accounts.alias("own_counterparty")
    counted = and_(t.c.account_id.is_not(None), own.c.account_id.is_(None))
    amount = cents(t.c.amount)
    credit, debit = and_(counted, t.c.amount > 0), and_(counted, t.c.amount < 0)
    shown = (
        months.c.pos,
        months.c.year,
        months.c.month,
        months.c.account_type,
        months.c.account_number,
        months.c.account_id,
        figures.c.median,
        figures.c.end_balance,
    )
    return (
        select(
            *shown,
            _total(case((credit, amount), else_=0)).label("credits"),
            _total(case((credit, 1), else_=0)).label("credits_count"),
            _total(case((debit, -amount), else_=0)).label("debits"),
            _total(case((debit, 1), else_=0)).label("debits_count"),
        )
        .select_from(
            months.join(figures, figures.c.k == months.c.k)
            .outerjoin(
                t,
                and_(
                    t.c.account_id == months.c.account_id,
                    t.c.booked_on >= months.c.first_day,
                    t.c.booked_on <= months.c.last_day,
                    t.c.kind.not_in(EXCLUDED_KINDS),
                ),
            )
            .outerjoin(
                own,
                and_(
                    own.c.account_id == t.c.counterparty_account_id,
                    own.c.holder_doc_type == months.c.holder_doc_type,
                    own.c.holder_doc_number == months.c.holder_doc_number,
                ),
            )
        )
        .group_by(*shown)
        .order_by(months.c.pos, months.c.account_id, months.c.year, months.c.month)
    )


def _total(value: ColumnElement[Any]) -> ColumnElement[int]:
    """SUM as BIGINT (0 when empty): PostgreSQL would widen it to numeric, read as Decimal."""
    return cast(func.coalesce(func.sum(value), 0), BigInteger)


def _same(left: Any, right: Any, names: tuple[str, ...]) -> ColumnElement[bool]:
    return and_(*(left.c[name] == right.c[name] for name in names))


# The requested persons' account-months are few beside the balances: Spark, which cannot
# estimate them, is told to send them to every executor rather than shuffle the balances.


def _carried_in(months: CTE, correlated: bool) -> tuple[FromClause, ColumnElement[Any]]:
    """The balance carried into each account-month's first open day (the last balance row on
    or before it), as (what the first segment selects from, its balance in centavos)."""
    b = s.daily_balances
    if correlated:
        latest = (
            select(cents(b.c.balance))
            .where(b.c.account_id == months.c.account_id, b.c.balance_date <= months.c.open_from)
            .order_by(b.c.balance_date.desc())
            .limit(1)
            .scalar_subquery()
        )
        return months, func.coalesce(latest, 0)
    carried = (
        select(months.c.k, func.max_by(cents(b.c.balance), b.c.balance_date).label("balance"))
        .select_from(
            months.join(
                b,
                and_(b.c.account_id == months.c.account_id,
                     b.c.balance_date <= months.c.open_from),
            )
        )
        .group_by(months.c.k)
        .prefix_with(spark.BROADCAST_MONTHS, dialect=spark.DIALECT)
        .cte("carried_in")
    )  # fmt: skip
    joined = months.outerjoin(carried, carried.c.k == months.c.k)
    return joined, func.coalesce(carried.c.balance, 0)


def _balances(months: CTE, correlated_carry_in: bool = True) -> CTE:
    """The upper median and the end balance of each account-month (key ``k``), in centavos.

    Every segment row carries its account-month's key, last open day and number of open days,
    so the weights and the median need no join back to the account-months.
    """
    b = s.daily_balances
    first_segment, carried_in = _carried_in(months, correlated_carry_in)
    open_days = (days_between(months.c.open_from, months.c.open_to) + 1).label("open_days")
    starts = union_all(
        select(
            months.c.k,
            months.c.open_to,
            open_days,
            months.c.open_from.label("start_day"),
            carried_in.label("balance"),
        ).select_from(first_segment),
        select(
            months.c.k,
            months.c.open_to,
            open_days,
            b.c.balance_date.label("start_day"),
            cents(b.c.balance).label("balance"),
        )
        .prefix_with(spark.BROADCAST_MONTHS, dialect=spark.DIALECT)
        .select_from(
            months.join(
                b,
                and_(
                    b.c.account_id == months.c.account_id,
                    b.c.balance_date > months.c.open_from,
                    b.c.balance_date <= months.c.open_to,
                ),
            )
        ),
    ).cte("segment_starts")
    next_start = func.lead(starts.c.start_day).over(
        partition_by=starts.c.k, order_by=starts.c.start_day
    )
    segments = select(
        starts.c.k, starts.c.open_to, starts.c.open_days, starts.c.start_day, starts.c.balance,
        next_start.label("next_start"),
    ).cte("segments")  # fmt: skip
    weight = case(
        (
            segments.c.next_start.is_(None),
            days_between(segments.c.start_day, segments.c.open_to) + 1,
        ),
        else_=days_between(segments.c.start_day, segments.c.next_start),
    )
    ranked = select(
        segments.c.k,
        segments.c.balance,
        segments.c.next_start,
        segments.c.open_days,
        func.sum(weight)
        .over(
            partition_by=segments.c.k,
            order_by=(segments.c.balance, segments.c.start_day),
            rows=(None, 0),
        )
        .label("cum"),
    ).cte("ranked")
    # One aggregate gives both figures, computed once (MATERIALIZED): inlined, PostgreSQL may
    # re-run the aggregation per account-month when its row estimates are poor.
    return (
        select(
            ranked.c.k,
            func.min(case((2 * ranked.c.cum > ranked.c.open_days, ranked.c.balance))).label(
                "median"
            ),
            func.max(case((ranked.c.next_start.is_(None), ranked.c.balance))).label("end_balance"),
        )
        .group_by(ranked.c.k)
        .cte("balance_figures")
        .prefix_with(postgresql.MATERIALIZED, dialect=postgresql.DIALECT)
    )


def title_months_query(persons: FromClause, periods: CTE) -> Select[Any]:
    """R2: every event of a requested month, else one Vigente row while principal is owed."""
    ti, e = s.titles, s.title_events
    signed = case((e.c.event == "cancellation", -cents(e.c.amount)), else_=cents(e.c.amount))
    principal = (
        select(_total(signed))
        .where(e.c.title_id == ti.c.title_id, e.c.event_date <= periods.c.last_day)
        .scalar_subquery()
    )
    months = (
        select(
            persons.c.pos,
            ti.c.title_id,
            ti.c.title_type,
            ti.c.title_number,
            periods.c.year,
            periods.c.month,
            periods.c.first_day,
            periods.c.last_day,
            func.coalesce(principal, 0).label("principal"),
        )
        .select_from(persons.join(ti, _holder_of(ti, persons)).join(periods, true()))
        .cte("title_months")
    )
    in_month = and_(
        e.c.title_id == months.c.title_id,
        e.c.event_date >= months.c.first_day,
        e.c.event_date <= months.c.last_day,
    )
    order = case((e.c.event == "issue", 0), (e.c.event == "renewal", 1), else_=2)
    shared = (
        months.c.pos,
        months.c.title_id,
        months.c.title_type,
        months.c.title_number,
        months.c.year,
        months.c.month,
        months.c.principal,
    )
    events = select(
        *shared,
        e.c.event_date.label("event_date"),
        order.label("event_order"),
        e.c.event.label("event"),
        cents(e.c.amount).label("value"),
    ).select_from(months.join(e, in_month))
    outstanding = select(
        *shared,
        null().label("event_date"),
        literal(3).label("event_order"),
        literal("outstanding").label("event"),
        months.c.principal.label("value"),
    ).where(months.c.principal > 0, ~exists().where(in_month))
    both = union_all(events, outstanding).subquery("title_records")
    return select(both).order_by(
        both.c.pos,
        both.c.title_id,
        both.c.year,
        both.c.month,
        both.c.event_date,
        both.c.event_order,
        both.c.value,
    )


def trust_years_query(persons: FromClause, years: list[int]) -> Select[Any]:
    """R3: per person and requested year, the payments not made from a fideicomiso."""
    p = s.trust_yield_payments
    year_rows = (
        values(
            column("year", Integer),
            column("first_day", Date),
            column("last_day", Date),
            name="years",
        )
        .data([(y, Period(y, 1).first_day, Period(y, 12).last_day) for y in years])
        .cte("years")
    )
    return (
        select(persons.c.pos, year_rows.c.year, _total(cents(p.c.amount)).label("total"))
        .select_from(
            persons.join(p, _holder_of(p, persons)).join(
                year_rows,
                and_(p.c.paid_on >= year_rows.c.first_day, p.c.paid_on <= year_rows.c.last_day),
            )
        )
        .where(p.c.from_fideicomiso == false())
        .group_by(persons.c.pos, year_rows.c.year)
        .order_by(persons.c.pos, year_rows.c.year)
    )


def chunk_scopes(persons: FromClause) -> dict[str, Callable[[Any], Select[Any]]]:
    """Per relation, a select of the rows that belong to the chunk's persons (for the scoped
    value checks). ``IN (subquery)`` lets both engines start from the persons and use the
    holder, account and title indexes."""
    a, ti = s.accounts, s.titles
    chunk = select(persons.c.doc_type, persons.c.doc_number)
    own_accounts = select(a.c.account_id).where(
        tuple_(a.c.holder_doc_type, a.c.holder_doc_number).in_(chunk)
    )
    own_titles = select(ti.c.title_id).where(
        tuple_(ti.c.holder_doc_type, ti.c.holder_doc_number).in_(chunk)
    )

    def holders(table: Any) -> Select[Any]:
        return select(table).where(
            tuple_(table.c.holder_doc_type, table.c.holder_doc_number).in_(chunk)
        )

    return {
        "accounts": holders,
        "titles": holders,
        "trust_yield_payments": holders,
        "transactions": lambda table: select(table).where(table.c.account_id.in_(own_accounts)),
        "daily_balances": lambda table: select(table).where(table.c.account_id.in_(own_accounts)),
        "title_events": lambda table: select(table).where(table.c.title_id.in_(own_titles)),
    }
