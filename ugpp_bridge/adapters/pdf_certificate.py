"""The certificate of an evidence bundle, «Constancia de atención de la solicitud», as a PDF
(fpdf2, pure pip).

The PDF uses the standard Helvetica and Courier fonts (Latin-1: every Spanish letter, no font
file to ship); characters outside Latin-1 in free text are replaced. Its content streams are
left uncompressed so that the manifest's SHA-256 it cites can be found in its bytes by
``evidence verify`` without a PDF parser. The creation date is the export time. (Imported only
by evidence exports: fpdf2 is not loaded by the other commands.)
"""

from __future__ import annotations

from collections.abc import Iterable

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from ugpp_bridge.domain.deadlines import DeadlineKind
from ugpp_bridge.domain.evidence import CertificateFacts
from ugpp_bridge.domain.filing import BOGOTA, Decision
from ugpp_bridge.domain.labels import day, moment, number, pesos, plural

TITLE = "Constancia de atención de la solicitud"
_REPLACEMENTS = str.maketrans({"—": "-", "–": "-", "…": "...", "≤": "<=", "≥": ">=", "→": "->",
                               "“": '"', "”": '"', "‘": "'", "’": "'", "•": "·"})  # fmt: skip


def latin1(text: str) -> str:
    """Text the standard PDF fonts can show: common typography mapped, anything else ``?``."""
    return text.translate(_REPLACEMENTS).encode("latin-1", "replace").decode("latin-1")


