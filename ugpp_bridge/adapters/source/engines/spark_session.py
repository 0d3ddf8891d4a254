"""``spark:``: the build on Apache Spark, where a data lake keeps the movements (SPEC §9).

The bridge is Spark's *driver*: it starts (or joins) a ``SparkSession`` on
``UGPP_BRIDGE_SPARK_MASTER`` — ``local[*]`` by default, or a cluster's master
(``spark://host:7077``, ``yarn``, ``k8s://…``) — and registers the six relations as views of
that session, read from ``UGPP_BRIDGE_SPARK_RELATIONS``: a folder or Hadoop URI
(``hdfs://``, ``s3a://``, ``abfss://``) holding one Parquet dataset per relation
(``<relation>.parquet`` or a folder ``<relation>/``), or ``catalog:DATABASE`` for tables of
the session's catalog (Hive metastore, Unity Catalog). The build's Core statements then run as
Spark SQL (``spark_dialect``): the work happens on the cluster, the requested persons travel as a
small broadcast relation, and only the output rows — a few per person and month — come back,
streamed a partition at a time.

Or the bridge is a *client* of Spark as a service (SPEC §11): with
``UGPP_BRIDGE_SPARK_REMOTE=sc://HOST:PORT`` it talks Spark Connect (the protocol Databricks
Connect is built on) and no JVM runs in its processes; the master is then the server's.

Each setting may also be given in the URL, which wins:
``spark:?master=local[4]&relations=/data/lake/bank`` or
``spark:?remote=sc://spark.banco.local:15002&relations=s3a://lake/bank``.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.pool import NullPool

from ugpp_bridge.adapters.source import schema
from ugpp_bridge.errors import ConfigurationError, SourceUnavailableError

logger = logging.getLogger(__name__)

SCHEME = "spark"
DEFAULT_MASTER = "local[*]"
CATALOG_PREFIX = "catalog:"
DISPLAY_OPTION = "ugpp_bridge_source_name"  # execution option: the source as configured
LOCAL_SHUFFLE_PARTITIONS = "8"  # Spark's default of 200 is for clusters; AQE coalesces anyway
LOCAL_DRIVER_MEMORY = "2g"


def is_spark_url(url: str) -> bool:
    return url.split(":", 1)[0].lower() == SCHEME


@dataclass(frozen=True)
class SparkOptions:
    master: str = DEFAULT_MASTER
    relations: str = ""
    remote: str | None = None  # a Spark Connect server: no JVM here, the master is its own

    @property
    def display(self) -> str:
        if self.remote:  # the token (;token=…) stays out of messages and logs
            return f"spark: (remote {self.remote.split(';', 1)[0]}, relations {self.relations})"
        return f"spark: (master {self.master}, relations {self.relations})"

    @property
    def local_folder(self) -> Path | None:
        """The relations' folder when it is on this machine (``source import`` writes there)."""
        if self.relations.startswith(CATALOG_PREFIX):
            return None
        if self.relations.startswith("file://"):
            return Path(self.relations.removeprefix("file://"))
        return None if "://" in self.relations else Path(self.relations)


def spark_options(
    url: str,
    *,
    master: str | None = None,
    relations: str | None = None,
    remote: str | None = None,
) -> SparkOptions:
    """The options of a ``spark:`` URL, its query overriding the settings given."""
    if not is_spark_url(url):
        raise ConfigurationError(f"{url!r} is not a Spark source URL: write spark:")
    rest = url.split(":", 1)[1]
    query = parse_qs(rest.split("?", 1)[1], keep_blank_values=True) if "?" in rest else {}
    unknown = sorted(set(query) - {"master", "relations", "remote"})
    if rest.split("?", 1)[0] not in ("", "//") or unknown:
        raise ConfigurationError(
            f"{url!r} is not a Spark source URL: write spark: and set UGPP_BRIDGE_SPARK_MASTER "
            "and UGPP_BRIDGE_SPARK_RELATIONS (or spark:?master=…&relations=…)."
        )
    chosen_master = (query.get("master") or [master or DEFAULT_MASTER])[0]
    chosen_relations = (query.get("relations") or [relations or ""])[0]
    if not chosen_relations:
        raise ConfigurationError(
            "UGPP_BRIDGE_SPARK_RELATIONS is required for a spark: source: the folder or Hadoop "
            "URI holding one Parquet dataset per relation, or catalog:DATABASE.",
            setting="UGPP_BRIDGE_SPARK_RELATIONS",
        )
    chosen_remote = (query.get("remote") or [remote or ""])[0] or None
    if chosen_remote is not None and not chosen_remote.startswith("sc://"):
        raise ConfigurationError(
            f"{chosen_remote!r} is not a Spark Connect address: write sc://HOST:PORT.",
            setting="UGPP_BRIDGE_SPARK_REMOTE",
        )
    return SparkOptions(chosen_master, chosen_relations, chosen_remote)


