"""Benchmark of the build (issue 5): seconds, records per second and peak RSS of `report`.

    python bench/build_benchmark.py                       # 100,000 accounts, both engines
    python bench/build_benchmark.py --accounts 20000 --request-persons 2000 --engines sqlite

For each engine it prints, next to each other:
- `ugpp-bridge report` for a request of N persons × 12 months, every section, run as a child
  process (wall seconds, records/s, peak RSS polled from /proc);
- the baseline: one statement computing the same aggregation for all N persons at once
  (the build's own SQL, unchunked), rows fetched, no Python records, no XML;
- the same `report` for a 100-person request (cost should follow the request, not the bank);
- the XML stage: our lote writer (with and without XSD validation) against a bare lxml
  incremental writer emitting the same records into one stream.

The sample bank is generated once per size and engine and reused (bench/.data for SQLite, a
schema per size in PostgreSQL). Only loopback databases are used.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ugpp_bridge.adapters.soap.solicitud_xml import solicitud_to_xml  # noqa: E402
from ugpp_bridge.adapters.soap.xml_lotes import _record, write_lote, write_lotes  # noqa: E402
from ugpp_bridge.adapters.source import report_sql as q  # noqa: E402
from ugpp_bridge.adapters.source.engines import make_engine  # noqa: E402
from ugpp_bridge.adapters.source.report_source import SqlAlchemyReportSource  # noqa: E402
from ugpp_bridge.adapters.source.sql import SqlAlchemySource  # noqa: E402
from ugpp_bridge.domain.codes import InformationType  # noqa: E402
from ugpp_bridge.domain.filing import LoteContext  # noqa: E402
from ugpp_bridge.domain.periods import Period  # noqa: E402
from ugpp_bridge.domain.report import split_into_lotes  # noqa: E402
from ugpp_bridge.domain.request import FinancialInfoRequest  # noqa: E402
from ugpp_bridge.service.sample_bank import sample_bank  # noqa: E402

POSTGRES = os.environ.get(
    "UGPP_BRIDGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
PERIODS = tuple(Period(2025, month) for month in range(1, 13))
GENERATED_AT = datetime(2026, 11, 6, 13, 0, tzinfo=UTC)


def source_url(engine: str, accounts: int, data_dir: Path) -> str:
    if engine == "sqlite":
        return f"sqlite:///{data_dir / f'bank-{accounts}.db'}"
    return f"{POSTGRES}?options=-csearch_path%3Dbench_{accounts}"


def prepare(engine: str, accounts: int, data_dir: Path) -> str:
    """Generate and load the sample bank once; later runs reuse it."""
    url = source_url(engine, accounts, data_dir)
    if engine == "postgresql":
        admin = sa.create_engine(POSTGRES.replace("postgresql://", "postgresql+psycopg://"))
        with admin.begin() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS bench_{accounts}"))
        admin.dispose()
    bank = SqlAlchemySource(make_engine(url))
    try:
        if sa.inspect(bank.engine).has_table("accounts"):
            with bank.engine.connect() as connection:
                have = connection.execute(sa.text("SELECT count(*) FROM accounts")).scalar_one()
            if have >= accounts:
                return url
            raise SystemExit(f"{url} holds a partial bank ({have} accounts); drop it and rerun")
        started = time.perf_counter()
        counts = bank.write(_until(accounts))
        print(
            f"  loaded {counts.total:,} rows ({counts.rows.get('accounts', 0):,} accounts) "
            f"into {engine} in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    finally:
        bank.close()
    return url


def _until(accounts: int):  # type: ignore[no-untyped-def]
    made = 0
    for part in sample_bank(accounts, seed=100, year=2025):
        if made >= accounts:
            return
        made += len(part.accounts)
        yield part


def request_file(url: str, persons: int, folder: Path) -> tuple[Path, FinancialInfoRequest]:
    bank = SqlAlchemySource(make_engine(url))
    holders = bank.holders(persons)
    bank.close()
    request = FinancialInfoRequest(
        f"BENCH-{persons}",
        "800197268",
        date(2026, 11, 2),
        date(2026, 11, 5),
        frozenset(InformationType),
        PERIODS,
        tuple(holders),
    )
    path = folder / f"solicitud-{persons}.xml"
    path.write_bytes(solicitud_to_xml(request))
    return path, request


def run_report(url: str, request: Path, out: Path) -> tuple[float, int, int]:
    """Wall seconds, peak RSS in MB and records written, for `ugpp-bridge report` as a child.

    The peak is the child's own VmHWM, polled from /proc: ``wait4``'s ru_maxrss would count the
    pages of this (larger) process that the child inherited for the instant between fork and
    exec, which inflated the first measurements of small requests.
    """
    seconds, peak, _ = run_report_peaks(url, request, out)
    records = sum(
        int(etree.parse(str(f)).findtext("{*}encabezado/{*}totalRegistros") or 0)
        for f in out.glob("*.xml")
    )
    return seconds, peak // 1024, records


def run_report_peaks(url: str, request: Path, out: Path) -> tuple[float, int, int]:
    """Wall seconds, the child's peak RSS and its own children's (a Spark JVM), in kB."""
    env = {
        **os.environ,
        "UGPP_BRIDGE_SOURCE_URL": url,
        "UGPP_BRIDGE_OPERATOR_NAME": "Banco Bench S.A.",
    }
    command = [
        sys.executable,
        "-m",
        "ugpp_bridge",
        "report",
        "--request",
        str(request),
        "--out",
        str(out),
        "--generated-at",
        "2026-11-06T08:00:00-0500",
    ]
    started = time.perf_counter()
    child = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak = others = 0
    while child.poll() is None:
        peak = max(peak, _vm_hwm_kb(child.pid))
        others = max(others, sum(_vm_hwm_kb(pid) for pid in _descendants(child.pid)))
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    stderr = child.stderr.read().decode() if child.stderr else ""
    if child.returncode:
        raise SystemExit(f"report on {url} failed: {stderr[-2000:]}")
    return seconds, peak, others


def _descendants(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            found.extend(int(child) for child in children)
            pending.extend(int(child) for child in children)
    return found


def _vm_hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def baseline(url: str, request: FinancialInfoRequest) -> tuple[float, int]:
    """The same aggregation in single statements over all persons: the engine's own cost."""
    engine = make_engine(url)
    persons = q.persons_cte(list(enumerate(request.persons)))
    periods = q.periods_cte(list(request.periods))
    started = time.perf_counter()
    rows = 0
    with engine.connect() as connection:
        queries = (
            q.account_months_query(persons, periods),
            q.title_months_query(persons, periods),
            q.trust_years_query(persons, request.years),
        )
        for query in queries:
            rows += len(connection.execute(query).all())
    engine.dispose()
    return time.perf_counter() - started, rows


