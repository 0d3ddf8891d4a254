"""The build on Spark (local mode) against DuckDB and PostgreSQL, same bank (issue 17).

    python bench/spark_benchmark.py                       # 100,000 accounts, 10,000 persons
    python bench/spark_benchmark.py --accounts 20000 --persons 2000 --runs 1
    python bench/spark_benchmark.py --master 'local[2]' --engines spark,duckdb

The bench bank of ``build_benchmark.py`` (SQLite, copied into DuckDB by ``engine_benchmark.py``,
loaded into PostgreSQL) is exported from DuckDB to a Parquet lake — one folder of files per
relation, as a data-lake export is — under ``bench/.data/lake-<accounts>/``. Then, for a request
of N persons × 12 months, every section:

1. ``ugpp-bridge report`` on each engine as a child process (``spark:`` over the lake, the
   DuckDB file, PostgreSQL), and its records asserted equal across engines before anything is
   timed;
2. interleaved runs; wall seconds, median (min–max); the peak RSS of the bridge's own process
   and, for Spark, of the driver JVM it starts (its child), polled from /proc.

Spark runs in local mode (``--master``, default ``local[*]``) on this machine: the figure is
what the rules cost on Spark's engine, start-up included (JVM, session), not a cluster's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import build_benchmark as bank  # noqa: E402
import engine_benchmark  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from engine_benchmark import Records  # noqa: E402

from ugpp_bridge.adapters.source import schema as source_schema  # noqa: E402

FILE_SIZE = "16MB"  # several files per large relation, so Spark reads them in parallel


def parquet_lake(duckdb_file: Path, target: Path) -> Path:
    """The DuckDB bank exported as one folder of Parquet files per relation (once)."""
    if target.exists():
        return target
    started = time.perf_counter()
    partial = target.with_name(target.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(f"duckdb:///{duckdb_file}?access_mode=read_only")
    with engine.connect() as connection:
        for relation in source_schema.RELATION_ORDER:
            connection.exec_driver_sql(
                f"COPY (SELECT * FROM {relation}) TO '{partial / relation}' "
                f"(FORMAT PARQUET, FILE_SIZE_BYTES '{FILE_SIZE}')"
            )
    engine.dispose()
    partial.rename(target)
    print(f"  exported the bank to Parquet in {time.perf_counter() - started:.0f} s", flush=True)
    return target


def run_report(url: str, request: Path, out: Path) -> tuple[float, int, int, Records]:
    """Wall seconds, the bridge's peak RSS (MB), its children's (the Spark JVM) and records."""
    seconds, own, others = bank.run_report_peaks(url, request, out)
    return seconds, own // 1024, others // 1024, engine_benchmark.records_in(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--engines", default="spark,duckdb,postgresql")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / ".data")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    print(f"# Spark benchmark: {args.accounts:,} accounts, {args.persons:,} persons × 12 months, "
          f"master {args.master}", flush=True)  # fmt: skip
    sqlite_url = bank.prepare("sqlite", args.accounts, args.data_dir)
    duck_file = args.data_dir / f"bank-{args.accounts}.duckdb"
    urls: dict[str, str] = {}
    for engine in args.engines.split(","):
        if engine in ("duckdb", "spark"):
            engine_benchmark.duckdb_bank(args.data_dir / f"bank-{args.accounts}.db", duck_file)
        if engine == "duckdb":
            urls[engine] = f"duckdb:///{duck_file}"
        elif engine == "spark":
            lake = parquet_lake(duck_file, args.data_dir / f"lake-{args.accounts}")
            urls[engine] = f"spark:?master={args.master}&relations={lake}"
        else:
            urls[engine] = bank.prepare(engine, args.accounts, args.data_dir)
    times: dict[str, list[float]] = {}
    peaks: dict[str, tuple[int, int]] = {}
    with tempfile.TemporaryDirectory(prefix="ugpp-bridge-bench-") as scratch:
        folder = Path(scratch)
        request_file, _ = bank.request_file(sqlite_url, args.persons, folder)
        reference: Records | None = None
        for n in range(args.runs):
            for engine, url in urls.items():
                seconds, own, jvm, records = run_report(url, request_file, folder / f"{engine}-{n}")
                if reference is None:
                    reference = records
                elif records != reference:
                    raise SystemExit(f"{engine}: report's records differ from the first engine's")
                times.setdefault(engine, []).append(seconds)
                previous = peaks.get(engine, (0, 0))
                peaks[engine] = (max(previous[0], own), max(previous[1], jvm))
                print(f"  run {n + 1} {engine}: {seconds:.1f} s, {sum(records.values()):,} "
                      "records (equal across engines)", flush=True)  # fmt: skip
    print(f"\n{args.runs} interleaved runs of `report`, {args.persons:,} persons; seconds, median "
          "(min–max)\n")  # fmt: skip
    print("| engine | `report` s | vs DuckDB | bridge peak RSS MB | Spark JVM peak RSS MB |")
    print("|---|---|---|---|---|")
    duck = statistics.median(times["duckdb"]) if "duckdb" in times else None
    for engine, values in times.items():
        ratio = f"{statistics.median(values) / duck:.2f}×" if duck else "–"
        own, jvm = peaks[engine]
        print(f"| {engine} | {engine_benchmark._median(values)} | {ratio} | {own} | {jvm or '–'} |")


if __name__ == "__main__":
    main()
