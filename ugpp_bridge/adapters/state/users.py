"""``SqlAlchemyUserStore``: dashboard accounts with salted password hashes (werkzeug's scrypt).

Passwords are never stored or logged; adding or changing an account is audited (name and role,
never the hash). A failed login for an unknown name still checks a hash, so a name's existence
does not show in the response time.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import RowMapping, delete, select
from sqlalchemy import update as sql_update

from ugpp_bridge.adapters.state import tables as t
from ugpp_bridge.adapters.state.audit import append_audit
from ugpp_bridge.adapters.state.base import SqlAlchemyStateBase
from ugpp_bridge.domain.users import Role, User
from ugpp_bridge.errors import InvalidInputError, UserExistsError
from ugpp_bridge.service.ports import UserStore

U, S = t.dashboard_users, t.dashboard_sessions


def generate_password_hash(password: str) -> str:
    from werkzeug.security import generate_password_hash as make  # loaded by the commands

    #                                                               that handle passwords only
    return make(password)


def check_password_hash(digest: str, password: str) -> bool:
    from werkzeug.security import check_password_hash as check  # start-up time

    return check(digest, password)


MIN_PASSWORD_LENGTH = 12
# The password_hash of an account whose password is the directory's: no hash ever matches it.
DIRECTORY_MARK = "directorio"


@functools.cache
def _dummy_hash() -> str:
    """A hash to check against for unknown names; made on first use (scrypt takes ~0.1 s),
    not when every command imports this module."""
    return generate_password_hash("not-a-password-of-anyone")


class SqlAlchemyUserStore(SqlAlchemyStateBase, UserStore):
    def add(self, name: str, role: Role, password: str, *, at: datetime, actor: str,
            update: bool = False) -> User:  # fmt: skip
        name = _checked_name(name)
        _check_password(password)
        digest = generate_password_hash(password)
        with self._tx() as connection:
            exists = connection.execute(select(U.c.id).where(U.c.name == name)).first()
            if exists is not None and not update:
                raise UserExistsError(name)
            values = {"role": role.value, "password_hash": digest, "updated_at": at}
            if exists is None:
                connection.execute(U.insert().values(name=name, created_at=at, **values))
            else:
                connection.execute(sql_update(U).where(U.c.name == name).values(**values))
                # A new password or role ends every session the old one opened.
                connection.execute(delete(S).where(S.c.user_id == exists[0]))
            append_audit(
                connection,
                at=at,
                actor=actor,
                action="user.updated" if exists else "user.added",
                filing_number=None,
                details={"name": name, "role": role.value},
            )
        return User(name, role)

    def authenticate(self, name: str, password: str) -> User | None:
        with self._read() as connection:
            row = connection.execute(select(U).where(U.c.name == name)).mappings().first()
        if row is None or row["disabled_at"] is not None or row["password_hash"] == DIRECTORY_MARK:
            check_password_hash(_dummy_hash(), password)  # the same time whatever the reason
            return None
        if not check_password_hash(row["password_hash"], password):
            return None
        return _user(row)

    def get(self, name: str) -> User | None:
        with self._read() as connection:
            row = connection.execute(select(U).where(U.c.name == name)).mappings().first()
        return None if row is None else _user(row)

    def sync_directory_account(self, name: str, role: Role, *, at: datetime) -> User:
        name = _checked_name(name)
        with self._tx() as connection:
            row = connection.execute(select(U).where(U.c.name == name)).mappings().first()
            if row is None:
                values = {"role": role.value, "password_hash": DIRECTORY_MARK}
                connection.execute(
                    U.insert().values(name=name, created_at=at, updated_at=at, **values)
                )
            elif row["password_hash"] != DIRECTORY_MARK:
                raise InvalidInputError(
                    f"{name!r} is a local account; the directory cannot sign in as it.",
                    field="name",
                )
            elif row["role"] != role.value:
                connection.execute(sql_update(U).where(U.c.id == row["id"])
                                   .values(role=role.value, updated_at=at))  # fmt: skip
            if row is None or row["role"] != role.value:
                append_audit(connection, at=at, actor="directorio", filing_number=None,
                             action="user.directory_role",
                             details={"name": name, "role": role.value})  # fmt: skip
            row = connection.execute(select(U).where(U.c.name == name)).mappings().one()
        return _user(row)

    def list_users(self) -> list[User]:
        with self._read() as connection:
            rows = connection.execute(select(U).order_by(U.c.name)).mappings().all()
        return [_user(row) for row in rows]

    def set_password(self, name: str, password: str, *, at: datetime, actor: str) -> User:
        _check_password(password)
        if (found := self.get(name)) is not None and found.directory:
            raise InvalidInputError(
                f"{name!r} signs in through the directory; change the password there.",
                field="name",
            )
        return self._change(name, {"password_hash": generate_password_hash(password)}, at,
                            actor, "user.password_changed")  # fmt: skip

    def disable(self, name: str, *, at: datetime, actor: str) -> User:
        return self._change(name, {"disabled_at": at}, at, actor, "user.disabled")

    def _change(
        self, name: str, values: dict[str, object], at: datetime, actor: str, action: str
    ) -> User:
        with self._tx() as connection:
            row = connection.execute(select(U).where(U.c.name == name)).mappings().first()
            if row is None:
                raise InvalidInputError(
                    f"There is no dashboard account named {name!r}; see `ugpp-bridge user list`.",
                    field="name",
                )
            connection.execute(
                sql_update(U).where(U.c.id == row["id"]).values(updated_at=at, **values)
            )
            # Its sessions end now: a copied cookie, or a forgotten browser, opens nothing.
            connection.execute(delete(S).where(S.c.user_id == row["id"]))
            append_audit(connection, at=at, actor=actor, action=action, filing_number=None,
                         details={"name": name})  # fmt: skip
            row = connection.execute(select(U).where(U.c.id == row["id"])).mappings().one()
        return _user(row)

    # -- sessions: the cookie carries a random token; the server can end it -----------------

    def open_session(
        self, name: str, *, at: datetime, lifetime: timedelta, address: str | None
    ) -> str:
        token = secrets.token_urlsafe(32)
        with self._tx() as connection:
            user_id = connection.execute(select(U.c.id).where(U.c.name == name)).scalar_one()
            connection.execute(delete(S).where(S.c.expires_at < at))
            connection.execute(
                S.insert().values(
                    token_hash=_hashed(token), user_id=user_id, created_at=at,
                    expires_at=at + lifetime, address=(address or "")[:64] or None,
                )
            )  # fmt: skip
        return token

    def session_user(self, token: str, *, now: datetime) -> User | None:
        query = (
            select(U)
            .join(S, S.c.user_id == U.c.id)
            .where(
                S.c.token_hash == _hashed(token), S.c.expires_at > now, U.c.disabled_at.is_(None)
            )
        )
        with self._read() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _user(row)

    def close_session(self, token: str) -> None:
        with self._tx() as connection:
            connection.execute(delete(S).where(S.c.token_hash == _hashed(token)))


def _hashed(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user(row: RowMapping) -> User:
    return User(row["name"], Role(row["role"]), row["disabled_at"] is not None,
                row["password_hash"] == DIRECTORY_MARK)  # fmt: skip


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(
            f"The password must have at least {MIN_PASSWORD_LENGTH} characters.",
            field="password",
        )


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 80 or any(ch.isspace() or ch == ":" for ch in name):
        raise InvalidInputError(
            "An account name is 1 to 80 characters without spaces or colons.",
            field="name",
            value=name,
        )
    return name
