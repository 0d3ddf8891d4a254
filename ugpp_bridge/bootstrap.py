"""Composition root: settings → engines, adapters and the clock, built when a process starts."""

from __future__ import annotations

import logging
import multiprocessing
import os
import secrets
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Container
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ugpp_bridge.adapters.calendar import colombian_holidays
from ugpp_bridge.adapters.scratch import remove_abandoned
from ugpp_bridge.adapters.soap.wsse import UsernameTokenVerifier
from ugpp_bridge.adapters.soap.xml_lotes import LxmlLoteWriter
from ugpp_bridge.adapters.source import engines
from ugpp_bridge.adapters.source.selftest import build_fingerprint
from ugpp_bridge.adapters.source.sql import SqlAlchemySource
from ugpp_bridge.adapters.state.alerts import SqlAlchemyAlertStore
from ugpp_bridge.adapters.state.audit_store import SqlAlchemyAuditStore
from ugpp_bridge.adapters.state.builds import SqlAlchemyBuildStore
from ugpp_bridge.adapters.state.defences import SqlAlchemyAuthThrottle, SqlAlchemyNonceStore
from ugpp_bridge.adapters.state.engine import require_existing, state_engine
from ugpp_bridge.adapters.state.inbound import SqlAlchemyInboundStore
from ugpp_bridge.adapters.state.lotes import SqlAlchemyLoteStore
from ugpp_bridge.adapters.state.requests import SqlAlchemyRequestStore
from ugpp_bridge.adapters.state.selftests import SqlAlchemySelftestStore
from ugpp_bridge.adapters.state.users import SqlAlchemyUserStore
from ugpp_bridge.adapters.state.work_queue import SqlAlchemyWorkQueue
from ugpp_bridge.bootstrap_source import (
    build_options,
    lote_writer,
    report_source_for,
    source_engine,
    system_clock,
    wire_profile,
)
from ugpp_bridge.config import MIN_INBOUND_PASSWORD, Settings
from ugpp_bridge.domain.alerts import DeadlineAlert
from ugpp_bridge.domain.filing import (
    RequestKey,
    StoredRequest,
    sha256_hex,
)
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.domain.users import Role
from ugpp_bridge.errors import ConfigurationError, UgppBridgeError
from ugpp_bridge.service.build import SCRATCH_PREFIX, BuildOptions, build_request, rebuild_lotes
from ugpp_bridge.service.evidence import (
    EvidenceBundle,
    EvidenceTools,
    export_certificate,
    export_evidence,
)
from ugpp_bridge.service.evidence_check import BundleChecks, RebuildPlan
from ugpp_bridge.service.ports import Directory, UgppGateway
from ugpp_bridge.service.preview import (
    PreviewTotals,
    person_previews,
    persons_of,
    stored_lote_bytes,
)
from ugpp_bridge.service.sign_in import SignedIn, sign_in
from ugpp_bridge.service.submit import RetryPolicy, SendContext, submit_request
from ugpp_bridge.service.work import Leasing, WorkContext

if TYPE_CHECKING:
    from ugpp_bridge.adapters.soap.inbound import Gate

Clock = Callable[[], datetime]
# Engines the project's CI proves (the golden and equality tests): no self-test before a build.
PROVEN_ENGINES = engines.PROVEN


def source_for(url: str, settings: Settings | None = None) -> SqlAlchemySource:
    """The source adapter for a database URL (read-only use except for samples and imports)."""
    return SqlAlchemySource(source_engine(url, settings))


def source_from_settings(
    settings: Settings, url: str | None = None, *, create: bool = False
) -> SqlAlchemySource:
    """The source on ``url`` or UGPP_BRIDGE_SOURCE_URL; unless ``create`` (samples, imports),
    a SQLite file that does not exist is an error, not a new empty file."""
    source_url = url or settings.require("source_url", "read the entity's source data")
    if not create:
        engines.require_existing(source_url, "source database",
                         "check the URL, or load one with `ugpp-bridge source import`")  # fmt: skip
    return source_for(source_url, settings)


