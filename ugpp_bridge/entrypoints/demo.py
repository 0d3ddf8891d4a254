"""``ugpp-bridge demo``: the whole job on embedded defaults, in a temporary folder, on loopback.

1. a sample bank in a SQLite source, checked against the contract, and a SQLite state
   database migrated to head;
2. the bridge's Paso 1 endpoint and the UGPP stand-in, each on a free 127.0.0.1 port;
3. Paso 1: the stand-in's client sends one Solicitud (account holders, title holders and trust
   beneficiaries of the sample bank, one stranger; twelve months; every section) with a
   WS-Security UsernameToken and gets the receipt and its deadline;
4. the build, with progress, into validated lotes;
5. Paso 2: the lotes go to the stand-in with a token; UGPP's acknowledgements come back;
6. the evidence bundle, and a summary of where to look.

Everything stays on this machine; the passwords are made up for the run.
"""

from __future__ import annotations

import secrets
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from lxml import etree
from rich.console import Console
from rich.panel import Panel

from ugpp_bridge.adapters.soap.paso1_client import (
    SolicitudReceipt,
    send_profile_request,
    send_solicitud,
)
from ugpp_bridge.adapters.soap.solicitud_xml import solicitud_to_xml
from ugpp_bridge.adapters.soap.wire import secure_parser
from ugpp_bridge.adapters.source.engines import make_engine
from ugpp_bridge.adapters.source.report_source import SqlAlchemyReportSource
from ugpp_bridge.bootstrap import (
    StateStores,
    evidence_exporter,
    process_name,
    send_context,
    source_for,
    state_stores,
)
from ugpp_bridge.bootstrap_source import (
    lote_writer,
    profile_identity,
    system_clock,
    wire_profile,
)
from ugpp_bridge.config import Settings
from ugpp_bridge.domain.codes import InformationType
from ugpp_bridge.domain.filing import StoredRequest
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.labels import STATE_LABELS, day, moment, number, plural
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.domain.report import Record
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.domain.source import SourceData
from ugpp_bridge.domain.users import Role
from ugpp_bridge.entrypoints.cli import console as view
from ugpp_bridge.entrypoints.web import web_app
from ugpp_bridge.errors import ConfigurationError
from ugpp_bridge.service.build import BuildOptions, build_request, report_records
from ugpp_bridge.service.sample_bank import DEFAULT_SAMPLE_YEAR, sample_bank
from ugpp_bridge.service.submit import submit_request

DEMO_OPERATOR_NIT = "800197268"
DEMO_OPERATOR_NAME = "Banco de Demostración S.A."
STRANGER = PersonId("CC", "99999999")  # no sample person has this number
SHOWN_ROWS = 12
ACTOR = "demo"


@dataclass(frozen=True)
class DemoRun:
    folder: Path
    receipt: SolicitudReceipt
    request: StoredRequest
    evidence: Path


def run(
    settings: Settings, *, persons: int, seed: int, console: Console, keep_running: bool = False
) -> DemoRun:
    folder = Path(tempfile.mkdtemp(prefix="ugpp-bridge-demo-"))
    source_url, state_url = f"sqlite:///{folder / 'source.db'}", f"sqlite:///{folder / 'state.db'}"
    parts = list(sample_bank(persons, seed, DEFAULT_SAMPLE_YEAR))
    with source_for(source_url) as bank:
        with view.progress_bar(console, "Escribiendo el banco de ejemplo", persons) as advance:
            counts = bank.write(advance(parts))
        console.print(
            view.write_counts_table(counts, f"Banco de ejemplo en {folder / 'source.db'}")
        )
    from ugpp_bridge.adapters.state.migrations import upgrade  # alembic loads slowly

    upgrade(state_url)
    demo = _demo_settings(settings, state_url, source_url)
    stores = state_stores(state_url)
    try:
        with _ugpp_standin(demo) as ugpp_base:
            demo = replace(
                demo,
                ugpp_endpoint=f"{ugpp_base}/ugpp/reporte",
                ugpp_token_url=f"{ugpp_base}/ugpp/token",
            )
            with _bridge(demo, stores) as bridge_base:
                done = _job(
                    demo, stores, source_url, f"{bridge_base}/soap/solicitudes",
                    sample_persons(parts), folder, console,
                )  # fmt: skip
                if keep_running:
                    _keep_running(demo, stores, bridge_base, console)
                return done
    finally:
        stores.close()


