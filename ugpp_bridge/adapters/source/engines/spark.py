"""Apache Spark as a source (``spark:``; ``spark_session`` starts or joins the session,
``spark_dialect`` renders the build as Spark SQL).

Its quirks, in one place: the persons travel as a broadcast view of the connection's session
(no temporary tables), large chunks (each is a pass over relations no index narrows), the
carried-in balance as a join rather than a correlated subquery, datasets that may expose
timestamps for dates, and no writing unless the relations are a local folder.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from ugpp_bridge.adapters.source.engines import parquet_files, spark_session
from ugpp_bridge.adapters.source.engines.base import SourceEngine
from ugpp_bridge.domain.source import SourceData
from ugpp_bridge.errors import ConfigurationError
from ugpp_bridge.service.ports import WriteCounts

DIALECT = "spark"
# The persons' account-months are small: broadcast them to every executor.
BROADCAST_MONTHS = "/*+ BROADCAST(account_months) */"


def write(
    engine: Engine, parts: Iterable[SourceData], *, replace: bool, display: str
) -> WriteCounts:
    """Relations in a local folder are written as Parquet files; a lake or a catalog is loaded
    by the entity's own jobs."""
    folder = parquet_files.folder_of(engine)
    if folder is None:
        raise ConfigurationError(
            f"The bridge does not write to {display}: a data lake or a catalog is loaded by the "
            "entity's own jobs. Write the relations to a local folder "
            "(UGPP_BRIDGE_SPARK_RELATIONS=/path/to/folder, or a parquet:///DIR source) and copy "
            "them to the lake with its tools."
        )
    return parquet_files.write_parquet(folder, parts, replace=replace, display=display)


def connect(url: str, **options: Any) -> Engine:
    return spark_session.spark_engine(url, **options)


def on_folder(url: str, folder: Path, options: Mapping[str, Any]) -> Engine:
    """The same Spark (the URL's master or server, else the settings'), reading ``folder``."""
    chosen = spark_session.spark_options(
        url, master=options.get("master"), relations=str(folder), remote=options.get("remote")
    )
    return spark_session.spark_engine(
        "spark:", master=chosen.master, relations=str(folder), remote=chosen.remote
    )


def keeps_runtime(url: str, options: Mapping[str, Any]) -> bool:
    """A local or cluster driver runs a JVM here (1.7–2.7 GB) that stays after the build; a
    Spark Connect client does not."""
    remote = spark_session.spark_options(
        url, master=options.get("master"), relations=options.get("relations") or "-",
        remote=options.get("remote"),
    ).remote  # fmt: skip
    return remote is None


def from_settings(settings: Any) -> dict[str, Any]:
    """UGPP_BRIDGE_SPARK_MASTER, _RELATIONS and _REMOTE (the URL's query wins)."""
    return {
        "master": settings.spark_master,
        "relations": settings.spark_relations,
        "remote": settings.spark_remote,
    }


ENGINE = SourceEngine(
    name="spark",
    schemes=("spark",),
    dialect=DIALECT,
    connect=connect,
    proven=True,
    extra="spark",
    # Each chunk is a pass over the relations where no index narrows them (Spark reads and
    # shuffles every balance row whatever the chunk's size): fewer, larger chunks.
    chunk_persons=10_000,
    correlated_carry_in=False,
    dates_as_timestamps=True,
    file_of=lambda _url: None,  # the relations are Spark's to find (a folder, a URI, a catalog)
    register_rows=spark_session.register_rows,
    writer=write,
    display_name=spark_session.display_name,
    on_folder=on_folder,
    keeps_runtime=keeps_runtime,
    from_settings=from_settings,
)
