"""Use case: the evidence bundle of a request (art. 12 of Resolución 1707) — what an entity
hands UGPP or an auditor to prove what it received, what it answered, when, and that it tried.

The bundle (a zip, streamed into a file the caller owns) holds, with real times (Bogotá):

- ``LEAME.txt``: what is inside and how to verify it;
- ``solicitud.json`` and ``paso1/``: the request, and each SOAP message that carried it with
  the exact ``AcuseSolicitud`` bytes answered;
- ``construcciones.json``: what each build was made with (to rebuild its lotes from the data);
- ``lotes/``: every lote of every build, as stored and sent;
- ``envios/`` and ``envios.json``: every attempt with the exact bytes sent and received,
  including attempts whose outcome is unknown (the process stopped mid-call);
- ``aprobaciones.json``, ``confirmaciones.json``, ``correcciones.json``;
- ``auditoria.json``: the request's audit entries as a verifiable segment of the hash chain
  (every other entry reduced to its links, up to the head at export time);
- ``manifiesto.json``: the SHA-256 of every file above;
- ``constancia.pdf``: the certificate in Spanish, which cites the manifest's SHA-256;
- ``sello.json``: the SHA-256 of the manifest and of the certificate, signed
  (``sello.firma``, Ed25519, public key in ``clave-publica.pem``) when a signing key is set.

``ugpp-bridge evidence verify`` checks all of it offline (``service/evidence_check.py``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from collections import Counter
from collections.abc import Callable, Container, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import IO, Protocol, cast

from ugpp_bridge.domain.audit import AuditEntry, AuditSegment
from ugpp_bridge.domain.deadlines import deadline_status
from ugpp_bridge.domain.evidence import (
    BUNDLE_VERSION,
    CERTIFICATE,
    MANIFEST,
    PUBLIC_KEY,
    SEAL,
    SIGNATURE,
    CertificateFacts,
    LoteLine,
    delivered_at,
)
from ugpp_bridge.domain.exposure import estimate_exposure
from ugpp_bridge.domain.filing import (
    BOGOTA,
    Attempt,
    AttemptOutcome,
    BuildRecord,
    Decision,
    RequestKey,
    StoredLote,
    StoredRequest,
    sha256_hex,
)
from ugpp_bridge.domain.identifiers import format_operator_nit
from ugpp_bridge.domain.labels import LOTE_LABELS, OUTCOME_LABELS, STATE_LABELS
from ugpp_bridge.service.ports import AuditStore, BuildStore, InboundStore, LoteStore, RequestStore


class EvidenceStores(Protocol):
    """What a bundle is read from: the request, its builds and decisions, the Paso 1 messages,
    the lotes and attempts, and the audit trail (the composition root's stores)."""

    @property
    def requests(self) -> RequestStore: ...

    @property
    def builds(self) -> BuildStore: ...

    @property
    def inbound(self) -> InboundStore: ...

    @property
    def lotes(self) -> LoteStore: ...

    @property
    def audit(self) -> AuditStore: ...


class Signer(Protocol):
    """Signs the seal of a bundle (Ed25519 with ``UGPP_BRIDGE_SIGNING_KEY``)."""

    public_key_pem: bytes
    fingerprint: str  # SHA-256 of the public key, hex

    def sign(self, data: bytes) -> bytes: ...


@dataclass(frozen=True)
class EvidenceTools:
    """What the bundle needs besides the stores: the certificate's renderer, the optional
    signer, the holidays and UVT values of the on-time verdict, and the entity's name and
    NIT (for requests built before builds were recorded)."""

    render_certificate: Callable[[CertificateFacts], bytes]
    holidays: Container[date]
    uvt_values: Mapping[int, int]
    operator_name: str
    operator_nit: str
    signer: Signer | None = None


@dataclass(frozen=True)
class EvidenceBundle:
    name: str
    sha256: str  # of the zip
    files: int
    size: int
    manifest_sha256: str


def export_evidence(
    key: RequestKey,
    sink: IO[bytes],
    *,
    name: str,
    stores: EvidenceStores,
    clock: Callable[[], datetime],
    actor: str,
    tools: EvidenceTools,
) -> EvidenceBundle:
    """Write the bundle into ``sink`` (a file the caller owns: the CLI's output path, or the
    dashboard's anonymous temporary file, so nothing with personal data stays on disk) and
    audit the export with the bundle's and the manifest's SHA-256."""
    bundle, _ = _write_bundle(key, sink, name, stores, clock(), tools)
    stores.audit.record_action(
        at=clock(), actor=actor, action="evidence.exported",
        filing_number=stores.requests.get(key).filing_number,
        details={"file": name, "sha256": bundle.sha256, "files": bundle.files,
                 "manifest": bundle.manifest_sha256},
    )  # fmt: skip
    return bundle


def export_certificate(
    key: RequestKey,
    sink: IO[bytes],
    *,
    name: str,
    stores: EvidenceStores,
    clock: Callable[[], datetime],
    actor: str,
    tools: EvidenceTools,
) -> EvidenceBundle:
    """Write the certificate alone into ``sink``: the one of a bundle made now (its manifest
    hash is the one the certificate cites, and the export is audited with it)."""
    discard = cast(IO[bytes], _Discard())
    bundle, certificate = _write_bundle(key, discard, name, stores, clock(), tools)
    sink.write(certificate)
    stores.audit.record_action(
        at=clock(), actor=actor, action="evidence.certificate_exported",
        filing_number=stores.requests.get(key).filing_number,
        details={"file": name, "sha256": sha256_hex(certificate),
                 "manifest": bundle.manifest_sha256},
    )  # fmt: skip
    return EvidenceBundle(
        name, sha256_hex(certificate), 1, len(certificate), bundle.manifest_sha256
    )


def bundle_name(filing_number: str) -> str:
    return f"evidencia-{filing_number}.zip"


# -- the bundle -------------------------------------------------------------------------------


def _write_bundle(
    key: RequestKey,
    sink: IO[bytes],
    name: str,
    stores: EvidenceStores,
    now: datetime,
    tools: EvidenceTools,
) -> tuple[EvidenceBundle, bytes]:
    stored = stores.requests.get(key)
    attempts = stores.lotes.attempts(key)
    all_lotes: list[StoredLote] = []  # filled as the lotes are written, without their bytes
    hashing = _HashingWriter(sink)
    manifest: dict[str, str] = {}
    with zipfile.ZipFile(hashing, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def put(file: str, data: bytes, at: datetime) -> None:
            archive.writestr(_entry(file, at), data)

        data_files = _data_files(stored, all_lotes, attempts, stores, now, tools)
        for file, data, at in data_files:
            put(file, data, at)
            manifest[file] = sha256_hex(data)
        manifest_bytes = _json(
            {
                "version": BUNDLE_VERSION,
                "algoritmo": "SHA-256",
                "radicado": stored.filing_number,
                "idSolicitud": stored.request.request_id,
                "exportado": _time(now),
                "firmado": tools.signer is not None,
                "archivos": manifest,
            }
        )
        manifest_sha = sha256_hex(manifest_bytes)
        put(MANIFEST, manifest_bytes, now)
        facts = _facts(stored, all_lotes, attempts, stores.builds, manifest_sha, now, name, tools)
        certificate = tools.render_certificate(facts)
        put(CERTIFICATE, certificate, now)
        seal = _json(
            {
                "version": BUNDLE_VERSION,
                "radicado": stored.filing_number,
                MANIFEST: manifest_sha,
                CERTIFICATE: sha256_hex(certificate),
                "firmado": tools.signer is not None,
                "huella_clave_publica": tools.signer.fingerprint if tools.signer else None,
            }
        )
        put(SEAL, seal, now)
        if tools.signer is not None:
            put(SIGNATURE, base64.b64encode(tools.signer.sign(seal)) + b"\n", now)
    files = len(manifest) + (4 if tools.signer else 3)
    bundle = EvidenceBundle(name, hashing.digest.hexdigest(), files, hashing.size, manifest_sha)
    return bundle, certificate


def _data_files(
    stored: StoredRequest,
    all_lotes: list[StoredLote],
    attempts: list[Attempt],
    stores: EvidenceStores,
    now: datetime,
    tools: EvidenceTools,
) -> Iterator[tuple[str, bytes, datetime]]:
    """(name, bytes, time) of every file the manifest lists; one build's lotes at a time (their
    metadata is collected in ``all_lotes``)."""
    key = stored.key
    builds = stores.builds.builds(key)
    yield "LEAME.txt", _readme(stored, tools.signer is not None).encode("utf-8"), now
    yield "solicitud.json", _json(_request(stored)), now
    exchanges = []
    for n, message in enumerate(stores.inbound.inbound_messages(key), start=1):
        stem = f"paso1/{n:02d}"
        yield f"{stem}-solicitud-ugpp.xml", message.request_bytes, message.received_at
        entry: dict[str, object] = {
            "n": n,
            "recibido": _time(message.received_at),
            "solicitud": f"{stem}-solicitud-ugpp.xml",
            "respondido": _time(message.answered_at) if message.answered_at else None,
            "acuse": None,
        }
        if message.response_bytes is not None:
            yield f"{stem}-acuse-solicitud.xml", message.response_bytes, message.answered_at or now
            entry["acuse"] = f"{stem}-acuse-solicitud.xml"
        exchanges.append(entry)
    yield (
        "paso1.json",
        _json({"mensajes": exchanges, "nota": _PASO1_NOTE if not exchanges else None}),
        now,
    )
    yield "construcciones.json", _json([_build(b) for b in builds]), now
    last = max([stored.generation, *(b.generation for b in builds)])
    for generation in range(1, last + 1):
        for lote in stores.lotes.lotes(key, generation=generation):
            yield f"lotes/{lote.submission_id}.xml", lote.xml, lote.created_at
            yield f"lotes/{lote.submission_id}.json", _json(_lote(lote)), lote.created_at
            all_lotes.append(replace(lote, xml=b""))
    for n, attempt in enumerate(attempts, start=1):
        stem = f"envios/{n:04d}-{attempt.submission_id}"
        yield f"{stem}-peticion.xml", attempt.request_bytes, attempt.started_at
        if attempt.response_bytes is not None:
            yield f"{stem}-respuesta.xml", attempt.response_bytes, attempt.started_at
    yield "envios.json", _json([_attempt(n, a) for n, a in enumerate(attempts, start=1)]), now
    yield "aprobaciones.json", _json([
        {"construccion": a.generation,
         "decision": "aprobada" if a.decision is Decision.APPROVED else "devuelta",
         "oficial": a.actor, "fecha": _time(a.at), "motivo": a.reason}
        for a in stores.builds.approvals(key)
    ]), now  # fmt: skip
    segment = stores.audit.audit_segment(stored.filing_number)
    yield "confirmaciones.json", _json(_confirmations(segment.entries)), now
    yield "correcciones.json", _json([
        {"corrige": c.corrected_submission_id, "idEnvio": c.correcting_submission_id,
         "diferencias": c.diff, "fecha": _time(c.created_at)}
        for c in stores.lotes.corrections(key)
    ]), now  # fmt: skip
    yield "auditoria.json", _json(_audit(segment)), now
    if tools.signer is not None:
        yield PUBLIC_KEY, tools.signer.public_key_pem, now


_PASO1_NOTE = (
    "Esta solicitud se registró sin el mensaje SOAP original (por la línea de comandos, o "
    "antes de que el puente guardara los mensajes de Paso 1)."
)


def _facts(
    stored: StoredRequest,
    all_lotes: list[StoredLote],
    attempts: list[Attempt],
    builds_of: BuildStore,
    manifest_sha: str,
    now: datetime,
    name: str,
    tools: EvidenceTools,
) -> CertificateFacts:
    request = stored.request
    delivered = delivered_at(all_lotes)
    delivered_on = delivered.astimezone(BOGOTA).date() if delivered else None
    status = deadline_status(
        stored.due_date, now.astimezone(BOGOTA).date(), tools.holidays, delivered_on
    )
    exposure = None
    if status.late:
        exposure = estimate_exposure(
            stored.due_date, delivered_on or now.astimezone(BOGOTA).date(), tools.uvt_values
        )
    builds = builds_of.builds(stored.key)
    operator_name = builds[-1].operator_name if builds else tools.operator_name
    periods = f"{request.periods[0]} a {request.periods[-1]}"
    outcomes = Counter(OUTCOME_LABELS[a.outcome] for a in attempts)
    return CertificateFacts(
        operator_name=operator_name,
        operator_nit=format_operator_nit(request.operator_nit),
        request_id=request.request_id,
        filing_number=stored.filing_number,
        received_at=stored.received_at,
        due_date=stored.due_date,
        persons=len(request.persons),
        periods=periods if len(request.periods) > 1 else str(request.periods[0]),
        sections=", ".join(sorted(t.value for t in request.information_types)),
        state=STATE_LABELS[stored.state],
        confirmation=stored.confirmation,
        status=status,
        delivered_at=delivered,
        exposure=exposure,
        lotes=tuple(_lote_line(lote, attempts) for lote in all_lotes),
        attempts=dict(sorted(outcomes.items())),
        approvals=tuple(builds_of.approvals(stored.key)),
        manifest_sha256=manifest_sha,
        exported_at=now,
        bundle_name=name,
        signed_by=tools.signer.fingerprint if tools.signer else None,
    )


def _lote_line(lote: StoredLote, attempts: list[Attempt]) -> LoteLine:
    mine = [a for a in attempts if a.submission_id == lote.submission_id]
    acknowledged = [a for a in mine if a.outcome is AttemptOutcome.ACKNOWLEDGED]
    shown = acknowledged[0] if acknowledged else (mine[-1] if mine else None)
    return LoteLine(
        submission_id=lote.submission_id,
        submission_type=lote.submission_type.value,
        records=lote.record_count,
        state=LOTE_LABELS[lote.state],
        sent_at=shown.started_at if shown else None,
        ugpp_filing_number=lote.ugpp_filing_number,
        response_ms=shown.duration_ms if shown else None,
        sha256=lote.sha256,
    )


# -- file contents ----------------------------------------------------------------------------


def _request(stored: StoredRequest) -> dict[str, object]:
    request = stored.request
    return {
        "radicado": stored.filing_number,
        "idSolicitud": request.request_id,
        "nitOperador": request.operator_nit,
        "fechaSolicitud": request.requested_on.isoformat(),
        "fechaInicioTermino": request.term_starts_on.isoformat(),
        "fechaRecepcion": _time(stored.received_at),
        "fechaVencimiento": stored.due_date.isoformat(),
        "estado": STATE_LABELS[stored.state],
        "construccionActual": stored.generation,
        "fechaGeneracion": _time(stored.generated_at) if stored.generated_at else None,
        "tiposInformacion": sorted(t.value for t in request.information_types),
        "periodos": [{"anio": p.year, "mes": p.month} for p in request.periods],
        "personas": [
            {"tipoDocumento": p.doc_type, "numeroDocumento": p.doc_number} for p in request.persons
        ],
        "confirmacionUGPP": stored.confirmation,
    }


def _build(build: BuildRecord) -> dict[str, object]:
    return {
        "construccion": build.generation,
        "fechaGeneracion": _time(build.generated_at),
        "pedidaPor": build.actor,
        "nitOperador": build.operator_nit,
        "nombreOperador": build.operator_name,
        "registrosPorLote": build.lote_max_records,
        "digitosCuenta": build.account_number_digits,
        "conservaConstruccion": build.kept_generation,
        "perfil": None if build.wire_profile is None else json.loads(build.wire_profile),
    }


def _lote(lote: StoredLote) -> dict[str, object]:
    return {
        "idEnvio": lote.submission_id,
        "tipoEnvio": lote.submission_type.value,
        "idEnvioCorregido": lote.corrects_submission_id,
        "construccion": lote.generation,
        "numeroLote": lote.lote_number,
        "totalLotes": lote.total_lotes,
        "registros": lote.record_count,
        "sha256": lote.sha256,
        "estado": LOTE_LABELS[lote.state],
        "radicadoUGPP": lote.ugpp_filing_number,
        "creado": _time(lote.created_at),
        "acusado": _time(lote.acknowledged_at) if lote.acknowledged_at else None,
    }


def _attempt(n: int, attempt: Attempt) -> dict[str, object]:
    response = attempt.response_bytes
    stem = f"envios/{n:04d}-{attempt.submission_id}"
    return {
        "n": n,
        "idEnvio": attempt.submission_id,
        "intento": attempt.attempt_number,
        "inicio": _time(attempt.started_at),
        "duracion_ms": attempt.duration_ms,
        "endpoint": attempt.endpoint,
        "resultado": OUTCOME_LABELS[attempt.outcome],
        "http": attempt.http_status,
        "falla": attempt.fault_code,
        "mensaje": attempt.fault_message,
        "error": attempt.error,
        "advertencias": list(attempt.warnings),
        "peticion": f"{stem}-peticion.xml",
        "respuesta": f"{stem}-respuesta.xml" if response is not None else None,
        "sha256_enviado": sha256_hex(attempt.request_bytes),
        "sha256_recibido": sha256_hex(response) if response is not None else None,
    }


def _confirmations(entries: tuple[AuditEntry, ...]) -> list[dict[str, object]]:
    """UGPP's confirmation radicados (art. 7) as registered and corrected, from the audit."""
    found: list[dict[str, object]] = []
    for entry in entries:
        if entry.action == "request.confirmed":
            found.append({"radicado": entry.details.get("radicado"), "registrado": _time(entry.at),
                          "por": entry.actor, "corrige": None})  # fmt: skip
        elif entry.action == "request.confirmation_corrected":
            found.append({"radicado": entry.details.get("despues"), "registrado": _time(entry.at),
                          "por": entry.actor, "corrige": entry.details.get("antes")})  # fmt: skip
    return found


def _audit(segment: AuditSegment) -> dict[str, object]:
    return {
        "como_verificar": (
            "Cada entrada: hash = SHA-256(hash_anterior + JSON canónico de seq, at (UTC), actor, "
            "action, filing_number, details, reason). Las entradas de otras solicitudes aparecen "
            "solo como enlaces (seq, hash_anterior, hash). La cadena debe ser continua hasta la "
            "cabeza. ugpp-bridge evidence verify lo comprueba."
        ),
        "cabeza": {"seq": segment.head_seq, "hash": segment.head_hash},
        "entradas": [
            {
                "seq": e.seq,
                "fecha": _time(e.at),
                "actor": e.actor,
                "accion": e.action,
                "radicado": e.filing_number,
                "detalles": dict(e.details),
                "motivo": e.reason,
                "hash_anterior": e.prev_hash,
                "hash": e.hash,
            }
            for e in segment.entries
        ],
        "enlaces": [
            {"seq": link.seq, "hash_anterior": link.prev_hash, "hash": link.hash}
            for link in segment.links
        ],
    }


def _readme(stored: StoredRequest, signed: bool) -> str:
    signature = (
        "El sello está firmado (Ed25519): sello.firma, con la clave pública clave-publica.pem; "
        "compare la huella de esa clave con la que publica la entidad.\n"
        if signed
        else "Este paquete no está firmado: prueba integridad, no autoría.\n"
    )
    return (
        f"Paquete de evidencia de la solicitud {stored.request.request_id} "
        f"(radicado {stored.filing_number}), Resolución UGPP 1707 de 2019, art. 12.\n\n"
        "constancia.pdf           la constancia de atención, para leer\n"
        "solicitud.json           la solicitud tal como se registró\n"
        "paso1/                   cada mensaje SOAP recibido de la UGPP y el acuse respondido\n"
        "construcciones.json      con qué se construyó cada respuesta (para reconstruirla)\n"
        "lotes/                   cada lote enviado (XML) y sus datos\n"
        "envios/, envios.json     cada intento de envío con los bytes enviados y recibidos\n"
        "aprobaciones.json        las decisiones de los oficiales de cumplimiento\n"
        "confirmaciones.json      los radicados de confirmación de la UGPP (art. 7)\n"
        "correcciones.json        las correcciones y lo que cambió\n"
        "auditoria.json           las entradas de auditoría, como tramo verificable de la cadena\n"
        "manifiesto.json          el SHA-256 de cada archivo anterior\n"
        "sello.json               el SHA-256 del manifiesto y de la constancia\n\n"
        "Para verificar sin acceso a la base de datos de la entidad:\n"
        "    ugpp-bridge evidence verify ESTE-ARCHIVO.zip\n"
        "y, con acceso a los datos de origen, reconstruir los lotes y compararlos:\n"
        "    ugpp-bridge evidence verify ESTE-ARCHIVO.zip --source URL\n"
        "A mano: el SHA-256 de cada archivo debe ser el que dice manifiesto.json.\n"
        f"{signature}"
        "Las horas están en hora de Bogotá (UTC-05:00).\n"
    )


# -- helpers ----------------------------------------------------------------------------------


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(BOGOTA).isoformat()


def _entry(name: str, at: datetime) -> zipfile.ZipInfo:
    """A zip entry dated with the real time (Bogotá), readable by anyone who unzips it."""
    local = at.astimezone(BOGOTA)
    info = zipfile.ZipInfo(name, (max(local.year, 1980), *local.timetuple()[1:6]))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


class _HashingWriter:
    """A write-only stream that hashes what passes through (the zip is never read back)."""

    def __init__(self, sink: IO[bytes]) -> None:
        self.sink, self.digest, self.size = sink, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        self.sink.write(data)
        return len(data)

    def flush(self) -> None:
        self.sink.flush()

    def tell(self) -> int:
        return self.size

    def close(self) -> None:
        """The sink is the caller's to close."""


class _Discard:
    """A sink that keeps nothing (the certificate alone needs the bundle's hashes only)."""

    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        pass