def _keep_running(settings: Settings, stores: StateStores, base: str, console: Console) -> None:
    """Leave the dashboard (and the scheduler) up until Ctrl+C, with a login to use."""
    from ugpp_bridge.entrypoints.scheduler import Jobs, make_scheduler  # start-up time

    password = secrets.token_urlsafe(12)
    stores.users.add("demo", Role.OPERATOR, password, at=system_clock(), actor=ACTOR)
    scheduler = make_scheduler(
        Jobs(settings, stores, process_name("demo")), settings.sweep_seconds, blocking=False
    )
    scheduler.start()
    lines = [
        f"Escritorio: {base}/solicitudes",
        f"Ingreso: demo / {password}  (operador: reenviar, confirmar, descargar la evidencia)",
        f"Métricas: {base}/metrics · Paso 1: {base}/soap/solicitudes?wsdl",
        "El programador de tareas está en marcha. Ctrl+C detiene todo.",
    ]
    console.print(Panel.fit("\n".join(lines), title="Sigue en marcha"))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        console.print("Deteniendo.")
    finally:
        scheduler.shutdown(wait=False)


def _job(
    settings: Settings,
    stores: StateStores,
    source_url: str,
    paso1_url: str,
    persons: tuple[PersonId, ...],
    folder: Path,
    console: Console,
) -> DemoRun:
    request = _request(settings, persons)
    receipt = _paso1(settings, stores, paso1_url, request)
    console.print(
        f"Paso 1: {receipt.status} — radicado {receipt.filing_number}, vence el "
        f"{day(date.fromisoformat(receipt.due_date))}"
    )
    key = stores.requests.find(f"radicado:{receipt.filing_number}").key
    source = SqlAlchemyReportSource(make_engine(source_url))
    options = BuildOptions(
        request.operator_nit,
        settings.operator_name or DEMO_OPERATOR_NAME,
        wire_profile(settings).paso2.max_records or settings.lote_max_records,
        settings.account_number_digits,
        require_approval=settings.require_approval,
        wire_profile=profile_identity(wire_profile(settings)),
    )
    try:
        with view.progress_counter(console, "Construyendo los lotes", len(persons)) as progress:
            build_request(
                key,
                requests=stores.requests,
                builds=stores.builds,
                lotes=stores.lotes,
                source=source,
                writer=lote_writer(settings),
                options=options,
                clock=system_clock,
                actor=ACTOR,
                progress=progress,
            )
        records = list(report_records(request, source, options, lambda _done: None))
    finally:
        source.close()
    context = send_context(settings, stores, ACTOR)
    try:
        sent = submit_request(key, context)
    finally:
        context.gateway.close()
    evidence = folder / f"evidencia-{sent.filing_number}.zip"
    with evidence.open("wb") as sink:
        evidence_exporter(settings, stores)(key, sink, evidence.name, ACTOR)
    _show(console, stores, sent, records, receipt, evidence, folder, wire_profile(settings).label)
    return DemoRun(folder, receipt, sent, evidence)


def _paso1(
    settings: Settings, stores: StateStores, url: str, request: FinancialInfoRequest
) -> SolicitudReceipt:
    """UGPP's Paso 1 call: v1 through zeep, or the profile's request (its ``simulator.request``
    transform) with a UsernameToken; the receipt as the bridge stored it."""
    assert settings.inbound_username and settings.inbound_password
    profile = wire_profile(settings)
    if profile.is_v1:
        return send_solicitud(
            url, request, username=settings.inbound_username, password=settings.inbound_password
        )
    if profile.simulator_request is None:
        raise ConfigurationError(
            f"El perfil {profile.label} no tiene [simulator] request: la demostración no sabe "
            "escribir la solicitud de la UGPP en la forma del anexo.",
            setting="UGPP_BRIDGE_WIRE_PROFILE",
        )
    element = etree.fromstring(solicitud_to_xml(request), secure_parser())
    send_profile_request(
        url, profile.simulator_request(element),
        username=settings.inbound_username, password=settings.inbound_password,
    )  # fmt: skip
    stored = stores.requests.find(request.request_id)
    return SolicitudReceipt(
        request.request_id, stored.filing_number, "RECIBIDA", stored.received_at.isoformat(),
        stored.due_date.isoformat(), len(request.persons),
    )  # fmt: skip


