"""Shared fixtures: database URLs on SQLite and PostgreSQL, and the other source engines.

Every storage and source-SQL test runs on both engines; the source tests also on DuckDB,
Parquet files and Spark (local mode). PostgreSQL is reached at
``UGPP_BRIDGE_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``); each
test gets a schema of its own, dropped afterwards. Under ``CI=true`` an unreachable PostgreSQL
fails the test; elsewhere it is skipped with the reason shown.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from ugpp_bridge.adapters.soap.solicitud_xml import parse_solicitud
from ugpp_bridge.adapters.source import schema as source_schema
from ugpp_bridge.adapters.source.engines import make_engine
from ugpp_bridge.adapters.source.engines.parquet_files import folder_of, relation_source
from ugpp_bridge.adapters.source.sql import SqlAlchemySource
from ugpp_bridge.adapters.state.migrations import upgrade
from ugpp_bridge.bootstrap import StateStores, state_stores
from ugpp_bridge.domain.filing import RequestKey
from ugpp_bridge.errors import ConfigurationError

POSTGRES_URL = os.environ.get(
    "UGPP_BRIDGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
MYSQL_URL = os.environ.get("UGPP_BRIDGE_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
DATA = Path(__file__).parent / "data"


@cache
def _postgres_problem() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        engine = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except sa.exc.SQLAlchemyError as exc:
        return f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc.__class__.__name__}"
    return None


def require_postgres() -> None:
    problem = _postgres_problem()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{problem} (required under CI=true)")
    pytest.skip(problem)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped after the test."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@cache
def _mysql_problem() -> str | None:
    """None when MySQL/MariaDB answers (and its driver is installed), else why not."""
    try:
        engine = make_engine(MYSQL_URL)
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except (sa.exc.SQLAlchemyError, ConfigurationError) as exc:
        return f"MySQL/MariaDB is not reachable at {MYSQL_URL}: {exc.__class__.__name__}: {exc}"
    return None


@pytest.fixture
def mysql_url() -> Iterator[str]:
    """A MySQL/MariaDB URL on a fresh database, dropped after the test (the ``[mysql]`` extra
    and the server are required under ``CI=true``)."""
    problem = _mysql_problem()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem} (required under CI=true)")
        pytest.skip(problem)
    database = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(MYSQL_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE DATABASE `{database}`"))
    try:
        yield str(sa.engine.make_url(MYSQL_URL).set(database=database).render_as_string(False))
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS `{database}`"))
        admin.dispose()


@pytest.fixture
def sources() -> Iterator[Callable[[str], SqlAlchemySource]]:
    """Opens sources on URLs and closes their connections when the test ends."""
    opened: list[SqlAlchemySource] = []

    def open_source(url: str) -> SqlAlchemySource:
        opened.append(SqlAlchemySource(make_engine(url)))
        return opened[-1]

    yield open_source
    for source in opened:
        source.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test on SQLite and on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def postgresql_url(postgres_url: str) -> str:
    return postgres_url


@pytest.fixture
def duckdb_url(tmp_path: Path) -> str:
    """A DuckDB source file (the ``[duckdb]`` extra; required under ``CI=true``)."""
    try:
        import duckdb_engine  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("duckdb-engine is not installed (required under CI=true)")
        pytest.skip("the [duckdb] extra is not installed")
    return f"duckdb:///{tmp_path / 'source.duckdb'}"


@pytest.fixture
def parquet_url(duckdb_url: str, tmp_path: Path) -> str:
    """A folder of Parquet files read by DuckDB (``parquet:///DIR``)."""
    return f"parquet://{tmp_path / 'parquet'}"


def require_spark() -> None:
    """PySpark and Java, or a skip with the reason (a failure under ``CI=true``)."""
    from ugpp_bridge.adapters.source.engines.spark_session import require_spark as check
    from ugpp_bridge.errors import ConfigurationError

    try:
        check()
    except ConfigurationError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{exc} (required under CI=true)")
        pytest.skip(str(exc))


@pytest.fixture
def spark_url(tmp_path: Path) -> str:
    """Spark in local mode over a folder of Parquet datasets (``spark:``). One Spark session
    serves the whole test process; each connection is a session of its own."""
    require_spark()
    return f"spark:?master=local[2]&relations={tmp_path / 'lake'}"


@pytest.fixture(scope="session")
def spark_remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A standalone Spark cluster on loopback with a Spark Connect server (one per test run;
    about 15 s to start): its ``sc://`` address."""
    require_spark()
    from tests.integration.spark_cluster import standalone_cluster
    from ugpp_bridge.adapters.source.engines.spark_session import stop_remote_sessions

    with standalone_cluster(tmp_path_factory.mktemp("spark-cluster")) as remote:
        try:
            yield remote
        finally:
            stop_remote_sessions()  # before the server goes


@pytest.fixture
def spark_connect_url(tmp_path: Path, spark_remote: str) -> str:
    """Spark as a service: the same relations as ``spark_url``, through Spark Connect to the
    standalone cluster (no JVM in the bridge's process)."""
    return f"spark:?remote={spark_remote}&relations={tmp_path / 'lake'}"


ENGINES = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgresql),
    pytest.param("duckdb", marks=pytest.mark.duckdb),
    pytest.param("parquet", marks=pytest.mark.duckdb),
    pytest.param("mysql", marks=pytest.mark.mysql),
]
SPARK = pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.duckdb])
SPARK_CONNECT = pytest.param("spark_connect", marks=[pytest.mark.spark, pytest.mark.duckdb])


