"""CLI commands of Paso 2 and operations: ``send``, ``resubmit``, ``show``, ``evidence``, and
``ugpp-sim`` (the UGPP stand-in and the Paso 1 sender). Registered on the main command by
``cli.py``.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import click
from rich.console import Console

from ugpp_bridge.adapters.solicitud_xml import parse_solicitud
from ugpp_bridge.bootstrap import (
    holiday_calendar,
    leasing,
    process_name,
    send_context,
    settings_stores,
    system_clock,
)
from ugpp_bridge.config import Settings
from ugpp_bridge.entrypoints.console import (
    attempts_table,
    overview_table,
    request_panel,
    sent_lotes_table,
    wide_console,
)
from ugpp_bridge.service.evidence import export_evidence
from ugpp_bridge.service.operations import confirm_request
from ugpp_bridge.service.overview import RequestOverview, overview
from ugpp_bridge.service.submit import submit_request
from ugpp_bridge.service.work import run_claimed


def operator_name() -> str:
    """Who runs a CLI action, for the audit trail."""
    return f"cli:{getpass.getuser()}"


@click.command()
@click.argument("identifier", metavar="ID")
@click.pass_obj
def send(settings: Settings, identifier: str) -> None:
    """Send the lotes of a built request to UGPP (Paso 2), retrying as SPEC §5 says."""
    _send(settings, identifier, resend_all=False)


@click.command()
@click.argument("identifier", metavar="ID")
@click.pass_obj
def resubmit(settings: Settings, identifier: str) -> None:
    """Resend every lote of the current build unchanged: same idEnvio, same bytes."""
    _send(settings, identifier, resend_all=True)


def _send(settings: Settings, identifier: str, *, resend_all: bool) -> None:
    console = Console()
    stores = settings_stores(settings)
    context = send_context(settings, stores, operator_name())
    try:
        outcome = run_claimed(
            leasing(settings, stores, process_name("cli")),
            stores.requests.find(identifier).key,
            lambda key: submit_request(key, context, resend_all=resend_all),
        )
        console.print(sent_lotes_table(stores.lotes.lotes(outcome.key), outcome.filing_number))
        console.print(f"{outcome.filing_number}: {outcome.state.value}.")
        if outcome.last_error:
            console.print(f"Last error: {outcome.last_error}")
    finally:
        context.gateway.close()
        stores.close()


@click.command()
@click.argument("identifier", metavar="ID")
@click.pass_obj
def show(settings: Settings, identifier: str) -> None:
    """One request in full: state, deadline, progress, lotes, attempts and response times."""
    console = wide_console()
    stores = settings_stores(settings)
    try:
        stored = stores.requests.find(identifier)
        lotes = stores.lotes.lotes(stored.key) if stored.generation else []
        attempts = stores.lotes.attempts(stored.key)
    finally:
        stores.close()
    console.print(request_panel(stored))
    if lotes:
        console.print(sent_lotes_table(lotes, f"Lotes (build {stored.generation})"))
    if attempts:
        console.print(attempts_table(attempts))


@click.command()
@click.argument("identifier", metavar="ID")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def evidence(settings: Settings, identifier: str, out: Path) -> None:
    """Package the request, every lote, every attempt and the audit trail (art. 12)."""
    stores = settings_stores(settings)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        key = stores.requests.find(identifier).key
        with out.open("wb") as sink:
            bundle = export_evidence(
                key, sink, name=out.name, requests=stores.requests, lotes=stores.lotes,
                clock=system_clock, actor=operator_name(),
            )  # fmt: skip
    finally:
        stores.close()
    click.echo(f"Evidence bundle {out}: {bundle.files} files, SHA-256 {bundle.sha256}.")


@click.group("ugpp-sim", invoke_without_command=True)
@click.pass_context
def ugpp_sim(ctx: click.Context) -> None:
    """Play UGPP's part: run the Paso 2 stand-in (the default), or send a Solicitud."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(ugpp_sim_serve)


