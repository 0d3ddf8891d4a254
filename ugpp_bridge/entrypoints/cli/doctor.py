"""``ugpp-bridge doctor``: is this installation ready for production? (SPEC §9)

Each check prints ✓ (ready), ✗ (not ready: what to do) or ! (worth a look, not a failure):
the settings every role needs, the state database and its migrations, the source contract
(values and referential integrity), UGPP's token service (a token obtained, its lifetime, the
round trip), UGPP's WSDL and endpoint, the TLS client certificate and CA bundle (days to
expiry), and whether the UGPP endpoint looks like the configured environment's. Exit 1 on any
✗. Nothing is written anywhere; no lote is sent.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import click

from ugpp_bridge.adapters.database import safe_url
from ugpp_bridge.adapters.state.engine import require_existing
from ugpp_bridge.config import NEEDS, PREFIX, Settings, missing_settings
from ugpp_bridge.errors import UgppBridgeError

OK, FAIL, WARN = "✓", "✗", "!"
EXPIRY_WARNING_DAYS = 30
_TEST_MARKERS = ("pruebas", "prueba", "test", "qa", "sandbox", "dev", "staging", "stand-in")


@dataclass(frozen=True)
class Check:
    status: str  # OK, FAIL or WARN
    what: str
    detail: str = ""


@click.command()
@click.pass_obj
def doctor(settings: Settings) -> None:
    """Check readiness: settings, state database, source, UGPP's token service, WSDL and
    endpoint, TLS material, environment. Exit 1 on any ✗."""
    failed = 0
    for check in _checks(settings):
        line = f"{check.status} {check.what}"
        click.echo(f"{line}: {check.detail}" if check.detail else line)
        failed += check.status == FAIL
    if failed:
        click.echo(f"\nNot ready: {failed} check(s) failed.")
        raise SystemExit(1)
    click.echo(f"\nReady ({settings.environment}).")


def _checks(settings: Settings) -> Iterator[Check]:
    yield from _settings(settings)
    yield _guarded("State database", lambda: _state_database(settings))
    yield _guarded("Source", lambda: _source(settings))
    if settings.source_url:
        yield _guarded("Source self-test", lambda: _selftest(settings))
    yield _guarded("Wire profile", lambda: _wire(settings))
    yield from _ugpp(settings)
    yield from _tls(settings)
    yield from _environment(settings)
    yield from _directory(settings)


def _directory(settings: Settings) -> Iterator[Check]:
    """Directory sign-in (SPEC §11): the service account binds and searches the user base."""
    if not settings.ldap_url:
        return
    from ugpp_bridge.bootstrap import directory  # start-up time: loaded where used

    def check() -> Check:
        found = directory(settings)
        assert found is not None
        return Check(OK, "Directory", found.check())

    yield _guarded("Directory", check)


def _guarded(what: str, check: Callable[[], Check]) -> Check:
    try:
        return check()
    except UgppBridgeError as exc:
        return Check(FAIL, what, str(exc).splitlines()[0])


def _settings(settings: Settings) -> Iterator[Check]:
    missing = missing_settings(settings, tuple(NEEDS))
    if not missing:
        yield Check(OK, "Settings", "every setting Paso 1, the dashboard, builds and sends need")
    for name, purpose in missing:
        yield Check(FAIL, f"Setting {PREFIX}{name.upper()}", f"missing: needed to {purpose}")


def _state_database(settings: Settings) -> Check:
    from ugpp_bridge.adapters.state.migrations import (  # start-up time: Alembic
        current_revision,
        head_revision,
    )

    url = settings.database_url
    require_existing(url, "state database", "create it with `ugpp-bridge db upgrade`")
    current, head = current_revision(url), head_revision()
    if current != head:
        detail = (f"{safe_url(url)} is at revision {current or 'none'}, the bridge needs "
                  f"{head}: run `ugpp-bridge db upgrade`")  # fmt: skip
        return Check(FAIL, "State database", detail)
    return Check(OK, "State database", f"{safe_url(url)} at migration head {head}")


def _source(settings: Settings) -> Check:
    from ugpp_bridge.bootstrap import source_from_settings  # start-up time: loaded where used

    if not settings.source_url:
        return Check(FAIL, "Source", f"{PREFIX}SOURCE_URL is not set")
    with source_from_settings(settings) as source:
        problems = source.check()
    if problems:
        listed = "; ".join(problem.describe() for problem in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        return Check(FAIL, "Source", f"{len(problems)} breach(es) of the contract: {listed}"
                     f"{more}; see `ugpp-bridge source check`")  # fmt: skip
    return Check(OK, "Source", f"{safe_url(settings.source_url)} meets the contract (relations, "
                 "values, referential integrity)")  # fmt: skip


def _wire(settings: Settings) -> Check:
    """SPEC §10: the profile's name and version, and ``wire check`` on it."""
    # The profile's compilers and the sample build: loaded where used (start-up time).
    from ugpp_bridge.adapters.soap.profile_check import FAIL as STEP_FAILED
    from ugpp_bridge.adapters.soap.profile_check import check_profile
    from ugpp_bridge.entrypoints.cli.wire import sample_lotes

    steps = list(check_profile(settings.wire_profile, sample_lotes(settings)))
    failed = [step for step in steps if step.status == STEP_FAILED]
    if failed:
        return Check(FAIL, "Wire profile", f"{failed[0].what}: {failed[0].detail} "
                     "(run `ugpp-bridge wire check`)")  # fmt: skip
    return Check(OK, "Wire profile", f"{steps[0].detail.split(':')[0]}: `wire check` passes "
                 f"({len(steps)} steps)")  # fmt: skip


