"""The ``ugpp-bridge`` console command (SPEC §7): parse, call one use case, format.

Heavy libraries (alembic, zeep, spyne, waitress) are imported inside the commands that use
them, so that every other command starts quickly.

Failures we expect (``UgppBridgeError``) print ``Type: message`` and exit 1; anything else is
logged with its traceback and also exits 1.
"""

from __future__ import annotations

import getpass
import logging
import os
import sys
import time
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from ugpp_bridge import __version__
from ugpp_bridge.adapters.database import safe_url
from ugpp_bridge.adapters.solicitud_xml import parse_solicitud
from ugpp_bridge.adapters.source_csv import import_csv_directory
from ugpp_bridge.adapters.xml_lotes import LxmlLoteWriter
from ugpp_bridge.bootstrap import (
    build_options,
    paso1_app,
    report_source_for,
    retry_policy,
    source_from_settings,
    state_stores,
    system_clock,
    ugpp_gateway,
)
from ugpp_bridge.config import Settings, load_settings
from ugpp_bridge.domain.filing import BOGOTA
from ugpp_bridge.entrypoints import demo as demo_command
from ugpp_bridge.entrypoints.console import (
    attempts_table,
    lotes_table,
    progress_bar,
    progress_counter,
    request_panel,
    sent_lotes_table,
    write_counts_table,
)
from ugpp_bridge.errors import UgppBridgeError
from ugpp_bridge.service.build import build_request, preview_lotes
from ugpp_bridge.service.evidence import export_evidence
from ugpp_bridge.service.sample_bank import DEFAULT_SAMPLE_YEAR, sample_bank
from ugpp_bridge.service.submit import SendContext, submit_request

logger = logging.getLogger("ugpp_bridge.cli")


class BridgeGroup(click.Group):
    """Turns our errors into ``Type: message`` and exit 1 (the only broad handler of the CLI)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except UgppBridgeError as exc:
            click.echo(f"{type(exc).__name__}: {exc}", err=True)
            ctx.exit(1)
        except Exception as exc:
            logger.exception("Unexpected failure")
            click.echo(f"{type(exc).__name__}: {exc}", err=True)
            ctx.exit(1)


@click.group(cls=BridgeGroup)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML file with settings (the environment wins over it).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log INFO lines to standard error.")
@click.version_option(__version__, prog_name="ugpp-bridge")
@click.pass_context
def main(ctx: click.Context, config_file: Path | None, verbose: bool) -> None:
    """ugpp-bridge: answers UGPP financial-information requests (Resolución 1707 de 2019)."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = load_settings(os.environ, config_file)


@main.command()
@click.option("--persons", default=60, show_default=True, help="Persons in the sample bank.")
@click.option("--seed", default=2026, show_default=True, help="Seed of the sample data.")
@click.pass_obj
def demo(settings: Settings, persons: int, seed: int) -> None:
    """Run what exists of the whole job on sample data, in a temporary folder."""
    demo_command.run(settings, persons=persons, seed=seed, console=Console(width=140))


@main.command()
@click.option(
    "--request",
    "request_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A Solicitud XML file (the element alone or in a SOAP envelope).",
)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--source-url", default=None, help="Default: UGPP_BRIDGE_SOURCE_URL.")
@click.option(
    "--generated-at",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="fechaGeneracion (default: now, Bogotá time); fix it to reproduce a preview.",
)
@click.pass_obj
def report(
    settings: Settings,
    request_file: Path,
    out_dir: Path,
    source_url: str | None,
    generated_at: datetime | None,
) -> None:
    """Build the lotes of a Solicitud file from the source into OUT; store and send nothing."""
    console = Console()
    request = parse_solicitud(request_file.read_bytes())
    moment = system_clock() if generated_at is None else _aware(generated_at)
    with (
        closing(report_source_for(settings, source_url)) as source,
        progress_counter(console, "Building", len(request.persons)) as progress,
    ):
        written = preview_lotes(
            request,
            source=source,
            writer=LxmlLoteWriter(),
            options=build_options(settings, request),
            out_dir=out_dir,
            generated_at=moment,
            progress=progress,
        )
    console.print(lotes_table(written, f"Preview of {request.request_id} in {out_dir}"))
    console.print("Nothing was stored or sent: these files are a preview (radicado SIN-RADICAR).")


