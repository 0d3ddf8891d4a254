"""A real OpenLDAP server (Debian's ``slapd``) on a loopback port, for the directory tests.

A small tree, loaded online (so the ``memberof`` overlay keeps ``memberOf`` like Active
Directory does)::

    dc=banco,dc=co
      ou=personas:  olga (officer), ana (operator), vera (viewer), sin (no group),
                    the service account
      ou=grupos:    puente-oficiales (groupOfNames), puente-operadores (groupOfUniqueNames),
                    puente-consulta (groupOfNames)

Never a mock: the bridge's ldap3 calls go over TCP to slapd. Under ``CI=true`` a missing
slapd fails the test (``.ci/run`` installs it); elsewhere it is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SUFFIX = "dc=banco,dc=co"
ADMIN_DN, ADMIN_PASSWORD = f"cn=admin,{SUFFIX}", "admin-del-directorio-123"
SERVICE_DN, SERVICE_PASSWORD = f"uid=puente-servicio,ou=personas,{SUFFIX}", "clave-servicio-123"
PEOPLE = f"ou=personas,{SUFFIX}"
GROUPS = f"ou=grupos,{SUFFIX}"
OFFICERS, OPERATORS, VIEWERS = (f"cn={name},{GROUPS}" for name in
                                ("puente-oficiales", "puente-operadores", "puente-consulta"))  # fmt: skip
PASSWORDS = {"olga": "clave-de-olga-123", "ana": "clave-de-ana-1234", "vera": "clave-de-vera-123",
             "sin": "clave-de-sin-1234"}  # fmt: skip

CONFIG = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile {folder}/slapd.pid
database mdb
maxsize 10485760
suffix "{suffix}"
rootdn "{admin}"
rootpw {password}
directory {folder}/db
overlay memberof
"""


@dataclass
class Slapd:
    url: str
    process: subprocess.Popen[bytes]

    def settings(self, **extra: str) -> dict[str, str]:
        """The bridge's directory settings for this server."""
        return {
            "UGPP_BRIDGE_LDAP_URL": self.url,
            "UGPP_BRIDGE_LDAP_BIND_DN": SERVICE_DN,
            "UGPP_BRIDGE_LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
            "UGPP_BRIDGE_LDAP_USER_BASE": PEOPLE,
            "UGPP_BRIDGE_LDAP_OFFICER_GROUP": OFFICERS,
            "UGPP_BRIDGE_LDAP_OPERATOR_GROUP": OPERATORS,
            "UGPP_BRIDGE_LDAP_VIEWER_GROUP": VIEWERS,
            **extra,
        }

    @contextmanager
    def admin(self) -> Iterator[Any]:
        """The directory's administrator, unbound after (ldap3's own ``with`` keeps a
        connection that was bound before it open)."""
        from ldap3 import Connection, Server

        connection = Connection(Server(self.url), ADMIN_DN, ADMIN_PASSWORD, auto_bind=True)
        try:
            yield connection
        finally:
            connection.unbind()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()


def _require_slapd() -> str:
    found = shutil.which("slapd") or ("/usr/sbin/slapd" if Path("/usr/sbin/slapd").exists() else "")
    if not found:
        message = "slapd is not installed (apt-get install slapd ldap-utils)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; required under CI=true")
        pytest.skip(message)
    return found


def start_slapd(folder: Path, port: int) -> Iterator[Slapd]:
    binary = _require_slapd()
    (folder / "db").mkdir(parents=True)
    config = folder / "slapd.conf"
    config.write_text(CONFIG.format(folder=folder, suffix=SUFFIX, admin=ADMIN_DN,
                                    password=ADMIN_PASSWORD))  # fmt: skip
    url = f"ldap://127.0.0.1:{port}"
    process = subprocess.Popen([binary, "-f", str(config), "-h", f"{url}/", "-d", "0"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    server = Slapd(url, process)
    try:
        _wait_and_load(server, port)
        yield server
    finally:
        server.stop()


def _wait_and_load(server: Slapd, port: int) -> None:
    for _ in range(100):  # bounded: 10 s
        if server.process.poll() is not None:
            error = server.process.stderr.read().decode() if server.process.stderr else ""
            raise AssertionError(f"slapd did not start: {error[-500:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        raise AssertionError("slapd did not answer within 10 s")
    with server.admin() as connection:
        _load(connection)


def _load(connection) -> None:  # type: ignore[no-untyped-def]
    def add(dn: str, classes: list[str], **attributes: object) -> None:
        assert connection.add(dn, classes, attributes), connection.result

    add(SUFFIX, ["dcObject", "organization"], o="Banco", dc="banco")
    add(PEOPLE, ["organizationalUnit"], ou="personas")
    add(GROUPS, ["organizationalUnit"], ou="grupos")
    add(SERVICE_DN, ["inetOrgPerson"], uid="puente-servicio", cn="Puente", sn="Servicio",
        userPassword=SERVICE_PASSWORD)  # fmt: skip
    for name, password in PASSWORDS.items():
        add(f"uid={name},{PEOPLE}", ["inetOrgPerson"], uid=name, cn=name.title(), sn="Banco",
            userPassword=password)  # fmt: skip
    add(OFFICERS, ["groupOfNames"], cn="puente-oficiales", member=[f"uid=olga,{PEOPLE}"])
    add(OPERATORS, ["groupOfUniqueNames"], cn="puente-operadores",
        uniqueMember=[f"uid=ana,{PEOPLE}", f"uid=olga,{PEOPLE}"])  # fmt: skip
    add(VIEWERS, ["groupOfNames"], cn="puente-consulta", member=[f"uid=vera,{PEOPLE}"])
