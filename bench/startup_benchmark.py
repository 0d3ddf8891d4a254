"""Benchmark of start-up (issue 15): what a command costs before it does any work.

    python bench/startup_benchmark.py            # 15 interleaved runs of each
    python bench/startup_benchmark.py --runs 31

Each command runs as a child process, exactly as an operator types it; the runs of the
different commands are interleaved so that a busy moment of the machine falls on all of
them alike. It prints the median with min–max wall seconds of:

- ``python -c pass`` (the interpreter alone, the floor);
- ``ugpp-bridge --help`` and ``--version`` (target: ``--help`` ≤ 0.25 s);
- the import of each command module (what a command pays before its first line runs);
- ``ugpp-bridge report`` for a 100-person request on a 1,000-account SQLite sample bank
  (generated once into a temporary folder), next to the bare import of the modules
  ``report`` loads: the share of a small request that is start-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_HELP_SECONDS = 0.25
MODULES = (
    "cli_report",
    "cli_core",
    "cli_operations",
    "cli_desk",
    "cli_evidence",
    "cli_doctor",
    "cli_service",
)


def timed(command: Sequence[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def cli() -> list[str]:
    return [sys.executable, "-m", "ugpp_bridge"]


def prepare_report(folder: Path) -> tuple[list[str], dict[str, str]]:
    """A 1,000-account SQLite bank and a request for 100 of its holders, all periods of 2025."""
    from ugpp_bridge.adapters.soap.solicitud_xml import solicitud_to_xml
    from ugpp_bridge.adapters.source.engines import make_engine
    from ugpp_bridge.adapters.source.sql import SqlAlchemySource
    from ugpp_bridge.domain.codes import InformationType
    from ugpp_bridge.domain.periods import Period
    from ugpp_bridge.domain.request import FinancialInfoRequest
    from ugpp_bridge.service.sample_bank import sample_bank

    url = f"sqlite:///{folder / 'bank.db'}"
    bank = SqlAlchemySource(make_engine(url))
    try:
        bank.write(sample_bank(1_000, seed=100, year=2025))
        holders = bank.holders(100)
    finally:
        bank.close()
    request = FinancialInfoRequest(
        "BENCH-STARTUP", "800197268", date(2026, 11, 2), date(2026, 11, 5),
        frozenset(InformationType), tuple(Period(2025, m) for m in range(1, 13)), tuple(holders),
    )  # fmt: skip
    path = folder / "solicitud.xml"
    path.write_bytes(solicitud_to_xml(request))
    env = {**os.environ, "UGPP_BRIDGE_SOURCE_URL": url,
           "UGPP_BRIDGE_OPERATOR_NAME": "Banco Bench S.A."}  # fmt: skip
    command = [*cli(), "report", "--request", str(path), "--out", str(folder / "out"),
               "--generated-at", "2026-11-06T08:00:00-0500"]  # fmt: skip
    return command, env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("UGPP_BRIDGE_")}
    with tempfile.TemporaryDirectory(prefix="ugpp-bridge-startup-") as scratch:
        report, report_env = prepare_report(Path(scratch))
        cases: dict[str, tuple[list[str], dict[str, str]]] = {
            "python -c pass": ([sys.executable, "-c", "pass"], env),
            "ugpp-bridge --help": ([*cli(), "--help"], env),
            "ugpp-bridge --version": ([*cli(), "--version"], env),
            **{
                f"import entrypoints.{module}": (
                    [sys.executable, "-c", f"import ugpp_bridge.entrypoints.{module}"],
                    env,
                )
                for module in MODULES
            },
            "report, 100 persons (whole command)": (report, report_env),
        }
        seconds: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):  # interleaved
            for name, (command, case_env) in cases.items():
                seconds[name].append(timed(command, case_env))
    print(f"Start-up, {args.runs} interleaved runs each, wall seconds (median, min–max)\n")
    print(f"| {'command':<40} | median | min–max |")
    print(f"|{'-' * 42}|--------|---------|")
    for name, values in seconds.items():
        print(f"| {name:<40} | {statistics.median(values):6.3f} | "
              f"{min(values):.3f}–{max(values):.3f} |")  # fmt: skip
    help_median = statistics.median(seconds["ugpp-bridge --help"])
    verdict = "met" if help_median <= TARGET_HELP_SECONDS else "MISSED"
    print(f"\n--help: {help_median:.3f} s against a target of {TARGET_HELP_SECONDS} s: {verdict}")
    core = statistics.median(seconds["import entrypoints.cli_report"])
    whole = statistics.median(seconds["report, 100 persons (whole command)"])
    print(f"report, 100 persons: {whole:.2f} s, of which importing its modules {core:.2f} s "
          f"({core / whole:.0%})")  # fmt: skip


if __name__ == "__main__":
    main()
