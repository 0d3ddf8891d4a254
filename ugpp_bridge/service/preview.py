"""Use case: what a build will report, per person, before anything leaves (SPEC §9) — the way
DIAN's prevalidadores let a filer see the file before submitting.

It reads the stored lotes of the current build — exactly what will be sent — and regroups their
records by person, in the request's order: each person's cuentas, inversiones and rendimientos,
or «sin información», with totals per section. Persons are streamed one at a time, so a
100,000-person request previews in bounded memory; the dashboard keeps only the first few, the
XLSX export writes them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from ugpp_bridge.domain.corrections import WireRecord
from ugpp_bridge.domain.filing import RequestKey, StoredRequest
from ugpp_bridge.service.ports import LoteStore, LoteWriter, RequestStore

SECTIONS = ("cuenta", "inversion", "rendimiento")
SUMMED = {
    "cuenta": ("valorCreditos", "numeroCreditos", "valorDebitos", "numeroDebitos"),
    "inversion": ("valor",),
    "rendimiento": ("valorGirado",),
}


@dataclass(frozen=True)
class PersonPreview:
    doc_type: str
    doc_number: str
    records: Mapping[str, tuple[Mapping[str, str], ...]]  # section → its records, as sent

    @property
    def without_information(self) -> bool:
        return not any(self.records.get(section) for section in SECTIONS)


@dataclass
class SectionTotals:
    section: str
    records: int = 0
    sums: dict[str, int] = field(default_factory=dict)

    def add(self, fields: Mapping[str, str]) -> None:
        self.records += 1
        for name in SUMMED[self.section]:
            self.sums[name] = self.sums.get(name, 0) + int(fields.get(name) or 0)


@dataclass
class PreviewTotals:
    persons: int = 0
    without_information: int = 0
    sections: dict[str, SectionTotals] = field(
        default_factory=lambda: {name: SectionTotals(name) for name in SECTIONS}
    )

    def add(self, person: PersonPreview) -> None:
        self.persons += 1
        self.without_information += person.without_information
        for section in SECTIONS:
            for fields in person.records.get(section, ()):
                self.sections[section].add(fields)


@dataclass(frozen=True)
class Preview:
    """A build's report summarised: totals over everyone, and the first persons in full."""

    stored: StoredRequest
    totals: PreviewTotals
    first_persons: list[PersonPreview]
    shown: int


def person_previews(
    lotes: Iterable[bytes], writer: LoteWriter, order: Sequence[tuple[str, str]]
) -> Iterator[PersonPreview]:
    """Every person of the lotes, in the request's order (``order``), one lote read at a time.

    A lote groups its records by section, as the schema orders them, so a person's records are
    spread over the lote; but lotes cut the wire order (person, then section, then period), so
    each lote holds a run of persons and only its last one may go on into the next lote.
    """
    position = {person: n for n, person in enumerate(order)}
    pending: dict[tuple[str, str], dict[str, list[Mapping[str, str]]]] = {}
    for xml in lotes:
        last = -1
        for element, fields in _records(writer, xml):
            person = (fields.get("tipoDocumento", ""), fields.get("numeroDocumento", ""))
            pending.setdefault(person, {}).setdefault(element, []).append(fields)
            last = max(last, position.get(person, -1))
        for person in sorted(pending, key=lambda p: position.get(p, -1)):
            if position.get(person, -1) < last:  # complete: no later lote can hold it
                yield _person(person, pending.pop(person))
    for person in sorted(pending, key=lambda p: position.get(p, -1)):
        yield _person(person, pending[person])


def preview_build(
    key: RequestKey,
    *,
    requests: RequestStore,
    lotes: LoteStore,
    writer: LoteWriter,
    keep: int = 200,
) -> Preview:
    """Totals over every person of the current build, and the first ``keep`` in full."""
    stored = requests.get(key)
    totals, first = PreviewTotals(), list[PersonPreview]()
    for person in person_previews(stored_lote_bytes(lotes, key), writer, persons_of(stored)):
        totals.add(person)
        if len(first) < keep:
            first.append(person)
    return Preview(stored, totals, first, len(first))


def persons_of(stored: StoredRequest) -> list[tuple[str, str]]:
    return [(p.doc_type, p.doc_number) for p in stored.request.persons]


def stored_lote_bytes(lotes: LoteStore, key: RequestKey) -> Iterator[bytes]:
    for lote in lotes.lotes(key):
        yield lote.v1_xml


def _records(writer: LoteWriter, xml: bytes) -> list[WireRecord]:
    return writer.records_of(xml)


def _person(person: tuple[str, str], grouped: dict[str, list[Mapping[str, str]]]) -> PersonPreview:
    return PersonPreview(
        person[0], person[1], {name: tuple(rows) for name, rows in grouped.items()}
    )
