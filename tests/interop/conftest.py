"""Foreign SOAP stacks (issue 12): node-soap (npm ``soap``, installed by ``npm ci`` in
``interop/``) and suds-community. Every document that crosses is also validated with xmlschema,
a second validator beside lxml.

Under ``CI=true`` a missing Node.js or ``interop/node_modules`` fails the tests; elsewhere they
are skipped with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import requests
import xmlschema

from ugpp_bridge.adapters.soap import wire

INTEROP = Path(__file__).resolve().parents[2] / "interop"


def require_node() -> str:
    node = shutil.which("node")
    problem = None
    if node is None:
        problem = "Node.js is not installed"
    elif not (INTEROP / "node_modules" / "soap").is_dir():
        problem = "interop/node_modules is missing (run `npm ci` in interop/)"
    if problem is None:
        assert node is not None
        return node
    if os.environ.get("CI") == "true":
        pytest.fail(f"{problem}; required under CI=true")
    pytest.skip(problem)


@dataclass
class NodeAdmin:
    """A node-soap stand-in's admin endpoints: fault modes and what it received."""

    base: str

    def mode(self, **changes: object) -> None:
        requests.post(f"{self.base}/admin/mode", data=json.dumps(changes), timeout=10)

    def stats(self) -> dict[str, object]:
        answer: dict[str, object] = requests.get(f"{self.base}/admin/stats", timeout=10).json()
        return answer


@contextmanager
def node_server(script: str, *arguments: str) -> Iterator[str]:
    """A node-soap server of ``interop/`` (it prints ``{"port": N}`` first); its base URL."""
    node = require_node()
    process = subprocess.Popen([node, str(INTEROP / script), *arguments], cwd=INTEROP,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        assert process.stdout is not None
        port = json.loads(process.stdout.readline())["port"]
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def run_node(script: str, payload: dict[str, object], timeout: float = 60) -> dict[str, object]:
    node = require_node()
    done = subprocess.run([node, str(INTEROP / script)], input=json.dumps(payload), text=True,
                          capture_output=True, timeout=timeout, cwd=INTEROP)  # fmt: skip
    assert done.stdout, done.stderr
    answer: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    assert "crash" not in answer, answer
    return answer


@cache
def schema(path: Path) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(path))


def valid_by_xmlschema(element_xml: bytes | str, path: Path) -> None:
    """Raise unless the element validates with xmlschema (not lxml) against our XSD."""
    schema(path).validate(element_xml)


def body_child(envelope: bytes | str) -> bytes:
    """The first element of a SOAP Body, serialised on its own (with its namespaces)."""
    from lxml import etree

    data = envelope.encode() if isinstance(envelope, str) else envelope
    root = etree.fromstring(data, wire.secure_parser(inbound=True))
    body = root.find(f"{{{wire.SOAP_ENV}}}Body")
    assert body is not None and len(body), data[:300]
    return bytes(etree.tostring(body[0]))
