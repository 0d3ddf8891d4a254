"""The ``spark:`` source (SPEC §9): its settings, its clear errors, the ways a data lake holds
the relations (a folder, a Hadoop URI, partitioned datasets, a catalog database), and the
declared-type checks it shares with the other typed engines."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.conftest import DATA, editing
from tests.integration.test_sql_build import MONTHS, request_for, sql_records
from ugpp_bridge.adapters.source import schema as source_schema
from ugpp_bridge.adapters.source.csv_import import import_csv_directory
from ugpp_bridge.adapters.source.engines import make_engine
from ugpp_bridge.adapters.source.engines.spark_session import (
    SparkOptions,
    shared_session,
    spark_options,
)
from ugpp_bridge.adapters.source.report_source import SqlAlchemyReportSource
from ugpp_bridge.adapters.source.sql import SqlAlchemySource
from ugpp_bridge.config import load_settings
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.source import SourceData
from ugpp_bridge.entrypoints.cli import main
from ugpp_bridge.errors import ConfigurationError

Sources = Callable[[str], SqlAlchemySource]
GOLDEN_PERSONS = (PersonId("CC", "52123456"), PersonId("PT", "7788990"), PersonId("RC", "1234"))


# -- settings and errors (no Spark started) ---------------------------------------------------


def test_the_settings_name_master_and_relations_and_the_url_wins() -> None:
    assert spark_options("spark:", relations="/lake") == SparkOptions("local[*]", "/lake")
    assert spark_options("spark:", master="yarn", relations="hdfs://nn/lake") == SparkOptions(
        "yarn", "hdfs://nn/lake"
    )
    chosen = spark_options("spark:?master=local[4]&relations=/other", master="yarn", relations="/x")
    assert chosen == SparkOptions("local[4]", "/other")


@pytest.mark.parametrize(
    ("relations", "folder"),
    [
        ("/data/lake", Path("/data/lake")),
        ("file:///data/lake", Path("/data/lake")),
        ("hdfs://namenode/lake", None),
        ("s3a://bucket/lake", None),
        ("catalog:bank", None),
    ],
)
def test_only_a_folder_on_this_machine_can_be_written(relations: str, folder: Path | None) -> None:
    assert SparkOptions(relations=relations).local_folder == folder


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("spark:", "UGPP_BRIDGE_SPARK_RELATIONS is required"),
        ("spark://cluster:7077", "not a Spark source URL"),
        ("spark:?relation=/lake", "not a Spark source URL"),
    ],
)
def test_a_spark_url_without_what_it_needs_says_what_to_set(url: str, says: str) -> None:
    with pytest.raises(ConfigurationError, match=says):
        make_engine(url)


def test_without_pyspark_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if not installed
    with pytest.raises(ConfigurationError, match=r"pip install 'ugpp-bridge\[spark\]'"):
        make_engine("spark:?relations=/lake")


def test_without_java_the_error_says_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("pyspark")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))  # holds no bin/java
    with pytest.raises(ConfigurationError, match="Java runtime .*JAVA_HOME"):
        make_engine("spark:?relations=/lake")
    monkeypatch.delenv("JAVA_HOME")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigurationError, match="Java runtime"):
        make_engine("spark:?relations=/lake")


# -- where the relations live -----------------------------------------------------------------


@pytest.fixture
def golden_lake(sources: Sources, spark_url: str) -> tuple[str, list[object]]:
    """The golden CSV data as a Parquet lake, and its records as Spark builds them."""
    import_csv_directory(DATA / "source_csv", sources(spark_url))
    records = sql_records(spark_url, request_for(GOLDEN_PERSONS, MONTHS))
    assert len(records) > 5
    return spark_url, records


def lake_folder(url: str) -> Path:
    return Path(url.split("relations=", 1)[1])


@pytest.mark.spark
def test_the_same_lake_as_a_hadoop_uri_gives_the_same_records(
    golden_lake: tuple[str, list[object]],
) -> None:
    url, records = golden_lake
    uri = f"spark:?master=local[2]&relations=file://{lake_folder(url)}"
    assert sql_records(uri, request_for(GOLDEN_PERSONS, MONTHS)) == records
    parquet = f"parquet://{lake_folder(url)}"
    assert sql_records(parquet, request_for(GOLDEN_PERSONS, MONTHS)) == records, "DuckDB agrees"


@pytest.mark.spark
def test_a_relation_split_into_a_folder_of_files_is_read_whole(
    golden_lake: tuple[str, list[object]],
) -> None:
    url, records = golden_lake
    lake = lake_folder(url)
    parts = lake / "transactions"
    parts.mkdir()
    duck = sa.create_engine("duckdb:///:memory:")
    try:
        with duck.connect() as connection:
            whole = f"read_parquet('{lake / 'transactions.parquet'}')"
            for n, sign in enumerate((">=", "<")):
                connection.exec_driver_sql(
                    f"COPY (SELECT * FROM {whole} WHERE amount {sign} 0) "
                    f"TO '{parts / f'part-{n}.parquet'}' (FORMAT PARQUET)"
                )
    finally:
        duck.dispose()
    (lake / "transactions.parquet").unlink()
    assert sql_records(url, request_for(GOLDEN_PERSONS, MONTHS)) == records


@pytest.fixture
def catalog_database(golden_lake: tuple[str, list[object]], tmp_path: Path) -> Iterator[str]:
    """The lake's files as external tables of a database in Spark's catalog."""
    url, _ = golden_lake
    lake = lake_folder(url)
    session = shared_session("local[2]")
    database = f"bank_{uuid.uuid4().hex[:8]}"
    session.sql(f"CREATE DATABASE {database} LOCATION '{tmp_path / 'warehouse'}'")
    for dataset in sorted(lake.glob("*.parquet")):
        session.sql(f"CREATE TABLE {database}.{dataset.stem} USING parquet LOCATION '{dataset}'")
    yield database
    session.sql(f"DROP DATABASE {database} CASCADE")


@pytest.mark.spark
def test_tables_of_a_catalog_database_are_read_like_the_files(
    golden_lake: tuple[str, list[object]], catalog_database: str
) -> None:
    _, records = golden_lake
    url = f"spark:?master=local[2]&relations=catalog:{catalog_database}"
    source = SqlAlchemySource(make_engine(url))
    try:
        assert source.check() == []
    finally:
        source.close()
    assert sql_records(url, request_for(GOLDEN_PERSONS, MONTHS)) == records


@pytest.mark.spark
def test_a_catalog_database_cannot_be_written_and_says_how_to_load_it(
    catalog_database: str,
) -> None:
    url = f"spark:?master=local[2]&relations=catalog:{catalog_database}"
    source = SqlAlchemySource(make_engine(url))
    try:
        with pytest.raises(ConfigurationError, match="local folder"):
            source.write([SourceData()], replace=True)
    finally:
        source.close()


# -- declared types (every engine with declared types) ----------------------------------------

TYPED_ENGINES = [
    pytest.param("parquet", marks=pytest.mark.duckdb),
    pytest.param("postgresql", marks=pytest.mark.postgresql),
    pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.duckdb]),
    pytest.param("mysql", marks=pytest.mark.mysql),
]
# How each engine's DBA would change a column's type.
ALTER_TYPE = {"mysql": "ALTER TABLE {table} MODIFY {column} {type}"}


@pytest.mark.parametrize("engine", TYPED_ENGINES)
def test_an_export_with_inexact_or_text_types_is_named_before_any_row_is_read(
    sources: Sources, request: pytest.FixtureRequest, engine: str
) -> None:
    url = str(request.getfixturevalue(f"{engine}_url"))
    source = sources(url)
    import_csv_directory(DATA / "source_csv", source)
    alter = ALTER_TYPE.get(engine, "ALTER TABLE {table} ALTER {column} TYPE {type}")
    with editing(source) as connection:
        connection.exec_driver_sql(
            alter.format(table="transactions", column="amount", type="DOUBLE PRECISION")
        )
        connection.exec_driver_sql(
            alter.format(table="daily_balances", column="balance_date", type="VARCHAR(10)")
        )
    found = {(p.relation, p.column): p.message for p in source.check()}
    assert "DOUBLE" in found[("transactions", "amount")]  # DOUBLE PRECISION on PostgreSQL
    assert "DECIMAL(20,2)" in found[("transactions", "amount")]
    assert "export it as DATE" in found[("daily_balances", "balance_date")]
    report = SqlAlchemyReportSource(make_engine(url))  # what the build checks first
    try:
        assert {(p.relation, p.column) for p in report.check()} >= set(found)
    finally:
        report.close()


# -- the commands, configured by settings -----------------------------------------------------


def spark_settings(lake: Path) -> dict[str, str]:
    return {
        "UGPP_BRIDGE_SOURCE_URL": "spark:",
        "UGPP_BRIDGE_SPARK_MASTER": "local[2]",
        "UGPP_BRIDGE_SPARK_RELATIONS": str(lake),
    }


@pytest.mark.spark
@pytest.mark.duckdb
def test_import_and_check_on_spark_take_master_and_relations_from_the_settings(
    spark_url: str,
) -> None:
    lake = lake_folder(spark_url)
    runner = CliRunner()
    imported = runner.invoke(main, ["source", "import", str(DATA / "source_csv")],
                             env=spark_settings(lake))  # fmt: skip
    assert imported.exit_code == 0, imported.output
    assert sorted(path.name for path in lake.iterdir()) == sorted(
        f"{relation}.parquet" for relation in source_schema.RELATION_ORDER
    )
    checked = runner.invoke(main, ["source", "check"], env=spark_settings(lake))
    assert checked.exit_code == 0, checked.output
    assert "meets the contract" in checked.output


def test_a_spark_source_without_pyspark_is_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    result = CliRunner().invoke(main, ["source", "check"], env=spark_settings(tmp_path))
    assert result.exit_code == 1
    assert "pip install 'ugpp-bridge[spark]'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.spark
@pytest.mark.parametrize(
    ("statement", "says"),
    [
        ("SELECT * FROM no_such_relation", "TABLE_OR_VIEW_NOT_FOUND"),
        ("SELECT CAST(9223372036854775807 AS BIGINT) + 1", "ARITHMETIC_OVERFLOW"),
    ],
)
def test_a_failed_spark_query_is_reported_by_spark_s_own_reason(
    spark_url: str, statement: str, says: str
) -> None:
    engine = make_engine(spark_url)
    try:
        with engine.connect() as connection, pytest.raises(sa.exc.DBAPIError) as caught:
            connection.exec_driver_sql(statement).all()
    finally:
        engine.dispose()
    reason = str(caught.value.orig)
    assert says in reason, reason
    assert "An error occurred while calling" not in reason
    assert "\n" not in reason  # the first line only: no JVM stack in messages or logs


def test_a_local_spark_spills_into_a_folder_the_scratch_sweep_removes(tmp_path: Path) -> None:
    from ugpp_bridge.adapters.scratch import remove_abandoned
    from ugpp_bridge.adapters.source.engines.spark_session import session_config

    spill = Path(session_config("local[2]")["spark.local.dir"])
    assert spill.parent == Path(tempfile.gettempdir())
    # The same name under another process id that no longer runs is swept away.
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    left = tmp_path / spill.name.replace(str(os.getpid()), gone, 1)
    (left / "blockmgr-1").mkdir(parents=True)
    assert remove_abandoned(tmp_path) == 1 and not left.exists()
    assert "spark.local.dir" not in session_config("spark://cluster:7077")


# -- Spark as a service (SPEC §11) ------------------------------------------------------------


def test_a_spark_connect_address_comes_from_the_settings_or_the_url_and_hides_its_token() -> None:
    chosen = spark_options("spark:?relations=/lake", remote="sc://spark.banco:15002/;token=s3cr3t")
    assert chosen.remote == "sc://spark.banco:15002/;token=s3cr3t"
    assert "s3cr3t" not in chosen.display and "sc://spark.banco:15002/" in chosen.display
    assert spark_options("spark:?remote=sc://h:1&relations=/l", remote="sc://other:2").remote == (
        "sc://h:1"
    )
    with pytest.raises(ConfigurationError, match="not a Spark Connect address"):
        spark_options("spark:?remote=http://h:1&relations=/l")
    with pytest.raises(ConfigurationError, match="UGPP_BRIDGE_SPARK_REMOTE.*sc://"):
        load_settings({"UGPP_BRIDGE_SPARK_REMOTE": "spark.banco:15002"})


@pytest.mark.spark
@pytest.mark.duckdb
def test_through_spark_connect_the_bridge_needs_no_java_of_its_own(
    spark_connect_url: str, sources: Sources, tmp_path: Path
) -> None:
    """The CLI builds the golden report through the standalone cluster from a process that
    could not start a JVM: no Java on its PATH, a JAVA_HOME without one."""
    import_csv_directory(DATA / "source_csv", sources(spark_connect_url))
    out = tmp_path / "out"
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("UGPP_BRIDGE_")
    } | {
        "UGPP_BRIDGE_SOURCE_URL": spark_connect_url,
        "UGPP_BRIDGE_OPERATOR_NAME": "Banco de Ejemplo S.A.",
        "JAVA_HOME": str(tmp_path),  # holds no bin/java
        "PATH": str(Path(sys.executable).parent),  # python and ugpp-bridge, no java
    }  # fmt: skip
    report = subprocess.run(
        [sys.executable, "-m", "ugpp_bridge", "report", "--request",
         str(DATA / "wire" / "solicitud.xml"), "--out", str(out),
         "--generated-at", "2026-11-06T08:00:00-0500"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert report.returncode == 0, report.stdout + report.stderr
    assert (out / "UGPP-2026-000451-1.xml").exists()


@pytest.mark.spark
@pytest.mark.duckdb
def test_with_a_local_master_the_scheduler_builds_in_a_child_and_keeps_no_jvm(
    spark_url: str, sources: Sources, tmp_path: Path
) -> None:
    """``serve`` and ``worker`` build a local Spark source in a child process: the scheduler's
    own process never loads PySpark, and a build the child refuses is recorded as failed."""
    import_csv_directory(DATA / "source_csv", sources(spark_url))
    state = f"sqlite:///{tmp_path / 'state.db'}"
    script = CHILD_BUILD_SCRIPT.format(state=state, source=spark_url, broken=tmp_path / "none")
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=600, cwd=Path(__file__).parents[2])  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    built, pyspark_here, failed, error = ran.stdout.split()[-4:]
    assert (built, pyspark_here) == ("approved", "False")
    assert failed == "build_failed" and error == "missing"


CHILD_BUILD_SCRIPT = """
import sys
from dataclasses import replace
from tests.conftest import register_golden_request
from ugpp_bridge.adapters.state.migrations import upgrade
from ugpp_bridge.bootstrap import state_stores, work_context
from ugpp_bridge.config import Settings
from ugpp_bridge.service.work import build_due

upgrade("{state}")
settings = Settings(database_url="{state}", source_url="{source}", operator_name="Banco",
                    require_approval=False)
stores = state_stores("{state}")
register_golden_request(stores)
(swept,) = build_due(work_context(settings, stores, "worker:test"))
print(swept.state.value, "pyspark" in sys.modules)
broken = replace(settings, source_url="spark:?master=local[1]&relations={broken}")
key = stores.requests.find(swept.filing_number).key
stores.requests.request_rebuild(key, at=stores.requests.get(key).updated_at, actor="web:ana")
(failed,) = build_due(work_context(broken, stores, "worker:test"))
last = stores.requests.get(key).last_error or ""
print(failed.state.value, "missing" if "missing" in last else repr(last))
"""