def xml_stage(url: str, request: FinancialInfoRequest, folder: Path) -> dict[str, float]:
    """Records per second: our writer (validated / not) and a bare lxml writer, same records."""
    report_source = SqlAlchemyReportSource(make_engine(url))
    records = [
        r
        for p in report_source.person_reports(request, account_number_digits=4)
        for r in p.records()
    ]
    report_source.close()
    context = LoteContext(
        request.request_id, "UB-2026-000001", 1, "800197268", "Banco Bench S.A.", GENERATED_AT
    )
    timings = {}
    started = time.perf_counter()
    write_lotes(records, context, 5000, folder / "ours")
    timings["ours, validated"] = len(records) / (time.perf_counter() - started)
    started = time.perf_counter()
    for number, chunk in enumerate(split_into_lotes(iter(records), 5000), start=1):
        with (folder / f"plain-{number}.xml").open("wb") as handle:
            write_lote(handle, chunk, context, number, total=None)
    timings["ours, without XSD validation"] = len(records) / (time.perf_counter() - started)
    started = time.perf_counter()
    with (folder / "bare.xml").open("wb") as handle, etree.xmlfile(handle, encoding="UTF-8") as xf:
        with xf.element(
            "{urn:ugpp-bridge:reporte:v1}Reporte", nsmap={None: "urn:ugpp-bridge:reporte:v1"}
        ):
            for record in records:  # the same elements and line breaks as a lote
                _record(xf, record)
                xf.write("\n")
    timings["bare lxml incremental writer"] = len(records) / (time.perf_counter() - started)
    timings["records"] = len(records)
    return timings


def _row(label: str, seconds: float, records: int, rss: str) -> None:
    print(f"| {label} | {seconds:.1f} | {records:,} | {records / seconds:,.0f} | {rss} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--request-persons", type=int, default=10_000)
    parser.add_argument("--small-persons", type=int, default=100)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / ".data")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    print(
        f"# build benchmark: {args.accounts:,} accounts, request of {args.request_persons:,} "
        f"persons × 12 months; {os.cpu_count()} cores",
        flush=True,
    )
    for engine in args.engines.split(","):
        print(f"\n## {engine}", flush=True)
        url = prepare(engine, args.accounts, args.data_dir)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            big_file, big = request_file(url, args.request_persons, folder)
            small_file, _ = request_file(url, args.small_persons, folder)
            seconds, rss, records = run_report(url, big_file, folder / "big")
            base_seconds, base_rows = baseline(url, big)
            small_seconds, small_rss, small_records = run_report(url, small_file, folder / "small")
            xml = xml_stage(url, big, folder)
        print("| measure | seconds | records | records/s | peak RSS MB |\n|---|---|---|---|---|")
        _row(f"report, {args.request_persons:,} persons", seconds, records, str(rss))
        _row("baseline, single statements", base_seconds, base_rows, "–")
        _row(f"report, {args.small_persons} persons", small_seconds, small_records, str(small_rss))
        print(f"\nbuild / baseline = {seconds / base_seconds:.2f}× (target ≤ 1.5×)")
        bare = xml["bare lxml incremental writer"]
        for name in (
            "ours, validated",
            "ours, without XSD validation",
            "bare lxml incremental writer",
        ):
            print(f"XML stage, {name}: {xml[name]:,.0f} records/s ({xml[name] / bare:.0%} of bare)")
        print(f"peak RSS {rss} MB (target < 300 MB)", flush=True)
    print(
        f"\nbench process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB"
    )


if __name__ == "__main__":
    main()
