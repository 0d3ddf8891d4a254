"""CLI commands of the running service: ``serve``, ``worker`` and ``user add``. Registered on
the main command by ``cli.py``."""

from __future__ import annotations

import logging
import sys

import click

from ugpp_bridge.bootstrap import process_name, state_stores, system_clock, web_app
from ugpp_bridge.config import Settings
from ugpp_bridge.domain.users import Role
from ugpp_bridge.entrypoints.cli_operations import operator_name

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
    import waitress

    from ugpp_bridge.entrypoints.scheduler import Jobs, make_scheduler

    _service_logging()
    stores = state_stores(settings.database_url)
    owner = process_name("serve")
    scheduler = None
    try:
        app = web_app(settings, stores, owner)
        if not no_scheduler:
            jobs = Jobs(settings, stores, owner)
            scheduler = make_scheduler(jobs, settings.sweep_seconds, blocking=False)
            scheduler.start()
        base = f"http://{settings.host}:{settings.port}"
        click.echo(f"Dashboard at {base}/ ; Paso 1 at {base}/soap/solicitudes (WSDL: ?wsdl)")
        click.echo(f"Health at {base}/healthz ; metrics at {base}/metrics ; scheduler "
                   + ("off (run `ugpp-bridge worker`)" if no_scheduler else "on"))  # fmt: skip
        waitress.serve(app, host=settings.host, port=settings.port, threads=threads,
                       ident="ugpp-bridge")  # fmt: skip
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
    from ugpp_bridge.entrypoints.scheduler import Jobs, make_scheduler

    _service_logging()
    stores = state_stores(settings.database_url)
    owner = process_name("worker")
    try:
        jobs = Jobs(settings, stores, owner)
        if once:
            jobs.run_once()
            return
        click.echo(f"Worker {owner}: sweeping every {settings.sweep_seconds} s (Ctrl+C stops)")
        scheduler = make_scheduler(jobs, settings.sweep_seconds, blocking=True)
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            scheduler.shutdown(wait=False)
    finally:
        stores.close()


@click.group()
def user() -> None:
    """Dashboard accounts."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--update", is_flag=True, help="Change the role and password of an account.")
@click.pass_obj
def user_add(settings: Settings, name: str, role: str, password_stdin: bool, update: bool) -> None:
    """Create a dashboard account (at least 12 characters of password; stored as a hash)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    stores = state_stores(settings.database_url)
    try:
        account = stores.users.add(
            name, Role(role), password, at=system_clock(), actor=operator_name(), update=update
        )
    finally:
        stores.close()
    click.echo(f"Dashboard account {account.name!r} ({account.role.value}) saved.")


COMMANDS = (serve, worker, user)