@ugpp_sim.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, show_default=True, type=int)
@click.option("--username", envvar="UGPP_BRIDGE_UGPP_USERNAME", default="bridge")
@click.option("--password", envvar="UGPP_BRIDGE_UGPP_PASSWORD", default="bridge-secret")
@click.option("--client-id", envvar="UGPP_BRIDGE_UGPP_CLIENT_ID", default="ugpp-bridge")
@click.option(
    "--auth", type=click.Choice(["token", "wsse", "none"]), default="token", show_default=True
)
@click.option(
    "--token-ttl", default=1200, show_default=True, help="expires_in of issued tokens (s)."
)
@click.option(
    "--token-lifetime", type=float, default=None, help="Tokens really die after this (s)."
)
@click.option("--latency", type=float, default=0.0, help="Seconds to wait before each answer.")
@click.option("--http-500", default=0, help="Answer HTTP 500 to the next N report calls.")
@click.option("--server-fault", default=0, help="Answer a Server fault to the next N calls.")
@click.option("--client-fault", default=0, help="Answer a Client fault to the next N calls.")
@click.option("--reset-after-body", default=0, help="Reset the connection after N bodies.")
def ugpp_sim_serve(
    host: str,
    port: int,
    username: str,
    password: str,
    client_id: str,
    auth: str,
    token_ttl: int,
    token_lifetime: float | None,
    latency: float,
    http_500: int,
    server_fault: int,
    client_fault: int,
    reset_after_body: int,
) -> None:
    """The UGPP stand-in: Paso 2 receiver (wsdl/ugpp-reporte-v1.wsdl) and token service."""
    from ugpp_bridge.entrypoints.ugpp_sim import (
        REPORT_PATH,
        TOKEN_PATH,
        Faults,
        SimulatorConfig,
        UgppSimulator,
        make_server,
    )

    faults = Faults(latency, http_500, server_fault, client_fault, reset_after_body)
    config = SimulatorConfig(username, password, client_id, auth, token_ttl, token_lifetime, faults)
    server = make_server(UgppSimulator(config), host, port)
    base = f"http://{host}:{server.server_address[1]}"
    click.echo(f"UGPP stand-in: {base}{REPORT_PATH} (WSDL: ?wsdl), tokens at {base}{TOKEN_PATH}")
    try:
        server.serve_forever()
    finally:
        server.server_close()


@ugpp_sim.command("send-request")
@click.argument("request_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", required=True, help="The bridge's Paso 1 URL, …/soap/solicitudes.")
@click.option("--username", envvar="UGPP_BRIDGE_INBOUND_USERNAME", required=True)
@click.option("--password", envvar="UGPP_BRIDGE_INBOUND_PASSWORD", required=True, hide_input=True)
@click.option("--text-password", is_flag=True, help="PasswordText instead of PasswordDigest.")
def ugpp_sim_send_request(
    request_file: Path, url: str, username: str, password: str, text_password: bool
) -> None:
    """Send a Solicitud XML file to the bridge with a UsernameToken and print the receipt."""
    from ugpp_bridge.adapters.paso1_client import send_solicitud  # zeep loads slowly

    request = parse_solicitud(request_file.read_bytes())
    receipt = send_solicitud(
        url, request, username=username, password=password, use_digest=not text_password
    )
    for name, value in vars(receipt).items():
        click.echo(f"{name}: {value}")


@click.command("requests")
@click.pass_obj
def requests_command(settings: Settings) -> None:
    """Every request: received, deadline, days left, state, progress, attempts, exposure."""
    wide_console().print(overview_table(_overview(settings), "Requests"))


@click.command()
@click.pass_obj
def deadlines(settings: Settings) -> None:
    """What falls due: requests not yet delivered, most urgent first."""
    pending = [item for item in _overview(settings) if item.open]
    if not pending:
        click.echo("Nothing falls due: every request was delivered.")
        return
    wide_console().print(overview_table(pending, "What falls due (business days left)"))


@click.command()
@click.argument("identifier", metavar="ID")
@click.option("--radicado", required=True, help="UGPP's radicado from its confirmation e-mail.")
@click.pass_obj
def confirm(settings: Settings, identifier: str, radicado: str) -> None:
    """Record UGPP's confirmation e-mail (art. 7) on a sent request."""
    stores = settings_stores(settings)
    try:
        done = confirm_request(
            stores.requests.find(identifier).key, radicado, requests=stores.requests,
            clock=system_clock,
            actor=operator_name(),
        )  # fmt: skip
    finally:
        stores.close()
    click.echo(f"{done.filing_number}: confirmed by UGPP with radicado {radicado}.")


def _overview(settings: Settings) -> list[RequestOverview]:
    stores = settings_stores(settings)
    try:
        return overview(
            stores.requests,
            stores.lotes,
            today=system_clock().date(),
            holidays=holiday_calendar(),
            uvt_values=settings.uvt_values,
        )
    finally:
        stores.close()


COMMANDS = (send, resubmit, show, evidence, ugpp_sim, requests_command, deadlines, confirm)
