"""Settings (SPEC §8): the only module that reads the environment.

``load_settings(environ, config_file)`` reads ``UGPP_BRIDGE_*`` variables and, optionally, a
TOML file that sets the same keys (either ``UGPP_BRIDGE_PORT = 8080`` or ``port = 8080``);
the environment wins over the file. Secrets have no defaults and are never shown by ``repr``.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from ugpp_bridge.domain.accounts import DEFAULT_ACCOUNT_NUMBER_DIGITS
from ugpp_bridge.domain.exposure import UVT_VALUE_COP
from ugpp_bridge.domain.identifiers import validate_operator_nit
from ugpp_bridge.domain.report import DEFAULT_LOTE_MAX_RECORDS
from ugpp_bridge.errors import ConfigurationError, InvalidInputError

PREFIX = "UGPP_BRIDGE_"
AUTH_MODES = ("token", "wsse", "none")
MIN_INBOUND_PASSWORD = 12  # SPEC §9
ENVIRONMENTS = ("pruebas", "produccion")
EMAIL = re.compile(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+")
MIN_SESSION_SECRET = 32
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Settings:
    """Every setting of the bridge, parsed and checked once at start-up."""

    database_url: str = "sqlite:///ugpp_bridge.db"
    source_url: str | None = None
    # A spark: source (SPEC §9): Spark's master, and where the relations are.
    spark_master: str = "local[*]"
    spark_relations: str | None = None
    # Spark as a service (SPEC §11): a Spark Connect server, sc://HOST:PORT[/;token=…]; the
    # bridge then runs no JVM and the master is the server's.
    spark_remote: str | None = None
    # DuckDB and Parquet sources: DuckDB's own buffers in the bridge's process; past it, it
    # spills to a scratch folder (its default would be 80 % of the machine's memory).
    duckdb_memory_limit: str = "128MB"
    # At most this many connections on the source during a build (default: cores up to 4,
    # plus one for the contract checks).
    source_connections: int | None = None
    # Where `source selftest` loads its bank on a SQL engine: ordinary tables in this scratch
    # schema instead of temporary tables (for engines or accounts without temporary tables).
    selftest_schema: str | None = None
    operator_nit: str | None = None
    operator_name: str | None = None
    inbound_username: str | None = None
    inbound_password: str | None = field(default=None, repr=False)
    ugpp_wsdl: str | None = None
    # SPEC §10: the wire profile, ``v1`` (built in) or the folder of the official annex's.
    wire_profile: str = "v1"
    ugpp_endpoint: str | None = None
    ugpp_auth: str = "token"
    ugpp_token_url: str | None = None
    ugpp_username: str | None = None
    ugpp_password: str | None = field(default=None, repr=False)
    ugpp_client_id: str | None = None
    lote_max_records: int = DEFAULT_LOTE_MAX_RECORDS
    host: str = "127.0.0.1"
    port: int = 8080
    term_starts_next_day: bool = False
    account_number_digits: int = DEFAULT_ACCOUNT_NUMBER_DIGITS
    max_request_bytes: int = 64 * 1024 * 1024
    max_persons: int = 200_000
    ugpp_timeout_seconds: int = 60
    ugpp_client_cert: str | None = None
    ugpp_ca_bundle: str | None = None
    send_max_attempts: int = 6
    send_backoff_seconds: int = 2
    send_backoff_max_seconds: int = 300
    uvt_values: Mapping[int, int] = field(default_factory=lambda: dict(UVT_VALUE_COP))
    # The scheduler (serve, worker) and the dashboard:
    sweep_seconds: int = 30
    lease_seconds: int = 300
    parked_retry_minutes: int = 30
    alert_webhook_url: str | None = None
    session_secret: str | None = field(default=None, repr=False)
    cookie_secure: bool = False
    # Exposure to the network (SPEC §9): the address the WSDL names, and what bounds a caller.
    public_url: str | None = None
    lock_timeout_seconds: int = 10
    connection_limit: int = 200
    channel_timeout_seconds: int = 30
    trusted_proxy: str | None = None
    # The officer's desk (SPEC §9):
    require_approval: bool = True
    environment: str = "pruebas"  # pruebas | produccion
    smtp_url: str | None = field(default=None, repr=False)
    alert_emails: tuple[str, ...] = ()
    # Evidence (SPEC §9): an Ed25519 private key file (PEM) that signs bundle seals.
    signing_key: str | None = None
    # Directory sign-in (SPEC §11): LDAP / Active Directory, roles from groups.
    ldap_url: str | None = None
    ldap_starttls: bool = False
    ldap_bind_dn: str | None = None
    ldap_bind_password: str | None = field(default=None, repr=False)
    ldap_user_base: str | None = None
    ldap_user_filter: str = "(uid={usuario})"
    ldap_viewer_group: str | None = None
    ldap_operator_group: str | None = None
    ldap_officer_group: str | None = None
    local_accounts: bool = True  # break-glass local accounts beside the directory

    @property
    def paso1_public_url(self) -> str:
        """The address the served WSDL names: ``UGPP_BRIDGE_PUBLIC_URL`` or this server's."""
        return self.public_url or f"http://{self.host}:{self.port}/soap/solicitudes"

    def require(self, name: str, purpose: str, *, min_length: int = 1) -> str:
        """The value of a setting that ``purpose`` cannot do without (secrets: long enough)."""
        value = getattr(self, name)
        if value in (None, ""):
            raise ConfigurationError(
                f"{PREFIX}{name.upper()} is required to {purpose}; set it in the environment "
                "or in the --config file.",
                setting=PREFIX + name.upper(),
            )
        if len(str(value)) < min_length:
            raise ConfigurationError(
                f"{PREFIX}{name.upper()} must have at least {min_length} characters to "
                f"{purpose}; choose a longer one.",
                setting=PREFIX + name.upper(),
            )
        return str(value)


