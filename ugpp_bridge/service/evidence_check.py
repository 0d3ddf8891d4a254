"""Use case: check an evidence bundle offline, with no database (``evidence verify``).

What is checked, each failure naming the file:

1. every file the manifest lists is there, once, with its SHA-256, and nothing else is;
2. the seal holds the SHA-256 of the manifest and of the certificate, and the certificate cites
   the manifest's SHA-256; a signed seal's Ed25519 signature checks against the public key
   shipped (whose fingerprint is printed, to compare with the entity's);
3. the audit entries hash to what they say and link, with the other entries' links, into an
   unbroken chain up to the head at export time;
4. every lote is valid against ``xsd/reporte-v1.xsd`` and has the SHA-256 its record states;
5. every attempt's request bytes carry, canonically (exclusive C14N), the lote of its idEnvio;
6. with a source (``--source URL``): the lotes of the bundle's current build, rebuilt from the
   data with the build's recorded fechaGeneracion and settings, have the same SHA-256.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ugpp_bridge.domain.audit import AuditEntry, AuditLink, AuditSegment, verify_segment
from ugpp_bridge.domain.codes import InformationType
from ugpp_bridge.domain.evidence import (
    CERTIFICATE,
    MANIFEST,
    PUBLIC_KEY,
    SEAL,
    SEAL_FILES,
    SIGNATURE,
)
from ugpp_bridge.domain.filing import LoteContext, SubmissionType, sha256_hex
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.labels import plural
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.errors import UgppBridgeError

MAX_ENTRY_BYTES = 1 << 30  # a bundle's file larger than this is refused, not read


@dataclass(frozen=True)
class Finding:
    file: str
    problem: str  # Spanish


@dataclass(frozen=True)
class RebuildPlan:
    """How to rebuild one build's lotes: the request, its header and its settings."""

    request: FinancialInfoRequest
    context: LoteContext
    lote_max_records: int
    account_number_digits: int
    profile: Mapping[str, Any] | None = None  # what construcciones.json says (SPEC §10)


@dataclass(frozen=True)
class BundleChecks:
    """The format-level checks the use case needs (lxml, cryptography), injected."""

    lote_problem: Callable[[bytes], str | None]
    canonical: Callable[[bytes], bytes | None]
    canonical_body_child: Callable[[bytes], bytes | None]
    check_signature: Callable[[bytes, bytes, bytes], str | None]  # pem, signature, data → key
    # SPEC §10: the configured profile's label and files (relative path → SHA-256); the
    # lotes are checked under its schemas (``lote_problem``).
    profile_label: str = "v1"
    profile_files: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Verification:
    bundle: str
    filing_number: str | None = None
    request_id: str | None = None
    checked: list[str] = field(default_factory=list)  # what passed, in Spanish
    findings: list[Finding] = field(default_factory=list)
    signed_by: str | None = None

    @property
    def ok(self) -> bool:
        return not self.findings

    def fail(self, file: str, problem: str) -> None:
        self.findings.append(Finding(file, problem))


class BundleUnreadableError(UgppBridgeError):
    """The file is not a zip at all (the message is Spanish: an auditor reads it)."""


def verify_bundle(
    path: Path,
    checks: BundleChecks,
    *,
    rebuild: Callable[[RebuildPlan], Mapping[str, str]] | None = None,
) -> Verification:
    """Every check above; ``rebuild`` (idEnvio → SHA-256 of the lotes rebuilt from the data)
    adds the source comparison."""
    result = Verification(path.name)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleUnreadableError(
            f"{path.name} no es un archivo zip legible: no es un paquete de evidencia."
        ) from exc
    with archive:
        files = _read_all(archive, result)
        if MANIFEST not in files:
            earlier = (
                " (el paquete trae manifest.json: es del formato de una versión anterior, "
                "sin cadena de auditoría verificable; exporte uno nuevo con `ugpp-bridge "
                "evidence ID --out ARCHIVO.zip` tras `db upgrade`)"
                if "manifest.json" in files
                else ""
            )
            result.fail(
                MANIFEST, f"falta: sin el manifiesto no se puede comprobar ningún archivo{earlier}"
            )
            return result
        manifest = _json_file(files, MANIFEST, result)
        listed = manifest.get("archivos") if isinstance(manifest, dict) else None
        if not isinstance(listed, dict):
            result.fail(MANIFEST, "no tiene la lista de archivos («archivos»)")
            return result
        result.filing_number = str(manifest.get("radicado") or "") or None
        result.request_id = str(manifest.get("idSolicitud") or "") or None
        _check_manifest(files, listed, result)
        _check_seal(files, manifest, checks, result)
        _check_audit(files, result)
        _check_profile(files, checks, result)
        _check_lotes(files, checks, result)
        _check_attempts(files, checks, result)
        if rebuild is not None:
            _check_source(files, rebuild, result)
    return result


