"""Colombia's public holidays from ``holidays.CO`` (moved "Ley Emiliani" holidays included)."""

from __future__ import annotations

from collections.abc import Container
from datetime import date

import holidays


def colombian_holidays() -> Container[date]:
    """A calendar that answers ``day in calendar`` for any year, filling years on demand."""
    return holidays.country_holidays("CO")
