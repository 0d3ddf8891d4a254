"""The pure rules of the defences: throttling windows, operator IDs, secrets' lengths, and the
sweep of build folders left by killed processes."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ugpp_bridge.adapters.scratch import remove_abandoned
from ugpp_bridge.config import load_settings
from ugpp_bridge.domain.filing import OperatorId, parse_operator_id
from ugpp_bridge.domain.throttling import FailureCount, ThrottlePolicy, after_failure
from ugpp_bridge.errors import ConfigurationError

T0 = datetime(2026, 11, 29, 12, tzinfo=UTC)
POLICY = ThrottlePolicy(3, timedelta(minutes=15), timedelta(minutes=10))


def test_the_limit_inside_the_window_locks_out_for_the_lockout() -> None:
    count = None
    for n in range(3):
        count = after_failure(count, POLICY, T0 + timedelta(minutes=n))
    assert count == FailureCount(3, T0, T0 + timedelta(minutes=12))
    assert count.blocked_at(T0 + timedelta(minutes=11)) and not count.blocked_at(
        T0 + timedelta(minutes=13)
    )


def test_failures_spread_beyond_the_window_never_lock_out() -> None:
    count = None
    for n in range(10):
        count = after_failure(count, POLICY, T0 + timedelta(minutes=16 * n))
        assert count.blocked_until is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("UB-2026-000001", OperatorId("UB-2026-000001")),
        ("  UGPP-1 ", OperatorId("UGPP-1")),
        ("radicado:UB-2026-000001", OperatorId("UB-2026-000001", True, False)),
        ("solicitud:UB-2026-000001", OperatorId("UB-2026-000001", False, True)),
        ("solicitud:radicado:X", OperatorId("radicado:X", False, True)),
        ("", None),
        ("radicado:", None),
        ("UB\x00", None),
        ("a\tb", None),
        ("x" * 65, None),
    ],
)
def test_operator_ids_and_their_prefixes(text: str, expected: OperatorId | None) -> None:
    assert parse_operator_id(text) == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [("UGPP_BRIDGE_INBOUND_PASSWORD", "x" * 11), ("UGPP_BRIDGE_SESSION_SECRET", "y" * 31)],
)
def test_short_secrets_are_refused_at_start_up(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        load_settings({name: value})


def test_the_public_url_must_be_an_http_address() -> None:
    assert load_settings({"UGPP_BRIDGE_PUBLIC_URL": "https://b.example/s"}).paso1_public_url == (
        "https://b.example/s"
    )
    assert load_settings({"UGPP_BRIDGE_PORT": "9000"}).paso1_public_url == (
        "http://127.0.0.1:9000/soap/solicitudes"
    )
    with pytest.raises(ConfigurationError, match="UGPP_BRIDGE_PUBLIC_URL"):
        load_settings({"UGPP_BRIDGE_PUBLIC_URL": "ftp://b.example"})


def test_only_folders_of_processes_that_are_gone_are_removed(tmp_path: Path) -> None:
    gone = tmp_path / "ugpp-bridge-build-999999999-abc"
    mine = tmp_path / f"ugpp-bridge-build-{os.getpid()}-def"
    other = tmp_path / "something-else"
    for folder in (gone, mine, other):
        folder.mkdir()
        (folder / ".lote-00001.part").write_text("CC 52123456")
    assert remove_abandoned(tmp_path) == 1
    assert not gone.exists() and mine.exists() and other.exists()
