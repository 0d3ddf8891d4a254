"""CLI commands of Paso 2 and operations: ``send``, ``resubmit``, ``show``,
``requests``, ``deadlines``, ``confirm``. Registered on the main command by ``cli.py``.
"""

from __future__ import annotations

import sys

import click
from rich.console import Console

from ugpp_bridge.bootstrap import (
    holiday_calendar,
    leasing,
    process_name,
    send_context,
    settings_stores,
)
from ugpp_bridge.bootstrap_source import system_clock
from ugpp_bridge.config import Settings, check_required
from ugpp_bridge.entrypoints.cli.console import (
    approvals_table,
    attempts_table,
    operator_console,
    overview_table,
    request_panel,
    sent_lotes_table,
)
from ugpp_bridge.entrypoints.cli.identity import acting_actor, acting_options
from ugpp_bridge.service.operations import confirm_request
from ugpp_bridge.service.overview import RequestOverview, overview, request_detail
from ugpp_bridge.service.submit import SendResult, submit_request
from ugpp_bridge.service.work import run_claimed


@click.command()
@click.argument("identifier", metavar="ID")
@acting_options
@click.pass_obj
def send(settings: Settings, identifier: str, acting_as: str | None, password_stdin: bool) -> None:
    """Send the lotes of a built request to UGPP (Paso 2), retrying as SPEC §5 says."""
    _send(settings, identifier, (acting_as, password_stdin), resend_all=False)


@click.command()
@click.argument("identifier", metavar="ID")
@acting_options
@click.pass_obj
def resubmit(
    settings: Settings, identifier: str, acting_as: str | None, password_stdin: bool
) -> None:
    """Resend every lote of the current build unchanged: same idEnvio, same bytes."""
    _send(settings, identifier, (acting_as, password_stdin), resend_all=True)


def _send(
    settings: Settings, identifier: str, acting: tuple[str | None, bool], *, resend_all: bool
) -> None:
    """Exit 0 sent, 3 parked (the scheduler retries it), 4 rejected by UGPP, 1 anything else
    (credentials refused included: nothing retries those until someone fixes them)."""
    check_required(settings, ("send",))
    console = Console()
    stores = settings_stores(settings)
    try:
        actor = acting_actor(settings, stores, *acting, command="send")
    except BaseException:
        stores.close()
        raise
    context = send_context(settings, stores, actor)
    try:
        outcome = run_claimed(
            leasing(settings, stores, process_name("cli")),
            stores.requests.find(identifier).key,
            lambda key: submit_request(key, context, resend_all=resend_all, operator=True),
        )
        console.print(sent_lotes_table(stores.lotes.lotes(outcome.key), outcome.filing_number))
    finally:
        context.gateway.close()
        stores.close()
    result = SendResult.of(outcome)
    console.print(f"{outcome.filing_number}: {SEND_RESULT_TEXTS[result]}")
    if outcome.last_error and result is not SendResult.SENT:
        console.print(f"Motivo: {outcome.last_error}", markup=False)
    sys.exit(result.value)


SEND_RESULT_TEXTS = {
    SendResult.SENT: "enviada; la UGPP acusó recibo de cada lote.",
    SendResult.PARKED: "en espera; se reintentará automáticamente (código 3).",
    SendResult.REJECTED: "rechazada por la UGPP (código 4).",
    SendResult.FAILED: "no enviada; requiere la acción de un operador (código 1).",
}


@click.command()
@click.argument("identifier", metavar="ID")
@click.pass_obj
def show(settings: Settings, identifier: str) -> None:
    """One request in full: state, deadline, progress, lotes, attempts and response times."""
    console = operator_console()
    stores = settings_stores(settings)
    try:
        key = stores.requests.find(identifier).key
        detail = request_detail(
            key,
            stores.requests,
            stores.lotes,
            builds=stores.builds,
            today=system_clock().date(),
            holidays=holiday_calendar(),
            uvt_values=settings.uvt_values,
        )
        lotes = stores.lotes.lotes(key) if detail.stored.generation else []
    finally:
        stores.close()
    console.print(request_panel(detail))
    if detail.approvals:
        console.print(approvals_table(detail.approvals))
    if lotes:
        console.print(sent_lotes_table(lotes, f"Lotes (construcción {detail.stored.generation})"))
    if detail.attempts:
        console.print(attempts_table(detail.attempts))


@click.command("requests")
@click.pass_obj
def requests_command(settings: Settings) -> None:
    """Every request: received, deadline, days left, state, progress, attempts, exposure."""
    console = operator_console()
    console.print(overview_table(_overview(settings), "Solicitudes", console.width))


@click.command()
@click.pass_obj
def deadlines(settings: Settings) -> None:
    """What falls due: requests not yet delivered, most urgent first."""
    pending = [item for item in _overview(settings) if item.open]
    if not pending:
        click.echo("Nothing falls due: every request was delivered.")
        return
    console = operator_console()
    console.print(overview_table(pending, "Por entregar, la más urgente primero", console.width))


@click.command()
@click.argument("identifier", metavar="ID")
@click.option("--radicado", required=True, help="UGPP's radicado from its confirmation e-mail.")
@acting_options
@click.pass_obj
def confirm(
    settings: Settings, identifier: str, radicado: str, acting_as: str | None,
    password_stdin: bool,
) -> None:  # fmt: skip
    """Record UGPP's confirmation e-mail (article 7) on a sent request."""
    stores = settings_stores(settings)
    try:
        actor = acting_actor(settings, stores, acting_as, password_stdin, command="confirm")
        done = confirm_request(
            stores.requests.find(identifier).key, radicado, requests=stores.requests,
            clock=system_clock, actor=actor,
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


COMMANDS = (send, resubmit, show, requests_command, deadlines, confirm)