@pytest.fixture(params=[*ENGINES, SPARK, SPARK_CONNECT])
def source_url(request: pytest.FixtureRequest) -> str:
    """A source on every source engine: SQLite, PostgreSQL, DuckDB, Parquet files, MariaDB
    (``mysql://``), Spark in local mode and Spark Connect to a standalone cluster."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture(params=ENGINES)
def quick_source_url(request: pytest.FixtureRequest) -> str:
    """Every engine but Spark, for tests of many examples: Spark's jobs take a second each in
    local mode, so its hypothesis runs are a test of their own with fewer examples."""
    return str(request.getfixturevalue(f"{request.param}_url"))


def change_source(url: str, *statements: str) -> None:
    """Run SQL on a source database as the entity would, closing every connection after (an
    engine left to the garbage collector leaves SQLite connections open: Python 3.13 warns)."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()


@contextmanager
def editing(source: SqlAlchemySource) -> Iterator[sa.Connection]:
    """A transaction on the source's relations, to change them as a test needs.

    A Parquet source has no tables to change: its files are staged into a DuckDB file
    without any constraint (as an export is), changed there, and every relation the staging
    holds afterwards is written back — which is how the entity's next export would differ.
    """
    folder = folder_of(source.engine)
    if folder is None:
        with source.engine.begin() as connection:
            yield connection
        return
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        staging = sa.create_engine(f"duckdb:///{Path(scratch) / 'edit.duckdb'}")
        try:
            with staging.begin() as connection:
                for relation in source_schema.RELATION_ORDER:
                    found = relation_source(folder, relation)
                    if found is not None:
                        connection.exec_driver_sql(
                            f"CREATE TABLE {relation} AS SELECT * FROM read_parquet('{found}')"
                        )
                yield connection
            with staging.connect() as connection:
                present = set(sa.inspect(connection).get_table_names())
                for relation in source_schema.RELATION_ORDER:
                    target = folder / f"{relation}.parquet"
                    if relation in present:
                        connection.exec_driver_sql(
                            f"COPY {relation} TO '{target}' (FORMAT PARQUET)"
                        )
                    elif target.exists():
                        target.unlink()
        finally:
            staging.dispose()


GOLDEN_RECEIVED_AT = datetime(2026, 11, 5, 14, tzinfo=UTC)


def register_golden_request(stores: StateStores) -> str:
    """Store tests/data/wire/solicitud.xml as received; its radicado."""
    request = parse_solicitud((DATA / "wire" / "solicitud.xml").read_bytes())
    receipt = stores.requests.register(
        request, received_at=GOLDEN_RECEIVED_AT, due_date=date(2026, 12, 7), actor="test"
    )
    return receipt.filing_number


@contextmanager
def standin_process(
    log: Path, *options: str, port: int | None = None, env: dict[str, str] | None = None
) -> Iterator[str]:
    """``ugpp-bridge ugpp-sim serve`` in a process of its own on ``port`` (default: a free
    loopback port), with ``options``; its base URL once its WSDL answers (15 s at most)."""
    port = port or free_port()
    with log.open("wb") as sink:
        simulator = subprocess.Popen(
            [sys.executable, "-m", "ugpp_bridge", "ugpp-sim", "serve", "--port", str(port),
             *options], env=env, stdout=sink, stderr=sink,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(150):  # bounded start-up wait: 15 s
                try:
                    requests.get(f"{base}/ugpp/reporte?wsdl", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            yield base
        finally:
            simulator.terminate()
            simulator.wait(timeout=30)


def free_port() -> int:
    """A free port on the loopback interface, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def state_url(db_url: str) -> str:
    """A state database on both engines, migrated to head."""
    upgrade(db_url)
    return db_url


@pytest.fixture
def stores(state_url: str) -> Iterator[StateStores]:
    opened = state_stores(state_url)
    yield opened
    opened.close()


def key_of(stores: StateStores, identifier: str) -> RequestKey:
    """The primary key of the request an operator's ID names (the stores address by key)."""
    return stores.requests.find(identifier).key


def bridge_env(
    database_url: str | None, source_url: str, ugpp_base: str, **extra: str
) -> dict[str, str]:
    """The settings of a bridge that builds from ``source_url`` and sends to the UGPP stand-in
    at ``ugpp_base``: golden operator, lotes of 4, no backoff, approval off unless ``extra``
    says otherwise (keys are setting names without the prefix, lower case)."""
    env = {
        "UGPP_BRIDGE_SOURCE_URL": source_url,
        "UGPP_BRIDGE_OPERATOR_NIT": "800197268",
        "UGPP_BRIDGE_OPERATOR_NAME": "Banco de Ejemplo S.A.",
        "UGPP_BRIDGE_LOTE_MAX_RECORDS": "4",
        "UGPP_BRIDGE_UGPP_ENDPOINT": f"{ugpp_base}/ugpp/reporte",
        "UGPP_BRIDGE_UGPP_TOKEN_URL": f"{ugpp_base}/ugpp/token",
        "UGPP_BRIDGE_UGPP_USERNAME": "bridge",
        "UGPP_BRIDGE_UGPP_PASSWORD": "bridge-secret",
        "UGPP_BRIDGE_UGPP_CLIENT_ID": "ugpp-bridge",
        "UGPP_BRIDGE_SEND_BACKOFF_SECONDS": "0",
        "UGPP_BRIDGE_REQUIRE_APPROVAL": "false",
    }
    if database_url is not None:
        env["UGPP_BRIDGE_DATABASE_URL"] = database_url
    env.update({f"UGPP_BRIDGE_{name.upper()}": value for name, value in extra.items()})
    return env
