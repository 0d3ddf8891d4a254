"""ugpp_bridge: answers UGPP financial-information requests (Resolución UGPP 1707 de 2019)."""

from __future__ import annotations

__version__ = "0.1.0"
