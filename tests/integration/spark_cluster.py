"""A Spark standalone cluster on loopback, as a bank runs Spark as a service (SPEC §11): a
Master, one Worker and a Spark Connect server, started from the installed PySpark (its
``bin/spark-class`` and ``bin/spark-submit``, the ``spark-connect`` jar), logs and work folders
in a temporary folder, every process stopped at the end.

The bridge talks to it as a Spark Connect client (``sc://127.0.0.1:PORT``): no JVM of the
bridge's own, the work on the cluster's executors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CONNECT_SERVER = "org.apache.spark.sql.connect.service.SparkConnectServer"
START_SECONDS = 120
QUIET_LOG = """rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""  # seen here: about 15 s for the three JVMs and a first executor


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def standalone_cluster(folder: Path) -> Iterator[str]:
    """Start the cluster in ``folder``; yield the Connect server's ``sc://`` address."""
    home = spark_home()
    master_port, connect_port = free_port(), free_port()
    master = f"spark://127.0.0.1:{master_port}"
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(folder),
        "SPARK_WORKER_DIR": str(folder / "work"),
        "SPARK_LOCAL_DIRS": str(folder / "local"),
        "SPARK_CONF_DIR": str(folder / "conf"),  # none of a machine's own settings
    }
    (folder / "conf").mkdir(parents=True, exist_ok=True)
    (folder / "conf" / "log4j2.properties").write_text(QUIET_LOG)
    commands = {
        "master": [str(home / "bin" / "spark-class"), "org.apache.spark.deploy.master.Master",
                   "--host", "127.0.0.1", "--port", str(master_port), "--webui-port", "0"],
        "worker": [str(home / "bin" / "spark-class"), "org.apache.spark.deploy.worker.Worker",
                   master, "--host", "127.0.0.1", "--cores", "2", "--memory", "2g",
                   "--webui-port", "0"],
        "connect": [str(home / "bin" / "spark-submit"), "--class", CONNECT_SERVER,
                    "--name", "ugpp-bridge-tests", "--master", master,
                    "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
                    "--conf", f"spark.connect.grpc.binding.port={connect_port}",
                    "--conf", "spark.ui.enabled=false",
                    "--conf", "spark.driver.host=127.0.0.1",
                    "--conf", "spark.driver.bindAddress=127.0.0.1",
                    "--conf", "spark.executor.memory=1g",
                    "--conf", "spark.sql.shuffle.partitions=8",
                    "spark-internal"],
    }  # fmt: skip
    started: list[subprocess.Popen[bytes]] = []
    try:
        for name, command in commands.items():
            with (folder / f"{name}.log").open("wb") as log:  # the child keeps its own copy
                started.append(subprocess.Popen(command, env=env, stdout=log,
                                                stderr=subprocess.STDOUT, start_new_session=True))  # fmt: skip
        _wait_for(connect_port, started, folder)
        yield f"sc://127.0.0.1:{connect_port}"
    finally:
        for process in reversed(started):
            _stop(process)


def _wait_for(port: int, started: list[subprocess.Popen[bytes]], folder: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        for process in started:
            if process.poll() is not None:
                raise RuntimeError(f"a Spark process stopped at start; see {folder}/*.log")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(
        f"the Spark Connect server did not answer in {START_SECONDS} s; see {folder}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)
