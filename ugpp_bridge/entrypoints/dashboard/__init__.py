"""The dashboard (SPEC §7): requests and deadlines for the compliance team, in Spanish."""

from ugpp_bridge.entrypoints.dashboard.app import DashboardServices, create_dashboard

__all__ = ["DashboardServices", "create_dashboard"]