def spark_engine(
    url: str,
    *,
    master: str | None = None,
    relations: str | None = None,
    remote: str | None = None,
) -> Engine:
    """An engine whose every connection is a Spark session with the relations as views."""
    from ugpp_bridge.adapters.source.engines import spark_dialect  # registers ugpp_spark://

    options = spark_options(url, master=master, relations=relations, remote=remote)
    require_spark(remote=options.remote is not None)

    def connect() -> spark_dialect.SparkConnection:
        base = shared_session(options.master, options.remote)
        session = base.newSession()
        for key, value in SESSION_SQL_CONFIG.items():  # a new session starts from the defaults
            session.conf.set(key, value)
        return spark_dialect.SparkConnection(session, register_relations(session, options))

    # No pool: a connection sees the datasets as they are when it opens (a new export).
    engine = create_engine("ugpp_spark://", creator=connect, poolclass=NullPool)
    execution: dict[str, Any] = {DISPLAY_OPTION: options.display}
    if options.local_folder is not None:
        from ugpp_bridge.adapters.source.engines.parquet_files import (
            FOLDER_OPTION,  # Spark sources only
        )

        execution[FOLDER_OPTION] = str(options.local_folder)
    return engine.execution_options(**execution)


def require_spark(*, remote: bool = False) -> None:
    """PySpark installed and a Java runtime to start its JVM — or, for a Spark Connect
    server, PySpark's Connect client — or one clear sentence."""
    try:
        import pyspark  # noqa: F401  # optional [spark] extra
    except ImportError as exc:
        raise ConfigurationError(
            "spark: sources need PySpark, which is not installed; install it with: "
            "pip install 'ugpp-bridge[spark]'"
        ) from exc
    if remote:
        try:
            import pyspark.sql.connect.session  # noqa: F401  # the Connect client's own needs
        except ImportError as exc:
            raise ConfigurationError(
                f"UGPP_BRIDGE_SPARK_REMOTE needs PySpark's Spark Connect client ({exc}); install "
                "it with: pip install 'ugpp-bridge[spark]'"
            ) from exc
        return  # no JVM runs here: the server has its own
    java_home = os.environ.get("JAVA_HOME")  # noqa: SIM112 — Spark's own variable, not a setting
    java = Path(java_home) / "bin" / "java" if java_home else shutil.which("java")
    if java is None or not Path(java).exists():
        raise ConfigurationError(
            "spark: sources need a Java runtime (Java 17 or later) to start Spark, and none was "
            "found: install one (apt-get install openjdk-17-jre-headless) or set JAVA_HOME."
        )


_session_lock = threading.Lock()
_remote_sessions: dict[str, Any] = {}  # Spark Connect address → this process's client session


def shared_session(master: str, remote: str | None = None) -> Any:
    """The process's Spark session: on ``master`` (started on first use, then reused), or a
    client session of the Spark Connect server ``remote``."""
    from pyspark.errors import PySparkException  # optional [spark] extra
    from pyspark.sql import SparkSession  # optional [spark] extra

    from ugpp_bridge.adapters.source.engines import spark_dialect  # Spark sources only

    with _session_lock:
        if remote is not None and remote in _remote_sessions:
            return _remote_sessions[remote]
        builder: Any
        if remote is not None:
            # The Connect client's own builder: PySpark's generic one would switch the whole
            # process to Connect mode, and a local session could no longer start in it.
            from pyspark.sql.connect.session import SparkSession as ConnectSession  # [spark]

            builder = ConnectSession.builder.remote(remote)
        else:
            builder = SparkSession.builder.master(master).appName("ugpp-bridge")
            for key, value in session_config(master).items():
                builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except (PySparkException, OSError) as exc:
            where = f"the Spark Connect server {remote.split(';', 1)[0]}" if remote else master
            raise SourceUnavailableError(
                f"Spark could not start on {where}: {spark_dialect.reason(exc)}; check "
                "UGPP_BRIDGE_SPARK_REMOTE (or UGPP_BRIDGE_SPARK_MASTER and JAVA_HOME) and the "
                "cluster's address."
            ) from exc
        if remote is None:
            session.sparkContext.setLogLevel("ERROR")
        else:
            _remote_sessions[remote] = session
        # PySpark logs every failed query to stderr as JSON with the engine's whole message,
        # which can quote a row's values (personal data); the bridge reports the error itself.
        logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
        return session


def stop_remote_sessions() -> None:
    """End this process's Spark Connect sessions on their servers (a server stopped first
    would leave the client retrying its goodbye when the process exits)."""
    with _session_lock:
        for session in _remote_sessions.values():
            session.stop()
        _remote_sessions.clear()