def _demo_settings(settings: Settings, state_url: str, source_url: str) -> Settings:
    return replace(
        settings,
        database_url=state_url,
        source_url=source_url,
        operator_nit=settings.operator_nit or DEMO_OPERATOR_NIT,
        operator_name=settings.operator_name or DEMO_OPERATOR_NAME,
        inbound_username="ugpp-demo",
        inbound_password=secrets.token_urlsafe(16),
        # A profile's annex authenticates Paso 2 with a UsernameToken (SPEC §10's example).
        ugpp_auth="token" if settings.wire_profile == "v1" else "wsse",
        ugpp_wsdl=None,
        ugpp_username="bridge-demo",
        ugpp_password=secrets.token_urlsafe(12),
        ugpp_client_id="ugpp-bridge",
        send_backoff_seconds=0,
        require_approval=False,  # the demo runs through; an officer approves real builds
        session_secret=secrets.token_urlsafe(32),
        sweep_seconds=5,
    )


@contextmanager
def _ugpp_standin(settings: Settings) -> Iterator[str]:
    """The UGPP stand-in on a free loopback port; its base URL."""
    from ugpp_bridge.entrypoints.ugpp_sim import (  # start-up time: loaded by the demo
        SimulatorConfig,
        UgppSimulator,
        make_server,
    )

    assert settings.ugpp_username and settings.ugpp_password and settings.ugpp_client_id
    profile = wire_profile(settings)
    config = SimulatorConfig(
        settings.ugpp_username, settings.ugpp_password, settings.ugpp_client_id,
        auth=settings.ugpp_auth, profile=None if profile.is_v1 else profile,
    )  # fmt: skip
    ugpp = make_server(UgppSimulator(config))
    thread = threading.Thread(target=ugpp.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{ugpp.server_address[1]}"
    finally:
        ugpp.shutdown()
        ugpp.server_close()


@contextmanager
def _bridge(settings: Settings, stores: StateStores) -> Iterator[str]:
    """The bridge — Paso 1, the dashboard, /metrics — on a free loopback port; its base URL."""
    from ugpp_bridge.entrypoints.soap import create_http_server, stop_waitress  # start-up time

    bridge = create_http_server(
        _not_yet, host="127.0.0.1", port=0, threads=4, asyncore_loop_timeout=0.05
    )
    base = f"http://127.0.0.1:{bridge.effective_port}"
    # The port is known once bound; the WSDL then names the address the bridge really has.
    bridge.application = web_app(
        replace(settings, public_url=f"{base}/soap/solicitudes"), stores, process_name("demo")
    )
    thread = threading.Thread(target=bridge.run, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        stop_waitress(bridge, thread)


def _not_yet(environ: dict[str, object], start_response: Callable[..., object]) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting\n"]


def _request(settings: Settings, persons: tuple[PersonId, ...]) -> FinancialInfoRequest:
    now = system_clock()
    assert settings.operator_nit
    return FinancialInfoRequest(
        request_id=f"DEMO-{now:%Y%m%d-%H%M%S}",
        operator_nit=settings.operator_nit,
        requested_on=now.date(),
        term_starts_on=now.date(),
        information_types=frozenset(InformationType),
        periods=tuple(Period(DEFAULT_SAMPLE_YEAR, month) for month in range(1, 13)),
        persons=persons,
    )


def check_request(
    request: FinancialInfoRequest | None, settings: Settings, persons: tuple[PersonId, ...]
) -> FinancialInfoRequest:
    """What ``wire check`` builds the sample bank's lotes for: the example request's id, NIT
    and dates (or the demo's) over the sample year, for its persons and the sample's, so that
    every kind of record goes through the profile's transform."""
    if request is None:
        settings = replace(settings, operator_nit=settings.operator_nit or CHECK_NIT)
        return _request(settings, persons)
    return replace(
        request,
        information_types=frozenset(InformationType),
        periods=tuple(Period(DEFAULT_SAMPLE_YEAR, month) for month in range(1, 13)),
        persons=tuple(dict.fromkeys((*request.persons, *persons))),
    )


CHECK_NIT = "800197268"


def sample_persons(parts: list[SourceData]) -> tuple[PersonId, ...]:
    """Account holders, title holders and trust beneficiaries of the sample, and a stranger."""
    with_accounts = [p.accounts[0].holder for p in parts if p.accounts and p.transactions]
    with_titles = [p.titles[0].holder for p in parts if p.titles]
    with_yields = [
        p.trust_yield_payments[0].holder
        for p in parts
        if any(
            not y.from_fideicomiso and y.paid_on.year == DEFAULT_SAMPLE_YEAR
            for y in p.trust_yield_payments
        )
    ]
    chosen = [*with_accounts[:3], *with_titles[:2], *with_yields[:2]]
    return (*dict.fromkeys(chosen), STRANGER)


def _show(
    console: Console,
    stores: StateStores,
    sent: StoredRequest,
    records: list[Record],
    receipt: SolicitudReceipt,
    evidence: Path,
    folder: Path,
    profile_label: str,
) -> None:
    for table in (
        view.accounts_table(records, SHOWN_ROWS),
        view.titles_table(records, SHOWN_ROWS),
        view.trust_table(records, SHOWN_ROWS),
        view.without_information_table(records),
    ):
        console.print(table)
    lotes = stores.lotes.lotes(sent.key)
    console.print(view.sent_lotes_table(lotes, f"Lotes de {sent.filing_number}"))
    kinds = Counter(type(record).__name__ for record in records)
    request = sent.request
    lines = [
        f"Paso 1: solicitud {request.request_id} de la UGPP → {receipt.status}, radicado "
        f"{receipt.filing_number}, recibida el {moment(sent.received_at)} (hora de Bogotá)",
        f"{number(len(request.persons))} personas × {number(len(request.periods))} meses: "
        f"{number(kinds['AccountMonthRecord'])} cuentas, "
        f"{number(kinds['TitleMonthRecord'])} inversiones, "
        f"{number(kinds['TrustYieldRecord'])} rendimientos, "
        + plural(
            kinds["PersonWithoutInformation"], "persona sin información", "personas sin información"
        ),  # fmt: skip
        "Aprobación: apagada en la demostración (UGPP_BRIDGE_REQUIRE_APPROVAL=false): el puente "
        "aprobó su propia construcción, y así quedó en la auditoría; en operación un oficial "
        "aprueba cada construcción (cuatro ojos)",
        f"Paso 2: {plural(len(lotes), 'lote enviado', 'lotes enviados')} al simulador de la "
        f"UGPP; estado «{STATE_LABELS[sent.state]}»; radicados UGPP "
        f"{', '.join(lote.ugpp_filing_number or '?' for lote in lotes)}",
        f"Vence el {day(sent.due_date)} (el término empezó el {day(request.term_starts_on)}; "
        "festivos de Colombia)",
        f"Paquete de evidencia: {evidence}",
        f"Formato de intercambio: {profile_label}",
        f"Base de estado: {folder / 'state.db'} — pruebe: UGPP_BRIDGE_DATABASE_URL="
        f"sqlite:///{folder / 'state.db'} ugpp-bridge show {sent.filing_number}",
        "",
        "Todo corrió en 127.0.0.1 contra el simulador de la UGPP: nada salió de esta máquina.",
    ]
    console.print(Panel.fit("\n".join(lines), title="Resumen de la demostración"))
