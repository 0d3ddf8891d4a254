"""Rich rendering for the CLI: tables of reports and counts, progress bars."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ugpp_bridge.domain.accounts import AccountMonthRecord
from ugpp_bridge.domain.filing import (
    BOGOTA,
    Approval,
    Attempt,
    Decision,
    StoredLote,
    StoredRequest,
    WrittenLote,
)
from ugpp_bridge.domain.labels import (
    LOTE_LABELS,
    OUTCOME_LABELS,
    STATE_LABELS,
    deadline_text,
    moment,
)
from ugpp_bridge.domain.report import PersonWithoutInformation, Record
from ugpp_bridge.domain.titles import TitleMonthRecord
from ugpp_bridge.domain.trust import TrustYieldRecord
from ugpp_bridge.service.overview import RequestOverview
from ugpp_bridge.service.ports import WriteCounts

T = TypeVar("T")


@contextmanager
def progress_bar(
    console: Console, label: str, total: int
) -> Iterator[Callable[[Iterable[T]], Iterator[T]]]:
    """A progress bar; the yielded function wraps an iterable and advances once per item."""
    with _progress(console) as progress:
        task = progress.add_task(label, total=total)

        def advance(items: Iterable[T]) -> Iterator[T]:
            for item in items:
                yield item
                progress.advance(task)

        yield advance


@contextmanager
def progress_counter(console: Console, label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar; the yielded function sets how many of ``total`` are done."""
    with _progress(console) as progress:
        task = progress.add_task(label, total=total)
        yield lambda done: progress.update(task, completed=done)


def lotes_table(lotes: Iterable[WrittenLote | StoredLote], title: str) -> Table:
    table = Table(title=title)
    for name in ("lote", "idEnvio", "registros", "SHA-256"):
        table.add_column(name, justify="right" if name == "registros" else "left")
    for lote in lotes:
        name = lote.path.name if isinstance(lote, WrittenLote) else str(lote.lote_number)
        table.add_row(name, lote.submission_id, f"{lote.record_count:,}", lote.sha256[:16] + "…")
    return table


def sent_lotes_table(lotes: Iterable[StoredLote], title: str) -> Table:
    table = Table(title=title)
    for name in ("lote", "idEnvio", "registros", "estado", "radicado UGPP"):
        table.add_column(name, justify="right" if name == "registros" else "left")
    for lote in lotes:
        table.add_row(
            str(lote.lote_number),
            lote.submission_id,
            f"{lote.record_count:,}",
            LOTE_LABELS[lote.state],
            lote.ugpp_filing_number or "",
        )
    return table


def request_panel(stored: StoredRequest) -> Panel:
    request = stored.request
    lines = [
        f"idSolicitud {request.request_id} — radicado {stored.filing_number}",
        f"state {STATE_LABELS[stored.state]}; received "
        f"{stored.received_at.astimezone(BOGOTA):%Y-%m-%d %H:%M} (Bogotá); "
        f"due {stored.due_date}",
        f"{len(request.persons):,} persons × {len(request.periods)} months; "
        f"sections {', '.join(sorted(t.value for t in request.information_types))}",
        f"build {stored.generation}: {stored.persons_done:,} of {len(request.persons):,} "
        "persons done",
    ]
    if stored.confirmation:
        lines.append(f"UGPP confirmation {stored.confirmation}")
    if stored.held_reason:
        lines.append(f"waiting for an operator: {stored.held_reason}")
    elif stored.last_error:
        lines.append(f"last error: {stored.last_error}")
    return Panel.fit("\n".join(lines), title=stored.filing_number)


def approvals_table(approvals: list[Approval]) -> Table:
    """The officers' decisions (four eyes), oldest first."""
    table = Table(title="Decisiones de los oficiales")
    for name in ("build", "decisión", "quién", "cuándo (Bogotá)", "motivo"):
        table.add_column(name, justify="right" if name == "build" else "left")
    for approval in approvals:
        decision = "aprobada" if approval.decision is Decision.APPROVED else "devuelta"
        table.add_row(str(approval.generation), decision, approval.actor, moment(approval.at),
                      approval.reason or "")  # fmt: skip
    return table


def attempts_table(attempts: list[Attempt]) -> Table:
    durations = [a.duration_ms for a in attempts]
    title = (
        f"Attempts: {len(attempts)}; response time mean {sum(durations) / len(durations):,.0f} ms, "
        f"max {max(durations):,} ms"
    )
    table = Table(title=title)
    for name in ("#", "idEnvio", "started (Bogotá)", "ms", "outcome", "HTTP", "fault / error"):
        table.add_column(name, justify="right" if name in ("#", "ms", "HTTP") else "left")
    for attempt in attempts:
        table.add_row(
            str(attempt.attempt_number),
            attempt.submission_id,
            f"{attempt.started_at.astimezone(BOGOTA):%Y-%m-%d %H:%M:%S}",
            f"{attempt.duration_ms:,}",
            OUTCOME_LABELS[attempt.outcome],
            str(attempt.http_status or ""),
            attempt.fault_message or attempt.error or "",
        )
    return table