# Variables with the prefix that are not settings of the bridge: the test suite's own.
NOT_SETTINGS = frozenset({"test_postgres_url", "test_mysql_url", "test_artifacts"})

# What each role needs (SPEC §8): ``check_required`` lists every one missing, at once.
NEEDS: dict[str, tuple[tuple[str, str], ...]] = {
    "paso1": (("operator_nit", "check whom each request is addressed to"),
              ("inbound_username", "authenticate UGPP's Paso 1 calls"),
              ("inbound_password", "authenticate UGPP's Paso 1 calls")),
    "dashboard": (("session_secret", "sign the dashboard's session cookies"),),
    "build": (("source_url", "build from the entity's source data"),
              ("operator_name", "write the lote headers (razonSocialOperador)")),
    "send": (("ugpp_endpoint", "send the lotes to UGPP (Paso 2)"),),
}  # fmt: skip
_TOKEN_NEEDS = tuple(
    (name, "get UGPP's token (UGPP_BRIDGE_UGPP_AUTH=token)")
    for name in ("ugpp_token_url", "ugpp_username", "ugpp_password", "ugpp_client_id")
)
_WSSE_NEEDS = (("ugpp_username", "sign Paso 2 with WS-Security"),
               ("ugpp_password", "sign Paso 2 with WS-Security"))  # fmt: skip


def missing_settings(settings: Settings, roles: tuple[str, ...]) -> list[tuple[str, str]]:
    """(setting, what it is for) of every setting ``roles`` need and ``settings`` lack."""
    needs = [need for role in roles for need in NEEDS[role]]
    if "send" in roles:
        needs += {"token": _TOKEN_NEEDS, "wsse": _WSSE_NEEDS}.get(settings.ugpp_auth, ())
    missing: dict[str, str] = {}
    for name, purpose in needs:
        if getattr(settings, name) in (None, "") and name not in missing:
            missing[name] = purpose
    return list(missing.items())


def check_required(settings: Settings, roles: tuple[str, ...]) -> None:
    """Raise one ``ConfigurationError`` naming every setting ``roles`` need that is missing."""
    missing = missing_settings(settings, roles)
    if missing:
        lines = "\n".join(f"  - {PREFIX}{name.upper()}: to {why}" for name, why in missing)
        raise ConfigurationError(
            f"{len(missing)} setting(s) missing; set them in the environment or the --config "
            f"file:\n{lines}",
            setting=", ".join(PREFIX + name.upper() for name, _ in missing),
        )


def load_settings(environ: Mapping[str, str], config_file: Path | None = None) -> Settings:
    """Settings from a TOML file (optional) overlaid with the environment; every unknown or
    invalid one is reported at once (with its TOML line when it came from the file)."""
    raw: dict[str, object] = {}
    origin: dict[str, str] = {}
    if config_file is not None:
        for name, (value, line) in _read_toml(config_file).items():
            raw[name] = value
            origin[name] = f"{config_file.name} line {line}, key {name}"
    for key, value in environ.items():
        if key.startswith(PREFIX):
            name = key[len(PREFIX) :].lower()
            raw[name] = value
            origin[name] = PREFIX + name.upper()
    known = {f.name for f in fields(Settings)}
    problems = []
    for name in sorted(set(raw) - known - NOT_SETTINGS):
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f" (did you mean {PREFIX}{close[0].upper()}?)" if close else ""
        problems.append(f"  - {origin[name]}: not a setting of the bridge{hint}")
    parsed: dict[str, object] = {}
    for name in sorted(set(raw) & known):
        try:
            parsed[name] = _PARSERS.get(name, _text)(raw[name])
        except (ValueError, TypeError, InvalidInputError) as exc:
            problems.append(f"  - {origin[name]}: {exc}")
    if problems:
        error = ConfigurationError(
            f"{len(problems)} setting(s) are not valid; nothing was started:\n"
            + "\n".join(problems)
        )
        error.problems = tuple(problem.removeprefix("  - ") for problem in problems)
        raise error
    return Settings(**parsed)  # type: ignore[arg-type]


