"""Rich rendering for the CLI: tables of reports and counts, progress bars."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from rich.console import Console
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from ugpp_bridge.domain.accounts import AccountMonthRecord
from ugpp_bridge.domain.filing import (
    BOGOTA,
    Approval,
    Attempt,
    Decision,
    StoredLote,
    WrittenLote,
)
from ugpp_bridge.domain.labels import (
    LOTE_LABELS,
    OUTCOME_LABELS,
    STATE_LABELS,
    day,
    deadline_text,
    moment,
    number,
    pesos,
)
from ugpp_bridge.domain.report import PersonWithoutInformation, Record
from ugpp_bridge.domain.titles import TitleMonthRecord
from ugpp_bridge.domain.trust import TrustYieldRecord
from ugpp_bridge.service.overview import RequestDetail, RequestOverview
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


def request_panel(detail: RequestDetail) -> Panel:
    """One request in the officer's words: Bogotá times, dd/mm/aaaa, the deadline in words."""
    stored, item = detail.stored, detail.overview
    request = stored.request
    sections = ", ".join(sorted(t.value for t in request.information_types))
    lines = [
        f"idSolicitud {request.request_id} — radicado {stored.filing_number}",
        f"Estado: {STATE_LABELS[stored.state]}",
        f"Recibida: {moment(stored.received_at)} (hora de Bogotá)",
        f"Vence: {day(stored.due_date)} — {deadline_text(item.status)}",
        f"{number(len(request.persons))} personas × {len(request.periods)} meses; "
        f"secciones {sections}",
        f"Construcción {stored.generation}: {number(stored.persons_done)} de "
        f"{number(len(request.persons))} personas",
    ]
    if item.exposure.is_late:
        lines.append(f"Exposición estimada: {number(item.exposure.uvt)} UVT ≈ "
                     f"{pesos(item.exposure.cop)} (estimación, no liquidación)")  # fmt: skip
    if stored.confirmation:
        lines.append(f"Confirmación de la UGPP: {stored.confirmation}")
    if stored.held_reason:
        lines.append(f"Espera a un operador: {stored.held_reason}")
    elif stored.last_error:
        lines.append(f"Último error: {stored.last_error}")
    return Panel.fit(Text("\n".join(lines)), title=stored.filing_number)


def approvals_table(approvals: list[Approval]) -> Table:
    """The officers' decisions (four eyes), oldest first."""
    table = Table(title="Decisiones de los oficiales")
    for name in ("construcción", "decisión", "quién", "cuándo (Bogotá)", "motivo"):
        table.add_column(name, justify="right" if name == "construcción" else "left")
    for approval in approvals:
        decision = "aprobada" if approval.decision is Decision.APPROVED else "devuelta"
        table.add_row(str(approval.generation), decision, approval.actor, moment(approval.at),
                      approval.reason or "")  # fmt: skip
    return table


def attempts_table(attempts: list[Attempt]) -> Table:
    durations = [a.duration_ms for a in attempts]
    title = (
        f"Intentos de envío: {number(len(attempts))}; tiempo de respuesta medio "
        f"{number(round(sum(durations) / len(durations)))} ms, máximo {number(max(durations))} ms"
    )
    table = Table(title=title)
    for name in ("#", "idEnvio", "inicio (Bogotá)", "ms", "resultado", "HTTP", "falla / error"):
        table.add_column(name, justify="right" if name in ("#", "ms", "HTTP") else "left")
    for attempt in attempts:
        table.add_row(
            str(attempt.attempt_number),
            attempt.submission_id,
            moment(attempt.started_at),
            number(attempt.duration_ms),
            OUTCOME_LABELS[attempt.outcome],
            str(attempt.http_status or ""),
            attempt.fault_message or attempt.error or "",
        )
    return table


DEFAULT_WIDTH = 120  # when no terminal can be asked (a pipe to a file, cron)


def terminal_width() -> int:
    """The operator's terminal width: ``COLUMNS`` when set, else the terminal behind stdout,
    stderr or stdin (``requests | less`` still fits the screen), else 120."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    for fd in (1, 2, 0):
        try:
            return os.get_terminal_size(fd).columns
        except OSError:
            continue
    return DEFAULT_WIDTH


def operator_console() -> Console:
    """A console as wide as the operator's terminal (see ``terminal_width``)."""
    return Console(width=terminal_width(), highlight=False)


ESSENTIAL = 2  # ranks kept while the table can still fit with words wrapped
COMFORTABLE = 22  # characters a wrapped column gets before a secondary column is added


@dataclass(frozen=True)
class FitColumn:
    """A column of a table that fits the terminal: ``rank`` 1 is kept longest; ``wrap``
    columns may break between words (never inside one), the others stay on one line."""

    header: str
    rank: int
    right: bool = False
    wrap: bool = False


