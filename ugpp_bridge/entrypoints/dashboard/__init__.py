"""The dashboard (SPEC §7): requests and deadlines for the compliance team, in Spanish."""

from ugpp_bridge.entrypoints.dashboard.app import create_dashboard
from ugpp_bridge.entrypoints.dashboard.context import DashboardServices

__all__ = ["DashboardServices", "create_dashboard"]
