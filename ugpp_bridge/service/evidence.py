"""Use case: the evidence bundle of a request (art. 12) — what an entity hands UGPP to prove a
contingency: the request and its receipt, every lote (every build), every attempt with the
exact bytes sent and received, the corrections, the officers' approvals (who approved or returned
which build, when, why) and the audit trail, under a SHA-256 manifest.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from ugpp_bridge.domain.audit import AuditEntry
from ugpp_bridge.domain.filing import Attempt, RequestKey, StoredLote, StoredRequest, sha256_hex
from ugpp_bridge.service.ports import LoteStore, RequestStore

FIXED_TIME = (2000, 1, 1, 0, 0, 0)  # zip entry times: the same bundle bytes for the same content


@dataclass(frozen=True)
class EvidenceBundle:
    name: str
    sha256: str
    files: int
    size: int


def export_evidence(
    key: RequestKey,
    sink: IO[bytes],
    *,
    name: str,
    requests: RequestStore,
    lotes: LoteStore,
    clock: Callable[[], datetime],
    actor: str,
) -> EvidenceBundle:
    """Write the bundle into ``sink`` (a file the caller owns: the CLI's output path, or the
    dashboard's anonymous temporary file, so nothing with personal data stays on disk) and
    audit the export with the bundle's SHA-256."""
    stored = requests.get(key)
    files = dict(_files(stored, requests, lotes))
    manifest = {file: sha256_hex(data) for file, data in files.items()}
    files["manifest.json"] = _json({"files": manifest, "algorithm": "SHA-256"})
    hashing = _HashingWriter(sink)
    with zipfile.ZipFile(hashing, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for file, data in files.items():
            bundle.writestr(zipfile.ZipInfo(file, FIXED_TIME), data)
    digest = hashing.digest.hexdigest()
    requests.record_action(
        at=clock(),
        actor=actor,
        action="evidence.exported",
        filing_number=stored.filing_number,
        details={"file": name, "sha256": digest, "files": len(files)},
    )
    return EvidenceBundle(name, digest, len(files), hashing.size)


class _HashingWriter:
    """A write-only stream that hashes what passes through (the zip is never read back)."""

    def __init__(self, sink: IO[bytes]) -> None:
        self.sink, self.digest, self.size = sink, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.sink.write(data)

    def flush(self) -> None:
        self.sink.flush()

    def tell(self) -> int:
        return self.size

    def close(self) -> None:
        """The sink is the caller's to close."""


def _files(
    stored: StoredRequest, requests: RequestStore, lotes: LoteStore
) -> Iterator[tuple[str, bytes]]:
    filing, key = stored.filing_number, stored.key
    yield "request.json", _json(_request(stored))
    for generation in range(1, stored.generation + 1):
        for lote in lotes.lotes(key, generation=generation):
            yield f"lotes/{lote.submission_id}.xml", lote.xml
            yield f"lotes/{lote.submission_id}.json", _json(_lote(lote))
    attempts = lotes.attempts(key)
    for n, attempt in enumerate(attempts, start=1):
        stem = f"attempts/{n:04d}-{attempt.submission_id}"
        yield f"{stem}-request.xml", attempt.request_bytes
        if attempt.response_bytes is not None:
            yield f"{stem}-response.xml", attempt.response_bytes
    yield "attempts.json", _json([_attempt(n, a) for n, a in enumerate(attempts, start=1)])
    corrections = [
        {
            "corrige": c.corrected_submission_id,
            "idEnvio": c.correcting_submission_id,
            "diferencias": c.diff,
            "fecha": c.created_at.isoformat(),
        }
        for c in lotes.corrections(key)
    ]
    yield "corrections.json", _json(corrections)
    decisions = [
        {
            "construccion": a.generation,
            "decision": a.decision.value,
            "oficial": a.actor,
            "fecha": a.at.isoformat(),
            "motivo": a.reason,
        }
        for a in requests.approvals(key)
    ]
    yield "approvals.json", _json(decisions)
    verification = requests.verify_audit()
    yield (
        "audit.json",
        _json(
            {
                "cadena_integra": verification.ok,
                "problemas": list(verification.problems),
                "hash_cabeza": verification.head_hash,
                "entradas": [_audit(entry) for entry in requests.audit_trail(filing)],
            }
        ),
    )


def _lote(lote: StoredLote) -> dict[str, object]:
    return {
        "idEnvio": lote.submission_id,
        "tipoEnvio": lote.submission_type.value,
        "idEnvioCorregido": lote.corrects_submission_id,
        "numeroLote": lote.lote_number,
        "totalLotes": lote.total_lotes,
        "registros": lote.record_count,
        "sha256": lote.sha256,
        "estado": lote.state.value,
        "radicadoUGPP": lote.ugpp_filing_number,
        "creado": lote.created_at.isoformat(),
        "acusado": lote.acknowledged_at.isoformat() if lote.acknowledged_at else None,
    }


def _attempt(n: int, attempt: Attempt) -> dict[str, object]:
    response = attempt.response_bytes
    return {
        "n": n,
        "idEnvio": attempt.submission_id,
        "intento": attempt.attempt_number,
        "inicio": attempt.started_at.isoformat(),
        "duracion_ms": attempt.duration_ms,
        "endpoint": attempt.endpoint,
        "resultado": attempt.outcome.value,
        "http": attempt.http_status,
        "falla": attempt.fault_code,
        "mensaje": attempt.fault_message,
        "error": attempt.error,
        "sha256_enviado": sha256_hex(attempt.request_bytes),
        "sha256_recibido": sha256_hex(response) if response is not None else None,
    }


def _audit(entry: AuditEntry) -> dict[str, object]:
    return {
        "seq": entry.seq,
        "fecha": entry.at.isoformat(),
        "actor": entry.actor,
        "accion": entry.action,
        "detalles": dict(entry.details),
        "motivo": entry.reason,
        "hash_anterior": entry.prev_hash,
        "hash": entry.hash,
    }


def _request(stored: StoredRequest) -> dict[str, object]:
    request = stored.request
    return {
        "radicado": stored.filing_number,
        "idSolicitud": request.request_id,
        "nitOperador": request.operator_nit,
        "fechaSolicitud": request.requested_on.isoformat(),
        "fechaInicioTermino": request.term_starts_on.isoformat(),
        "fechaRecepcion": stored.received_at.isoformat(),
        "fechaVencimiento": stored.due_date.isoformat(),
        "estado": stored.state.value,
        "tiposInformacion": sorted(t.value for t in request.information_types),
        "periodos": [{"anio": p.year, "mes": p.month} for p in request.periods],
        "personas": [
            {"tipoDocumento": p.doc_type, "numeroDocumento": p.doc_number} for p in request.persons
        ],
        "confirmacionUGPP": stored.confirmation,
    }


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
