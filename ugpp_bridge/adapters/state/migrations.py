"""Alembic, driven from code: ``ugpp-bridge db upgrade`` and the migration tests.

The migration scripts ship inside the package (``ugpp_bridge/migrations``), so that an
installed wheel can upgrade its database without a checkout.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from ugpp_bridge.adapters.database import connection_advice, safe_url
from ugpp_bridge.adapters.state.engine import state_engine, state_url
from ugpp_bridge.errors import StoreUnavailableError

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    rendered = state_url(url).render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the state database at ``url`` to ``revision`` (default: the newest)."""
    _run(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str, revision: str) -> None:
    _run(url, lambda config: command.downgrade(config, revision))


def head_revision() -> str:
    """The newest migration this version of the bridge ships."""
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None, "the package ships its migrations"
    return head


def require_head(url: str) -> None:
    """Refuse to run a service on a state database that is not at the shipped head."""
    current, head = current_revision(url), head_revision()
    if current != head:
        raise StoreUnavailableError(
            f"The state database {safe_url(url)} is at revision {current or 'none'} and this "
            f"version of the bridge needs {head}; run `ugpp-bridge db upgrade` first."
        )


def current_revision(url: str) -> str | None:
    engine = state_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        advice = connection_advice(url, exc)
        raise StoreUnavailableError(
            f"The state database {safe_url(url)} cannot be read: {exc.__class__.__name__}"
            + (f"; {advice}." if advice else ".")
        ) from exc
    finally:
        engine.dispose()


def _run(url: str, action: object) -> None:
    try:
        action(alembic_config(url))  # type: ignore[operator]
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        advice = connection_advice(url, exc)
        raise StoreUnavailableError(
            f"Migrating the state database {safe_url(url)} failed and was rolled back: "
            f"{type(reason).__name__}: {(str(reason).strip().splitlines() or [''])[0]}"
            + (f"; {advice}." if advice else "")
        ) from exc
