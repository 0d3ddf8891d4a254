"""CLI commands of the officer's desk (SPEC §9): ``approve``, ``return``, ``preview`` and the
dashboard accounts (``user add|list|disable|password``). Registered on the main command by
``cli.py``.

``approve`` and ``return`` act as a dashboard account (``--as NAME``, its password on standard
input), so the four-eyes rule and the audit trail name the same person wherever they act;
failed passwords count against the same throttle as the dashboard's.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from ugpp_bridge.bootstrap import export_preview, settings_stores
from ugpp_bridge.bootstrap_source import system_clock
from ugpp_bridge.config import Settings
from ugpp_bridge.domain.labels import STATE_LABELS, number, pesos
from ugpp_bridge.domain.users import ROLE_LABELS, Role
from ugpp_bridge.entrypoints.cli.identity import operator_name, read_password, signed_in
from ugpp_bridge.service.approval import approve_build, return_build
from ugpp_bridge.service.preview import PreviewTotals


@click.command()
@click.argument("identifier", metavar="ID")
@click.option("--as", "name", required=True, help="The officer's dashboard account.")
@click.option("--password-stdin", is_flag=True, help="Read the account's password from stdin.")
@click.pass_obj
def approve(settings: Settings, identifier: str, name: str, password_stdin: bool) -> None:
    """Approve the current build of a request, as an officer (never one you asked for)."""
    stores = settings_stores(settings)
    try:
        officer = signed_in(settings, stores, name, read_password(password_stdin))
        key = stores.requests.find(identifier).key
        done = approve_build(key, requests=stores.requests, builds=stores.builds, officer=officer,
                             channel="officer", clock=system_clock)  # fmt: skip
    finally:
        stores.close()
    click.echo(f"{done.filing_number}: {STATE_LABELS[done.state]} por {officer.name}.")


@click.command("return")
@click.argument("identifier", metavar="ID")
@click.option("--reason", required=True, help="Why: what the operator must fix.")
@click.option("--as", "name", required=True, help="The officer's dashboard account.")
@click.option("--password-stdin", is_flag=True, help="Read the account's password from stdin.")
@click.pass_obj
def return_command(
    settings: Settings, identifier: str, reason: str, name: str, password_stdin: bool
) -> None:
    """Return the current build of a request with a reason; an operator rebuilds it."""
    stores = settings_stores(settings)
    try:
        officer = signed_in(settings, stores, name, read_password(password_stdin))
        key = stores.requests.find(identifier).key
        done = return_build(key, reason, requests=stores.requests, builds=stores.builds,
                            officer=officer, channel="officer", clock=system_clock)  # fmt: skip
    finally:
        stores.close()
    click.echo(f"{done.filing_number}: {STATE_LABELS[done.state]} por {officer.name}: {reason}")


@click.command()
@click.argument("identifier", metavar="ID")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the preview, every person, to this workbook.")  # fmt: skip
@click.pass_obj
def preview(settings: Settings, identifier: str, xlsx: Path | None) -> None:
    """What the current build will report: totals per section (and, with --xlsx, per person)."""
    stores = settings_stores(settings)
    try:
        stored = stores.requests.find(identifier)
        if not stored.generation:
            raise click.ClickException(f"{stored.filing_number} has not been built yet.")
        if xlsx is not None:
            xlsx.parent.mkdir(parents=True, exist_ok=True)
            with xlsx.open("wb") as sink:
                totals = export_preview(stores, stored.key, sink)
        else:
            from ugpp_bridge.adapters.soap.xml_lotes import LxmlLoteWriter  # start-up time
            from ugpp_bridge.service.preview import preview_build

            totals = preview_build(stored.key, requests=stores.requests, lotes=stores.lotes,
                                   writer=LxmlLoteWriter(), keep=0).totals  # fmt: skip
    finally:
        stores.close()
    Console().print(
        _totals_table(totals, f"{stored.filing_number} · construcción {stored.generation}")
    )
    if xlsx is not None:
        click.echo(f"Vista previa escrita en {xlsx}.")


def _totals_table(totals: PreviewTotals, title: str) -> Table:
    table = Table(title=f"Vista previa {title}")
    for column in ("sección", "registros", "totales"):
        table.add_column(column, justify="right" if column == "registros" else "left")
    accounts, titles, trust = (
        totals.sections[name] for name in ("cuenta", "inversion", "rendimiento")
    )
    table.add_row("cuentas", number(accounts.records),
                  f"créditos {pesos(accounts.sums.get('valorCreditos', 0))}, "
                  f"débitos {pesos(accounts.sums.get('valorDebitos', 0))}")  # fmt: skip
    table.add_row(
        "inversiones", number(titles.records), f"valor {pesos(titles.sums.get('valor', 0))}"
    )
    table.add_row("rendimientos", number(trust.records),
                  f"girado {pesos(trust.sums.get('valorGirado', 0))}")  # fmt: skip
    table.add_row("sin información", number(totals.without_information),
                  f"de {number(totals.persons)} personas")  # fmt: skip
    return table


@click.group()
def user() -> None:
    """Dashboard accounts: viewer (reads, downloads evidence), operator, officer (approves)."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--update", is_flag=True, help="Change the role and password of an account.")
@click.pass_obj
def user_add(settings: Settings, name: str, role: str, password_stdin: bool, update: bool) -> None:
    """Create a dashboard account (at least 12 characters of password; stored as a hash)."""
    password = read_password(password_stdin, confirm=True)
    stores = settings_stores(settings)
    try:
        account = stores.users.add(
            name, Role(role), password, at=system_clock(), actor=operator_name(), update=update
        )
    finally:
        stores.close()
    click.echo(f"Dashboard account {account.name!r} ({account.role.value}) saved.")


@user.command("list")
@click.pass_obj
def user_list(settings: Settings) -> None:
    """Every dashboard account, its role, and whether it is disabled."""
    stores = settings_stores(settings)
    try:
        accounts = stores.users.list_users()
    finally:
        stores.close()
    table = Table(title="Cuentas del tablero")
    for column in ("cuenta", "rol", "estado"):
        table.add_column(column)
    for account in accounts:
        state = "deshabilitada" if account.disabled else "activa"
        table.add_row(account.name, ROLE_LABELS[account.role], state)
    Console().print(table)


@user.command("disable")
@click.argument("name")
@click.pass_obj
def user_disable(settings: Settings, name: str) -> None:
    """Disable an account: it can no longer log in, and its open sessions end now."""
    stores = settings_stores(settings)
    try:
        stores.users.disable(name, at=system_clock(), actor=operator_name())
    finally:
        stores.close()
    click.echo(f"Dashboard account {name!r} disabled; its sessions ended.")


@user.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@click.pass_obj
def user_password(settings: Settings, name: str, password_stdin: bool) -> None:
    """Set a new password (at least 12 characters); the account's sessions end now."""
    password = read_password(password_stdin, confirm=True)
    stores = settings_stores(settings)
    try:
        stores.users.set_password(name, password, at=system_clock(), actor=operator_name())
    finally:
        stores.close()
    click.echo(f"Password of {name!r} changed; its sessions ended.")


COMMANDS = (approve, return_command, preview, user)
