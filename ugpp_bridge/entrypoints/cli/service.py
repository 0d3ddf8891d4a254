"""CLI commands of the running service: ``serve`` and ``worker``. Registered on the main
command by ``cli.py``."""

from __future__ import annotations

import logging

import click

from ugpp_bridge.bootstrap import process_name, settings_stores
from ugpp_bridge.config import Settings, check_required
from ugpp_bridge.entrypoints.web import web_app

logger = logging.getLogger(__name__)


def _service_logging() -> None:
    """A service logs its INFO lines (one per external call, one per sweep that did work)."""
    logging.getLogger("ugpp_bridge").setLevel(logging.INFO)


@click.command()
@click.option("--no-scheduler", is_flag=True, help="Serve only; leave the sweeps to `worker`.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
@click.pass_obj
def serve(settings: Settings, no_scheduler: bool, threads: int) -> None:
    """Serve Paso 1 (SOAP), the dashboard and /metrics, with the scheduler unless told not to."""
    import waitress  # serving commands only

    from ugpp_bridge.adapters.state.migrations import require_head  # start-up time
    from ugpp_bridge.entrypoints.health import Heartbeat
    from ugpp_bridge.entrypoints.scheduler import Jobs, make_scheduler  # start-up time
    from ugpp_bridge.entrypoints.soap import create_http_server

    check_required(settings, ("paso1", "dashboard", *(() if no_scheduler else ("build", "send"))))
    _service_logging()
    require_head(settings.database_url)
    stores = settings_stores(settings)
    owner = process_name("serve")
    scheduler = None
    heartbeat = None if no_scheduler else Heartbeat()
    try:
        app = web_app(settings, stores, owner, heartbeat)
        if heartbeat is not None:
            jobs = Jobs(settings, stores, owner, heartbeat)
            scheduler = make_scheduler(jobs, settings.sweep_seconds, blocking=False)
            scheduler.start()
        base = f"http://{settings.host}:{settings.port}"
        click.echo(f"Dashboard at {base}/ ; Paso 1 at {base}/soap/solicitudes (WSDL: ?wsdl)")
        click.echo(f"Health at {base}/healthz ; metrics at {base}/metrics ; scheduler "
                   + ("off (run `ugpp-bridge worker`)" if no_scheduler else "on"))  # fmt: skip
        # waitress.serve, with our server: its refusal of an oversize body speaks Spanish
        waitress.serve(app, _server=create_http_server, **waitress_options(settings, threads))
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        stores.close()


@click.command()
@click.option("--once", is_flag=True, help="Run every job once (alerts, builds, sends), then exit.")
@click.pass_obj
def worker(settings: Settings, once: bool) -> None:
    """The scheduler alone: build, send, retry and alert, for deployments with several web
    processes (run as many workers as you like; they never take the same work)."""
    from ugpp_bridge.adapters.state.migrations import require_head  # start-up time
    from ugpp_bridge.entrypoints.scheduler import Jobs, make_scheduler

    check_required(settings, ("build", "send"))
    _service_logging()
    require_head(settings.database_url)
    stores = settings_stores(settings)
    owner = process_name("worker")
    try:
        jobs = Jobs(settings, stores, owner)
        if once:
            done = jobs.run_once()
            for line in done:
                click.echo(line)
            if not done:
                click.echo(f"Worker {owner}: nothing was due.")
            return
        click.echo(f"Worker {owner}: sweeping every {settings.sweep_seconds} s (Ctrl+C stops)")
        scheduler = make_scheduler(jobs, settings.sweep_seconds, blocking=True)
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            scheduler.shutdown(wait=False)
    finally:
        stores.close()


def waitress_options(settings: Settings, threads: int) -> dict[str, object]:
    """waitress bounded for the open network (SPEC §9): a declared body over the limit is
    answered 413 before it is read, a body is never buffered past it (and past 512 KiB it
    goes to a temporary file, not memory), idle or half-open connections are closed after
    ``UGPP_BRIDGE_CHANNEL_TIMEOUT_SECONDS``, and at most ``UGPP_BRIDGE_CONNECTION_LIMIT``
    are open at once. Forwarded headers are trusted only from ``UGPP_BRIDGE_TRUSTED_PROXY``."""
    options: dict[str, object] = {
        "host": settings.host,
        "port": settings.port,
        "threads": threads,
        "ident": "ugpp-bridge",
        "max_request_body_size": settings.max_request_bytes,
        "connection_limit": settings.connection_limit,
        "channel_timeout": settings.channel_timeout_seconds,
        "cleanup_interval": max(1, min(10, settings.channel_timeout_seconds // 2)),
        "recv_bytes": 1024 * 1024,  # a large body costs less CPU in fewer, larger reads
        "clear_untrusted_proxy_headers": True,
    }
    if settings.trusted_proxy:
        options.update(
            trusted_proxy=settings.trusted_proxy,
            trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"},
        )
    return options


COMMANDS = (serve, worker)
