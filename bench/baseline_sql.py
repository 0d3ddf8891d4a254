"""The independent baseline (issue 16): R1–R3 written by hand from SPEC §2, as plain SQL text.

Nothing here comes from ``ugpp_bridge/adapters/source/report_sql.py``: one statement per section and
engine, over a ``bench_persons`` table, returning wire-level rows (amounts in centavos, rounded
to pesos by the caller with the rule's rounding). ``engine_benchmark.py`` asserts these rows
equal to the records of ``report``'s lotes before it times anything.

The median follows SPEC §2 directly on the carried-forward series without one row per day:
the balance carried in at the first open day plus one segment per balance row inside the open
days, each weighing the days until the next; ordered by balance, the segment whose running
weight first exceeds n/2 (``2·cum > n AND 2·(cum − w) ≤ n``) holds ``sorted(b)[n // 2]``.
"""

from __future__ import annotations

from datetime import date

# Per engine: the greater/lesser of two dates, whole days between two dates, a date plus one
# day, the year of a date.
_DIALECT = {
    "sqlite": {
        "greatest": "MAX({a}, {b})",
        "least": "MIN({a}, {b})",
        "days": "CAST(julianday({b}) - julianday({a}) AS INTEGER)",
        "next_day": "date({a}, '+1 day')",
        "not_fideicomiso": "y.from_fideicomiso = 0",
        "materialized": "",
    },
    "postgresql": {
        "greatest": "GREATEST({a}, {b})",
        "least": "LEAST({a}, {b})",
        "days": "({b} - {a})",
        "next_day": "({a} + 1)",
        "not_fideicomiso": "NOT y.from_fideicomiso",
        # PostgreSQL inlines a CTE used once; joined to the others it then re-aggregates the
        # movements for every account-month (estimates of 1 row), so keep it materialised.
        "materialized": "MATERIALIZED",
    },
}
_DIALECT["duckdb"] = {**_DIALECT["postgresql"], "days": "date_diff('day', {a}, {b})",
                      "next_day": "CAST({a} + INTERVAL 1 DAY AS DATE)"}  # fmt: skip


def _f(engine: str, name: str, **parts: str) -> str:
    return _DIALECT[engine][name].format(**parts)


def periods_values(periods: list[tuple[int, int, date, date]]) -> str:
    rows = ", ".join(
        f"({y}, {m}, DATE '{first.isoformat()}', DATE '{last.isoformat()}')"
        for y, m, first, last in periods
    )
    return f"periods(year, month, first_day, last_day) AS (VALUES {rows})"


def periods_values_sqlite(periods: list[tuple[int, int, date, date]]) -> str:
    rows = ", ".join(
        f"({y}, {m}, '{first.isoformat()}', '{last.isoformat()}')" for y, m, first, last in periods
    )
    return f"periods(year, month, first_day, last_day) AS (VALUES {rows})"