def _read_toml(path: Path) -> dict[str, tuple[object, int]]:
    """name → (value, line) of every key of a TOML config file."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"Cannot read the config file {path}: {exc}.") from exc
    lines = text.splitlines()
    found = {}
    for key, value in data.items():
        line = next((n for n, text_line in enumerate(lines, start=1)
                     if re.match(rf"\s*\"?{re.escape(key)}\"?\s*=", text_line)), 0)  # fmt: skip
        found[key.removeprefix(PREFIX).lower()] = (value, line)
    return found


def _text(value: object) -> str:
    return str(value)


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise ValueError("use true or false.")


def _bounded_int(low: int, high: int) -> Callable[[object], int]:
    def parse(value: object) -> int:
        text = str(value).strip()
        if not re.fullmatch(r"-?[0-9]+", text) or not low <= int(text) <= high:
            raise ValueError(f"{text!r} is not a whole number from {low} to {high}.")
        return int(text)

    return parse


def _secret(minimum: int) -> Callable[[object], str]:
    def parse(value: object) -> str:
        text = str(value)
        if len(text) < minimum:
            raise ValueError(f"use at least {minimum} characters.")
        return text

    return parse


def _split(text: str, schemes: tuple[str, ...], how: str) -> SplitResult:
    """``text`` as a URL of one of ``schemes`` with a host and, if any, a port from 1 to 65535;
    else ValueError saying ``how`` to write it (an invalid port used to surface only when
    ``serve`` or ``worker`` first used the URL, as a traceback)."""
    parts = urlsplit(text)
    if parts.scheme.lower() not in schemes or not parts.hostname or any(c.isspace() for c in text):
        raise ValueError(how)
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or (port is None and re.search(r":[^/@\]]*$", parts.netloc)):
        raise ValueError(f"its port is not a number from 1 to 65535; {how}")
    return parts


def _url(value: object) -> str:
    text = str(value).strip()
    _split(text, ("http", "https"), "write it as an http:// or https:// address.")
    return text


def _wsdl(value: object) -> str:
    """A WSDL file's path, or its http(s):// address."""
    text = str(value).strip()
    if text.lower().startswith(("http:", "https:")):
        return _url(text)
    return text


def _wire_profile(value: object) -> str:
    """``v1`` or a folder holding ``profile.toml`` (compiled where it is used: ``wire check``
    and ``doctor`` name the file of any problem)."""
    text = str(value).strip()
    if text in ("", "v1"):
        return "v1"
    folder = Path(text).expanduser()
    if not (folder / "profile.toml").is_file():
        raise ValueError(f"write v1 or the folder of a wire profile; {text} holds no profile.toml")
    return str(folder.resolve())


