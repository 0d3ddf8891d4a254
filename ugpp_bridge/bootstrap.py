"""Composition root: settings → engines, adapters and the clock, built when a process starts."""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from ugpp_bridge.adapters.calendar import colombian_holidays
from ugpp_bridge.adapters.database import make_engine
from ugpp_bridge.adapters.lote_store import SqlAlchemyLoteStore
from ugpp_bridge.adapters.report_source import SqlAlchemyReportSource
from ugpp_bridge.adapters.source_sql import SqlAlchemySource
from ugpp_bridge.adapters.state_store import SqlAlchemyRequestStore
from ugpp_bridge.adapters.wire import UGPP_REPORTE_WSDL
from ugpp_bridge.adapters.wsse import NonceCache, UsernameTokenVerifier
from ugpp_bridge.config import Settings
from ugpp_bridge.domain.filing import BOGOTA, Receipt
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.service.build import BuildOptions
from ugpp_bridge.service.ports import UgppGateway
from ugpp_bridge.service.register import ReceptionPolicy, receive_request
from ugpp_bridge.service.submit import RetryPolicy

if TYPE_CHECKING:
    from ugpp_bridge.entrypoints.soap import WsgiApp

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, in Bogotá time (UTC−5, no daylight saving)."""
    return datetime.now(BOGOTA)


def source_for(url: str) -> SqlAlchemySource:
    """The source adapter for a database URL (read-only use except for samples and imports)."""
    return SqlAlchemySource(make_engine(url))


def source_from_settings(settings: Settings, url: str | None = None) -> SqlAlchemySource:
    return source_for(url or settings.require("source_url", "read the entity's source data"))


@dataclass(frozen=True)
class StateStores:
    """The two state stores over one engine (one pool, one lock discipline)."""

    requests: SqlAlchemyRequestStore
    lotes: SqlAlchemyLoteStore

    def close(self) -> None:
        self.requests.close()


def state_stores(url: str) -> StateStores:
    engine = make_engine(url, serialised_writes=True)
    return StateStores(SqlAlchemyRequestStore(engine), SqlAlchemyLoteStore(engine))


def report_source_for(settings: Settings, url: str | None = None) -> SqlAlchemyReportSource:
    """The build's source (R1–R3 as SQL) on UGPP_BRIDGE_SOURCE_URL or ``url``."""
    source_url = url or settings.require("source_url", "build from the entity's source data")
    return SqlAlchemyReportSource(make_engine(source_url))


def build_options(settings: Settings, request: FinancialInfoRequest) -> BuildOptions:
    """Header and size settings; the operator NIT defaults to the one the request names."""
    return BuildOptions(
        operator_nit=settings.operator_nit or request.operator_nit,
        operator_name=settings.require(
            "operator_name", "write the lote headers (razonSocialOperador)"
        ),
        lote_max_records=settings.lote_max_records,
        account_number_digits=settings.account_number_digits,
    )


def paso1_app(settings: Settings, stores: StateStores) -> WsgiApp:
    """The Paso 1 WSGI application, wired to the state store and the settings."""
    from ugpp_bridge.entrypoints.soap import Paso1Endpoint, make_wsgi_app  # spyne loads slowly

    verifier = UsernameTokenVerifier(
        settings.require("inbound_username", "authenticate UGPP's calls (WS-Security)"),
        settings.require("inbound_password", "authenticate UGPP's calls (WS-Security)"),
        clock=lambda: datetime.now(UTC),
        nonces=NonceCache(),
    )
    policy = ReceptionPolicy(
        operator_nit=settings.require("operator_nit", "check whom each request is addressed to"),
        term_starts_next_day=settings.term_starts_next_day,
        max_persons=settings.max_persons,
    )
    holidays = holiday_calendar()

    def receive(request: FinancialInfoRequest) -> Receipt:
        return receive_request(
            request,
            requests=stores.requests,
            holidays=holidays,
            clock=system_clock,
            policy=policy,
            actor="ugpp:soap",
        )

    endpoint = Paso1Endpoint(verifier, receive, settings.max_request_bytes, stores.requests.ping)
    return make_wsgi_app(endpoint)


def ugpp_gateway(settings: Settings) -> UgppGateway:
    """The zeep gateway to UGPP's Paso 2 service, as SPEC §8 configures it."""
    from ugpp_bridge.adapters.zeep_gateway import GatewaySettings, ZeepUgppGateway  # zeep: slow

    return ZeepUgppGateway(
        GatewaySettings(
            wsdl=settings.ugpp_wsdl or UGPP_REPORTE_WSDL,
            endpoint=settings.ugpp_endpoint,
            auth=settings.ugpp_auth,
            token_url=settings.ugpp_token_url,
            username=settings.ugpp_username,
            password=settings.ugpp_password,
            client_id=settings.ugpp_client_id,
            timeout=settings.ugpp_timeout_seconds,
            client_cert=settings.ugpp_client_cert,
            ca_bundle=settings.ugpp_ca_bundle,
        )
    )


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.send_max_attempts,
        base_seconds=settings.send_backoff_seconds,
        max_seconds=settings.send_backoff_max_seconds,
    )


def holiday_calendar() -> Container[date]:
    return colombian_holidays()