def _read_all(archive: zipfile.ZipFile, result: Verification) -> dict[str, bytes]:
    names = Counter(info.filename for info in archive.infolist())
    for name, count in names.items():
        if count > 1:
            result.fail(name, f"aparece {count} veces en el paquete")
    files: dict[str, bytes] = {}
    for info in archive.infolist():
        if info.is_dir():
            continue
        if info.file_size > MAX_ENTRY_BYTES:
            result.fail(info.filename, "es demasiado grande para ser parte de un paquete")
            continue
        try:
            files[info.filename] = archive.read(info)
        except (zipfile.BadZipFile, OSError, ValueError, zlib.error) as exc:
            # zlib.error: a damaged byte inside a compressed entry (its CRC is never reached)
            result.fail(
                info.filename, f"está dañado: no se puede leer del zip ({type(exc).__name__})"
            )
    return files


def _check_manifest(files: dict[str, bytes], listed: dict[str, Any], result: Verification) -> None:
    bad = 0
    for name, expected in sorted(listed.items()):
        if name not in files:
            result.fail(name, "falta: el manifiesto lo lista y no está en el paquete")
            bad += 1
        elif sha256_hex(files[name]) != expected:
            result.fail(name, "su SHA-256 no es el del manifiesto: el archivo fue modificado")
            bad += 1
    for name in sorted(files.keys() - listed.keys() - SEAL_FILES):
        result.fail(name, "no está en el manifiesto: fue agregado después de exportar")
        bad += 1
    if not bad:
        result.checked.append(f"{plural(len(listed), 'archivo', 'archivos')} con el SHA-256 "
                              "del manifiesto")  # fmt: skip


def _check_seal(
    files: dict[str, bytes], manifest: dict[str, Any], checks: BundleChecks, result: Verification
) -> None:
    manifest_sha = sha256_hex(files[MANIFEST])
    for name in (SEAL, CERTIFICATE):
        if name not in files:
            result.fail(name, "falta en el paquete")
    if SEAL in files:
        seal = _json_file(files, SEAL, result)
        if seal.get(MANIFEST) != manifest_sha:
            result.fail(MANIFEST, "su SHA-256 no es el del sello: el manifiesto fue modificado")
        if CERTIFICATE in files and seal.get(CERTIFICATE) != sha256_hex(files[CERTIFICATE]):
            result.fail(CERTIFICATE, "su SHA-256 no es el del sello: la constancia fue modificada")
        _check_signature(files, manifest, seal, checks, result)
    if CERTIFICATE in files:
        pdf = files[CERTIFICATE]
        if not pdf.startswith(b"%PDF-"):
            result.fail(CERTIFICATE, "no es un PDF")
        elif manifest_sha.encode() not in pdf:
            result.fail(CERTIFICATE, "no cita el SHA-256 de este manifiesto")
        else:
            result.checked.append(
                "constancia y manifiesto sellados; la constancia cita el manifiesto"
            )


def _check_signature(
    files: dict[str, bytes],
    manifest: dict[str, Any],
    seal: dict[str, Any],
    checks: BundleChecks,
    result: Verification,
) -> None:
    claims = bool(seal.get("firmado")) or bool(manifest.get("firmado"))
    if not claims and SIGNATURE not in files:
        return
    if SIGNATURE not in files:
        result.fail(SIGNATURE, "falta: el paquete dice estar firmado y la firma no está")
        return
    if PUBLIC_KEY not in files:
        result.fail(PUBLIC_KEY, "falta: sin la clave pública la firma no se puede comprobar")
        return
    key = checks.check_signature(files[PUBLIC_KEY], files[SIGNATURE], files[SEAL])
    if key is None:
        result.fail(SIGNATURE, f"no corresponde a {SEAL} con esta clave pública: la firma o "
                               "el sello fueron modificados")  # fmt: skip
    elif seal.get("huella_clave_publica") not in (None, key):
        result.fail(SEAL, "la huella de la clave pública no es la de clave-publica.pem")
    else:
        result.signed_by = key
        result.checked.append("firma Ed25519 del sello válida")


