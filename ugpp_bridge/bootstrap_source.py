"""Composition root, source side: what ``report`` needs to build from the entity's source.

``bootstrap`` re-exports these; they live apart so that ``ugpp-bridge report`` (a preview that
stores nothing) does not import the state stores, the SOAP stacks or the dashboard's services
— start-up is most of a small request's time.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Engine

from ugpp_bridge.adapters.soap.profile import WireProfile, load_profile
from ugpp_bridge.adapters.soap.xml_lotes import LxmlLoteWriter, ProfileLoteWriter
from ugpp_bridge.adapters.source import engines
from ugpp_bridge.adapters.source.engines import require_existing
from ugpp_bridge.adapters.source.report_source import SqlAlchemyReportSource
from ugpp_bridge.adapters.source.selftest import engine_records
from ugpp_bridge.config import Settings
from ugpp_bridge.domain.filing import BOGOTA
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.service.build import BuildOptions
from ugpp_bridge.service.ports import LoteWriter
from ugpp_bridge.service.selftest import SelftestVerdict, selftest_source


def system_clock() -> datetime:
    """Now, in Bogotá time (UTC−5, no daylight saving)."""
    return datetime.now(BOGOTA)


def source_engine(url: str, settings: Settings | None = None) -> Engine:
    """The engine of a source URL; a ``spark:`` one takes its master and relations from the
    settings (UGPP_BRIDGE_SPARK_MASTER, UGPP_BRIDGE_SPARK_RELATIONS) unless its URL names them."""
    options = engines.for_url(url).from_settings(settings) if settings is not None else {}
    return engines.make_engine(url, **options)


def report_source_for(settings: Settings, url: str | None = None) -> SqlAlchemyReportSource:
    """The build's source (R1–R3 as SQL) on UGPP_BRIDGE_SOURCE_URL or ``url``."""
    source_url = url or settings.require("source_url", "build from the entity's source data")
    require_existing(source_url, "source database", "check UGPP_BRIDGE_SOURCE_URL")
    return SqlAlchemyReportSource(
        source_engine(source_url, settings), max_connections=settings.source_connections
    )


def run_selftest(settings: Settings, url: str | None = None) -> tuple[str, SelftestVerdict]:
    """``source selftest`` on UGPP_BRIDGE_SOURCE_URL or ``url``: (its engine, the verdict)."""
    source_url = url or settings.require("source_url", "run the self-test on the source")
    require_existing(source_url, "source database", "check UGPP_BRIDGE_SOURCE_URL")
    options = engines.for_url(source_url).from_settings(settings)
    verdict = selftest_source(
        lambda data, request: engine_records(source_url, data, request, engine_options=options,
                                             scratch_schema=settings.selftest_schema)
    )  # fmt: skip
    return engines.for_url(source_url).name, verdict


def wire_profile(settings: Settings) -> WireProfile:
    """The configured wire profile (SPEC §10), compiled once per process."""
    return load_profile(settings.wire_profile)


def lote_writer(settings: Settings) -> LoteWriter:
    """v1's own writer for the built-in profile (byte-equal to the generic path, faster), else
    the profile's."""
    profile = wire_profile(settings)
    return LxmlLoteWriter() if profile.is_v1 else ProfileLoteWriter(profile)


def build_options(settings: Settings, request: FinancialInfoRequest) -> BuildOptions:
    """Header and size settings; the operator NIT defaults to the one the request names."""
    profile = wire_profile(settings)
    return BuildOptions(
        operator_nit=settings.operator_nit or request.operator_nit,
        operator_name=settings.require(
            "operator_name", "write the lote headers (razonSocialOperador)"
        ),
        lote_max_records=profile.paso2.max_records or settings.lote_max_records,
        account_number_digits=settings.account_number_digits,
        require_approval=settings.require_approval,
        wire_profile=profile_identity(profile),
    )


def profile_identity(profile: WireProfile) -> str:
    """What a build records of its profile (SPEC §10), as JSON."""
    return json.dumps(profile.identity(), sort_keys=True, ensure_ascii=False)
