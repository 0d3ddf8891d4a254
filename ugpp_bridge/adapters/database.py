"""SQLAlchemy engines from the URLs operators write (SPEC §8).

``postgresql://user@host/db`` is taken as written and run on the driver the bridge ships with
(psycopg 3); ``sqlite:///file.db`` as SQLAlchemy reads it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry

from ugpp_bridge.errors import ConfigurationError

_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}


def normalise_url(url: str) -> URL:
    """The URL with the shipped driver filled in; a malformed URL is a configuration error."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"{url!r} is not a database URL; write it like sqlite:///file.db or "
            "postgresql://user@host/db."
        ) from exc
    driver = _DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def safe_url(url: str | URL) -> str:
    """The URL without its password, for messages and logs."""
    parsed = url if isinstance(url, URL) else normalise_url(url)
    return parsed.render_as_string(hide_password=True)


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url``; SQLite connections enforce foreign keys and wait on locks."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        options.setdefault("connect_args", {}).setdefault("timeout", 30)
    engine = create_engine(parsed, **options)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
