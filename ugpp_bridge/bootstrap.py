"""Composition root: settings → engines, adapters and the clock, built when a process starts."""

from __future__ import annotations

from collections.abc import Callable, Container
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ugpp_bridge.adapters.calendar import colombian_holidays
from ugpp_bridge.adapters.database import make_engine
from ugpp_bridge.adapters.source_sql import SqlAlchemySource
from ugpp_bridge.config import Settings

BOGOTA = ZoneInfo("America/Bogota")
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, in Bogotá time (UTC−5, no daylight saving)."""
    return datetime.now(BOGOTA)


def source_for(url: str) -> SqlAlchemySource:
    """The source adapter for a database URL (read-only use except for samples and imports)."""
    return SqlAlchemySource(make_engine(url))


def source_from_settings(settings: Settings, url: str | None = None) -> SqlAlchemySource:
    return source_for(url or settings.require("source_url", "read the entity's source data"))


def holiday_calendar() -> Container[date]:
    return colombian_holidays()
