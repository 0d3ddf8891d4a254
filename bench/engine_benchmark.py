"""The build against an independent baseline, per engine (issue 16).

    python bench/engine_benchmark.py                                  # 100,000 accounts
    python bench/engine_benchmark.py --accounts 20000 --persons 2000 --runs 3
    python bench/engine_benchmark.py --engines sqlite,duckdb

For each engine (SQLite, PostgreSQL, DuckDB, the same sample bank on each):

1. ``ugpp-bridge report`` for a request of N persons × 12 months, every section, as a child
   process (the whole command: start-up, SQL, records, XML, XSD validation), peak RSS from
   /proc;
2. the **independent baseline**: the hand-written statements of ``baseline_sql.py`` (written
   from SPEC §2, not the build's SQL), persons in a temporary table, rows fetched;
3. before anything is timed, the baseline's rows are turned into wire records and asserted
   equal to the records of ``report``'s lotes (every section, and the persons without
   information): a baseline that computes something else is not a baseline;
4. runs interleaved across engines and measures; medians with min–max.

It prints ``report`` / baseline per engine and ``report`` / DuckDB (the baseline statements run
by DuckDB on the same data), and ``report`` for a 100-person request. Targets (issue 16): at
10,000 persons ``report`` ≤ 1.5× the baseline and ≤ 3× DuckDB; ≤ 0.5 s for 100 persons; peak
RSS < 300 MB.

The SQLite and PostgreSQL banks are ``build_benchmark.py``'s (kept in ``bench/.data`` and schema
``bench_<accounts>``); the DuckDB bank is copied from the SQLite one through CSV files.
"""

from __future__ import annotations

import argparse
import csv
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# The baseline runs in this process: SQLite's memory statistics off, as in `report` (their
# global mutex also slows one connection whose sorter uses worker threads: 13.0 s against
# 10.3–11.5 s for the SQLite baseline here) — before anything imports sqlite3.
from ugpp_bridge.adapters.source.engines.sqlite import without_memory_statistics  # noqa: E402

assert without_memory_statistics() == "off", "sqlite3 was imported before the benchmark"

import baseline_sql  # noqa: E402
import build_benchmark as bank  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from ugpp_bridge.adapters.soap.xml_lotes import lote_records  # noqa: E402
from ugpp_bridge.adapters.source import schema as source_schema  # noqa: E402
from ugpp_bridge.adapters.source.engines import make_engine  # noqa: E402
from ugpp_bridge.domain.money import to_pesos  # noqa: E402
from ugpp_bridge.domain.request import FinancialInfoRequest  # noqa: E402

Records = Counter[tuple[str, tuple[str, ...]]]


def duckdb_bank(sqlite_path: Path, target: Path) -> str:
    """The SQLite bank copied into a DuckDB file (schema from the contract, data through CSV)."""
    url = f"duckdb:///{target}"
    if target.exists():
        return url
    import sqlite3

    started = time.perf_counter()
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    engine = sa.create_engine(f"duckdb:///{partial}")
    with tempfile.TemporaryDirectory(prefix="ugpp-bridge-bench-") as scratch:
        with engine.begin() as connection:
            source_schema.metadata.create_all(connection)
        source = sqlite3.connect(sqlite_path)
        for relation in source_schema.RELATION_ORDER:
            columns = [c.name for c in source_schema.RELATIONS[relation].columns]
            path = Path(scratch) / f"{relation}.csv"
            with path.open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(columns)
                cursor = source.execute(f"SELECT {', '.join(columns)} FROM {relation}")
                while rows := cursor.fetchmany(50_000):
                    writer.writerows(rows)
            with engine.begin() as connection:
                connection.exec_driver_sql(
                    f"INSERT INTO {relation} SELECT * FROM read_csv('{path}', header = true, "
                    f"columns = {_duck_columns(relation)})"
                )
        source.close()
    engine.dispose()
    partial.rename(target)
    print(f"  copied the bank into DuckDB in {time.perf_counter() - started:.0f} s", flush=True)
    return url


def _duck_columns(relation: str) -> str:
    types = {
        "Text": "VARCHAR",
        "KeyText": "VARCHAR",
        "Integer": "INTEGER",
        "Date": "DATE",
        "Boolean": "BOOLEAN",
    }
    parts = []
    for column in source_schema.RELATIONS[relation].columns:
        kind = type(column.type).__name__
        duck = types.get(kind, "DECIMAL(20,2)" if "Amount" in kind or "Numeric" in kind else kind)
        parts.append(f"'{column.name}': '{duck}'")
    return "{" + ", ".join(parts) + "}"


