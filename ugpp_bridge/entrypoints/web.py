"""What ``serve`` answers on one port: Paso 1 (``/soap/…``), ``/healthz``, ``/metrics``, and
everything else from the dashboard — each app built here from the ports and settings that the
composition root (``bootstrap``) wires."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ugpp_bridge.adapters.soap.wire import SOLICITUDES_WSDL, served_profile_wsdl, served_wsdl
from ugpp_bridge.adapters.soap.xml_lotes import LxmlLoteWriter
from ugpp_bridge.adapters.state.metrics import SqlAlchemyMetricsReader
from ugpp_bridge.bootstrap import (
    StateStores,
    evidence_exporter,
    export_preview,
    holiday_calendar,
    leasing,
    paso1_gate,
    retry_policy,
    send_context,
    signer,
)
from ugpp_bridge.bootstrap_source import system_clock, wire_profile
from ugpp_bridge.config import MIN_SESSION_SECRET, Settings
from ugpp_bridge.domain.filing import Receipt, ReceivedMessage, RequestKey, StoredRequest
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.entrypoints.dashboard.context import DashboardServices
from ugpp_bridge.service.operations import confirm_request, resend_request
from ugpp_bridge.service.overview import overview
from ugpp_bridge.service.preview import preview_build
from ugpp_bridge.service.register import ReceptionPolicy, receive_request
from ugpp_bridge.service.submit import submit_request

if TYPE_CHECKING:
    from ugpp_bridge.entrypoints.health import Heartbeat
    from ugpp_bridge.entrypoints.soap import WsgiApp


def combined_app(
    paso1: WsgiApp, health: WsgiApp, metrics: WsgiApp | None, dashboard: WsgiApp | None
) -> WsgiApp:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/soap/"):
            return paso1(environ, start_response)
        if path == "/healthz":
            return health(environ, start_response)
        if path == "/metrics" and metrics is not None:
            return metrics(environ, start_response)
        if dashboard is not None:
            return dashboard(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"not found\n"]

    return app


def paso1_app(settings: Settings, stores: StateStores) -> WsgiApp:
    """The Paso 1 WSGI application, wired to the state store and the settings."""
    from ugpp_bridge.entrypoints.soap import Paso1Endpoint, make_wsgi_app  # spyne loads slowly

    policy = ReceptionPolicy(
        operator_nit=settings.require("operator_nit", "check whom each request is addressed to"),
        term_starts_next_day=settings.term_starts_next_day,
        max_persons=settings.max_persons,
    )
    holidays = holiday_calendar()

    def receive(
        request: FinancialInfoRequest,
        nonce: str | None,
        message: ReceivedMessage,
        answer: Callable[[Receipt], object] | None = None,
    ) -> Receipt:
        return receive_request(
            request,
            requests=stores.requests,
            holidays=holidays,
            clock=system_clock,
            policy=policy,
            actor="ugpp:soap",
            nonce=nonce,
            message=message,
            answer=answer,
        )

    def answered(message_id: int, response: bytes) -> None:
        stores.inbound.record_answer(message_id, response, at=system_clock())

    profile = wire_profile(settings)
    address = settings.paso1_public_url
    if profile.is_v1:
        wsdl = served_wsdl(SOLICITUDES_WSDL, address)
    else:
        wsdl = served_profile_wsdl(profile.paso1.wsdl, profile.folder, address)
    endpoint = Paso1Endpoint(paso1_gate(settings, stores), receive, wsdl, answered, profile)
    return make_wsgi_app(endpoint)


def health_app(
    settings: Settings, stores: StateStores, heartbeat: Heartbeat | None = None
) -> WsgiApp:
    """``/healthz``: the database, its migrations and (when here) the scheduler, which is
    stale when no job ran for three sweeps (five minutes at least)."""
    from ugpp_bridge.adapters.state.migrations import head_revision  # start-up time
    from ugpp_bridge.entrypoints.health import HealthChecks  # loaded by serve only
    from ugpp_bridge.entrypoints.health import health_app as make_health_app

    stale = timedelta(seconds=max(300, 3 * settings.sweep_seconds))
    checks = HealthChecks(
        stores.requests.schema_revision, head_revision(), system_clock, heartbeat, stale
    )
    return make_health_app(checks)


def dashboard_services(settings: Settings, stores: StateStores, owner: str) -> DashboardServices:
    """The dashboard's use cases: a resend makes one attempt per lote (no waiting in a web
    request) and leaves anything still pending to the scheduler."""
    web_leasing = leasing(settings, stores, owner)
    one_try = replace(retry_policy(settings), max_attempts=1)

    def send(actor: str) -> Callable[[RequestKey, bool], StoredRequest]:
        def run(key: RequestKey, resend_all: bool) -> StoredRequest:
            context = replace(send_context(settings, stores, actor), policy=one_try)
            try:
                return submit_request(key, context, resend_all=resend_all, operator=True)
            finally:
                context.gateway.close()

        return run

    return DashboardServices(
        requests=stores.requests,
        builds=stores.builds,
        audit=stores.audit,
        lotes=stores.lotes,
        users=stores.users,
        sign_in=signer(settings, stores),
        throttle=stores.throttle,
        alerts=stores.alerts,
        environment=settings.environment,
        wire_profile=wire_profile(settings).label,
        preview=lambda key: preview_build(
            key, requests=stores.requests, lotes=stores.lotes, writer=LxmlLoteWriter()
        ),
        export_preview=lambda key, sink: export_preview(stores, key, sink),
        clock=system_clock,
        holidays=holiday_calendar(),
        uvt_values=settings.uvt_values,
        resend=lambda key, actor: resend_request(
            key,
            leasing=web_leasing,
            requests=stores.requests,
            audit=stores.audit,
            send=send(actor),
            actor=actor,
        ),  # fmt: skip
        confirm=lambda key, radicado, actor: confirm_request(
            key, radicado, requests=stores.requests, clock=system_clock, actor=actor
        ),
        evidence=evidence_exporter(settings, stores),
        certificate=evidence_exporter(settings, stores, certificate_only=True),
    )


def web_app(
    settings: Settings, stores: StateStores, owner: str, heartbeat: Heartbeat | None = None
) -> WsgiApp:
    """Everything ``serve`` answers: Paso 1, ``/healthz``, ``/metrics``, the dashboard."""
    # Flask, prometheus_client: loaded by the commands that serve, not by every command
    from ugpp_bridge.entrypoints.dashboard import create_dashboard
    from ugpp_bridge.entrypoints.metrics import StateCollector, metrics_app  # start-up time

    dashboard = create_dashboard(
        dashboard_services(settings, stores, owner),
        secret_key=settings.require(
            "session_secret", "sign the dashboard's session cookies", min_length=MIN_SESSION_SECRET
        ),
        cookie_secure=settings.cookie_secure,
    )
    holidays = holiday_calendar()
    collector = StateCollector(
        SqlAlchemyMetricsReader(stores.requests.engine),
        stores.requests,
        lambda: system_clock().date(),
        holidays,
        lambda: overview(
            stores.requests,
            stores.lotes,
            today=system_clock().date(),
            holidays=holidays,
            uvt_values=settings.uvt_values,
        ),  # fmt: skip
        stores.work.last_beat,
    )
    return combined_app(
        paso1_app(settings, stores),
        health_app(settings, stores, heartbeat),
        metrics_app(collector),
        dashboard,
    )
