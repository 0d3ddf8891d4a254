"""``source selftest`` (SPEC §11): the build's own statements over the built-in trap bank, on the
entity's engine, against the pure rules. It passes on every engine CI proves — with the
entity's own relations left untouched beside it — fails loudly, naming the first differing
record, on an engine made to be wrong, and a build on an engine CI does not prove waits for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.conftest import DATA, register_golden_request
from ugpp_bridge.adapters.source import report_sql
from ugpp_bridge.adapters.source.csv_import import import_csv_directory
from ugpp_bridge.adapters.source.engines import make_engine
from ugpp_bridge.adapters.source.sql import SqlAlchemySource
from ugpp_bridge.adapters.state.migrations import upgrade
from ugpp_bridge.bootstrap import state_stores
from ugpp_bridge.bootstrap_source import run_selftest
from ugpp_bridge.config import Settings
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.entrypoints.cli import main
from ugpp_bridge.errors import ConfigurationError


def test_the_selftest_passes_on_every_engine_and_leaves_the_source_as_it_was(
    source_url: str,
) -> None:
    source = SqlAlchemySource(make_engine(source_url))
    try:
        import_csv_directory(DATA / "source_csv", source)  # the entity's own data
        before = source.load(source.holders(10))
    finally:
        source.close()
    engine, verdict = run_selftest(Settings(source_url=source_url, spark_master="local[2]"))
    assert verdict.passed, verdict
    assert verdict.records > 200 and engine in {"sqlite", "postgresql", "duckdb", "parquet",
                                                "mysql", "spark"}  # fmt: skip
    reopened = SqlAlchemySource(make_engine(source_url))
    try:
        assert reopened.load(reopened.holders(10)) == before
    finally:
        reopened.close()


def test_an_engine_made_to_be_wrong_fails_loudly_with_the_first_differing_record(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Why patch: a broken statement stands in for an engine that reads SQL differently; here
    # an account-month's first open day ignores the day the account opened.
    monkeypatch.setattr(report_sql, "_later", lambda _opened, first_day: first_day)
    with SqlAlchemySource(make_engine(sqlite_url)) as empty:  # the entity's source exists
        empty.write([])
    result = CliRunner().invoke(main, ["source", "selftest", "--url", sqlite_url])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("✗ Autoprueba en sqlite")
    assert "difiere de las reglas; no construya con este motor" in result.output
    assert "median_daily_balance: el motor da" in result.output


def test_a_build_on_an_engine_ci_does_not_prove_waits_for_a_passing_selftest(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Why patch: no Oracle or SQL Server here; SQLite plays an engine CI does not prove.
    monkeypatch.setattr("ugpp_bridge.bootstrap.PROVEN_ENGINES", frozenset())
    source_url = f"sqlite:///{tmp_path / 'bank.db'}"
    env = {"UGPP_BRIDGE_DATABASE_URL": sqlite_url, "UGPP_BRIDGE_SOURCE_URL": source_url,
           "UGPP_BRIDGE_OPERATOR_NAME": "Banco de Ejemplo S.A.",
           "UGPP_BRIDGE_OPERATOR_NIT": "800197268", "UGPP_BRIDGE_REQUIRE_APPROVAL": "false"}  # fmt: skip
    runner = CliRunner()
    assert (
        runner.invoke(main, ["source", "import", str(DATA / "source_csv")], env=env).exit_code == 0
    )
    upgrade(sqlite_url)
    stores = state_stores(sqlite_url)
    try:
        register_golden_request(stores)
    finally:
        stores.close()
    refused = runner.invoke(main, ["build", "UGPP-2026-000451"], env=env)
    assert refused.exit_code == 1
    assert "has not passed the self-test" in refused.output
    assert "ugpp-bridge source selftest" in refused.output
    proved = runner.invoke(main, ["source", "selftest"], env=env)
    assert proved.exit_code == 0 and "Registrada en la base de estado" in proved.output
    built = runner.invoke(main, ["build", "UGPP-2026-000451"], env=env)
    assert built.exit_code == 0, built.output
    stores = state_stores(sqlite_url)
    try:
        assert stores.requests.find("UGPP-2026-000451").state is RequestState.APPROVED
        assert "source.selftest_passed" in [e.action for e in stores.audit.audit_trail()]
    finally:
        stores.close()


def current_schema(postgres_url: str) -> str:
    """The test's own (empty) schema, to name as the self-test's scratch schema."""
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as connection:
            return str(connection.execute(sa.text("SELECT current_schema()")).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.postgresql
def test_the_selftest_can_load_into_a_scratch_schema(postgres_url: str) -> None:
    schema = current_schema(postgres_url)
    settings = Settings(source_url=postgres_url, selftest_schema=schema)
    _, verdict = run_selftest(settings)
    assert verdict.passed, verdict


@pytest.mark.postgresql
def test_a_scratch_schema_holding_the_entitys_relations_is_refused_and_kept(
    postgres_url: str,
) -> None:
    with SqlAlchemySource(make_engine(postgres_url)) as bank:
        import_csv_directory(DATA / "source_csv", bank)
        before = bank.load(bank.holders(10))
    schema = current_schema(postgres_url)
    with pytest.raises(ConfigurationError) as refused:
        run_selftest(Settings(source_url=postgres_url, selftest_schema=schema))
    assert "which the self-test did not make: name an empty schema" in str(refused.value)
    with SqlAlchemySource(make_engine(postgres_url)) as bank:
        assert bank.load(bank.holders(10)) == before