@dataclass(frozen=True)
class StateStores:
    """The state stores over one engine (one pool, one lock discipline)."""

    requests: SqlAlchemyRequestStore
    lotes: SqlAlchemyLoteStore
    work: SqlAlchemyWorkQueue
    alerts: SqlAlchemyAlertStore
    users: SqlAlchemyUserStore
    nonces: SqlAlchemyNonceStore
    throttle: SqlAlchemyAuthThrottle
    selftests: SqlAlchemySelftestStore
    builds: SqlAlchemyBuildStore
    inbound: SqlAlchemyInboundStore
    audit: SqlAlchemyAuditStore

    def close(self) -> None:
        self.requests.close()


STATEMENT_TIMEOUT_SECONDS = 120


def state_stores(url: str, *, lock_timeout: float = 10) -> StateStores:
    """The state stores on ``url``. A statement waits ``lock_timeout`` seconds at most for a
    lock, and runs two minutes at most (PostgreSQL), so a stalled database is an error in
    seconds (Paso 1 answers ``ServicioNoDisponible``) instead of a hung thread."""
    engine = state_engine(
        url,
        serialised_writes=True,
        lock_timeout=lock_timeout,
        statement_timeout=STATEMENT_TIMEOUT_SECONDS,
        pool_timeout=lock_timeout,
    )
    return StateStores(
        SqlAlchemyRequestStore(engine),
        SqlAlchemyLoteStore(engine),
        SqlAlchemyWorkQueue(engine),
        SqlAlchemyAlertStore(engine),
        SqlAlchemyUserStore(engine),
        SqlAlchemyNonceStore(engine),
        SqlAlchemyAuthThrottle(engine),
        SqlAlchemySelftestStore(engine),
        SqlAlchemyBuildStore(engine),
        SqlAlchemyInboundStore(engine),
        SqlAlchemyAuditStore(engine),
    )


def settings_stores(settings: Settings) -> StateStores:
    """The state stores on UGPP_BRIDGE_DATABASE_URL, which must exist (a SQLite file is not
    created by a command that reads: `db upgrade` creates it)."""
    require_existing(settings.database_url, "state database",
                     "create it with `ugpp-bridge db upgrade`")  # fmt: skip
    return state_stores(settings.database_url, lock_timeout=settings.lock_timeout_seconds)


def process_name(role: str) -> str:
    """Who a process is, for leases and the audit trail: role, host, pid and a random tag."""
    return f"{role}:{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def leasing(settings: Settings, stores: StateStores, owner: str) -> Leasing:
    return Leasing(stores.work, owner, timedelta(seconds=settings.lease_seconds), system_clock)