def fitted_table(
    title: str, columns: Sequence[FitColumn], rows: Sequence[Sequence[str]], width: int
) -> Table:
    """A table of the columns that fit in ``width``: the least important ones are left out
    (and named in the caption) until the rest fit without cutting a word."""
    widths = _ColumnWidths(columns, rows)
    kept = widths.fit(width)
    left_out = [columns[i].header for i in range(len(columns)) if i not in kept]
    caption = f"Sin espacio para: {', '.join(left_out)} (amplíe la terminal)" if left_out else None
    table = Table(title=title, caption=caption)
    for i in kept:
        column = columns[i]
        table.add_column(column.header, justify="right" if column.right else "left",
                         no_wrap=not column.wrap, min_width=widths.needed(i),
                         overflow="fold")  # fmt: skip
    for row in rows:
        table.add_row(*(row[i] for i in kept))
    return table


@dataclass(frozen=True)
class _ColumnWidths:
    columns: Sequence[FitColumn]
    rows: Sequence[Sequence[str]]

    def natural(self, index: int) -> int:
        cells = (self.columns[index].header, *(row[index] for row in self.rows))
        return max(len(cell) for cell in cells)

    def needed(self, index: int) -> int:
        """The narrowest the column can be: its longest word (its longest cell if no wrap)."""
        if not self.columns[index].wrap:
            return self.natural(index)
        cells = (self.columns[index].header, *(row[index] for row in self.rows))
        return max(len(word) for cell in cells for word in (cell.split() or [""]))

    def comfortable(self, index: int) -> int:
        """Wide enough to read: whole, or wrapped at about ``COMFORTABLE`` characters."""
        if not self.columns[index].wrap:
            return self.natural(index)
        return min(self.natural(index), max(self.needed(index), COMFORTABLE))

    def fit(self, width: int) -> list[int]:
        """The columns kept, in their order: the essential ones (the least important giving
        way on a really narrow terminal), then each secondary one that still fits readably."""

        def total(kept: list[int], width_of: Callable[[int], int]) -> int:
            return sum(width_of(i) + 3 for i in kept) + 1  # padding and borders

        ranks = self.columns
        order = sorted(range(len(ranks)), key=lambda i: (ranks[i].rank, i))
        kept = [i for i in order if ranks[i].rank <= ESSENTIAL]
        while len(kept) > 1 and total(kept, self.needed) > width:
            kept.pop()
        for i in order:
            if ranks[i].rank > ESSENTIAL and total([*kept, i], self.comfortable) <= width:
                kept.append(i)
        return sorted(kept)


OVERVIEW_COLUMNS = (
    FitColumn("radicado", 1),
    FitColumn("idSolicitud", 5),
    FitColumn("recibida", 6),
    FitColumn("vence", 2),
    FitColumn("plazo", 1, wrap=True),
    FitColumn("estado", 1, wrap=True),
    FitColumn("personas", 4, right=True),
    FitColumn("lotes con acuse", 4, right=True, wrap=True),
    FitColumn("intentos", 5, right=True),
    FitColumn("exposición estimada", 3, wrap=True),
    FitColumn("último error", 7, wrap=True),
)


def overview_table(items: list[RequestOverview], title: str, width: int) -> Table:
    """``requests`` and ``deadlines``: the dashboard's words, dd/mm/aaaa, es-CO numbers."""
    rows = []
    for item in items:
        stored = item.request
        exposure = item.exposure
        risk = (f"{number(exposure.uvt)} UVT ≈ {pesos(exposure.cop)}"
                if exposure.is_late else "—")  # fmt: skip
        rows.append((
            stored.filing_number,
            stored.request_id,
            day(stored.received_at.astimezone(BOGOTA).date()),
            day(stored.due_date),
            deadline_text(item.status),
            STATE_LABELS[stored.state],
            f"{number(stored.persons_done)}/{number(stored.persons)}",
            f"{number(item.lotes_acknowledged)}/{number(item.lotes)}",
            number(item.attempts),
            risk,
            _short(stored.last_error or "", 60),
        ))  # fmt: skip
    return fitted_table(title, OVERVIEW_COLUMNS, rows, width)


def _short(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary with «…»."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


class RateColumn(ProgressColumn):
    """Items per second, es-CO digits: «1.234 /s»."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{number(round(speed))} /s")


class CountColumn(ProgressColumn):
    """Done of total with thousands separators: «12.345/100.000»."""

    def render(self, task: Task) -> Text:
        total = "?" if task.total is None else number(int(task.total))
        return Text(f"{number(int(task.completed))}/{total}")


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        CountColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("quedan"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def write_counts_table(counts: WriteCounts, title: str) -> Table:
    table = Table(title=title)
    table.add_column("relación")
    table.add_column("filas", justify="right")
    for relation, rows in counts.rows.items():
        table.add_row(relation, number(rows))
    table.add_row("total", number(counts.total), style="bold")
    return table


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
