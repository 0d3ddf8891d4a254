"""Lotes as XML (SPEC §4, Paso 2 ``Reporte``), written lote by lote and validated with lxml.

Records arrive person by person; they are cut into lotes of at most ``max_records``, and each
lote is written to its own file as soon as it is full, grouped by section as the XSD orders
them. Memory holds one lote's records at most, whatever the size of the request.

``totalLotes`` is only known at the end, so the header carries a schema-valid placeholder; each
lote is validated against ``xsd/reporte-v1.xsd`` (in the background, while the next one is
written) and, once the count is known, finished by setting that one number. The same records
and context always give the same bytes.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from lxml import etree

from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.adapters.soap.profile import WireProfile, compile_again
from ugpp_bridge.domain.accounts import AccountMonthRecord
from ugpp_bridge.domain.corrections import WireRecord
from ugpp_bridge.domain.filing import (
    BOGOTA,
    LoteContext,
    SubmissionType,
    WrittenLote,
    sha256_hex,
)
from ugpp_bridge.domain.identifiers import PersonId, nit_check_digit
from ugpp_bridge.domain.report import PersonWithoutInformation, Record, split_into_lotes
from ugpp_bridge.domain.titles import TitleMonthRecord
from ugpp_bridge.domain.trust import TrustYieldRecord
from ugpp_bridge.service.ports import LoteWriter

NS = wire.REPORTE_NS
# A positiveInteger, so that a lote validates before the final count is known.
TOTAL_PLACEHOLDER = b"999999999"
_SECTIONS = (
    ("cuentas", AccountMonthRecord),
    ("inversiones", TitleMonthRecord),
    ("rendimientosFiduciarios", TrustYieldRecord),
    ("personasSinInformacion", PersonWithoutInformation),
)


_QUALIFIED: dict[str, str] = {}


def q(name: str) -> str:
    """``{namespace}name``, built once per element name."""
    qualified = _QUALIFIED.get(name)
    if qualified is None:
        qualified = _QUALIFIED[name] = f"{{{NS}}}{name}"
    return qualified


class LxmlLoteWriter(LoteWriter):
    """The lote writer of SPEC §4 (v1 wire format)."""

    def write(
        self,
        records: Iterable[Record],
        context: LoteContext,
        max_records: int,
        directory: Path,
        file_name: str = "lote-{number:05d}.xml",
    ) -> list[WrittenLote]:
        return write_lotes(records, context, max_records, directory, file_name)

    def records_of(self, xml: bytes) -> list[WireRecord]:
        return lote_records(xml)


def lote_records(xml: bytes) -> list[WireRecord]:
    """Every record of a lote as (element name, {field: text}), in document order."""
    root = etree.fromstring(xml, wire.secure_parser())
    return [
        (etree.QName(node).localname, {etree.QName(f).localname: f.text or "" for f in node})
        for section in list(root)[1:]  # after the encabezado
        for node in section
    ]


def write_lotes(
    records: Iterable[Record],
    context: LoteContext,
    max_records: int,
    directory: Path,
    file_name: str = "lote-{number:05d}.xml",
) -> list[WrittenLote]:
    """Write every lote into ``directory``, validate and finish them, and list them in order.

    Each lote is validated in a background thread while the next one is written (lxml
    releases the GIL while it parses and validates), with a schema-valid placeholder for
    ``totalLotes``; finishing replaces only that number, with the final count.
    """
    directory.mkdir(parents=True, exist_ok=True)
    parts: list[tuple[int, int, Path, Future[None]]] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ugpp-bridge-xsd") as validator:
        for number, chunk in enumerate(split_into_lotes(iter(records), max_records), start=1):
            part = directory / f".lote-{number:05d}.part"
            with part.open("wb") as handle:
                write_lote(handle, chunk, context, number, total=None)
            parts.append((number, len(chunk), part, validator.submit(_validate, part)))
        for *_, checked in parts:
            checked.result()  # the first invalid lote, in order, stops the build here
    if not parts:  # a request with no persons cannot exist; an empty build is a bug upstream
        raise ValueError("no records to write")
    return [
        _finish(
            part, context, number, len(parts), count, directory / file_name.format(number=number)
        )
        for number, count, part, _ in parts
    ]


def _validate(part: Path) -> None:
    wire.validate(etree.fromstring(part.read_bytes(), wire.secure_parser()), wire.REPORTE_XSD)


def write_lote(
    handle: IO[bytes], records: list[Record], context: LoteContext, number: int, total: int | None
) -> None:
    """One ``Reporte`` document: the header, then each section's records in stream order.

    Written as text from fixed element names and escaped values: byte for byte what
    ``write_lote_lxml`` (lxml's incremental writer, the reference) writes for the same
    records, at a fraction of its cost per record — the tests hold the two equal, and every
    lote is still validated against the XSD by lxml before it is kept.
    """
    by_kind: dict[type, list[Record]] = {kind: [] for _, kind in _SECTIONS}
    for record in records:  # one pass: records arrive person by person
        by_kind[type(record)].append(record)
    parts = [
        "<?xml version='1.0' encoding='UTF-8'?>\n",
        f'<Reporte xmlns="{NS}">',
        _header_text(context, number, total, len(records)),
        "\n",
    ]
    for section, kind in _SECTIONS:
        render = _RENDER[kind]
        parts.append(f"<{section}>\n")
        parts.extend(render(record) for record in by_kind[kind])
        parts.append(f"</{section}>")
    parts.append("</Reporte>")
    handle.write("".join(parts).encode("utf-8"))


_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
# What XML 1.0 cannot hold (lxml refuses these too): C0 controls but tab and line breaks,
# U+FFFE, U+FFFF and lone surrogates.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _text(value: str) -> str:
    if _NOT_XML.search(value):
        raise ValueError(
            "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control "
            "characters"
        )
    return value.translate(_ESCAPES)


@functools.lru_cache(maxsize=4096)
def _person(person: PersonId) -> str:
    return (f"<tipoDocumento>{_text(person.doc_type)}</tipoDocumento>"
            f"<numeroDocumento>{_text(person.doc_number)}</numeroDocumento>")  # fmt: skip


def _account_text(r: AccountMonthRecord) -> str:
    return (
        f"<cuenta>{_person(r.person)}<anio>{r.period.year}</anio><mes>{r.period.month}</mes>"
        f"<tipoCuenta>{int(r.account_type)}</tipoCuenta>"
        f"<numeroCuenta>{_text(r.account_number)}</numeroCuenta>"
        f"<valorCreditos>{int(r.credits_value)}</valorCreditos>"
        f"<numeroCreditos>{int(r.credits_count)}</numeroCreditos>"
        f"<valorDebitos>{int(r.debits_value)}</valorDebitos>"
        f"<numeroDebitos>{int(r.debits_count)}</numeroDebitos>"
        f"<medianaSaldoDiario>{int(r.median_daily_balance)}</medianaSaldoDiario>"
        f"<saldoFinal>{int(r.end_balance)}</saldoFinal></cuenta>\n"
    )


def _title_text(r: TitleMonthRecord) -> str:
    return (
        f"<inversion>{_person(r.person)}<anio>{r.period.year}</anio><mes>{r.period.month}</mes>"
        f"<numeroTitulo>{_text(r.title_number)}</numeroTitulo>"
        f"<tipoTitulo>{int(r.title_type)}</tipoTitulo>"
        f"<tipoMovimiento>{int(r.movement_type)}</tipoMovimiento>"
        f"<valor>{int(r.value)}</valor><saldo>{int(r.balance)}</saldo></inversion>\n"
    )


def _trust_text(r: TrustYieldRecord) -> str:
    return (
        f"<rendimiento>{_person(r.person)}<anio>{r.year}</anio>"
        f"<valorGirado>{int(r.amount_paid)}</valorGirado></rendimiento>\n"
    )


def _without_text(r: PersonWithoutInformation) -> str:
    return f"<persona>{_person(r.person)}</persona>\n"


_RENDER: dict[type, Callable[[Any], str]] = {
    AccountMonthRecord: _account_text,
    TitleMonthRecord: _title_text,
    TrustYieldRecord: _trust_text,
    PersonWithoutInformation: _without_text,
}


def _header_text(context: LoteContext, number: int, total: int | None, count: int) -> str:
    fields: list[tuple[str, object]] = [
        ("idSolicitud", context.request_id),
        ("radicado", context.filing_number),
        ("idEnvio", context.submission_id(number)),
        ("tipoEnvio", context.submission_type.value),
    ]
    if context.submission_type is SubmissionType.CORRECTION and number in context.corrects:
        fields.append(("idEnvioCorregido", context.corrects[number]))
    fields += [
        ("nitOperador", context.operator_nit),
        ("dvOperador", nit_check_digit(context.operator_nit)),
        ("razonSocialOperador", context.operator_name),
        ("numeroLote", number),
        ("totalLotes", total if total is not None else TOTAL_PLACEHOLDER.decode()),
        ("totalRegistros", count),
        ("fechaGeneracion", context.generated_at.astimezone(BOGOTA).isoformat("T", "seconds")),
    ]
    inner = "".join(f"<{name}>{_text(str(value))}</{name}>" for name, value in fields)
    return f"<encabezado>{inner}</encabezado>"


def write_lote_lxml(
    handle: IO[bytes], records: list[Record], context: LoteContext, number: int, total: int | None
) -> None:
    """The reference writer: the same document through lxml's incremental writer, one
    context manager per element. ``write_lote`` must produce exactly these bytes."""
    with etree.xmlfile(handle, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(q("Reporte"), nsmap={None: NS}):
            _header(xf, context, number, total, len(records))
            by_kind: dict[type, list[Record]] = {kind: [] for _, kind in _SECTIONS}
            for record in records:
                by_kind[type(record)].append(record)
            for section, kind in _SECTIONS:
                with xf.element(q(section)):
                    xf.write("\n")
                    for record in by_kind[kind]:
                        _record(xf, record)
                        xf.write("\n")


def _finish(
    part: Path, context: LoteContext, number: int, total: int, count: int, final: Path
) -> WrittenLote:
    placeholder = b"<totalLotes>" + TOTAL_PLACEHOLDER + b"</totalLotes>"
    final_total = b"<totalLotes>" + str(total).encode() + b"</totalLotes>"
    data = part.read_bytes().replace(placeholder, final_total, 1)  # the header comes first
    final.write_bytes(data)
    os.remove(part)
    return WrittenLote(
        lote_number=number,
        total_lotes=total,
        record_count=count,
        submission_id=context.submission_id(number),
        path=final,
        sha256=sha256_hex(data),
        submission_type=context.submission_type,
        corrects_submission_id=context.corrects.get(number),
    )


def _leaf(xf: etree._IncrementalFileWriter, name: str, value: object) -> None:
    with xf.element(q(name)):
        xf.write(str(value))


def _header(
    xf: etree._IncrementalFileWriter,
    context: LoteContext,
    number: int,
    total: int | None,
    count: int,
) -> None:
    with xf.element(q("encabezado")):
        _leaf(xf, "idSolicitud", context.request_id)
        _leaf(xf, "radicado", context.filing_number)
        _leaf(xf, "idEnvio", context.submission_id(number))
        _leaf(xf, "tipoEnvio", context.submission_type.value)
        if context.submission_type is SubmissionType.CORRECTION and number in context.corrects:
            _leaf(xf, "idEnvioCorregido", context.corrects[number])
        _leaf(xf, "nitOperador", context.operator_nit)
        _leaf(xf, "dvOperador", nit_check_digit(context.operator_nit))
        _leaf(xf, "razonSocialOperador", context.operator_name)
        _leaf(xf, "numeroLote", number)
        with xf.element(q("totalLotes")):
            xf.write(str(total) if total is not None else TOTAL_PLACEHOLDER.decode())
        _leaf(xf, "totalRegistros", count)
        _leaf(
            xf, "fechaGeneracion", context.generated_at.astimezone(BOGOTA).isoformat("T", "seconds")
        )
    xf.write("\n")


def _record(xf: etree._IncrementalFileWriter, record: Record) -> None:
    with xf.element(q(_ELEMENT[type(record)])):
        for name, value in record_fields(record):
            _leaf(xf, name, value)


def record_fields(record: Record) -> Iterator[tuple[str, object]]:
    """The wire fields of a record, in XSD order, as (element name, value)."""
    yield "tipoDocumento", record.person.doc_type
    yield "numeroDocumento", record.person.doc_number
    if isinstance(record, AccountMonthRecord):
        yield from (
            ("anio", record.period.year), ("mes", record.period.month),
            ("tipoCuenta", int(record.account_type)), ("numeroCuenta", record.account_number),
            ("valorCreditos", record.credits_value), ("numeroCreditos", record.credits_count),
            ("valorDebitos", record.debits_value), ("numeroDebitos", record.debits_count),
            ("medianaSaldoDiario", record.median_daily_balance), ("saldoFinal", record.end_balance),
        )  # fmt: skip
    elif isinstance(record, TitleMonthRecord):
        yield from (
            ("anio", record.period.year), ("mes", record.period.month),
            ("numeroTitulo", record.title_number), ("tipoTitulo", int(record.title_type)),
            ("tipoMovimiento", int(record.movement_type)), ("valor", record.value),
            ("saldo", record.balance),
        )  # fmt: skip
    elif isinstance(record, TrustYieldRecord):
        yield from (("anio", record.year), ("valorGirado", record.amount_paid))


_ELEMENT: dict[type, str] = {
    AccountMonthRecord: "cuenta",
    TitleMonthRecord: "inversion",
    TrustYieldRecord: "rendimiento",
    PersonWithoutInformation: "persona",
}


class ProfileLoteWriter(LoteWriter):
    """The lotes of a wire profile (SPEC §10): each v1 lote written as above, then turned into
    the profile's document by its ``lote`` transform and validated under its schemas. The v1
    lotes stay beside them (``.v1/``, ``WrittenLote.canonical_path``): the preview and a
    correction's diff read those.

    ``totalLotes`` is a parameter of the transform, so it can only run once every lote is
    written; the lotes are then transformed on up to ``TRANSFORM_THREADS`` threads (libxslt
    and libxml2 run without the GIL), each with the profile compiled in that thread, so no
    stylesheet or schema object is shared between threads."""

    def __init__(self, profile: WireProfile) -> None:
        self.profile = profile

    def write(
        self,
        records: Iterable[Record],
        context: LoteContext,
        max_records: int,
        directory: Path,
        file_name: str = "lote-{number:05d}.xml",
    ) -> list[WrittenLote]:
        canonical = write_lotes(records, context, max_records, directory / ".v1", file_name)
        compiled = threading.local()

        def finish(lote: WrittenLote) -> WrittenLote:
            profile = getattr(compiled, "profile", None)
            if profile is None:
                profile = compiled.profile = compile_again(self.profile)
            data = profile_lote(profile, lote.path.read_bytes(), context, lote)
            final = directory / lote.path.name
            final.write_bytes(data)
            return dataclasses.replace(
                lote, path=final, sha256=sha256_hex(data), canonical_path=lote.path
            )

        if len(canonical) == 1:
            compiled.profile = self.profile
            return [finish(canonical[0])]
        threads = min(TRANSFORM_THREADS, os.cpu_count() or 1, len(canonical))
        with ThreadPoolExecutor(threads, thread_name_prefix="ugpp-bridge-xslt") as pool:
            return list(pool.map(finish, canonical))  # in order; the first failure raises

    def records_of(self, xml: bytes) -> list[WireRecord]:
        return lote_records(xml)  # callers pass the v1 lote (``v1_xml``, ``v1_path``)


TRANSFORM_THREADS = 2


def profile_lote(
    profile: WireProfile, v1_lote: bytes, context: LoteContext, lote: WrittenLote
) -> bytes:
    """The profile's document for one finished v1 lote: transformed, validated, serialized."""
    root = etree.fromstring(v1_lote, wire.secure_parser())
    edge = profile.paso2
    document = (
        root
        if edge.lote is None
        else edge.lote(
            root,
            idSolicitud=context.request_id,
            radicado=context.filing_number,
            numeroLote=str(lote.lote_number),
            totalLotes=str(lote.total_lotes),
            ordenPersonas=" ".join(context.persons),
        )
    )
    edge.schemas.validate(document)
    return bytes(etree.tostring(document, xml_declaration=True, encoding="UTF-8"))
