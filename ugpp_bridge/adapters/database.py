"""SQLAlchemy engines from the URLs operators write (SPEC §8), for both of the bridge's
databases: the entity's source (each engine's module in ``adapters/source/engines/`` adds its
quirks) and the bridge's own state (``adapters/state/engine.py``). Nothing here knows an
engine: URLs parsed with a clear error, plain engines with a clear missing-driver error,
passwords out of messages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from ugpp_bridge.errors import ConfigurationError


def scheme_of(url: str) -> str:
    """``mysql+pymysql://…`` → ``mysql``; ``spark:?master=…`` → ``spark``."""
    return url.split(":", 1)[0].split("+", 1)[0].lower()


def parse_url(url: str, *, driver: str | None = None) -> URL:
    """The URL, with ``driver`` filled in where it names none (``postgresql://`` runs on the
    driver the bridge ships, psycopg 3); a malformed URL is a configuration error that says how
    to write it."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"{url!r} is not a database URL; write it like sqlite:///file.db or "
            "postgresql://user@host/db."
        ) from exc
    if driver is not None and "+" not in parsed.drivername:
        return parsed.set(drivername=driver)
    return parsed


def refuse_host_for_file(url: str, parsed: URL) -> None:
    """A file database's URL names a file, not a host (``sqlite://file.db`` is a mistake)."""
    if parsed.host:
        scheme = parsed.drivername.split("+", 1)[0]
        raise ConfigurationError(
            f"{url!r} names a host, not a file: write {scheme}:///{parsed.host}"
            f"{'/' + parsed.database if parsed.database else ''} (three slashes) for a file in "
            f"this folder, or {scheme}:////absolute/path.db (four) for an absolute path."
        )


def file_of(parsed: URL) -> Path | None:
    """The file of a file database's URL (None: in memory)."""
    if parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database))


def file_of_url(url: str) -> Path | None:
    """The file a file database's URL names (None: in memory)."""
    return file_of(parse_url(url))


def missing_file(url: str, path: Path, what: str, how: str) -> ConfigurationError:
    return ConfigurationError(f"There is no {what} at {path} ({safe_url(url)}); {how}.")


def plain_engine(
    url: str, *, driver: str | None = None, extra: str | None = None, **options: Any
) -> Engine:
    """An engine on ``url`` as written, ``driver`` filled in where it names none."""
    return create(parse_url(url, driver=driver), extra=extra, **options)


def create(parsed: URL, *, extra: str | None, **options: Any) -> Engine:
    """``create_engine``, with a missing driver said as the extra that installs it."""
    try:
        return create_engine(parsed, **options)
    except (ImportError, NoSuchModuleError) as exc:
        raise _missing_driver(parsed, extra, exc) from exc


def connection_advice(url: str | URL, exc: BaseException) -> str:
    """What to do about a failure to connect, in one sentence (or "")."""
    text = str(getattr(exc, "orig", None) or exc)
    parsed = url if isinstance(url, URL) else parse_url(url)
    if "does not exist" in text and "database" in text:
        return (f"the database {parsed.database!r} does not exist on that server: create it "
                f"(createdb {parsed.database}); `ugpp-bridge db upgrade` creates tables, not "
                "databases")  # fmt: skip
    if "Connection refused" in text or "could not connect" in text.lower():
        where = f"{parsed.host}:{parsed.port or 'the default port'}"
        return f"nothing answers at {where}; is the server running?"
    if "password authentication failed" in text or "Access denied" in text:
        return "the server refused the user or password in the URL"
    return ""


def safe_url(url: str | URL) -> str:
    """The URL without its password, for messages and logs."""
    parsed = url if isinstance(url, URL) else parse_url(url)
    return parsed.render_as_string(hide_password=True)


def describe_error(exc: SQLAlchemyError) -> str:
    """The driver's own first line of the error, without SQLAlchemy's statement dump."""
    reason: BaseException = getattr(exc, "orig", None) or exc
    lines = str(reason).strip().splitlines() or [""]
    return f"{type(reason).__name__}: {lines[0]}"


def _missing_driver(parsed: URL, extra: str | None, exc: BaseException) -> ConfigurationError:
    if extra:
        return ConfigurationError(
            f"The {parsed.get_backend_name()} driver is not installed; install it with: "
            f"pip install 'ugpp-bridge[{extra}]'"
        )
    return ConfigurationError(
        f"No driver for {parsed.drivername!r} URLs ({type(exc).__name__}: {exc}); the bridge "
        "reads sqlite:///, postgresql://, and with their extras duckdb:///, parquet:///, spark:, "
        "mysql://, oracle://, mssql://."
    )
