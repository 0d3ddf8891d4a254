"""The entity's directory (LDAP, Active Directory) through ldap3 (SPEC §11).

A sign-in is three steps on the directory: a search with the service account for the one
entry ``UGPP_BRIDGE_LDAP_USER_FILTER`` names (the name escaped: no filter injection), a bind
as that entry with the password given (an empty password is refused before: LDAP would take it
as an anonymous bind and answer «success»), and the role from the groups the entry is in now —
``memberOf`` on the entry, or ``member`` / ``uniqueMember`` on the group — the highest of the
three configured groups winning. ldap3's failures become ``DirectoryUnavailableError`` here, in
Spanish: the sign-in page and the CLI show it as it is.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ldap3 import BASE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

from ugpp_bridge.domain.users import Role
from ugpp_bridge.errors import DirectoryUnavailableError
from ugpp_bridge.service.ports import Directory, DirectoryAccount

logger = logging.getLogger(__name__)

UNAVAILABLE = (
    "No fue posible consultar el directorio de la entidad para validar el ingreso; intente de "
    "nuevo en unos minutos o avise al área de tecnología. El ingreso no se decide sin él."
)
INVALID_CREDENTIALS = 49  # LDAP resultCode invalidCredentials
ROLES_LOW_TO_HIGH = (Role.VIEWER, Role.OPERATOR, Role.OFFICER)


@dataclass(frozen=True)
class LdapSettings:
    url: str  # ldap:// or ldaps://
    bind_dn: str
    bind_password: str = field(repr=False)
    user_base: str
    user_filter: str = "(uid={usuario})"
    groups: dict[Role, str] = field(default_factory=dict)  # role → group DN
    starttls: bool = False
    timeout_seconds: int = 5


class LdapDirectory(Directory):
    def __init__(self, settings: LdapSettings) -> None:
        self.settings = settings
        secure = settings.url.lower().startswith("ldaps://") or settings.starttls
        tls = Tls(validate=ssl.CERT_REQUIRED) if secure else None
        self.server = Server(settings.url, get_info=NONE, tls=tls,
                             connect_timeout=settings.timeout_seconds)  # fmt: skip

    def authenticate(self, name: str, password: str) -> DirectoryAccount | None:
        if not name or not password:
            return None
        try:
            with self._service() as service:
                found = self._entry(service, name)
                if found is None:
                    return None
                dn, member_of = found
                if not self._binds(dn, password):
                    return None
                return DirectoryAccount(name, dn, self._role(service, dn, member_of))
        except LDAPException as exc:
            logger.warning("Directory sign-in failed: %s", type(exc).__name__)
            raise DirectoryUnavailableError(UNAVAILABLE) from exc

    def check(self) -> str:
        try:
            with self._service() as service:
                service.search(self.settings.user_base, "(objectClass=*)", BASE, attributes=[])
                if service.result.get("result") != 0:
                    raise DirectoryUnavailableError(
                        f"el directorio no encuentra la base de usuarios {self.settings.user_base} "
                        f"({service.result.get('description')})."
                    )
        except LDAPException as exc:
            raise DirectoryUnavailableError(UNAVAILABLE) from exc
        return f"{self.settings.url}: la cuenta de servicio consulta {self.settings.user_base}"

    def _connection(self, user: str, password: str) -> Connection:
        connection = Connection(self.server, user=user, password=password, auto_bind=False,
                                receive_timeout=self.settings.timeout_seconds,
                                raise_exceptions=False, read_only=True)  # fmt: skip
        try:
            connection.open()
            if self.settings.starttls:
                connection.start_tls()
        except LDAPException:
            # ldap3 leaves the socket of a connection that failed to open unclosed.
            if (opened := getattr(connection, "socket", None)) is not None:
                opened.close()
            raise
        return connection

    @contextmanager
    def _service(self) -> Iterator[Connection]:
        """The service account's connection, closed after (ldap3's own ``with`` leaves a
        connection bound before it open)."""
        connection = self._connection(self.settings.bind_dn, self.settings.bind_password)
        try:
            if connection.bind():
                yield connection
                return
            logger.warning("The directory refused the service account (%s)",
                           connection.result.get("description"))  # fmt: skip
            raise DirectoryUnavailableError(
                "El directorio rechazó la cuenta de servicio del puente "
                "(UGPP_BRIDGE_LDAP_BIND_DN): avise al área de tecnología."
            )
        finally:
            connection.unbind()

    def _entry(self, service: Connection, name: str) -> tuple[str, list[str]] | None:
        query = self.settings.user_filter.replace("{usuario}", escape_filter_chars(name))
        service.search(self.settings.user_base, query, SUBTREE, attributes=["memberOf"],
                       size_limit=2)  # fmt: skip
        entries = [r for r in service.response or [] if r.get("type") == "searchResEntry"]
        if len(entries) != 1:
            return None  # unknown, or a filter that names several entries: nobody
        attributes: dict[str, Any] = entries[0].get("attributes") or {}
        member_of = attributes.get("memberOf") or []
        return str(entries[0]["dn"]), [str(group) for group in member_of]

    def _binds(self, dn: str, password: str) -> bool:
        connection = self._connection(dn, password)
        try:
            if connection.bind():
                return True
            if connection.result.get("result") == INVALID_CREDENTIALS:
                return False
            raise DirectoryUnavailableError(UNAVAILABLE)  # locked, expired, busy: not ours
        finally:
            connection.unbind()

    def _role(self, service: Connection, dn: str, member_of: list[str]) -> Role | None:
        best = None
        listed = {_normal(group) for group in member_of}
        for role in ROLES_LOW_TO_HIGH:
            group = self.settings.groups.get(role)
            if group and (_normal(group) in listed or self._listed_in(service, group, dn)):
                best = role
        return best

    def _listed_in(self, service: Connection, group: str, dn: str) -> bool:
        value = escape_filter_chars(dn)
        service.search(group, f"(|(member={value})(uniqueMember={value}))", BASE, attributes=[])
        return any(r.get("type") == "searchResEntry" for r in service.response or [])


def _normal(dn: str) -> str:
    return ",".join(part.strip().lower() for part in dn.split(","))
