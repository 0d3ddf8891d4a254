"""The ``ugpp-bridge`` console command (SPEC §7): parse, call one use case, format.

Start-up is kept short: this module imports only click. Each command lives in a module that
is imported when that command runs (``COMMANDS`` below names it), and ``--help`` lists the
commands from their one-line help kept here, so ``ugpp-bridge --help`` imports none of them
(SQLAlchemy, rich, lxml, zeep, spyne, flask…). ``tests/unit/test_cli_registry.py`` holds the
list equal to the commands' own names and help; ``bench/startup_benchmark.py`` measures it.

Failures we expect (``UgppBridgeError``) print ``Type: message`` and exit 1; anything else is
logged with its traceback and also exits 1.
"""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path
from typing import Any

import click

from ugpp_bridge import __version__

logger = logging.getLogger("ugpp_bridge.cli")

_PACKAGE = "ugpp_bridge.entrypoints.cli"

# name → (module, attribute, the command's own one-line help, as ``--help`` lists it)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "approve": ("desk", "approve",
                "Approve the current build of a request, as an officer (never one you asked for)."),
    "audit": ("core", "audit", "The hash-chained audit trail."),
    "build": ("core", "build",
              "Build a stored request (radicado or idSolicitud) into stored, validated lotes."),
    "confirm": ("operations", "confirm",
                "Record UGPP's confirmation e-mail (article 7) on a sent request."),
    "db": ("core", "db", "The bridge's own state database (UGPP_BRIDGE_DATABASE_URL)."),
    "deadlines": ("operations", "deadlines",
                  "What falls due: requests not yet delivered, most urgent first."),
    "demo": ("core", "demo",
             "The whole job on sample data, in a temporary folder, on 127.0.0.1 only."),
    "doctor": ("doctor", "doctor",
               "Check readiness: settings, state database, source, UGPP's token service, WSDL "
               "and endpoint, TLS material, environment."),
    "evidence": ("evidence", "evidence",
                 "Evidence of a request (article 12): export the bundle or its certificate, "
                 "verify a bundle."),
    "preview": ("desk", "preview",
                "What the current build will report: totals per section (and, with --xlsx, per "
                "person)."),
    "report": ("report", "report",
               "Build the lotes of a Solicitud file from the source into OUT; store and send "
               "nothing."),
    "requests": ("operations", "requests_command",
                 "Every request: received, deadline, days left, state, progress, attempts, "
                 "exposure."),
    "resubmit": ("operations", "resubmit",
                 "Resend every lote of the current build unchanged: same idEnvio, same bytes."),
    "return": ("desk", "return_command",
               "Return the current build of a request with a reason; an operator rebuilds it."),
    "send": ("operations", "send",
             "Send the lotes of a built request to UGPP (Paso 2), retrying as SPEC §5 says."),
    "serve": ("service", "serve",
              "Serve Paso 1 (SOAP), the dashboard and /metrics, with the scheduler unless told "
              "not to."),
    "show": ("operations", "show",
             "One request in full: state, deadline, progress, lotes, attempts and response "
             "times."),
    "source": ("core", "source",
               "The entity's source data: sample, import, check, selftest (SPEC §3, §11)."),
    "ugpp-sim": ("sim", "ugpp_sim",
                 "Play UGPP's part: run the Paso 2 stand-in (the default), or send a Solicitud."),
    "user": ("desk", "user",
             "Dashboard accounts: viewer (reads, downloads evidence), operator, officer "
             "(approves)."),
    "worker": ("service", "worker",
               "The scheduler alone: build, send, retry and alert, for deployments with several "
               "web processes (run as many workers as you like; they never take the same work)."),
    "wire": ("wire", "wire_group", "The wire profile (SPEC §10): the official annex as data."),
}  # fmt: skip


class BridgeGroup(click.Group):
    """Loads each command when it is used, lists them without loading any, and turns our
    errors into ``Type: message`` and exit 1 (the only broad handler of the CLI)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(f"{_PACKAGE}.{module}"), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As ``click.Group`` lists them, from the help kept above: no command is imported."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        with formatter.section("Commands"):
            formatter.write_dl(
                [
                    (name, click.Command(name, help=COMMANDS[name][2]).get_short_help_str(limit))
                    for name in names
                ]  # fmt: skip
            )

    def invoke(self, ctx: click.Context) -> Any:
        from ugpp_bridge.errors import UgppBridgeError  # start-up time: loaded where used

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
    from ugpp_bridge.config import load_settings  # start-up time: loaded where used
    from ugpp_bridge.errors import ConfigurationError

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        ctx.obj = load_settings(os.environ, config_file)
    except ConfigurationError as exc:
        if ctx.invoked_subcommand != "doctor" or not exc.problems:
            raise
        for problem in exc.problems:  # doctor shows each invalid setting as a failed check
            click.echo(f"✗ Setting {problem}")
        click.echo(f"\nNot ready: {len(exc.problems)} check(s) failed.")
        ctx.exit(1)