@main.command()
@click.argument("identifier", metavar="ID")
@click.option("--source-url", default=None, help="Default: UGPP_BRIDGE_SOURCE_URL.")
@click.pass_obj
def build(settings: Settings, identifier: str, source_url: str | None) -> None:
    """Build a stored request (radicado or idSolicitud) into stored, validated lotes."""
    console = Console()
    stores = state_stores(settings.database_url)
    try:
        stored = stores.requests.get(identifier)
        with (
            closing(report_source_for(settings, source_url)) as source,
            progress_counter(console, "Building", len(stored.request.persons)) as progress,
        ):
            built = build_request(
                identifier,
                requests=stores.requests,
                lotes=stores.lotes,
                source=source,
                writer=LxmlLoteWriter(),
                options=build_options(settings, stored.request),
                clock=system_clock,
                actor=operator_name(),
                progress=progress,
            )
        console.print(lotes_table(stores.lotes.lotes(built.filing_number), built.filing_number))
        console.print(f"{built.filing_number}: {built.state.value}, generation {built.generation}.")
    finally:
        stores.close()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=BOGOTA)


def operator_name() -> str:
    """Who runs a CLI action, for the audit trail."""
    return f"cli:{getpass.getuser()}"


@main.command()
@click.pass_obj
def serve(settings: Settings) -> None:
    """Serve Paso 1 (SOAP) and /healthz on UGPP_BRIDGE_HOST:UGPP_BRIDGE_PORT (waitress)."""
    import waitress

    stores = state_stores(settings.database_url)
    try:
        app = paso1_app(settings, stores)
        base = f"http://{settings.host}:{settings.port}"
        click.echo(f"Paso 1 at {base}/soap/solicitudes (WSDL: ?wsdl); health at {base}/healthz")
        waitress.serve(app, host=settings.host, port=settings.port, threads=8, ident="ugpp-bridge")
    finally:
        stores.close()


@main.command()
@click.argument("identifier", metavar="ID")
@click.pass_obj
def send(settings: Settings, identifier: str) -> None:
    """Send the lotes of a built request to UGPP (Paso 2), retrying as SPEC §5 says."""
    _send(settings, identifier, resend_all=False)


@main.command()
@click.argument("identifier", metavar="ID")
@click.pass_obj
def resubmit(settings: Settings, identifier: str) -> None:
    """Resend every lote of the current build unchanged: same idEnvio, same bytes."""
    _send(settings, identifier, resend_all=True)


def _send(settings: Settings, identifier: str, *, resend_all: bool) -> None:
    console = Console()
    stores = state_stores(settings.database_url)
    gateway = ugpp_gateway(settings)
    try:
        context = SendContext(
            requests=stores.requests,
            lotes=stores.lotes,
            gateway=gateway,
            clock=system_clock,
            sleep=time.sleep,
            policy=retry_policy(settings),
            actor=operator_name(),
        )
        outcome = submit_request(identifier, context, resend_all=resend_all)
        console.print(
            sent_lotes_table(stores.lotes.lotes(outcome.filing_number), outcome.filing_number)
        )
        console.print(f"{outcome.filing_number}: {outcome.state.value}.")
        if outcome.last_error:
            console.print(f"Last error: {outcome.last_error}")
    finally:
        gateway.close()
        stores.close()


@main.command()
@click.argument("identifier", metavar="ID")
@click.pass_obj
def show(settings: Settings, identifier: str) -> None:
    """One request in full: state, deadline, progress, lotes, attempts and response times."""
    console = Console()
    stores = state_stores(settings.database_url)
    try:
        stored = stores.requests.get(identifier)
        lotes = stores.lotes.lotes(stored.filing_number) if stored.generation else []
        attempts = stores.lotes.attempts(stored.filing_number)
    finally:
        stores.close()
    console.print(request_panel(stored))
    if lotes:
        console.print(sent_lotes_table(lotes, f"Lotes (build {stored.generation})"))
    if attempts:
        console.print(attempts_table(attempts))