def _check_audit(files: dict[str, bytes], result: Verification) -> None:
    name = "auditoria.json"
    if name not in files:
        return  # reported by the manifest check if it was listed
    audit = _json_file(files, name, result)
    try:
        segment = AuditSegment(
            entries=tuple(
                AuditEntry(
                    seq=int(e["seq"]),
                    at=datetime.fromisoformat(e["fecha"]).astimezone(UTC),
                    actor=e["actor"],
                    action=e["accion"],
                    filing_number=e["radicado"],
                    details=e["detalles"],
                    reason=e["motivo"],
                    prev_hash=e["hash_anterior"],
                    hash=e["hash"],
                )
                for e in audit["entradas"]
            ),
            links=tuple(
                AuditLink(int(k["seq"]), k["hash_anterior"], k["hash"]) for k in audit["enlaces"]
            ),
            head_seq=int(audit["cabeza"]["seq"]),
            head_hash=audit["cabeza"]["hash"],
        )
    except (KeyError, TypeError, ValueError):
        result.fail(name, "no tiene la forma esperada (entradas, enlaces, cabeza)")
        return
    problems = verify_segment(segment)
    others = [e.seq for e in segment.entries if e.filing_number != result.filing_number]
    if others:
        problems.append(f"las entradas {others[:5]} son de otra solicitud")
    for problem in problems:
        result.fail(name, problem)
    if not problems:
        result.checked.append(
            f"{plural(len(segment.entries), 'entrada', 'entradas')} de auditoría enlazadas "
            f"hasta la cabeza {segment.head_seq}"
        )


def _lote_files(files: dict[str, bytes]) -> dict[str, str]:
    """idEnvio → file name of each lote XML in the bundle."""
    return {
        name.removeprefix("lotes/").removesuffix(".xml"): name
        for name in files
        if name.startswith("lotes/") and name.endswith(".xml")
    }


def _check_profile(files: dict[str, bytes], checks: BundleChecks, result: Verification) -> None:
    """SPEC §10: the lotes are read under the configured profile; the build recorded the one
    it wrote them in. A file that differs is named (the lotes' checks below then use the
    configured profile's schemas, which may not be the build's)."""
    builds = _json_bytes(files.get("construcciones.json", b"[]"))
    current = _json_bytes(files.get("solicitud.json", b"{}")).get("construccionActual")
    recorded = {b.get("construccion"): b.get("perfil") for b in builds if isinstance(b, dict)}
    profile = recorded.get(current)
    if not isinstance(profile, dict):
        return  # built before profiles (v1), or no build recorded (said elsewhere)
    theirs = profile.get("archivos") or {}
    ours = dict(checks.profile_files)
    differing = sorted(n for n in set(theirs) | set(ours) if theirs.get(n) != ours.get(n))
    label = f"{profile.get('nombre')} {profile.get('version')}"
    if differing:
        result.fail("construcciones.json", f"el perfil de intercambio de la construcción "
                    f"({label}) no es el configurado ({checks.profile_label}): difieren "
                    f"{', '.join(differing)}")  # fmt: skip
    else:
        result.checked.append(f"perfil de intercambio {label}: los {len(ours)} archivos con el "
                              "SHA-256 de la construcción")  # fmt: skip


def _check_lotes(files: dict[str, bytes], checks: BundleChecks, result: Verification) -> None:
    lotes = _lote_files(files)
    bad = 0
    for submission, name in sorted(lotes.items()):
        problem = checks.lote_problem(files[name])
        if problem:
            result.fail(name, problem)
            bad += 1
        record = files.get(f"lotes/{submission}.json")
        if record is not None:
            stated = _json_bytes(record).get("sha256")
            if stated != sha256_hex(files[name]):
                result.fail(name, "su SHA-256 no es el que registró el puente al guardarlo")
                bad += 1
    if lotes and not bad:
        result.checked.append(f"{plural(len(lotes), 'lote', 'lotes')} válidos frente a "
                              f"los esquemas del perfil {checks.profile_label}")  # fmt: skip


def _check_attempts(files: dict[str, bytes], checks: BundleChecks, result: Verification) -> None:
    name = "envios.json"
    if name not in files:
        return
    attempts = _json_file(files, name, result)
    if not isinstance(attempts, list):
        result.fail(name, "no es una lista de intentos")
        return
    lotes = _lote_files(files)
    canonical_lotes: dict[str, bytes | None] = {}
    bad = 0
    for attempt in attempts:
        request_file = attempt.get("peticion")
        data = files.get(request_file or "")
        if data is None:
            result.fail(str(request_file), "falta: es la petición de un intento registrado")
            bad += 1
            continue
        if attempt.get("sha256_enviado") != sha256_hex(data):
            result.fail(request_file, "su SHA-256 no es el registrado para ese intento")
            bad += 1
        submission = str(attempt.get("idEnvio"))
        if submission not in lotes:
            result.fail(request_file, f"envía el lote {submission}, que no está en el paquete")
            bad += 1
            continue
        if submission not in canonical_lotes:
            canonical_lotes[submission] = checks.canonical(files[lotes[submission]])
        carried = checks.canonical_body_child(data)
        if carried is None or carried != canonical_lotes[submission]:
            result.fail(request_file, f"no lleva el lote {submission} tal como está guardado")
            bad += 1
    if attempts and not bad:
        result.checked.append(f"{plural(len(attempts), 'intento', 'intentos')} de envío con "
                              "exactamente su lote")  # fmt: skip


