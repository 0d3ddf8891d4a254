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
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import build_benchmark as bank  # noqa: E402
import engine_benchmark  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from ugpp_bridge.adapters.source import schema as source_schema  # noqa: E402
from ugpp_bridge.adapters.xml_lotes import lote_records  # noqa: E402

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


def run_report(url: str, request: Path, out: Path) -> tuple[float, int, int, Counter[object]]:
    """Wall seconds, the bridge's peak RSS (MB), its children's (the Spark JVM) and records."""
    env = {**os.environ, "UGPP_BRIDGE_SOURCE_URL": url,
           "UGPP_BRIDGE_OPERATOR_NAME": "Banco Bench S.A."}  # fmt: skip
    command = [sys.executable, "-m", "ugpp_bridge", "report", "--request", str(request),
               "--out", str(out), "--generated-at", "2026-11-06T08:00:00-0500"]  # fmt: skip
    started = time.perf_counter()
    child = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    own = others = 0
    while child.poll() is None:
        own = max(own, _hwm_kb(child.pid))
        others = max(others, sum(_hwm_kb(pid) for pid in _descendants(child.pid)))
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    stderr = child.stderr.read().decode() if child.stderr else ""
    if child.returncode:
        raise SystemExit(f"report on {url} failed: {stderr[-3000:]}")
    found: Counter[object] = Counter()
    for lote in sorted(out.glob("*.xml")):
        for element, fields in lote_records(lote.read_bytes()):
            found[(element, tuple(fields.values()))] += 1
    return seconds, own // 1024, others // 1024, found


def _descendants(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in children:
                found.append(int(child))
                pending.append(int(child))
    return found


def _hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f})"


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
        reference: Counter[object] | None = None
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
        print(f"| {engine} | {_median(values)} | {ratio} | {own} | {jvm or '–'} |")


if __name__ == "__main__":
    main()
