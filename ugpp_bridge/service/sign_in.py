"""Signing in as a person, on every channel (SPEC §11): the dashboard and the CLI's acting
commands (``--as NAME --password-stdin``) ask the same question and get the same answer.

A local account (break-glass, while ``UGPP_BRIDGE_LOCAL_ACCOUNTS`` is on) is checked against
its own password hash; any other name goes to the directory, when one is configured, which
decides alone: the password binds as the person's entry, and the role comes from the groups it
is in at this sign-in (no group, no entry — a leaver removed from the groups, or disabled in
the directory, is out at their next sign-in). A directory that cannot be asked refuses with
``DirectoryUnavailableError``: the decision is never made without it. A directory account
gets a row among the accounts (no password of ours: its sessions, its role as last read, and
``user disable`` as a local stop), so the dashboard's sessions and the four-eyes rule work on
one account name whatever the channel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ugpp_bridge.domain.users import User
from ugpp_bridge.service.ports import Directory, UserStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignedIn:
    """Who signed in, and the directory entry that vouched for them (None: a local account)."""

    user: User
    directory_dn: str | None = None


def sign_in(
    name: str,
    password: str,
    *,
    users: UserStore,
    directory: Directory | None,
    local_accounts: bool,
    clock: Callable[[], datetime],
) -> SignedIn | None:
    """The person ``name`` when ``password`` is theirs and they may enter, else None."""
    known = users.get(name)
    if known is not None and not known.directory:
        if not local_accounts:
            logger.info("Sign-in refused: local accounts are turned off")
            return None
        user = users.authenticate(name, password)
        return None if user is None else SignedIn(user)
    if directory is None or not password:
        return None
    account = directory.authenticate(name, password)
    if account is None:
        return None
    if account.role is None:
        logger.info("Sign-in refused: the directory account is in none of the bridge's groups")
        return None
    user = users.sync_directory_account(account.name, account.role, at=clock())
    if user.disabled:
        return None
    return SignedIn(user, account.dn)