def _selftest(settings: Settings) -> Check:
    """SPEC §11: the build's statements on this engine, over the trap bank, against the rules."""
    from ugpp_bridge.bootstrap_source import run_selftest  # start-up time: loaded where used

    engine, verdict = run_selftest(settings)
    if not verdict.passed:
        return Check(FAIL, "Source self-test", f"{engine}: record {verdict.position} of "
                     f"{verdict.records} differs from the rules; see `ugpp-bridge source "
                     "selftest`")  # fmt: skip
    return Check(OK, "Source self-test", f"{engine}: the {verdict.records} records of the trap "
                 "bank equal the rules")  # fmt: skip


def _ugpp(settings: Settings) -> Iterator[Check]:
    from ugpp_bridge.bootstrap import ugpp_gateway  # start-up time: loaded where used

    if not settings.ugpp_endpoint:
        yield Check(FAIL, "UGPP", f"{PREFIX}UGPP_ENDPOINT is not set; nothing to check")
        return
    try:
        gateway = ugpp_gateway(settings)
    except UgppBridgeError as exc:
        yield Check(FAIL, "UGPP WSDL" if "WSDL" in str(exc) else "UGPP client", str(exc))
        return
    try:
        yield Check(OK, "UGPP WSDL", f"{settings.ugpp_wsdl or 'shipped model'} loads")
        yield _token(gateway)
        yield _endpoint(gateway)
    finally:
        gateway.close()


def _token(gateway: object) -> Check:
    tokens = getattr(gateway, "tokens", None)
    if tokens is None:
        return Check(OK, "UGPP token service", "not used (UGPP_BRIDGE_UGPP_AUTH is not token)")
    started = time.perf_counter()
    try:
        tokens.current()
    except UgppBridgeError as exc:
        return Check(FAIL, "UGPP token service", str(exc))
    elapsed = (time.perf_counter() - started) * 1000
    return Check(OK, "UGPP token service", f"credentials accepted; a token valid for "
                 f"{tokens.lifetime:,.0f} s, in {elapsed:,.0f} ms")  # fmt: skip


def _endpoint(gateway: object) -> Check:
    import requests  # start-up time

    address = str(getattr(gateway, "address", ""))
    session = getattr(gateway, "session", requests)
    started = time.perf_counter()
    try:
        answer = session.get(address, timeout=15)
    except requests.RequestException as exc:
        return Check(FAIL, "UGPP endpoint", f"{address} does not answer ({type(exc).__name__})")
    elapsed = (time.perf_counter() - started) * 1000
    return Check(OK, "UGPP endpoint", f"{address} answers (HTTP {answer.status_code}) in "
                 f"{elapsed:,.0f} ms")  # fmt: skip


def _tls(settings: Settings) -> Iterator[Check]:
    for what, path in (("TLS client certificate", settings.ugpp_client_cert),
                       ("CA bundle", settings.ugpp_ca_bundle)):  # fmt: skip
        if path:
            yield _certificate(what, Path(path))


def _certificate(what: str, path: Path) -> Check:
    from cryptography import x509  # start-up time

    try:
        data = path.read_bytes()
        certificates = x509.load_pem_x509_certificates(data)
    except OSError as exc:
        return Check(FAIL, what, f"{path} cannot be read ({exc.strerror})")
    except ValueError:
        return Check(FAIL, what, f"{path} holds no PEM certificate")
    first = min(certificates, key=lambda c: c.not_valid_after_utc)
    now = datetime.now(UTC)
    days = (first.not_valid_after_utc - now).days
    subject = first.subject.rfc4514_string()
    if first.not_valid_after_utc < now:
        ago = (now - first.not_valid_after_utc).days
        return Check(FAIL, what, f"{path}: {subject} expired {ago} day(s) ago")
    status = WARN if days < EXPIRY_WARNING_DAYS else OK
    return Check(status, what, f"{path}: {subject}, expires in {days} day(s)")


def _environment(settings: Settings) -> Iterator[Check]:
    endpoint = settings.ugpp_endpoint or ""
    host = urlparse(endpoint).hostname or ""
    looks_test = _loopback(host) or any(marker in endpoint.lower() for marker in _TEST_MARKERS)
    what = f"Environment {settings.environment}"
    if settings.environment == "produccion":
        if not endpoint.startswith("https://"):
            yield Check(FAIL, what, f"the UGPP endpoint {endpoint or '(none)'} is not https://")
        elif looks_test:
            yield Check(FAIL, what, f"the UGPP endpoint {endpoint} looks like a test service")
        else:
            yield Check(OK, what, f"UGPP endpoint {endpoint}")
    elif endpoint and not looks_test:
        yield Check(WARN, what, f"the UGPP endpoint {endpoint} looks like production; set "
                    f"{PREFIX}ENVIRONMENT=produccion if it is")  # fmt: skip
    else:
        yield Check(OK, what, "every page says «AMBIENTE DE PRUEBAS»")


def _loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


COMMANDS = (doctor,)
