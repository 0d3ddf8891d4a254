"""Benchmark of an authenticated Paso 1 body's memory (issue 25, item 6; SPEC §11).

    python bench/paso1_memory_benchmark.py

For each body below, a fresh `ugpp-bridge serve --no-scheduler` on 127.0.0.1 (SQLite state in
a temporary folder, `UGPP_BRIDGE_MAX_REQUEST_BYTES` and `UGPP_BRIDGE_MAX_PERSONS` at their
defaults: 64 MiB and 200,000) receives one authenticated request; printed: serve's RSS when
warm, its peak (VmHWM) and its RSS a second after the answer, and the answer.

- the largest valid request: 200,000 persons, indented with white space to just under 64 MiB;
- 560,000 persons in about 60 MiB (over the person limit: refused);
- junk-shaped: 60 MiB of `<x/>` inside the Solicitud (refused).

Target: peak under 300 MB for a body of the maximum size, and the RSS returns after.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.paso1_benchmark import (  # noqa: E402
    envelope,
    free_port,
    peak_rss_mb,
    request_with,
    serve_env,
    start,
)
from ugpp_bridge.adapters.soap.solicitud_xml import solicitud_to_xml  # noqa: E402

LIMIT = 64 * 2**20


def rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    raise SystemExit("no VmRSS")


def bodies() -> dict[str, bytes]:
    largest = envelope(solicitud_to_xml(request_with(200_000, "MEM-MAX")))
    indent = (LIMIT - len(largest) - 1024) // 200_000 - 1  # as if pretty-printed, generously
    largest = largest.replace(b"<persona>", b"\n" + b" " * indent + b"<persona>")
    over = envelope(solicitud_to_xml(request_with(560_000, "MEM-OVER")))
    junk = envelope(solicitud_to_xml(request_with(1, "MEM-JUNK")))
    junk = junk.replace(b"</idSolicitud>", b"</idSolicitud>" + b"<x/>" * (60 * 2**20 // 4), 1)
    return {"200,000 persons, 64 MiB (valid)": largest, "560,000 persons, "
            f"{len(over) / 2**20:.0f} MiB": over, "junk-shaped, 60 MiB": junk}  # fmt: skip


def measure(body: bytes) -> tuple[int, int, int, str]:
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = serve_env(folder, port)
        url = f"http://127.0.0.1:{port}/soap/solicitudes"
        server = start([sys.executable, "-m", "ugpp_bridge", "serve", "--no-scheduler"], env, url)
        try:
            warm = requests.post(url, data=envelope(solicitud_to_xml(request_with(10, "W"))),
                                 timeout=60)  # fmt: skip
            assert b"RECIBIDA" in warm.content, warm.content[:300]
            warm_rss = rss_mb(server.pid)
            answer = requests.post(url, data=body, timeout=600)
            time.sleep(1)
            after, peak = rss_mb(server.pid), peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    text = answer.content.decode(errors="replace")
    outcome = "RECIBIDA" if "RECIBIDA" in text else text.split("<faultstring>")[-1][:70]
    return warm_rss, peak, after, outcome


def main() -> None:
    print(f"# An authenticated Paso 1 body in serve; {os.cpu_count()} cores")
    print("| body | warm RSS MB | peak RSS MB | RSS 1 s after MB | answer |")
    print("|---|---|---|---|---|")
    for name, body in bodies().items():
        warm, peak, after, outcome = measure(body)
        print(f"| {name} | {warm} | {peak} | {after} | {outcome} |")
    print("Target: peak < 300 MB at the maximum size, and back down after.")


if __name__ == "__main__":
    main()
