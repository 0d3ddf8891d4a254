"""``ugpp-bridge ugpp-sim``: play UGPP's part — the Paso 2 stand-in with its fault modes, the
Paso 1 sender, and the stand-in's WSDL with its schema inline (for a third-party server).
Registered on the main command by ``cli.py``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from lxml import etree

from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.adapters.soap.profile import WireProfile, load_profile
from ugpp_bridge.adapters.soap.solicitud_xml import parse_solicitud, solicitud_or_profile_element


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
@click.option(
    "--client-fault-code", default="Client", show_default=True,
    help="The faultcode of those faults (e.g. Client.DatosInvalidos).",
)  # fmt: skip
@click.option("--reset-after-body", default=0, help="Reset the connection after N bodies.")
@click.option("--extra-element", default=0, help="N acknowledgements with an undeclared element.")
@click.option("--hold", default=0, help="Hold the next N report POSTs without answering.")
@click.option("--hold-seconds", default=30.0, show_default=True, help="How long each is held.")
@click.option("--refuse-tokens", default=0, help="Refuse the credentials N times (HTTP 400).")
@click.option(
    "--profile", "profile_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None, help="Speak this wire profile's Paso 2 (SPEC §10); default v1.",
)  # fmt: skip
def ugpp_sim_serve(
    host: str,
    port: int,
    username: str,
    password: str,
    client_id: str,
    auth: str,
    token_ttl: int,
    token_lifetime: float | None,
    profile_dir: Path | None,
    **faults: object,
) -> None:
    """The UGPP stand-in: Paso 2 receiver (wsdl/ugpp-reporte-v1.wsdl) and token service."""
    from ugpp_bridge.entrypoints.ugpp_sim import (  # start-up time: loaded by its command
        REPORT_PATH,
        TOKEN_PATH,
        Faults,
        SimulatorConfig,
        UgppSimulator,
        make_server,
    )

    config = SimulatorConfig(
        username, password, client_id, auth, token_ttl, token_lifetime,
        Faults(latency_seconds=float(str(faults.pop("latency"))), **faults),  # type: ignore[arg-type]
        None if profile_dir is None else load_profile(profile_dir),
    )  # fmt: skip
    server = make_server(UgppSimulator(config), host, port)
    base = f"http://{host}:{server.server_address[1]}"
    click.echo(f"UGPP stand-in: {base}{REPORT_PATH} (WSDL: ?wsdl), tokens at {base}{TOKEN_PATH}")
    try:
        server.serve_forever()
    finally:
        server.server_close()


@ugpp_sim.command("wsdl")
@click.option("--address", default="http://127.0.0.1:8090/ugpp/reporte", show_default=True)
def ugpp_sim_wsdl(address: str) -> None:
    """Print our model of UGPP's WSDL with its schema inline, to serve from any SOAP stack
    (the shipped ugpp-reporte-v1-inline.wsdl is this, for the default address)."""
    sys.stdout.buffer.write(wire.served_wsdl(wire.UGPP_REPORTE_WSDL, address))


@ugpp_sim.command("send-request")
@click.argument("request_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", required=True, help="The bridge's Paso 1 URL, …/soap/solicitudes.")
@click.option("--username", envvar="UGPP_BRIDGE_INBOUND_USERNAME", required=True)
@click.option("--password", envvar="UGPP_BRIDGE_INBOUND_PASSWORD", required=True, hide_input=True)
@click.option("--text-password", is_flag=True, help="PasswordText instead of PasswordDigest.")
@click.option(
    "--profile", "profile_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None, help="Speak this wire profile's Paso 1 (a v1 file goes through its "
    "[simulator] request transform).",
)  # fmt: skip
def ugpp_sim_send_request(
    request_file: Path,
    url: str,
    username: str,
    password: str,
    text_password: bool,
    profile_dir: Path | None,
) -> None:
    """Send a Solicitud XML file to the bridge with a UsernameToken and print the receipt."""
    from ugpp_bridge.adapters.soap.paso1_client import (  # zeep loads slowly
        send_profile_request,
        send_solicitud,
    )

    if profile_dir is not None:
        document = profile_request_document(load_profile(profile_dir), request_file.read_bytes())
        answer = send_profile_request(
            url, document, username=username, password=password, use_digest=not text_password
        )
        click.echo(etree.tostring(answer, pretty_print=True, encoding="unicode").rstrip())
        return
    request = parse_solicitud(request_file.read_bytes())
    receipt = send_solicitud(
        url, request, username=username, password=password, use_digest=not text_password
    )
    for name, value in vars(receipt).items():
        click.echo(f"{name}: {value}")


def profile_request_document(profile: WireProfile, data: bytes) -> etree._Element:
    """The profile's Paso 1 request element for a file holding it, or a v1 Solicitud (turned
    into it by the profile's ``simulator.request``)."""
    element = solicitud_or_profile_element(data)
    if element.tag != f"{{{wire.SOLICITUD_NS}}}Solicitud":
        return element
    if profile.simulator_request is None:
        if profile.is_v1:
            return element
        raise click.ClickException(
            f"El perfil {profile.label} no tiene [simulator] request: envíe el archivo ya en "
            "la forma del anexo."
        )
    return profile.simulator_request(element)


COMMANDS = (ugpp_sim,)