class _Certificate(FPDF):
    """A4, Helvetica, the footer on every page; helpers for the certificate's blocks."""

    def __init__(self, facts: CertificateFacts) -> None:
        super().__init__(format="A4")
        self.facts = facts
        self.set_compression(False)
        self.set_creation_date(facts.exported_at.astimezone(BOGOTA))
        self.set_title(latin1(f"{TITLE} {facts.request_id}"))
        self.set_author(latin1(facts.operator_name))
        self.set_subject(
            latin1(f"Radicado {facts.filing_number}; manifiesto {facts.manifest_sha256}")
        )
        self.set_lang("es-CO")
        self.set_margins(16, 16, 16)
        self.set_auto_page_break(True, margin=18)
        self.add_page()

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.set_text_color(90)
        self.cell(0, 5, latin1(
            f"Generada el {moment(self.facts.exported_at)} (hora de Bogotá) por ugpp-bridge · "
            f"radicado {self.facts.filing_number} · página {self.page_no()} de {{nb}}"
        ), align="C")  # fmt: skip

    def para(self, value: str, size: float = 9.5, style: str = "", height: float = 5) -> None:
        self.set_font("Helvetica", style=style, size=size)
        self.multi_cell(self.epw, height, latin1(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def mono(self, value: str, size: float = 7, height: float = 3.8) -> None:
        self.set_font("Courier", size=size)
        self.multi_cell(self.epw, height, latin1(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(self, value: str) -> None:
        self.ln(2.5)
        self.set_text_color(23, 50, 77)
        self.para(value, size=11.5, style="B", height=6.5)
        self.set_text_color(0)

    def facts_table(self, rows: Iterable[tuple[str, str]]) -> None:
        self.set_font("Helvetica", size=9)
        with self.table(col_widths=(42, self.epw - 42), first_row_as_headings=False,
                        line_height=5, borders_layout="HORIZONTAL_LINES") as table:  # fmt: skip
            for label, value in rows:
                row = table.row()
                row.cell(latin1(label))
                row.cell(latin1(value))


def render_certificate(facts: CertificateFacts) -> bytes:
    pdf = _Certificate(facts)
    pdf.set_text_color(23, 50, 77)
    pdf.para(TITLE, size=16, style="B", height=8)
    pdf.set_text_color(0)
    pdf.para("Solicitud de información financiera de la UGPP · Resolución UGPP 1707 de 2019", 10)
    pdf.para(f"{facts.operator_name} · NIT {facts.operator_nit}", 10, "B")
    _request(pdf, facts)
    _deadline(pdf, facts)
    _lotes(pdf, facts)
    _approvals(pdf, facts)
    _hashes(pdf, facts)
    _how_to_verify(pdf, facts)
    return bytes(pdf.output())


def _request(pdf: _Certificate, facts: CertificateFacts) -> None:
    pdf.heading("Solicitud")
    pdf.facts_table([
        ("idSolicitud (UGPP)", facts.request_id),
        ("Radicado de la entidad", facts.filing_number),
        ("Recibida", f"{moment(facts.received_at)} (hora de Bogotá)"),
        ("Vence", day(facts.due_date)),
        ("Personas", number(facts.persons)),
        ("Periodos", facts.periods),
        ("Información pedida", facts.sections),
        ("Estado", facts.state),
        ("Confirmación UGPP (art. 7)", facts.confirmation or "sin registrar"),
    ])  # fmt: skip


def _deadline(pdf: _Certificate, facts: CertificateFacts) -> None:
    pdf.heading("Resultado frente al plazo")
    pdf.para(_verdict(facts), size=10.5, style="B", height=5.5)
    if facts.exposure is not None and facts.exposure.is_late:
        e = facts.exposure
        pdf.para(
            f"Exposición estimada: {pesos(e.cop)} ({plural(e.months_late, 'mes', 'meses')} de "
            f"retraso, {number(e.uvt)} UVT al valor de {e.uvt_year}). Es una estimación de la "
            "sanción por entrega tardía (art. 11), no una liquidación."
        )


def _lotes(pdf: _Certificate, facts: CertificateFacts) -> None:
    pdf.heading("Lotes enviados")
    if facts.lotes:
        pdf.set_font("Helvetica", size=7.5)
        with pdf.table(col_widths=(44, 20, 16, 30, 28, 17, 30), line_height=4.2,
                       text_align=("LEFT", "LEFT", "RIGHT", "LEFT", "LEFT", "RIGHT", "LEFT"),
                       ) as table:  # fmt: skip
            table.row(["idEnvio", "Tipo", "Registros", "Enviado", "Radicado UGPP",
                       "Respuesta", "Estado"])  # fmt: skip
            for lote in facts.lotes:
                table.row([latin1(v) for v in (
                    lote.submission_id, lote.submission_type, number(lote.records),
                    moment(lote.sent_at) if lote.sent_at else "sin enviar",
                    lote.ugpp_filing_number or "", _ms(lote.response_ms), lote.state,
                )])  # fmt: skip
    else:
        pdf.para("Todavía no hay lotes construidos.")
    total = sum(facts.attempts.values())
    if total:
        detail = "; ".join(f"{label}: {number(n)}" for label, n in facts.attempts.items())
        pdf.para(f"{plural(total, 'intento', 'intentos')} de envío: {detail}.", size=9)
    else:
        pdf.para("Todavía no hubo intentos de envío.", size=9)


def _approvals(pdf: _Certificate, facts: CertificateFacts) -> None:
    pdf.heading("Aprobaciones (cuatro ojos)")
    if not facts.approvals:
        pdf.para("Ninguna construcción fue aprobada ni devuelta todavía.", size=9)
    for a in facts.approvals:
        decision = "Aprobada" if a.decision is Decision.APPROVED else "Devuelta"
        reason = f": {a.reason}" if a.reason else ""
        pdf.para(f"Construcción n.º {a.generation}: {decision} por {a.actor} el "
                 f"{moment(a.at)}{reason}", size=9)  # fmt: skip


def _hashes(pdf: _Certificate, facts: CertificateFacts) -> None:
    pdf.heading("Huellas (SHA-256)")
    for lote in facts.lotes:
        pdf.mono(f"{lote.submission_id}  {lote.sha256}")
    pdf.ln(1)
    pdf.para("Manifiesto del paquete (manifiesto.json):", size=9, style="B")
    pdf.mono(facts.manifest_sha256, size=8.5, height=4.5)


def _how_to_verify(pdf: _Certificate, facts: CertificateFacts) -> None:
    pdf.heading("Cómo verificar")
    pdf.para(
        f"Esta constancia acompaña el paquete {facts.bundle_name}. Sin acceso a la base de datos "
        "de la entidad, cualquiera puede comprobarlo con «ugpp-bridge evidence verify "
        f"{facts.bundle_name}»: el SHA-256 de cada archivo frente a manifiesto.json, la cadena "
        "de auditoría, cada lote frente al esquema XSD y frente a los bytes enviados a la UGPP. "
        "Con acceso a los datos de origen, «--source URL» reconstruye los lotes y compara sus "
        "huellas. A mano: el SHA-256 de manifiesto.json debe ser el que aparece arriba, y el de "
        "cada archivo el que dice el manifiesto.",
        size=9,
    )
    if facts.signed_by:
        pdf.para(f"Paquete firmado (Ed25519). Huella de la clave pública: {facts.signed_by}. "
                 "Compárela con la que publica la entidad.", size=9, style="B")  # fmt: skip
    else:
        pdf.para("Paquete sin firma: prueba integridad, no autoría.", size=9)


def _verdict(facts: CertificateFacts) -> str:
    status = facts.status
    delivered = moment(facts.delivered_at) if facts.delivered_at else ""
    match status.kind:
        case DeadlineKind.ON_TIME:
            return (f"ENTREGADA A TIEMPO: la UGPP acusó recibo de la respuesta completa el "
                    f"{delivered}, dentro del plazo (vencía el {day(status.due)}).")  # fmt: skip
        case DeadlineKind.LATE:
            return (f"ENTREGADA TARDE ({plural(status.days, 'día', 'días')}): la UGPP acusó "
                    f"recibo de la respuesta completa el {delivered}; vencía el "
                    f"{day(status.due)}.")  # fmt: skip
        case DeadlineKind.OVERDUE:
            return (f"VENCIDA HACE {plural(status.days, 'DÍA', 'DÍAS')} sin entrega completa "
                    f"(vencía el {day(status.due)}).")  # fmt: skip
        case DeadlineKind.TODAY:
            return f"PENDIENTE: vence hoy, {day(status.due)}."
        case _:
            return (f"PENDIENTE: vence el {day(status.due)} "
                    f"({plural(status.days, 'día hábil', 'días hábiles')}).")  # fmt: skip


def _ms(value: int | None) -> str:
    return "" if value is None else f"{number(value)} ms"