def build_stored(
    settings: Settings,
    stores: StateStores,
    stored: StoredRequest,
    actor: str,
    *,
    source_url: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> StoredRequest:
    """Build a stored request from the configured source (or ``source_url``) into stored lotes;
    first remove what a killed build left in the temporary folder."""
    remove_abandoned()
    require_proven_engine(stores, source_url or settings.source_url or "")
    with closing(report_source_for(settings, source_url)) as source:
        return build_request(
            stored.key,
            requests=stores.requests,
            builds=stores.builds,
            lotes=stores.lotes,
            source=source,
            writer=lote_writer(settings),
            options=build_options(settings, stored.request),
            clock=system_clock,
            actor=actor,
            progress=progress,
        )


def require_proven_engine(stores: StateStores, source_url: str) -> None:
    """SPEC §11: a build on an engine the project's CI does not prove waits until
    ``source selftest`` has passed there with the running build statements."""
    if not source_url:
        return  # report_source_for names the missing setting
    engine = engines.for_url(source_url).name
    if engine in PROVEN_ENGINES:
        return
    fingerprint = build_fingerprint()
    if not stores.selftests.has_passed(engine, fingerprint):
        raise ConfigurationError(
            f"The source engine {engine!r} is not one this project's CI proves, and it has not "
            f"passed the self-test with this version of the bridge ({fingerprint}): run "
            "`ugpp-bridge source selftest` on this source first (it checks every record the "
            "build's statements give there against the rules). Nothing was built.",
            setting="UGPP_BRIDGE_SOURCE_URL",
        )


def work_context(settings: Settings, stores: StateStores, owner: str) -> WorkContext:
    """The scheduler's use cases bound to the source, the lote writer and the UGPP gateway."""

    def build(key: RequestKey, actor: str) -> StoredRequest:
        if builds_in_child(settings):
            return build_in_child(settings, stores, key, actor)
        return build_stored(settings, stores, stores.requests.get(key), actor)

    def send(key: RequestKey) -> StoredRequest:
        context = send_context(settings, stores, owner)
        try:
            return submit_request(key, context)
        finally:
            context.gateway.close()

    return WorkContext(
        stores.requests,
        leasing(settings, stores, owner),
        build,
        send,
        timedelta(minutes=settings.parked_retry_minutes),
    )


def builds_in_child(settings: Settings) -> bool:
    """SPEC §11: on a source whose build starts a runtime that outlives it (a local Spark's
    JVM), the long-running processes build in a child, so the memory goes back after each."""
    url = settings.source_url or ""
    if not url:
        return False
    engine = engines.for_url(url)
    return engine.keeps_runtime(url, engine.from_settings(settings))


CHILD_REFUSED = 3  # the build refused the data or the request (recorded as build_failed)


CHILD_FAILED = (
    "The build's process ended unexpectedly (exit code {code}); see the bridge's log. The "
    "request can be built again."
)


def build_in_child(
    settings: Settings, stores: StateStores, key: RequestKey, actor: str
) -> StoredRequest:
    """``build_stored`` in a child process of its own (spawned: a clean interpreter), which
    opens its own stores and source; the request as the child left it."""
    child = multiprocessing.get_context("spawn").Process(
        target=_build_child, args=(settings, int(key), actor), name="ugpp-bridge-build"
    )
    child.start()
    child.join()
    stored = stores.requests.get(key)
    if child.exitcode not in (0, CHILD_REFUSED) and stored.state is RequestState.BUILDING:
        error = CHILD_FAILED.format(code=child.exitcode)
        return stores.requests.transition(
            key, RequestState.BUILD_FAILED, at=system_clock(), actor=actor, error=error
        )
    return stored


def _build_child(settings: Settings, key: int, actor: str) -> None:
    """The child's whole life: one build, then exit (the JVM and the memory go with it)."""
    stores = settings_stores(settings)
    try:
        build_stored(settings, stores, stores.requests.get(RequestKey(key)), actor)
    except UgppBridgeError as exc:
        logging.getLogger(__name__).warning("Build in a child process: %s", type(exc).__name__)
        sys.exit(CHILD_REFUSED)
    finally:
        stores.close()


def send_context(
    settings: Settings, stores: StateStores, actor: str, gateway: UgppGateway | None = None
) -> SendContext:
    """Paso 2 as the settings configure it (a new gateway unless one is given)."""
    return SendContext(
        requests=stores.requests,
        lotes=stores.lotes,
        gateway=gateway or ugpp_gateway(settings),
        clock=system_clock,
        sleep=time.sleep,
        policy=retry_policy(settings),
        actor=actor,
    )


def paso1_gate(settings: Settings, stores: StateStores) -> Gate:
    """Who may send Paso 1 requests: WS-Security, shared nonces, throttling, size limits."""
    from ugpp_bridge.adapters.soap.inbound import Gate  # start-up time: loaded where used

    purpose = "authenticate UGPP's calls (WS-Security)"
    verifier = UsernameTokenVerifier(
        settings.require("inbound_username", purpose),
        settings.require("inbound_password", purpose, min_length=MIN_INBOUND_PASSWORD),
        clock=lambda: datetime.now(UTC),
        nonces=stores.nonces,
    )
    return Gate(verifier, stores.throttle, stores.nonces, system_clock, settings.max_request_bytes,
                max_persons=settings.max_persons, profile=wire_profile(settings))  # fmt: skip


def ugpp_gateway(settings: Settings) -> UgppGateway:
    """The zeep gateway to UGPP's Paso 2 service, as SPEC §8 configures it."""
    from ugpp_bridge.adapters.soap.zeep_gateway import (  # zeep: slow
        GatewaySettings,
        ZeepUgppGateway,
    )

    profile = wire_profile(settings)
    return ZeepUgppGateway(
        GatewaySettings(
            wsdl=settings.ugpp_wsdl or profile.paso2.wsdl,
            endpoint=settings.ugpp_endpoint,
            auth=settings.ugpp_auth,
            token_url=settings.ugpp_token_url,
            username=settings.ugpp_username,
            password=settings.ugpp_password,
            client_id=settings.ugpp_client_id,
            timeout=settings.ugpp_timeout_seconds,
            client_cert=settings.ugpp_client_cert,
            ca_bundle=settings.ugpp_ca_bundle,
            profile=profile,
        )
    )


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.send_max_attempts,
        base_seconds=settings.send_backoff_seconds,
        max_seconds=settings.send_backoff_max_seconds,
    )


