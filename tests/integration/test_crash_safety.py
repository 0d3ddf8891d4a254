"""A process that dies while building or before sending loses nothing and half-writes nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import key_of
from tests.integration.test_state_store import drafts
from ugpp_bridge.bootstrap import StateStores
from ugpp_bridge.domain.lifecycle import LoteState, RequestState

ROOT = Path(__file__).resolve().parents[2]


def start_child(url: str, mode: str, marker: Path) -> subprocess.Popen[bytes]:
    with (marker.parent / "child.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.integration.crash_child", url, mode, str(marker)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def wait_for(marker: Path, child: subprocess.Popen[bytes], seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text():
            return marker.read_text()
        if child.poll() is not None and not marker.exists():
            raise AssertionError(
                f"the child ended early: {child.communicate()[1].decode()[-2000:]}"
            )
        time.sleep(0.05)
    child.kill()
    raise AssertionError("the child never reached the marker")


def test_a_process_that_dies_after_storing_leaves_every_lote_stored_and_unsent(
    state_url: str, stores: StateStores, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    child = start_child(state_url, "after-store", marker)
    filing = wait_for(marker, child)
    assert child.wait(timeout=60) == 9
    stored = stores.lotes.lotes(key_of(stores, filing))
    assert [(lote.lote_number, lote.state, lote.xml) for lote in stored] == [
        (draft.lote_number, LoteState.STORED, draft.xml) for draft in drafts(filing, count=5)
    ]
    assert all(
        lote.sha256 == draft.sha256
        for lote, draft in zip(stored, drafts(filing, count=5), strict=True)
    )
    assert stores.requests.find(filing).state is RequestState.BUILT
    assert stores.lotes.attempts(key_of(stores, filing)) == []
    assert stores.audit.verify_audit().ok


def test_a_process_killed_inside_the_lote_transaction_writes_none_of_it(
    state_url: str, stores: StateStores, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    child = start_child(state_url, "mid-store", marker)
    filing = wait_for(marker, child)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    assert stores.lotes.lotes(key_of(stores, filing)) == []
    request = stores.requests.find(filing)
    assert (request.state, request.generation) == (RequestState.BUILDING, 1)
    assert [e.action for e in stores.audit.audit_trail(filing)] == [
        "request.received",
        "request.building",
    ]
    assert stores.audit.verify_audit().ok
    # The build can be stored afterwards: the dead transaction left no lock or row behind.
    stores.lotes.store_lotes(
        key_of(stores, filing), drafts(filing), at=request.received_at, actor="system"
    )
    assert stores.requests.find(filing).state is RequestState.BUILT
