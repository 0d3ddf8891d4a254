"""What changed between two answers to the same request (SPEC §5, corrections).

Records are compared by what identifies them on the wire — who, which section, which period
and which account or title — so a changed amount shows as a change, not as one record removed
and another added.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

WireRecord = tuple[str, Mapping[str, str]]  # (element name, field → text), as sent

_PERSON = ("tipoDocumento", "numeroDocumento")
_IDENTITY = {
    "cuenta": (*_PERSON, "anio", "mes", "tipoCuenta", "numeroCuenta"),
    "inversion": (*_PERSON, "anio", "mes", "numeroTitulo", "tipoMovimiento"),
    "rendimiento": (*_PERSON, "anio"),
    "persona": _PERSON,
}


def _keyed(records: Iterable[WireRecord]) -> dict[tuple[str, ...], Mapping[str, str]]:
    keyed: dict[tuple[str, ...], Mapping[str, str]] = {}
    seen: Counter[tuple[str, ...]] = Counter()
    for element, fields in records:
        base = (element, *(fields.get(name, "") for name in _IDENTITY[element]))
        seen[base] += 1  # two movements of one kind in one month: told apart by order
        keyed[(*base, str(seen[base]))] = fields
    return keyed


def diff_records(before: Iterable[WireRecord], after: Iterable[WireRecord]) -> dict[str, object]:
    """Added, removed and changed records between two answers, with counts."""
    old, new = _keyed(before), _keyed(after)
    added = [{"registro": key[0], **new[key]} for key in new.keys() - old.keys()]
    removed = [{"registro": key[0], **old[key]} for key in old.keys() - new.keys()]
    changed = [
        {
            "registro": key[0],
            "clave": {name: old[key].get(name, "") for name in _IDENTITY[key[0]]},
            "antes": {n: v for n, v in old[key].items() if new[key].get(n) != v},
            "despues": {n: v for n, v in new[key].items() if old[key].get(n) != v},
        }
        for key in sorted(old.keys() & new.keys())
        if old[key] != new[key]
    ]
    return {
        "agregados": sorted(added, key=str),
        "eliminados": sorted(removed, key=str),
        "cambiados": changed,
        "resumen": {"agregados": len(added), "eliminados": len(removed), "cambiados": len(changed)},
    }


def is_unchanged(diff: Mapping[str, object]) -> bool:
    """Whether a diff of :func:`diff_records` found nothing added, removed or changed."""
    summary = diff.get("resumen")
    return isinstance(summary, Mapping) and not any(summary.values())