def alert_channels(settings: Settings) -> dict[str, Callable[[DeadlineAlert], None]]:
    """Where deadline alerts go besides the log, the audit trail and the dashboard's banner."""
    from ugpp_bridge.adapters.mail import MailNotifier  # start-up time: loaded where used
    from ugpp_bridge.adapters.webhook import WebhookNotifier

    channels: dict[str, Callable[[DeadlineAlert], None]] = {}
    if settings.alert_webhook_url:
        channels["webhook"] = WebhookNotifier(settings.alert_webhook_url)
    if settings.smtp_url:
        channels["email"] = MailNotifier(settings.smtp_url, settings.alert_emails)
    return channels


def directory(settings: Settings) -> Directory | None:
    """The entity's directory when ``UGPP_BRIDGE_LDAP_URL`` is set (SPEC §11), else None."""
    if not settings.ldap_url:
        return None
    from ugpp_bridge.adapters.directory import LdapDirectory, LdapSettings  # ldap3: on demand

    purpose = "sign in through the directory (UGPP_BRIDGE_LDAP_URL is set)"
    groups = {Role.VIEWER: settings.ldap_viewer_group, Role.OPERATOR: settings.ldap_operator_group,
              Role.OFFICER: settings.ldap_officer_group}  # fmt: skip
    if not any(groups.values()):
        raise ConfigurationError(
            "UGPP_BRIDGE_LDAP_URL is set but no group gives a role: set "
            "UGPP_BRIDGE_LDAP_VIEWER_GROUP, _OPERATOR_GROUP or _OFFICER_GROUP (group DNs).",
            setting="UGPP_BRIDGE_LDAP_OFFICER_GROUP",
        )
    return LdapDirectory(
        LdapSettings(
            url=settings.ldap_url,
            bind_dn=settings.require("ldap_bind_dn", purpose),
            bind_password=settings.require("ldap_bind_password", purpose),
            user_base=settings.require("ldap_user_base", purpose),
            user_filter=settings.ldap_user_filter,
            groups={role: dn for role, dn in groups.items() if dn},
            starttls=settings.ldap_starttls,
        )
    )


def signer(settings: Settings, stores: StateStores) -> Callable[[str, str], SignedIn | None]:
    """Sign-in as every channel asks it: local accounts, then the directory (SPEC §11)."""
    found = directory(settings)

    def run(name: str, password: str) -> SignedIn | None:
        return sign_in(name, password, users=stores.users, directory=found,
                       local_accounts=settings.local_accounts, clock=system_clock)  # fmt: skip

    return run