HOSTNAME = re.compile(r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+")


def _address(value: object) -> str:
    """An IP address or a host name (what the server binds to)."""
    text = str(value).strip()
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        if not HOSTNAME.fullmatch(text):
            how = "write an IP address (127.0.0.1, 0.0.0.0, ::) or a host name."
            raise ValueError(how) from None
    return text


def _proxy(value: object) -> str:
    """The proxy whose forwarded headers are trusted: an IP address, or * (any)."""
    text = str(value).strip()
    if text == "*":
        return text
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise ValueError("write the proxy's IP address (or * for any).") from None
    return text


def _environment(value: object) -> str:
    text = str(value).strip().lower().replace("ó", "o")
    if text not in ENVIRONMENTS:
        raise ValueError("use pruebas or produccion.")
    return text


def _emails(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, list) else str(value).split(",")
    found = tuple(str(item).strip() for item in items if str(item).strip())
    for address in found:
        if not EMAIL.fullmatch(address):
            raise ValueError(f"{address!r} is not an e-mail address.")
    return found


def _smtp(value: object) -> str:
    text = str(value).strip()
    _split(text, ("smtp", "smtps", "smtp+starttls"),
           "write it like smtp://host:25, smtps://user:pass@host:465 or "
           "smtp+starttls://user:pass@host:587.")  # fmt: skip
    return text


def _ldap_url(value: object) -> str:
    text = str(value).strip()
    _split(text, ("ldap", "ldaps"), "write it like ldaps://directorio.banco.co:636 or "
           "ldap://directorio.banco.co:389 (with UGPP_BRIDGE_LDAP_STARTTLS=true).")  # fmt: skip
    return text


def _user_filter(value: object) -> str:
    text = str(value).strip()
    if "{usuario}" not in text or not (text.startswith("(") and text.endswith(")")):
        raise ValueError(
            "write an LDAP filter in parentheses with {usuario} where the sign-in name goes, "
            "like (uid={usuario}) or (sAMAccountName={usuario})."
        )
    return text


def _auth(value: object) -> str:
    text = str(value).strip().lower()
    if text not in AUTH_MODES:
        raise ValueError(f"use one of {', '.join(AUTH_MODES)}.")
    return text


def _uvt_values(value: object) -> dict[int, int]:
    """``"2027=55000,2028=57000"`` or a TOML table; merged over the values SPEC §6 lists."""
    pairs: dict[Any, Any]
    if isinstance(value, Mapping):
        pairs = dict(value)
    else:
        pairs = dict(item.split("=", 1) for item in str(value).split(",") if item.strip())
    merged = dict(UVT_VALUE_COP)
    for year, amount in pairs.items():
        merged[int(str(year).strip())] = _bounded_int(1, 10_000_000)(str(amount).strip())
    return merged


_MEMORY_SIZE = re.compile(r"[1-9][0-9]{0,6}(KB|MB|GB|KiB|MiB|GiB)")


def _memory_size(value: str) -> str:
    """A size as DuckDB reads it: a whole number and a unit (``128MB``, ``2GiB``)."""
    value = value.strip().replace(" ", "")
    if not _MEMORY_SIZE.fullmatch(value):
        raise ValueError("write a size like 128MB, 512MiB or 2GB")
    return value


def _spark_remote(value: str) -> str:
    """A Spark Connect address: ``sc://HOST:PORT``, optionally ``/;token=…;use_ssl=true``."""
    host = value.removeprefix("sc://").split("/", 1)[0]
    if not value.startswith("sc://") or not host or any(c.isspace() for c in value):
        raise ValueError(
            "write a Spark Connect address like sc://spark.banco.local:15002 (optionally "
            "/;token=…;use_ssl=true)"
        )
    return value


_PARSERS: dict[str, Callable[[object], object]] = {
    "operator_nit": lambda value: validate_operator_nit(str(value)),
    "ugpp_auth": _auth,
    "lote_max_records": _bounded_int(1, 1_000_000),
    "port": _bounded_int(0, 65_535),
    "term_starts_next_day": _bool,
    "account_number_digits": _bounded_int(4, 34),
    "max_request_bytes": _bounded_int(1_024, 2**31 - 1),
    "max_persons": _bounded_int(1, 10_000_000),
    "ugpp_timeout_seconds": _bounded_int(1, 3_600),
    "send_max_attempts": _bounded_int(1, 100),
    "send_backoff_seconds": _bounded_int(0, 3_600),
    "send_backoff_max_seconds": _bounded_int(0, 86_400),
    "uvt_values": _uvt_values,
    "sweep_seconds": _bounded_int(1, 86_400),
    "lease_seconds": _bounded_int(1, 86_400),
    "parked_retry_minutes": _bounded_int(1, 10_080),
    "cookie_secure": _bool,
    "inbound_password": _secret(MIN_INBOUND_PASSWORD),
    "session_secret": _secret(MIN_SESSION_SECRET),
    "public_url": _url,
    "ugpp_endpoint": _url,
    "ugpp_token_url": _url,
    "alert_webhook_url": _url,
    "ugpp_wsdl": _wsdl,
    "wire_profile": _wire_profile,
    "host": _address,
    "trusted_proxy": _proxy,
    "lock_timeout_seconds": _bounded_int(1, 600),
    "connection_limit": _bounded_int(10, 100_000),
    "channel_timeout_seconds": _bounded_int(1, 3_600),
    "require_approval": _bool,
    "environment": _environment,
    "smtp_url": _smtp,
    "alert_emails": _emails,
    "source_connections": _bounded_int(1, 64),
    "ldap_url": _ldap_url,
    "ldap_starttls": _bool,
    "ldap_user_filter": _user_filter,
    "local_accounts": _bool,
    "spark_remote": lambda value: _spark_remote(str(value)),
    "duckdb_memory_limit": lambda value: _memory_size(str(value)),
}