def _check_source(
    files: dict[str, bytes],
    rebuild: Callable[[RebuildPlan], Mapping[str, str]],
    result: Verification,
) -> None:
    try:
        plan = _rebuild_plan(files)
    except _NotRebuildable as exc:
        result.fail(exc.file, f"no se puede reconstruir desde el origen: {exc}")
        return
    expected = {
        submission: sha256_hex(files[name])
        for submission, name in _lote_files(files).items()
        if submission.startswith(f"{plan.context.filing_number}-G{plan.context.generation}-")
    }
    rebuilt = rebuild(plan)
    for submission in sorted(expected.keys() | rebuilt.keys()):
        name = f"lotes/{submission}.xml"
        if submission not in rebuilt:
            result.fail(name, "los datos de origen ya no producen este lote")
        elif submission not in expected:
            result.fail(name, "los datos de origen producen un lote más que la construcción")
        elif rebuilt[submission] != expected[submission]:
            result.fail(name, "reconstruido desde el origen, su SHA-256 es distinto: los datos "
                              "cambiaron desde la construcción")  # fmt: skip
    if expected and expected == dict(rebuilt):
        result.checked.append(
            f"{plural(len(expected), 'lote', 'lotes')} de la construcción "
            f"{plan.context.generation} reconstruidos desde el origen con el mismo SHA-256"
        )


class _NotRebuildable(Exception):
    def __init__(self, file: str, why: str) -> None:
        super().__init__(why)
        self.file = file


def _rebuild_plan(files: dict[str, bytes]) -> RebuildPlan:
    request_json = _json_bytes(files.get("solicitud.json", b"{}"))
    generation = request_json.get("construccionActual")
    builds = _json_bytes(files.get("construcciones.json", b"[]"))
    build = next((b for b in builds if b.get("construccion") == generation), None)
    if not generation or build is None:
        raise _NotRebuildable("construcciones.json", "la construcción actual no registró con qué "
                                                     "se hizo")  # fmt: skip
    try:
        request = FinancialInfoRequest(
            request_id=request_json["idSolicitud"],
            operator_nit=request_json["nitOperador"],
            requested_on=date.fromisoformat(request_json["fechaSolicitud"]),
            term_starts_on=date.fromisoformat(request_json["fechaInicioTermino"]),
            information_types=frozenset(
                InformationType(t) for t in request_json["tiposInformacion"]
            ),
            periods=tuple(Period(p["anio"], p["mes"]) for p in request_json["periodos"]),
            persons=tuple(
                PersonId(p["tipoDocumento"], p["numeroDocumento"]) for p in request_json["personas"]
            ),
        )
    except (KeyError, TypeError, ValueError, UgppBridgeError) as exc:
        raise _NotRebuildable("solicitud.json", f"la solicitud no se puede leer ({exc})") from exc
    filing = request_json["radicado"]
    records = [
        _json_bytes(data)
        for name, data in files.items()
        if name.startswith(f"lotes/{filing}-G{generation}-") and name.endswith(".json")
    ]
    corrects = {
        int(r["numeroLote"]): str(r["idEnvioCorregido"])
        for r in records
        if r.get("idEnvioCorregido")
    }
    kind = SubmissionType.CORRECTION if corrects else SubmissionType.ORIGINAL
    context = LoteContext(
        request_id=request.request_id,
        filing_number=filing,
        generation=int(generation),
        operator_nit=build["nitOperador"],
        operator_name=build["nombreOperador"],
        generated_at=datetime.fromisoformat(build["fechaGeneracion"]),
        submission_type=kind,
        corrects=corrects,
        persons=request.person_keys,
    )
    return RebuildPlan(
        request, context, int(build["registrosPorLote"]), int(build["digitosCuenta"])
    )


def _json_file(files: dict[str, bytes], name: str, result: Verification) -> Any:
    try:
        return json.loads(files[name])
    except (ValueError, UnicodeDecodeError):
        result.fail(name, "no es JSON válido")
        return {}


def _json_bytes(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return {}