def accounts_sql(engine: str, periods: list[tuple[int, int, date, date]]) -> str:
    """R1: doc type, doc number, year, month, account type, account number, credits (centavos),
    credit count, debits (centavos), debit count, median (centavos), end balance (centavos)."""
    values = periods_values_sqlite(periods) if engine == "sqlite" else periods_values(periods)
    start = _f(engine, "greatest", a="a.opened_on", b="p.first_day")
    end = _f(engine, "least", a="COALESCE(a.closed_on, p.last_day)", b="p.last_day")
    after_end = _f(engine, "next_day", a="s.e")
    weight = _f(engine, "days", a="s.d", b=f"COALESCE(LEAD(s.d) OVER by_day, {after_end})")
    open_days = _f(engine, "days", a="s.s", b="s.e")
    return f"""
WITH {values},
am AS (
    SELECT ROW_NUMBER() OVER (ORDER BY a.account_id, p.year, p.month) AS k,
           a.account_id, bp.doc_type, bp.doc_number,
           a.account_type, a.account_number, p.year, p.month, p.first_day, p.last_day,
           {start} AS s, {end} AS e
    FROM bench_persons bp
    JOIN accounts a ON a.holder_doc_type = bp.doc_type AND a.holder_doc_number = bp.doc_number
    JOIN periods p ON a.opened_on <= p.last_day
                  AND (a.closed_on IS NULL OR a.closed_on >= p.first_day)
),
seg0 AS (
    SELECT am.k, am.s, am.e, am.s AS d,
           COALESCE((SELECT b.balance FROM daily_balances b
                     WHERE b.account_id = am.account_id AND b.balance_date <= am.s
                     ORDER BY b.balance_date DESC LIMIT 1), 0) AS v
    FROM am
    UNION ALL
    SELECT am.k, am.s, am.e, b.balance_date, b.balance
    FROM am JOIN daily_balances b
      ON b.account_id = am.account_id AND b.balance_date > am.s AND b.balance_date <= am.e
),
seg AS (
    SELECT s.k, s.d, s.v, {open_days} + 1 AS n, {weight} AS w,
           CASE WHEN LEAD(s.d) OVER by_day IS NULL THEN 1 ELSE 0 END AS last_segment
    FROM seg0 s
    WINDOW by_day AS (PARTITION BY s.k ORDER BY s.d)
),
cum AS (
    SELECT k, v, w, n, last_segment,
           SUM(w) OVER (PARTITION BY k ORDER BY v, d
                        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS c
    FROM seg
),
figures AS {_f(engine, "materialized")} (
    SELECT k,
           MAX(CASE WHEN 2 * c > n AND 2 * (c - w) <= n THEN ROUND(v * 100) END) AS median,
           MAX(CASE WHEN last_segment = 1 THEN ROUND(v * 100) END) AS end_balance
    FROM cum GROUP BY k
),
moves AS {_f(engine, "materialized")} (
    SELECT am.k,
           SUM(CASE WHEN t.amount > 0 THEN ROUND(t.amount * 100) ELSE 0 END) AS credits,
           SUM(CASE WHEN t.amount > 0 THEN 1 ELSE 0 END) AS credit_count,
           SUM(CASE WHEN t.amount < 0 THEN -ROUND(t.amount * 100) ELSE 0 END) AS debits,
           SUM(CASE WHEN t.amount < 0 THEN 1 ELSE 0 END) AS debit_count
    FROM am JOIN transactions t
      ON t.account_id = am.account_id AND t.booked_on >= am.first_day
     AND t.booked_on <= am.last_day AND t.kind = 'regular'
    WHERE NOT EXISTS (SELECT 1 FROM accounts c
                      WHERE c.account_id = t.counterparty_account_id
                        AND c.holder_doc_type = am.doc_type
                        AND c.holder_doc_number = am.doc_number)
    GROUP BY am.k
)
SELECT am.doc_type, am.doc_number, am.year, am.month, am.account_type, am.account_number,
       COALESCE(mv.credits, 0), COALESCE(mv.credit_count, 0),
       COALESCE(mv.debits, 0), COALESCE(mv.debit_count, 0),
       f.median, f.end_balance
FROM am
JOIN figures f ON f.k = am.k
LEFT JOIN moves mv ON mv.k = am.k
"""


def titles_sql(engine: str, periods: list[tuple[int, int, date, date]]) -> str:
    """R2: doc type, doc number, year, month, title number, title type, movement type, value
    (centavos), balance at month end (centavos)."""
    values = periods_values_sqlite(periods) if engine == "sqlite" else periods_values(periods)
    return f"""
WITH {values},
tm AS (
    SELECT t.title_id, bp.doc_type, bp.doc_number, t.title_number, t.title_type,
           p.year, p.month, p.first_day, p.last_day,
           (SELECT COALESCE(SUM(CASE WHEN e.event = 'cancellation' THEN -ROUND(e.amount * 100)
                                     ELSE ROUND(e.amount * 100) END), 0)
            FROM title_events e
            WHERE e.title_id = t.title_id AND e.event_date <= p.last_day) AS balance
    FROM bench_persons bp
    JOIN titles t ON t.holder_doc_type = bp.doc_type AND t.holder_doc_number = bp.doc_number
    CROSS JOIN periods p
)
SELECT tm.doc_type, tm.doc_number, tm.year, tm.month, tm.title_number, tm.title_type,
       CASE e.event WHEN 'issue' THEN 1 WHEN 'renewal' THEN 2 ELSE 3 END,
       ROUND(e.amount * 100), tm.balance
FROM tm JOIN title_events e
  ON e.title_id = tm.title_id AND e.event_date >= tm.first_day AND e.event_date <= tm.last_day
UNION ALL
SELECT tm.doc_type, tm.doc_number, tm.year, tm.month, tm.title_number, tm.title_type, 4,
       tm.balance, tm.balance
FROM tm
WHERE tm.balance > 0
  AND NOT EXISTS (SELECT 1 FROM title_events e WHERE e.title_id = tm.title_id
                  AND e.event_date >= tm.first_day AND e.event_date <= tm.last_day)
"""


def trust_sql(engine: str, year: int) -> str:
    """R3: doc type, doc number, year, amount paid outside fideicomisos (centavos)."""
    first, last = f"{year}-01-01", f"{year}-12-31"
    if engine != "sqlite":
        first, last = f"DATE '{first}'", f"DATE '{last}'"
    else:
        first, last = f"'{first}'", f"'{last}'"
    return f"""
SELECT bp.doc_type, bp.doc_number, {year}, SUM(ROUND(y.amount * 100))
FROM bench_persons bp
JOIN trust_yield_payments y
  ON y.holder_doc_type = bp.doc_type AND y.holder_doc_number = bp.doc_number
WHERE {_f(engine, "not_fideicomiso")} AND y.paid_on >= {first} AND y.paid_on <= {last}
GROUP BY bp.doc_type, bp.doc_number
"""
