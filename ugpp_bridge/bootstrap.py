"""Composition root: settings → engines, adapters and the clock, built when a process starts."""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass
from datetime import date, datetime

from ugpp_bridge.adapters.calendar import colombian_holidays
from ugpp_bridge.adapters.database import make_engine
from ugpp_bridge.adapters.lote_store import SqlAlchemyLoteStore
from ugpp_bridge.adapters.source_sql import SqlAlchemySource
from ugpp_bridge.adapters.state_store import SqlAlchemyRequestStore
from ugpp_bridge.config import Settings
from ugpp_bridge.domain.filing import BOGOTA

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, in Bogotá time (UTC−5, no daylight saving)."""
    return datetime.now(BOGOTA)


def source_for(url: str) -> SqlAlchemySource:
    """The source adapter for a database URL (read-only use except for samples and imports)."""
    return SqlAlchemySource(make_engine(url))


def source_from_settings(settings: Settings, url: str | None = None) -> SqlAlchemySource:
    return source_for(url or settings.require("source_url", "read the entity's source data"))


@dataclass(frozen=True)
class StateStores:
    """The two state stores over one engine (one pool, one lock discipline)."""

    requests: SqlAlchemyRequestStore
    lotes: SqlAlchemyLoteStore

    def close(self) -> None:
        self.requests.close()


def state_stores(url: str) -> StateStores:
    engine = make_engine(url, serialised_writes=True)
    return StateStores(SqlAlchemyRequestStore(engine), SqlAlchemyLoteStore(engine))


def holiday_calendar() -> Container[date]:
    return colombian_holidays()