def report_records(url: str, request_file: Path, out: Path) -> tuple[float, int, Records]:
    seconds, rss, _ = bank.run_report(url, request_file, out)
    return seconds, rss, records_in(out)


def records_in(out: Path) -> Records:
    """Every record of the lotes in ``out``, as (element, field values), counted."""
    found: Records = Counter()
    for lote in sorted(out.glob("*.xml")):
        for element, fields in lote_records(lote.read_bytes()):
            found[(element, tuple(fields.values()))] += 1
    return found


def run_baseline(url: str, request: FinancialInfoRequest) -> tuple[float, Records]:
    """Seconds for the hand-written statements (persons loaded, rows fetched) and the rows as
    wire records."""
    engine = make_engine(url)
    name = engine.dialect.name
    periods = [(p.year, p.month, p.first_day, p.last_day) for p in sorted(request.periods)]
    statements = [
        ("cuenta", baseline_sql.accounts_sql(name, periods)),
        ("inversion", baseline_sql.titles_sql(name, periods)),
        *(("rendimiento", baseline_sql.trust_sql(name, year)) for year in sorted(request.years)),
    ]
    persons = [{"t": p.doc_type, "n": p.doc_number} for p in request.persons]
    started = time.perf_counter()
    rows: dict[str, list[Any]] = {}
    with engine.connect() as connection:
        connection.exec_driver_sql(
            "CREATE TEMPORARY TABLE bench_persons (doc_type TEXT NOT NULL, "
            "doc_number TEXT NOT NULL)"
        )
        connection.execute(
            sa.text("INSERT INTO bench_persons VALUES (:t, :n)"), persons
        )  # fmt: skip
        if name == "postgresql":  # statistics for the planner, as any hand tuner would do
            connection.exec_driver_sql("ANALYZE bench_persons")
        for element, statement in statements:
            rows.setdefault(element, []).extend(connection.exec_driver_sql(statement).all())
        connection.rollback()
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds, _wire(rows, request)


def _pesos(centavos: object) -> str:
    return str(to_pesos(Decimal(str(centavos)) / 100))


def _suffix(account_number: str) -> str:
    return "".join(re.findall(r"[0-9]", account_number))[-4:]


def _wire(rows: dict[str, list[Any]], request: FinancialInfoRequest) -> Records:
    found: Records = Counter()
    seen = set()
    for dt, dn, year, month, kind, number, cr, crn, db, dbn, median, end in rows["cuenta"]:
        values = (dt, dn, str(year), str(month), str(int(kind)), _suffix(number),
                  _pesos(cr), str(int(crn)), _pesos(db), str(int(dbn)), _pesos(median),
                  _pesos(end))  # fmt: skip
        found[("cuenta", values)] += 1
        seen.add((dt, dn))
    for dt, dn, year, month, number, kind, movement, value, balance in rows["inversion"]:
        values = (dt, dn, str(year), str(month), number, str(int(kind)), str(int(movement)),
                  _pesos(value), _pesos(balance))  # fmt: skip
        found[("inversion", values)] += 1
        seen.add((dt, dn))
    for dt, dn, year, total in rows.get("rendimiento", []):
        found[("rendimiento", (dt, dn, str(year), _pesos(total)))] += 1
        seen.add((dt, dn))
    for person in request.persons:
        if (person.doc_type, person.doc_number) not in seen:
            found[("persona", (person.doc_type, person.doc_number))] += 1
    return found


def _assert_equal(engine: str, report: Records, baseline: Records) -> None:
    if report == baseline:
        print(f"  {engine}: baseline records equal report's ({sum(report.values()):,})", flush=True)
        return
    only_report = list((report - baseline).items())[:5]
    only_baseline = list((baseline - report).items())[:5]
    raise SystemExit(
        f"{engine}: the baseline does not compute report's records.\n"
        f"  only in report: {only_report}\n  only in the baseline: {only_baseline}"
    )


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def bank_urls(engines: list[str], accounts: int, data_dir: Path) -> dict[str, str]:
    """The bench bank on each engine (made once, kept in ``data_dir``)."""
    urls = {}
    for engine in engines:
        if engine in ("duckdb", "parquet"):
            urls[engine] = duckdb_bank(
                data_dir / f"bank-{accounts}.db", data_dir / f"bank-{accounts}.duckdb"
            )
        if engine == "parquet":  # the same bank as a folder of Parquet files per relation
            from spark_benchmark import parquet_lake

            lake = parquet_lake(data_dir / f"bank-{accounts}.duckdb", data_dir / f"lake-{accounts}")
            urls[engine] = f"parquet://{lake}"
        elif engine != "duckdb":
            urls[engine] = bank.prepare(engine, accounts, data_dir)
    return urls


