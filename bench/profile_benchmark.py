"""Benchmark of wire profiles (issue 23, SPEC §10): a 10,000-person build under the second annex
the tests wrote (``tests/data/profiles/anexo-prueba``) against the same build under v1.

    python bench/profile_benchmark.py                      # 30,000 accounts, 10,000 persons
    python bench/profile_benchmark.py --accounts 100000 --runs 3

Both are `ugpp-bridge report` as a child process over the same SQLite sample bank (shared with
``build_benchmark.py`` in ``bench/.data``), the same v1 Solicitud file and ``--generated-at``;
only ``UGPP_BRIDGE_WIRE_PROFILE`` differs. Before anything is timed, the records of the two are
counted independently and asserted equal: every v1 record (``cuenta``, ``inversion``,
``rendimiento``, ``persona``) against the annex's (``Cuenta``, ``Titulo``, ``Rendimiento``,
``Titular sinInformacion``). Each side runs ``--runs`` times, alternating; the medians are
compared. Target: annex ≤ 1.2× v1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.build_benchmark import prepare, request_file  # noqa: E402

ANNEX = ROOT / "tests" / "data" / "profiles" / "anexo-prueba"
V1_NS = "urn:ugpp-bridge:reporte:v1"
ANNEX_NS = "urn:anexo-prueba:entrega:2019"
GENERATED = "2026-11-06T08:00:00-05:00"


def report(url: str, request: Path, out: Path, profile: str) -> float:
    """Wall seconds of `ugpp-bridge report` under ``profile``, as a child process."""
    env = {
        **os.environ,
        "UGPP_BRIDGE_SOURCE_URL": url,
        "UGPP_BRIDGE_OPERATOR_NAME": "Banco de Ejemplo S.A.",
        "UGPP_BRIDGE_WIRE_PROFILE": profile,
    }
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "ugpp_bridge", "report", "--request", str(request),
         "--out", str(out), "--generated-at", GENERATED],
        env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


def v1_records(folder: Path) -> int:
    """Records of v1 lotes, counted by element name (not from the header)."""
    kinds = {f"{{{V1_NS}}}{name}" for name in ("cuenta", "inversion", "rendimiento", "persona")}
    return sum(
        1
        for path in folder.glob("*.xml")
        for _, node in etree.iterparse(str(path))
        if node.tag in kinds
    )


def annex_records(folder: Path) -> int:
    """Records of the annex's lotes: each account, title and yield, and each person without
    information (a ``Titular`` marked ``sinInformacion``)."""
    count = 0
    for path in folder.glob("*.xml"):
        for _, node in etree.iterparse(str(path)):
            if node.tag in (f"{{{ANNEX_NS}}}Cuenta", f"{{{ANNEX_NS}}}Titulo",
                            f"{{{ANNEX_NS}}}Rendimiento"):  # fmt: skip
                count += 1
            elif node.tag == f"{{{ANNEX_NS}}}Titular" and node.get("sinInformacion") == "true":
                count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=30_000)
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / ".data")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    print(f"# wire profile benchmark: {args.persons:,} persons × 12 months over "
          f"{args.accounts:,} accounts (SQLite); {os.cpu_count()} cores", flush=True)  # fmt: skip
    url = prepare("sqlite", args.accounts, args.data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        request, _ = request_file(url, args.persons, folder)
        report(url, request, folder / "v1-check", "v1")
        report(url, request, folder / "annex-check", str(ANNEX))
        v1 = v1_records(folder / "v1-check")
        annex = annex_records(folder / "annex-check")
        canonical = v1_records(folder / "annex-check" / ".v1")
        assert v1 == annex == canonical > 0, (v1, annex, canonical)
        lotes = len(list((folder / "v1-check").glob("*.xml")))
        print(f"records: v1 {v1:,} = annex {annex:,} ({lotes} lotes) — equal before timing")
        times: dict[str, list[float]] = {"v1": [], "annex": []}
        for run in range(args.runs):
            times["v1"].append(report(url, request, folder / f"v1-{run}", "v1"))
            times["annex"].append(report(url, request, folder / f"annex-{run}", str(ANNEX)))
    print("\n| profile | runs (s) | median s | records/s |\n|---|---|---|---|")
    medians = {}
    for name, runs in times.items():
        medians[name] = statistics.median(runs)
        listed = ", ".join(f"{t:.2f}" for t in runs)
        print(f"| {name} | {listed} | {medians[name]:.2f} | {v1 / medians[name]:,.0f} |")
    ratio = medians["annex"] / medians["v1"]
    verdict = "met" if ratio <= 1.2 else "MISSED"
    print(f"\nannex / v1 = {ratio:.2f}× (target ≤ 1.2×: {verdict})", flush=True)


if __name__ == "__main__":
    main()
