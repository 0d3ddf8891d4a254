"""Benchmark of Paso 1 under attack (issue 11): what anonymous bodies cost `serve`.

    python bench/paso1_attack_benchmark.py [--rounds 3] [--size-mib 32] [--parallel 3]

Starts `ugpp-bridge serve --no-scheduler` on 127.0.0.1 (SQLite state in a temporary folder),
warms it with one valid request, then sends, `--rounds` times, `--parallel` anonymous bodies
of `--size-mib` MiB at once (`<b/>` elements inside the Body, no Security header — what took
serve to 5.4 GB before). Prints the growth of serve's peak RSS over its warm RSS, the CPU time
serve spent per refusal (user + system, from /proc), the time to answer a body that declares
900 MB and sends 1 KB, and whether a valid request is still received afterwards.

Targets (issue 11): < 50 MB growth and < 50 ms CPU per refusal.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.paso1_benchmark import envelope, free_port, request_with, serve_env  # noqa: E402
from ugpp_bridge.adapters.soap.solicitud_xml import solicitud_to_xml  # noqa: E402
from ugpp_bridge.adapters.soap.wsse import SOAP_ENV  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise SystemExit(f"no {field}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def anonymous(size_mib: int) -> bytes:
    elements = size_mib * 2**20 // 4
    return (
        f'<e:Envelope xmlns:e="{SOAP_ENV}"><e:Body><a>'.encode()
        + b"<b/>" * elements
        + b"</a></e:Body></e:Envelope>"
    )


def declared_900_mb(port: int) -> float:
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
        raw.sendall(b"POST /soap/solicitudes HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                    b"Content-Length: 943718400\r\n\r\n" + b"<" * 1024)  # fmt: skip
        first = raw.recv(100)
    if not first.startswith(b"HTTP/1.1 500"):  # the SolicitudDemasiadoGrande fault
        raise SystemExit(f"unexpected answer to a declared 900 MB body: {first!r}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size-mib", type=int, default=32)
    parser.add_argument("--parallel", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = serve_env(folder, port)
        server = subprocess.Popen([sys.executable, "-m", "ugpp_bridge", "serve", "--no-scheduler"],
                                  env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)  # fmt: skip
        url = f"http://127.0.0.1:{port}/soap/solicitudes"
        try:
            for _ in range(300):  # bounded: 30 s
                try:
                    requests.get(f"{url}?wsdl", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            valid = solicitud_to_xml(request_with(1_000, "ATTACK-WARM"))
            warm = requests.post(url, data=envelope(valid), timeout=60)
            assert b"RECIBIDA" in warm.content, warm.content[:300]
            warm_rss = status_kb(server.pid, "VmRSS")
            body = anonymous(args.size_mib)
            cpu_before = cpu_seconds(server.pid)
            refused = 0
            started = time.perf_counter()
            for _ in range(args.rounds):
                answers: list[requests.Response] = []

                def attack(answers: list[requests.Response] = answers) -> None:
                    answers.append(requests.post(url, data=body, timeout=300))

                threads = [threading.Thread(target=attack) for _ in range(args.parallel)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                refused += sum(b"NoAutorizado" in a.content for a in answers)
            wall = time.perf_counter() - started
            cpu = cpu_seconds(server.pid) - cpu_before
            peak = status_kb(server.pid, "VmHWM")
            declared = declared_900_mb(port)
            after = requests.post(url, data=envelope(solicitud_to_xml(
                request_with(1_000, "ATTACK-AFTER"))), timeout=60)  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=30)
    total = args.rounds * args.parallel
    print(f"# Paso 1 under attack: {args.rounds} rounds of {args.parallel} parallel anonymous "
          f"{args.size_mib} MiB bodies; {os.cpu_count()} cores")  # fmt: skip
    print("| measure | value | target |")
    print("|---|---|---|")
    print(f"| refusals (NoAutorizado) | {refused} of {total} | all |")
    print(f"| serve peak RSS growth over warm RSS | {(peak - warm_rss) / 1024:,.1f} MB | < 50 MB |")
    print(f"| serve CPU per refusal (user + system) | {cpu / total * 1000:,.1f} ms | < 50 ms |")
    print(f"| wall time per round | {wall / args.rounds:,.2f} s | – |")
    print(
        f"| a declared 900 MB body (1 KB sent) answered in | {declared * 1000:,.1f} ms | at once |"
    )
    outcome = "RECIBIDA" if b"RECIBIDA" in after.content else "FAILED"
    print(f"| a valid request afterwards | {outcome} | RECIBIDA |")


if __name__ == "__main__":
    main()