@main.command()
@click.argument("identifier", metavar="ID")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def evidence(settings: Settings, identifier: str, out: Path) -> None:
    """Package the request, every lote, every attempt and the audit trail (art. 12)."""
    stores = state_stores(settings.database_url)
    try:
        bundle = export_evidence(
            identifier,
            out,
            requests=stores.requests,
            lotes=stores.lotes,
            clock=system_clock,
            actor=operator_name(),
        )
    finally:
        stores.close()
    click.echo(f"Evidence bundle {bundle.path}: {bundle.files} files, SHA-256 {bundle.sha256}.")


@main.group("ugpp-sim", invoke_without_command=True)
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


@main.group()
def source() -> None:
    """The entity's source data: sample, import, check (SPEC §3)."""


_url_option = click.option(
    "--url", help="Source database URL (default: UGPP_BRIDGE_SOURCE_URL).", default=None
)


@source.command("sample")
@_url_option
@click.option("--persons", type=click.IntRange(1), default=100, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--year", type=click.IntRange(2001, 2100), default=DEFAULT_SAMPLE_YEAR, show_default=True
)
@click.pass_obj
def source_sample(settings: Settings, url: str | None, persons: int, seed: int, year: int) -> None:
    """Write synthetic bank data into an empty source database, reproducibly for a seed."""
    console = Console()
    with (
        source_from_settings(settings, url) as target,
        progress_bar(console, "Generating sample data", persons) as advance,
    ):
        counts = target.write(advance(sample_bank(persons, seed, year)))
    console.print(
        write_counts_table(counts, f"Sample data: {persons} persons, seed {seed}, {year}")
    )


@source.command("import")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@_url_option
@click.pass_obj
def source_import(settings: Settings, directory: Path, url: str | None) -> None:
    """Load one CSV file per relation from DIRECTORY; all or nothing."""
    console = Console()
    with source_from_settings(settings, url) as target:
        counts = import_csv_directory(directory, target)
    console.print(write_counts_table(counts, f"Imported from {directory}"))


@source.command("check")
@_url_option
@click.pass_obj
def source_check(settings: Settings, url: str | None) -> None:
    """Check the source against the contract: relations, columns and codes."""
    with source_from_settings(settings, url) as target:
        problems = target.check()
    if not problems:
        click.echo("The source meets the contract: six relations, every column, valid codes.")
        return
    click.echo(f"The source breaks the contract in {len(problems)} place(s):", err=True)
    for problem in problems:
        click.echo(f"  - {problem.describe()}", err=True)
    sys.exit(1)


@main.group()
def db() -> None:
    """The bridge's own state database (UGPP_BRIDGE_DATABASE_URL)."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(settings: Settings) -> None:
    """Apply the Alembic migrations up to the newest."""
    from ugpp_bridge.adapters import migrations  # alembic loads slowly; only this command needs it

    migrations.upgrade(settings.database_url)
    revision = migrations.current_revision(settings.database_url)
    click.echo(f"The state database {safe_url(settings.database_url)} is at revision {revision}.")


@main.group()
def audit() -> None:
    """The hash-chained audit trail."""


@audit.command("verify")
@click.pass_obj
def audit_verify(settings: Settings) -> None:
    """Walk the audit chain and report any entry edited, deleted or added outside the bridge."""
    stores = state_stores(settings.database_url)
    try:
        result = stores.requests.verify_audit()
    finally:
        stores.close()
    if result.ok:
        click.echo(f"The audit trail is intact: {result.entries} entries, head {result.head_hash}.")
        return
    click.echo(f"The audit trail was tampered with ({len(result.problems)} problem(s)):", err=True)
    for problem in result.problems:
        click.echo(f"  - {problem}", err=True)
    sys.exit(1)
