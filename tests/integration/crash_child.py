"""A process that dies at a chosen moment, for the crash-safety tests.

``python -m tests.integration.crash_child URL MODE MARKER``:
- ``after-store``: stores the lotes, then dies (``os._exit``) before anything is sent;
- ``mid-store``: writes the marker from inside the lote transaction, after the lote rows are
  inserted and before the commit, then waits to be killed.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from tests.conftest import key_of
from tests.integration.test_state_store import DUE, SYSTEM, T0, drafts, solicitud
from ugpp_bridge.adapters.state import base as state_base
from ugpp_bridge.bootstrap import state_stores


def main(url: str, mode: str, marker: Path) -> None:
    stores = state_stores(url)
    filing = stores.requests.register(
        solicitud(), received_at=T0, due_date=DUE, actor=SYSTEM
    ).filing_number
    stores.requests.start_build(key_of(stores, filing), at=T0, actor=SYSTEM)
    if mode == "mid-store":
        original = state_base.append_audit

        def stall(connection, **kwargs):  # type: ignore[no-untyped-def]
            if kwargs.get("action") == "request.built":
                marker.write_text(filing)
                time.sleep(60)  # the parent kills us here, inside the transaction
            return original(connection, **kwargs)

        state_base.append_audit = stall  # type: ignore[assignment]
    stores.lotes.store_lotes(key_of(stores, filing), drafts(filing, count=5), at=T0, actor=SYSTEM)
    if mode == "mid-store":
        os._exit(3)  # the stall was never reached: the parent sees an early end
    marker.write_text(filing)
    os._exit(9)  # dies before sending anything


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