def wide_console() -> Console:
    """The terminal's width on a terminal; 200 columns when piped, so no value is cut off."""
    console = Console()
    return console if console.is_terminal else Console(width=200)


def overview_table(items: list[RequestOverview], title: str) -> Table:
    table = Table(title=title)
    for name in (
        "radicado",
        "idSolicitud",
        "received",
        "due",
        "days",
        "state",
        "persons",
        "lotes",
        "attempts",
        "exposure (estimate)",
        "last error",
    ):
        table.add_column(name, justify="right" if name in ("days", "attempts") else "left")
    for item in items:
        stored = item.request
        persons = stored.persons
        exposure = item.exposure
        risk = f"{exposure.uvt:,} UVT ≈ {pesos(exposure.cop)}" if exposure.is_late else "—"
        table.add_row(
            stored.filing_number,
            stored.request_id,
            f"{stored.received_at.astimezone(BOGOTA):%Y-%m-%d}",
            str(stored.due_date),
            deadline_text(item.status),
            STATE_LABELS[stored.state],
            f"{stored.persons_done:,}/{persons:,}",
            f"{item.lotes_acknowledged}/{item.lotes}",
            str(item.attempts),
            risk,
            (stored.last_error or "")[:60],
        )
    return table


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def write_counts_table(counts: WriteCounts, title: str) -> Table:
    table = Table(title=title)
    table.add_column("relation")
    table.add_column("rows", justify="right")
    for relation, rows in counts.rows.items():
        table.add_row(relation, f"{rows:,}")
    table.add_row("total", f"{counts.total:,}", style="bold")
    return table


def pesos(amount: int) -> str:
    """Colombian style: $ 1.234.567 (dot thousands separator), sign kept."""
    sign = "-" if amount < 0 else ""
    return f"{sign}$ {abs(amount):,}".replace(",", ".")


def accounts_table(records: Iterable[Record], limit: int) -> Table:
    table = Table(title="Cuentas (R1)")
    for name in ("persona", "periodo", "tipo", "cuenta", "créditos", "n", "débitos", "n"):
        table.add_column(name, justify="right" if name in ("n", "créditos", "débitos") else "left")
    table.add_column("mediana saldo diario", justify="right")
    table.add_column("saldo final", justify="right")
    for record in _only(records, AccountMonthRecord, limit):
        table.add_row(
            f"{record.person.doc_type} {record.person.doc_number}",
            str(record.period),
            str(int(record.account_type)),
            f"…{record.account_number}",
            pesos(record.credits_value),
            str(record.credits_count),
            pesos(record.debits_value),
            str(record.debits_count),
            pesos(record.median_daily_balance),
            pesos(record.end_balance),
        )
    return table


def titles_table(records: Iterable[Record], limit: int) -> Table:
    table = Table(title="Inversiones (R2)")
    for name in ("persona", "periodo", "título", "tipo", "movimiento", "valor", "saldo"):
        table.add_column(name, justify="right" if name in ("valor", "saldo") else "left")
    for record in _only(records, TitleMonthRecord, limit):
        table.add_row(
            f"{record.person.doc_type} {record.person.doc_number}",
            str(record.period),
            record.title_number,
            str(int(record.title_type)),
            str(int(record.movement_type)),
            pesos(record.value),
            pesos(record.balance),
        )
    return table


def trust_table(records: Iterable[Record], limit: int) -> Table:
    table = Table(title="Rendimientos fiduciarios (R3)")
    table.add_column("persona")
    table.add_column("año")
    table.add_column("valor girado", justify="right")
    for record in _only(records, TrustYieldRecord, limit):
        person = f"{record.person.doc_type} {record.person.doc_number}"
        table.add_row(person, str(record.year), pesos(record.amount_paid))
    return table


def without_information_table(records: Iterable[Record]) -> Table:
    table = Table(title="Personas sin información (R4)")
    table.add_column("tipo")
    table.add_column("número")
    for record in _only(records, PersonWithoutInformation, None):
        table.add_row(record.person.doc_type, record.person.doc_number)
    return table


def _only(records: Iterable[object], kind: type[T], limit: int | None) -> list[T]:
    found = [record for record in records if isinstance(record, kind)]
    return found if limit is None else found[:limit]
