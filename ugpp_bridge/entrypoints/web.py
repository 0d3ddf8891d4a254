"""What ``serve`` answers on one port: Paso 1 (``/soap/…``), ``/healthz``, ``/metrics``, and
everything else from the dashboard."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ugpp_bridge.entrypoints.soap import WsgiApp


def combined_app(
    paso1: WsgiApp, health: WsgiApp, metrics: WsgiApp | None, dashboard: WsgiApp | None
) -> WsgiApp:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/soap/"):
            return paso1(environ, start_response)
        if path == "/healthz":
            return health(environ, start_response)
        if path == "/metrics" and metrics is not None:
            return metrics(environ, start_response)
        if dashboard is not None:
            return dashboard(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"not found\n"]

    return app