def holiday_calendar() -> Container[date]:
    return colombian_holidays()


def evidence_tools(settings: Settings) -> EvidenceTools:
    """The certificate's renderer, the signer (``UGPP_BRIDGE_SIGNING_KEY``) and the verdict's
    calendar and UVT values."""
    from ugpp_bridge.adapters.pdf_certificate import render_certificate  # start-up time

    signer = None
    if settings.signing_key:
        from ugpp_bridge.adapters.signing import Ed25519Signer  # start-up time: loaded where used

        signer = Ed25519Signer.from_file(Path(settings.signing_key))
    return EvidenceTools(
        render_certificate=render_certificate,
        holidays=holiday_calendar(),
        uvt_values=settings.uvt_values,
        operator_name=settings.operator_name or "",
        operator_nit=settings.operator_nit or "",
        signer=signer,
    )


def evidence_exporter(
    settings: Settings, stores: StateStores, *, certificate_only: bool = False
) -> Callable[[RequestKey, IO[bytes], str, str], EvidenceBundle]:
    """(key, sink, file name, actor) → the bundle (or its certificate alone) written and
    audited. The signing key is read once, here: a bad key fails at start-up."""
    tools = evidence_tools(settings)
    export = export_certificate if certificate_only else export_evidence

    def run(key: RequestKey, sink: IO[bytes], name: str, actor: str) -> EvidenceBundle:
        return export(key, sink, name=name, stores=stores, clock=system_clock, actor=actor,
                      tools=tools)  # fmt: skip

    return run


def bundle_checks(settings: Settings) -> BundleChecks:
    """The format checks of ``evidence verify``, under the configured wire profile."""
    from ugpp_bridge.adapters.signing import check_signature  # start-up time: loaded where used
    from ugpp_bridge.adapters.soap import wire

    profile = wire_profile(settings)
    return BundleChecks(
        lote_problem=lambda xml: wire.lote_problem(xml, profile.paso2.schemas),
        canonical=wire.canonical,
        canonical_body_child=wire.canonical_body_child,
        check_signature=check_signature,
        profile_label=profile.label,
        profile_files=dict(profile.files),
    )


def source_rebuilder(settings: Settings, url: str) -> Callable[[RebuildPlan], dict[str, str]]:
    """idEnvio → SHA-256 of the lotes a recorded build gives over the source at ``url`` now,
    written in a private folder that is removed afterwards."""

    def rebuild(plan: RebuildPlan) -> dict[str, str]:
        options = BuildOptions(
            operator_nit=plan.context.operator_nit,
            operator_name=plan.context.operator_name,
            lote_max_records=plan.lote_max_records,
            account_number_digits=plan.account_number_digits,
        )
        prefix = f"{SCRATCH_PREFIX}{os.getpid()}-"
        with closing(report_source_for(settings, url)) as source, \
                tempfile.TemporaryDirectory(prefix=prefix) as folder:  # fmt: skip
            written = rebuild_lotes(plan.request, plan.context, source=source,
                                    writer=lote_writer(settings), options=options,
                                    out_dir=Path(folder))  # fmt: skip
            return {lote.submission_id: sha256_hex(lote.path.read_bytes()) for lote in written}

    return rebuild


def export_preview(stores: StateStores, key: RequestKey, sink: IO[bytes]) -> PreviewTotals:
    """The preview of a build as an XLSX workbook written into ``sink`` (CLI and dashboard)."""
    from ugpp_bridge.adapters.xlsx_preview import write_preview_xlsx  # start-up time

    stored = stores.requests.get(key)
    lotes = stored_lote_bytes(stores.lotes, key)
    persons = person_previews(lotes, LxmlLoteWriter(), persons_of(stored))
    return write_preview_xlsx(sink, stored, persons)
