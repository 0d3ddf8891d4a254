"""Who acts through the CLI (SPEC §11, one person on every channel).

The acting commands (``build``, ``send``, ``resubmit``, ``confirm``, ``approve``, ``return``)
take ``--as NAME --password-stdin``: a local or directory account, signed in exactly as on the
dashboard (same throttle, same directory), so the audit trail and the four-eyes rule name the
same person wherever they act. With approval required, ``build`` refuses to run without it:
a build recorded as the machine's user (``cli:root``) could then be approved by the very person
who ran it. Without ``--as`` elsewhere, the action is recorded as the operating-system user.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from typing import Any

import click

from ugpp_bridge.bootstrap import StateStores, signer
from ugpp_bridge.bootstrap_source import system_clock
from ugpp_bridge.config import Settings
from ugpp_bridge.domain.throttling import Scope
from ugpp_bridge.domain.users import User
from ugpp_bridge.errors import ApprovalRefusedError, NotAuthorizedError


def operator_name() -> str:
    """Who runs a CLI action without ``--as``, for the audit trail."""
    return f"cli:{getpass.getuser()}"


def acting_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--as NAME`` and ``--password-stdin`` on an acting command."""
    with_password = click.option(
        "--password-stdin", is_flag=True, help="Read the account's password from standard input."
    )(function)
    return click.option(
        "--as", "acting_as", default=None, metavar="NAME",
        help="Act as this dashboard or directory account.",
    )(with_password)  # fmt: skip


def read_password(from_stdin: bool, confirm: bool = False) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=confirm))


def signed_in(settings: Settings, stores: StateStores, name: str, password: str) -> User:
    """The account ``name`` if the password is right (throttled like the dashboard's login,
    through the directory when the name is not a local account)."""
    now = system_clock()
    status = stores.throttle.status(Scope.DASHBOARD, user=name, address=None, now=now)
    if status.blocked_until is not None:
        raise NotAuthorizedError()
    signed = signer(settings, stores)(name, password)
    if signed is None:
        stores.throttle.record_failure(Scope.DASHBOARD, user=name, address=None, now=now)
        raise NotAuthorizedError()
    return signed.user


def acting_actor(
    settings: Settings,
    stores: StateStores,
    acting_as: str | None,
    password_stdin: bool,
    *,
    command: str,
    required: bool = False,
) -> str:
    """The actor an acting command records: ``cli:NAME`` of the account signed in with
    ``--as`` (operator or officer), else the operating-system user — refused when
    ``required``."""
    if acting_as is None:
        if required:
            raise ApprovalRefusedError(
                f"With UGPP_BRIDGE_REQUIRE_APPROVAL on, `{command}` says who asks for it: add "
                "--as NAME --password-stdin (an operator's or officer's account), so that the "
                "officer who approves is never the person who built.",
                reason="no_account",
            )
        return operator_name()
    user = signed_in(settings, stores, acting_as, read_password(password_stdin))
    if not user.may_act:
        raise ApprovalRefusedError(
            f"The account {user.name!r} may only read ({user.role.value}); `{command}` needs an "
            "operator or an officer.",
            reason="not_operator",
        )
    return f"cli:{user.name}"
