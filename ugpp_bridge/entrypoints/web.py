"""What ``serve`` answers on one port: Paso 1 (``/soap/…``) and ``/healthz``, ``/metrics``,
and everything else from the dashboard."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ugpp_bridge.entrypoints.soap import WsgiApp


def combined_app(paso1: WsgiApp, dashboard: WsgiApp, metrics: WsgiApp) -> WsgiApp:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz" or path.startswith("/soap/"):
            return paso1(environ, start_response)
        if path == "/metrics":
            return metrics(environ, start_response)
        return dashboard(environ, start_response)

    return app
