"""The console command end to end, through click's CliRunner."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.conftest import DATA
from ugpp_bridge.bootstrap import state_stores
from ugpp_bridge.entrypoints.cli import main


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_demo_runs_the_rules_on_sample_data_and_says_nothing_was_sent(runner: CliRunner) -> None:
    result = runner.invoke(main, ["demo", "--persons", "40"], env={"UGPP_BRIDGE_SOURCE_URL": None})
    assert result.exit_code == 0, result.output
    assert "Demo summary" in result.output
    assert "nothing was sent to UGPP" in result.output
    assert "personas sin información" in result.output
    assert "CC 99999999" in result.output.replace("│", " ") or "99999999" in result.output


def test_source_sample_then_check_passes(runner: CliRunner, db_url: str) -> None:
    sample = runner.invoke(
        main, ["source", "sample", "--url", db_url, "--persons", "15", "--seed", "3"]
    )
    assert sample.exit_code == 0, sample.output
    assert "accounts" in sample.output
    check = runner.invoke(main, ["source", "check", "--url", db_url])
    assert check.exit_code == 0, check.output
    assert "meets the contract" in check.output


def test_source_check_lists_what_is_missing_and_exits_1(runner: CliRunner, sqlite_url: str) -> None:
    result = runner.invoke(main, ["source", "check", "--url", sqlite_url])
    assert result.exit_code == 1
    assert "accounts: the relation (table or view) is missing" in result.output


def test_source_import_reports_bad_lines_as_type_and_message(
    runner: CliRunner, sqlite_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "csv"
    shutil.copytree(DATA / "source_csv", folder)
    path = folder / "accounts.csv"
    path.write_text(path.read_text().replace("A1,CC,52123456,1,", "A1,CC,52123456,8,"))
    result = runner.invoke(main, ["source", "import", str(folder), "--url", sqlite_url])
    assert result.exit_code == 1
    assert result.output.startswith("SourceImportError: ")
    assert "accounts.csv line 2, column account_type" in result.output


def test_source_import_loads_the_files(runner: CliRunner, db_url: str) -> None:
    result = runner.invoke(main, ["source", "import", str(DATA / "source_csv"), "--url", db_url])
    assert result.exit_code == 0, result.output
    assert "28" in result.output


def test_a_source_command_without_a_url_says_which_setting_to_set(runner: CliRunner) -> None:
    result = runner.invoke(main, ["source", "check"], env={"UGPP_BRIDGE_SOURCE_URL": None})
    assert result.exit_code == 1
    assert "ConfigurationError: UGPP_BRIDGE_SOURCE_URL is required" in result.output


def test_a_bad_setting_is_reported_before_anything_runs(runner: CliRunner) -> None:
    result = runner.invoke(main, ["demo"], env={"UGPP_BRIDGE_PORT": "http"})
    assert result.exit_code == 1
    assert "ConfigurationError: UGPP_BRIDGE_PORT is not valid" in result.output


def test_db_upgrade_then_audit_verify_and_tampering_is_reported(
    runner: CliRunner, db_url: str
) -> None:
    env = {"UGPP_BRIDGE_DATABASE_URL": db_url}
    upgrade = runner.invoke(main, ["db", "upgrade"], env=env)
    assert upgrade.exit_code == 0, upgrade.output
    assert "revision 0001" in upgrade.output
    stores = state_stores(db_url)
    try:
        stores.requests.record_action(
            at=datetime(2026, 11, 5, tzinfo=UTC), actor="operador1", action="login"
        )
        stores.requests.record_action(
            at=datetime(2026, 11, 6, tzinfo=UTC), actor="operador1", action="logout"
        )
        intact = runner.invoke(main, ["audit", "verify"], env=env)
        assert intact.exit_code == 0, intact.output
        assert "intact: 2 entries" in intact.output
        with stores.requests.engine.begin() as connection:
            connection.execute(sa.text("UPDATE audit_log SET actor = 'otro' WHERE seq = 1"))
    finally:
        stores.close()
    tampered = runner.invoke(main, ["audit", "verify"], env=env)
    assert tampered.exit_code == 1
    assert "entry 1 was altered" in tampered.output


def test_a_state_database_without_migrations_says_to_run_db_upgrade(
    runner: CliRunner, sqlite_url: str
) -> None:
    result = runner.invoke(main, ["audit", "verify"], env={"UGPP_BRIDGE_DATABASE_URL": sqlite_url})
    assert result.exit_code == 1
    assert result.output.startswith("StoreUnavailableError: ")
    assert "ugpp-bridge db upgrade" in result.output
