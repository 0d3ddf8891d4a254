"""Colombia's public holidays from ``holidays.CO`` (moved "Ley Emiliani" holidays included)."""

from __future__ import annotations

from collections.abc import Container
from datetime import date


def colombian_holidays() -> Container[date]:
    """A calendar that answers ``day in calendar`` for any year, filling years on demand."""
    import holidays  # here, not at import: commands that never count days do not load it

    return holidays.country_holidays("CO")