def build_seconds(url: str, request: FinancialInfoRequest) -> float:
    """The build's SQL alone: every person's records, as ``report`` gets them."""
    from ugpp_bridge.adapters.source.report_source import SqlAlchemyReportSource

    source = SqlAlchemyReportSource(make_engine(url))
    try:
        started = time.perf_counter()
        for _ in source.person_reports(request, account_number_digits=4):
            pass
        return time.perf_counter() - started
    finally:
        source.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--small-persons", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engines", default="sqlite,postgresql,duckdb")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / ".data")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    engines = args.engines.split(",")
    print(f"# engine benchmark: {args.accounts:,} accounts, {args.persons:,} persons × 12 months",
          flush=True)  # fmt: skip
    sqlite_url = bank.prepare("sqlite", args.accounts, args.data_dir)
    urls = bank_urls(engines, args.accounts, args.data_dir)
    times: dict[tuple[str, str], list[float]] = {}
    peaks: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="ugpp-bridge-bench-") as scratch:
        folder = Path(scratch)
        big_file, big = bank.request_file(sqlite_url, args.persons, folder)
        small_file, _ = bank.request_file(sqlite_url, args.small_persons, folder)
        for engine, url in urls.items():  # equality first, nothing timed
            _, _, reported = report_records(url, big_file, folder / f"check-{engine}")
            _, computed = run_baseline(url, big)
            _assert_equal(engine, reported, computed)
        measures: list[tuple[str, str, Callable[[int], float]]] = []
        for engine, url in urls.items():

            def report(n: int, url: str = url, engine: str = engine) -> float:
                seconds, rss, _ = bank.run_report(url, big_file, folder / f"r-{engine}-{n}")
                peaks[engine] = max(peaks.get(engine, 0), rss)
                return seconds

            def small(n: int, url: str = url, engine: str = engine) -> float:
                seconds, rss, _ = bank.run_report(url, small_file, folder / f"s-{engine}-{n}")
                peaks[engine] = max(peaks.get(engine, 0), rss)
                return seconds

            measures += [
                (engine, "report", report),
                (engine, "build", lambda n, url=url: build_seconds(url, big)),  # type: ignore[misc]
                (engine, "baseline", lambda n, url=url: run_baseline(url, big)[0]),  # type: ignore[misc]
                (engine, "report-small", small),
            ]
        for n in range(args.runs):
            for engine, what, measure in measures:
                times.setdefault((engine, what), []).append(measure(n))
    print(f"\n{args.runs} interleaved runs; seconds, median (min–max)\n")
    print(f"| engine | `report` {args.persons:,} | baseline | report / baseline | "
          f"report / DuckDB baseline | build's SQL / baseline | `report` {args.small_persons} | "
          "peak RSS MB |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    duck = statistics.median(times[("duckdb", "baseline")]) if "duckdb" in urls else None
    for engine in urls:
        report_s = statistics.median(times[(engine, "report")])
        base_s = statistics.median(times[(engine, "baseline")])
        versus_duck = f"{report_s / duck:.2f}×" if duck else "–"
        print(f"| {engine} | {_median(times[(engine, 'report')])} | "
              f"{_median(times[(engine, 'baseline')])} | {report_s / base_s:.2f}× | "
              f"{versus_duck} | {statistics.median(times[(engine, 'build')]) / base_s:.2f}× | "
              f"{_median(times[(engine, 'report-small')])} | "
              f"{peaks.get(engine, 0)} |")  # fmt: skip
    print(
        "\nbuild's SQL: the build's own statements and records in this process "
        "(SqlAlchemyReportSource.person_reports, value checks included), without the "
        "command's start-up and the XML lotes' writing and validation."
    )
    print("\nTargets: report ≤ 1.5× baseline and ≤ 3× DuckDB at 10,000 persons; ≤ 0.5 s for "
          "100 persons; peak RSS < 300 MB.")  # fmt: skip


if __name__ == "__main__":
    main()