SESSION_SQL_CONFIG = {
    "spark.sql.ansi.enabled": "true",  # overflow is an error, never a silent NULL
    "spark.sql.session.timeZone": "America/Bogota",
    # Spark 4.3's RemoveRedundantAliases leaves R1's window over a UNION ALL unresolved
    # (PLAN_VALIDATION_FAILED_RULE_IN_BATCH); without it the plan only keeps a projection.
    "spark.sql.optimizer.excludedRules": (
        "org.apache.spark.sql.catalyst.optimizer.RemoveRedundantAliases"
    ),
}


def session_config(master: str) -> dict[str, str]:
    """Exact arithmetic and dates read in Bogotá; on a local master, loopback only, no web UI
    and a driver log of errors only (a cluster's own settings are left alone)."""
    config = {
        **SESSION_SQL_CONFIG,
        "spark.ui.showConsoleProgress": "false",
        # The driver keeps the plans of its last 1,000 queries for the web UI by default; the
        # build's plans are large and a long-running bridge (serve, worker) runs many.
        "spark.sql.ui.retainedExecutions": "20",
        "spark.ui.retainedJobs": "100",
        "spark.ui.retainedStages": "100",
        # Broadcast relations are freed once the JVM collects their handles: collect often.
        "spark.cleaner.periodicGC.interval": "2min",
    }
    if master.startswith("local"):
        from ugpp_bridge.service.build import SCRATCH_PREFIX  # start-up time: loaded where used

        quiet = Path(__file__).with_name("spark-log4j2.properties").as_uri()
        # Shuffle and spill files hold the bank's rows (personal data): a folder named like
        # the build's scratch folders, so the sweep of abandoned ones (adapters/scratch.py)
        # removes what a killed process leaves (Spark removes it on a clean stop).
        spill = Path(tempfile.gettempdir()) / f"{SCRATCH_PREFIX}{os.getpid()}-spark"
        config |= {
            "spark.local.dir": str(spill),
            "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={quiet}",
            # Local mode runs the executors inside the driver: Spark's 1 GB default ran out
            # broadcasting the persons' account-months in a long test run.
            "spark.driver.memory": LOCAL_DRIVER_MEMORY,
            "spark.ui.enabled": "false",
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.sql.shuffle.partitions": LOCAL_SHUFFLE_PARTITIONS,
        }
    return config


def register_relations(session: Any, options: SparkOptions) -> dict[str, str]:
    """Register each relation found as a view of ``session``; relation → where it was read."""
    if options.relations.startswith(CATALOG_PREFIX):
        return _catalog_relations(session, options.relations.removeprefix(CATALOG_PREFIX))
    found = {}
    base = options.relations.rstrip("/")
    for relation in schema.RELATION_ORDER:
        for candidate in (f"{base}/{relation}.parquet", f"{base}/{relation}"):
            frame = _read_parquet(session, candidate)
            if frame is not None:
                frame.createOrReplaceTempView(relation)
                found[relation] = candidate
                break
    return found


def _catalog_relations(session: Any, database: str) -> dict[str, str]:
    found = {}
    for relation in schema.RELATION_ORDER:
        name = f"`{database.replace('`', '``')}`.`{relation}`"
        if session.catalog.tableExists(name):
            session.table(name).createOrReplaceTempView(relation)
            found[relation] = f"{database}.{relation}"
    return found


def _read_parquet(session: Any, location: str) -> Any:
    """The dataset at ``location``, or None where there is none (no path, an empty folder).

    Asked of Spark itself (its schema is read now), so that a Spark Connect client, which has
    no JVM to ask the file system, and a local driver answer alike."""
    from pyspark.errors import AnalysisException  # optional [spark] extra

    try:
        frame = session.read.parquet(location)
        frame.schema  # noqa: B018 — a Connect frame is lazy: reading the schema checks the path
    except AnalysisException:  # no such path, or an empty folder with no schema to infer
        return None
    return frame


def register_rows(connection: Connection, name: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """The requested persons as a broadcast view ``name`` of this connection's session: a small
    relation every executor gets whole, so the joins to the holders' rows need no shuffle."""
    from ugpp_bridge.adapters.source.engines.spark_dialect import (
        spark_connection,  # Spark sources only
    )

    session = spark_connection(connection).session
    frame = session.createDataFrame(
        [(row["pos"], row["doc_type"], row["doc_number"]) for row in rows],
        "pos INT, doc_type STRING, doc_number STRING",
    )
    frame.hint("broadcast").createOrReplaceTempView(name)  # a Connect frame too


def display_name(engine: Engine) -> str | None:
    """``spark: (master …, relations …)`` for a Spark engine, else None."""
    name = engine.get_execution_options().get(DISPLAY_OPTION)
    return str(name) if name else None
