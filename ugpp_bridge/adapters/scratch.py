"""The sweep that removes the build folders a killed process left behind.

A build writes its lotes into a private temporary folder before storing them
(``service/build.py``); the folder holds personal data (document numbers, balances). It is
removed when the build ends, however it ends — unless the process is killed. Its name carries
the process id, so that the next build, or the next start of ``serve``/``worker``, can tell a
folder whose owner is gone and remove it.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from ugpp_bridge.service.build import SCRATCH_PREFIX as PREFIX

logger = logging.getLogger(__name__)


def remove_abandoned(root: Path | None = None) -> int:
    """Remove the build folders of processes that no longer run; how many were removed."""
    removed = 0
    for folder in Path(root or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        pid = folder.name[len(PREFIX) :].split("-", 1)[0]
        if folder.is_dir() and pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    if removed:
        logger.warning("Removed %d build folder(s) left by a process that stopped", removed)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
