"""What a long-running bridge keeps after builds on a local Spark source (SPEC §11, issue 24).

    python bench/spark_child_benchmark.py              # 20 builds each way
    python bench/spark_child_benchmark.py --builds 5 --master 'local[2]'

The scheduler of ``serve``/``worker`` builds N requests (the golden bank as a Parquet lake, one
request per build), in a fresh process for each mode:

- ``in-process``: the build runs in the scheduler's own process (how it was before), so the
  driver JVM it starts stays up beside it;
- ``child``: each build runs in a spawned child (``bootstrap.build_in_child``), which takes the
  JVM and the build's memory with it when it exits.

After each build it prints the RSS of the scheduler's process and of everything it still has
running (its JVM, in-process), from /proc, and the build's wall time; at the end, the figures
after the last build side by side. The records of both modes are asserted equal first.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RUN = r"""
import json, os, sys, time
from dataclasses import replace
from pathlib import Path
from tests.conftest import DATA
from ugpp_bridge import bootstrap
from ugpp_bridge.adapters.soap.solicitud_xml import parse_solicitud
from ugpp_bridge.adapters.state.migrations import upgrade
from ugpp_bridge.config import Settings
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.service.work import build_due
from datetime import date, datetime, timezone

mode, state, source, builds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if mode == "in-process":
    bootstrap.builds_in_child = lambda settings: False  # the way it was: the JVM stays here
upgrade(state)
settings = Settings(database_url=state, source_url=source, operator_name="Banco",
                    require_approval=False)
stores = bootstrap.state_stores(state)
golden = parse_solicitud((DATA / "wire" / "solicitud.xml").read_bytes())
for n in range(builds):
    stores.requests.register(replace(golden, request_id=f"BENCH-{n:03d}"),
                             received_at=datetime(2026, 11, 6, 13, tzinfo=timezone.utc),
                             due_date=date(2026, 12, 7), actor="bench")

def rss(pid):
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(l.split()[1]) for l in text.splitlines() if l.startswith("VmRSS")), 0)

def tree(pid):
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(pid)] + [p for child in children for p in tree(int(child))]

context = bootstrap.work_context(settings, stores, "worker:bench")
records = []
for n in range(builds):
    started = time.perf_counter()
    (swept,) = build_due(context, limit=1)
    assert swept.state is RequestState.APPROVED, swept
    own, rest = rss(os.getpid()), sum(rss(p) for p in tree(os.getpid())[1:])
    print(json.dumps({"build": n + 1, "seconds": round(time.perf_counter() - started, 2),
                      "own_mb": own // 1024, "children_mb": rest // 1024}), flush=True)
key = stores.requests.find(swept.filing_number).key
from ugpp_bridge.adapters.soap.xml_lotes import LxmlLoteWriter
records = [repr(r) for l in stores.lotes.lotes(key) for r in LxmlLoteWriter().records_of(l.xml)]
print(json.dumps({"lotes": records}), flush=True)
"""


def prepare_lake(folder: Path) -> str:
    """The golden bank as a Parquet lake, written by the bridge's own importer."""
    sys.path.insert(0, str(ROOT))
    from tests.conftest import DATA
    from ugpp_bridge.adapters.source.csv_import import import_csv_directory
    from ugpp_bridge.adapters.source.engines import make_engine
    from ugpp_bridge.adapters.source.sql import SqlAlchemySource

    url = f"spark:?master={ARGS.master}&relations={folder}"
    with SqlAlchemySource(make_engine(url)) as lake:
        import_csv_directory(DATA / "source_csv", lake)
    return url


def run(mode: str, source: str, scratch: Path) -> tuple[list[dict[str, float]], list[str]]:
    state = f"sqlite:///{scratch / f'state-{mode}.db'}"
    process = subprocess.run(
        [sys.executable, "-c", RUN, mode, state, source, str(ARGS.builds)],
        cwd=ROOT, capture_output=True, text=True, timeout=3_600,
    )  # fmt: skip
    if process.returncode != 0:
        sys.exit(f"{mode} failed:\n{process.stderr[-3000:]}")
    lines = [json.loads(line) for line in process.stdout.splitlines() if line.startswith("{")]
    for line in lines[:-1]:
        print(
            f"  {mode:>10}  build {line['build']:>2}: {line['seconds']:>6.2f} s, process "
            f"{line['own_mb']:>5} MB, still running beside it {line['children_mb']:>5} MB"
        )
    return lines[:-1], lines[-1]["lotes"]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="ugpp-bridge-bench-child-") as name:
        scratch = Path(name)
        source = prepare_lake(scratch / "lake")
        results = {mode: run(mode, source, scratch) for mode in ("in-process", "child")}
        assert results["in-process"][1] == results["child"][1], "the two modes built differently"
        print(f"\nAfter {ARGS.builds} builds on {ARGS.master} (the same records both ways):")
        for mode, (lines, _) in results.items():
            last = lines[-1]
            seconds = sum(line["seconds"] for line in lines) / len(lines)
            print(f"  {mode:>10}: scheduler {last['own_mb']} MB + {last['children_mb']} MB still "
                  f"running; {seconds:.1f} s a build on average")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=int, default=20)
    parser.add_argument("--master", default="local[2]")
    ARGS = parser.parse_args()
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    main()
