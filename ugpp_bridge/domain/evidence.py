"""What the evidence of a request says (art. 11 and 12 of Resolución 1707): when the answer was
delivered against its deadline, and the facts the certificate («Constancia de atención de la
solicitud») states. Pure: the service gathers the facts, an adapter renders them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from ugpp_bridge.domain.deadlines import DeadlineStatus
from ugpp_bridge.domain.exposure import ExposureEstimate
from ugpp_bridge.domain.filing import BOGOTA, Approval, StoredLote

BUNDLE_VERSION = 2
MANIFEST = "manifiesto.json"
CERTIFICATE = "constancia.pdf"
SEAL = "sello.json"
SIGNATURE = "sello.firma"
PUBLIC_KEY = "clave-publica.pem"
# Outside the manifest: the manifest itself and what is made after it (the certificate cites
# the manifest's hash; the seal holds the hashes of both; the signature signs the seal).
SEAL_FILES = frozenset({MANIFEST, CERTIFICATE, SEAL, SIGNATURE})


def delivered_at(lotes: Iterable[StoredLote]) -> datetime | None:
    """When the answer was first complete at UGPP: the last acknowledgement of the earliest
    build whose every lote UGPP acknowledged (a later correction does not move it)."""
    by_generation: dict[int, list[StoredLote]] = defaultdict(list)
    for lote in lotes:
        by_generation[lote.generation].append(lote)
    for generation in sorted(by_generation):
        moments = [lote.acknowledged_at for lote in by_generation[generation]]
        if moments and all(moment is not None for moment in moments):
            return max(moment for moment in moments if moment is not None)
    return None


@dataclass(frozen=True)
class LoteLine:
    """One lote as the certificate lists it."""

    submission_id: str
    submission_type: str
    records: int
    state: str  # Spanish label
    sent_at: datetime | None  # start of the attempt UGPP acknowledged (or the last one)
    ugpp_filing_number: str | None
    response_ms: int | None
    sha256: str


@dataclass(frozen=True)
class CertificateFacts:
    """Everything the certificate states; times are aware (rendered in Bogotá)."""

    operator_name: str
    operator_nit: str  # with its check digit, formatted (800.197.268-4)
    request_id: str
    filing_number: str
    received_at: datetime
    due_date: date
    persons: int
    periods: str  # "2025-01 a 2025-12"
    sections: str
    state: str  # Spanish label
    confirmation: str | None
    status: DeadlineStatus
    delivered_at: datetime | None
    exposure: ExposureEstimate | None  # when late or overdue
    lotes: tuple[LoteLine, ...]
    attempts: Mapping[str, int]  # Spanish outcome label → count
    approvals: tuple[Approval, ...]
    manifest_sha256: str
    exported_at: datetime
    bundle_name: str
    signed_by: str | None  # the public key's SHA-256 fingerprint when the bundle is signed

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(BOGOTA)
