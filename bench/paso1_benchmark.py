"""Benchmark of Paso 1 (issue 4): receipts per second, latency, and a 100,000-person request.

    python bench/paso1_benchmark.py [--requests 200] [--clients 4] [--big-persons 100000]

Starts, on 127.0.0.1, `ugpp-bridge serve` (SQLite state in a temporary folder) and a bare spyne
service on the same WSGI server that only parses and validates the same body (the ceiling of
our stack), then sends each the same 1,000-person requests (a fresh idSolicitud and
UsernameToken each) from a bounded number of client threads, and one 100,000-person request.
Prints receipts/s, p50/p95 latency, the big request's seconds, and each server's peak RSS.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ugpp_bridge.adapters.soap.solicitud_xml import solicitud_to_xml  # noqa: E402
from ugpp_bridge.adapters.soap.wsse import PASSWORD_DIGEST, SOAP_ENV, WSSE, WSU  # noqa: E402
from ugpp_bridge.domain.codes import InformationType  # noqa: E402
from ugpp_bridge.domain.identifiers import PersonId  # noqa: E402
from ugpp_bridge.domain.periods import Period  # noqa: E402
from ugpp_bridge.domain.request import FinancialInfoRequest  # noqa: E402

USER, PASSWORD = "ugpp", "clave-bench-2026"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def request_with(persons: int, request_id: str) -> FinancialInfoRequest:
    return FinancialInfoRequest(
        request_id,
        "800197268",
        date(2026, 11, 2),
        date(2026, 11, 5),
        frozenset(InformationType),
        tuple(Period(2025, m) for m in range(1, 13)),
        tuple(PersonId("CC", str(10_000_000 + n)) for n in range(persons)),
    )


def envelope(body: bytes) -> bytes:
    nonce = os.urandom(16)
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(
        hashlib.sha1(nonce + created.encode() + PASSWORD.encode()).digest()
    ).decode()
    header = (
        f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><wsse:UsernameToken>'
        f"<wsse:Username>{USER}</wsse:Username>"
        f'<wsse:Password Type="{PASSWORD_DIGEST}">{digest}</wsse:Password>'
        f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce><wsu:Created>{created}</wsu:Created>"
        "</wsse:UsernameToken></wsse:Security>"
    )
    body = body.split(b"?>", 1)[1]
    return (
        f'<e:Envelope xmlns:e="{SOAP_ENV}"><e:Header>{header}</e:Header><e:Body>'.encode()
        + body
        + b"</e:Body></e:Envelope>"
    )


def serve_env(folder: str, port: int) -> dict[str, str]:
    """The settings of a `serve` on 127.0.0.1:``port`` with its SQLite state (migrated) and
    temporary files in ``folder``."""
    env = {**os.environ, "UGPP_BRIDGE_DATABASE_URL": f"sqlite:///{folder}/state.db",
           "UGPP_BRIDGE_OPERATOR_NIT": "800197268", "UGPP_BRIDGE_INBOUND_USERNAME": USER,
           "UGPP_BRIDGE_INBOUND_PASSWORD": PASSWORD, "UGPP_BRIDGE_PORT": str(port),
           "UGPP_BRIDGE_SESSION_SECRET": "a-bench-session-secret-of-32-characters",
           "TMPDIR": folder}  # fmt: skip
    subprocess.run([sys.executable, "-m", "ugpp_bridge", "db", "upgrade"], env=env,
                   check=True, capture_output=True)  # fmt: skip
    return env


def start(command: list[str], env: dict[str, str], url: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(300):  # bounded: 30 s
        try:
            requests.get(f"{url}?wsdl", timeout=1)
            return process
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{command} did not start")


def peak_rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return -1


def load(url: str, template: bytes, count: int, clients: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(count))

    def client() -> None:
        session = requests.Session()
        for n in iter(lambda: next(counter, None), None):
            data = envelope(
                template.replace(
                    b"BENCH-ID", f"BENCH-{n:06d}-{threading.get_ident() % 997}".encode()
                )
            )
            started = time.perf_counter()
            answer = session.post(url, data=data, headers={"Content-Type": "text/xml"}, timeout=120)
            elapsed = time.perf_counter() - started
            if answer.status_code != 200 or b"RECIBIDA" not in answer.content:
                raise SystemExit(f"unexpected answer: {answer.content[:300]!r}")
            with lock:
                latencies.append(elapsed)
        session.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies


def measure(name: str, url: str, pid: int, args: argparse.Namespace) -> dict[str, float]:
    template = solicitud_to_xml(replace(request_with(1_000, "BENCH-ID")))
    load(url, template, 10, 1)  # warm-up
    seconds, latencies = load(url, template, args.requests, args.clients)
    big = envelope(solicitud_to_xml(request_with(args.big_persons, f"BIG-{name}")))
    started = time.perf_counter()
    answer = requests.post(url, data=big, headers={"Content-Type": "text/xml"}, timeout=900)
    big_seconds = time.perf_counter() - started
    if b"RECIBIDA" not in answer.content:
        raise SystemExit(f"{name}: the big request failed: {answer.content[:300]!r}")
    quantiles = statistics.quantiles(latencies, n=20)
    return {
        "receipts/s": args.requests / seconds,
        "p50 ms": statistics.median(latencies) * 1000,
        "p95 ms": quantiles[18] * 1000,
        "big s": big_seconds,
        "big MB": len(big) / 2**20,
        "peak RSS MB": peak_rss_mb(pid),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--big-persons", type=int, default=100_000)
    parser.add_argument("--only-bridge", action="store_true", help="Skip the bare spyne service.")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = {
            **os.environ,
            "UGPP_BRIDGE_DATABASE_URL": f"sqlite:///{folder}/state.db",
            "UGPP_BRIDGE_OPERATOR_NIT": "800197268",
            "UGPP_BRIDGE_INBOUND_USERNAME": USER,
            "UGPP_BRIDGE_INBOUND_PASSWORD": PASSWORD,
            "UGPP_BRIDGE_PORT": str(port),
            "UGPP_BRIDGE_HOST": "127.0.0.1",
            "UGPP_BRIDGE_SESSION_SECRET": "a-bench-session-secret-of-32-characters",
        }
        subprocess.run(
            [sys.executable, "-m", "ugpp_bridge", "db", "upgrade"],
            env=env,
            check=True,
            capture_output=True,
        )
        for name, command, url in (
            (
                "bare spyne (parse + validate)",
                [sys.executable, "bench/bare_spyne_server.py", str(port + 1)],
                f"http://127.0.0.1:{port + 1}/soap/solicitudes",
            ),
            (
                "ugpp-bridge serve",
                [sys.executable, "-m", "ugpp_bridge", "serve", "--no-scheduler"],
                f"http://127.0.0.1:{port}/soap/solicitudes",
            ),
        ):
            if args.only_bridge and name.startswith("bare"):
                continue
            process = start(command, env, url)
            try:
                results[name] = measure(name, url, process.pid, args)
            finally:
                process.terminate()
                process.wait(timeout=30)
    print(
        f"# Paso 1: {args.requests} requests of 1,000 persons × 12 months from {args.clients} "
        f"clients; one request of {args.big_persons:,} persons; {os.cpu_count()} cores"
    )
    columns = ["receipts/s", "p50 ms", "p95 ms", "big s", "big MB", "peak RSS MB"]
    print("| server | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, figures in results.items():
        print(f"| {name} | " + " | ".join(f"{figures[c]:,.1f}" for c in columns) + " |")
    if args.only_bridge:
        return
    bare, ours = results["bare spyne (parse + validate)"], results["ugpp-bridge serve"]
    print(
        f"\nthroughput cost of our work: {1 - ours['receipts/s'] / bare['receipts/s']:.0%} "
        f"(target < 15 %); big request: {ours['big s'] / bare['big s'] - 1:+.0%}"
    )


if __name__ == "__main__":
    main()
