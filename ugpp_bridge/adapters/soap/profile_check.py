"""``wire check`` (SPEC §10): a profile proved step by step, each step a Spanish ✓ or ✗ with the
file, line and element of its first problem.

The steps that need the wire alone live here; the one that builds the sample bank's lotes is
given by the caller (it needs a source and the build), as ``lotes``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from lxml import etree
from zeep import Client
from zeep.exceptions import Error as ZeepError

from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.adapters.soap.inbound import paso1_requests
from ugpp_bridge.adapters.soap.profile import (
    ProfileError,
    TransformTerminated,
    WireProfile,
    load_profile,
)
from ugpp_bridge.adapters.soap.solicitud_xml import acuse_element, profile_request
from ugpp_bridge.domain.filing import BOGOTA, Receipt, ReceiptStatus
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.errors import ConfigurationError, InvalidInputError, SchemaValidationError

OK, FAIL = "✓", "✗"


@dataclass(frozen=True)
class Step:
    status: str
    what: str
    detail: str = ""


class StepFailed(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


# The sample bank's lotes for a request (None: the demo's), made and validated under the
# profile; each lote's parameters (idSolicitud, idEnvio, numeroLote, totalRegistros).
LoteMaker = Callable[[WireProfile, FinancialInfoRequest | None], list[dict[str, str]]]


def check_profile(setting: str | Path, lotes: LoteMaker) -> Iterator[Step]:
    """Every step of ``wire check``; stops after a profile that does not load."""
    try:
        profile = load_profile(setting)
    except ProfileError as exc:
        yield Step(FAIL, "Perfil", _profile_problem(exc))
        return
    files = len(profile.files)
    yield Step(OK, "Perfil", f"{profile.label}: {files} archivos; esquemas y transformaciones "
               "compilados sin mensajes")  # fmt: skip
    yield _step("WSDL de Paso 1", lambda: _paso1_wsdl(profile))
    yield _step("WSDL de Paso 2", lambda: _paso2_wsdl(profile))
    request: list[FinancialInfoRequest] = []
    yield _step("Solicitud de ejemplo", lambda: _example_request(profile, request))
    if request:
        yield _step("Acuse de la solicitud", lambda: _receipt(profile, request[0]))
    made: list[dict[str, str]] = []
    yield _step("Lotes del banco de ejemplo", lambda: _lotes(profile, lotes, request, made))
    yield _step("Acuse de ejemplo", lambda: _example_ack(profile, made))
    if profile.simulator_request is not None or profile.simulator_ack is not None:
        yield _step("Transformaciones del simulador", lambda: _simulator(profile, request))


def _step(what: str, run: Callable[[], str]) -> Step:
    try:
        return Step(OK, what, run())
    except StepFailed as exc:
        return Step(FAIL, what, exc.detail)
    except ProfileError as exc:
        return Step(FAIL, what, _profile_problem(exc))
    except TransformTerminated as exc:
        return Step(FAIL, what, f"{exc.file}: la transformación se detuvo: {exc.text}")
    except SchemaValidationError as exc:
        issue = exc.issues[0]
        return Step(FAIL, what, f"la salida no cumple {exc.schema}: línea {issue.line}, elemento "
                    f"«{issue.element}»: {issue.reason}")  # fmt: skip
    except (InvalidInputError, ConfigurationError) as exc:
        return Step(FAIL, what, str(exc))


def _profile_problem(exc: ProfileError) -> str:
    where = f"{exc.file}, línea {exc.line}" if exc.line else exc.file
    return f"{where}: {exc.text}"


def _paso1_wsdl(profile: WireProfile) -> str:
    tree = etree.parse(str(profile.paso1.wsdl), wire.secure_parser())
    name = profile.paso1.wsdl.name
    if next(tree.iter(f"{{{wire.WSDL_SOAP_NS}}}binding"), None) is None:
        raise StepFailed(f"{name}: no tiene un binding SOAP 1.1; el Paso 1 del puente atiende "
                         "SOAP 1.1")  # fmt: skip
    elements = paso1_requests(profile)
    if not elements:
        raise StepFailed(f"{name}: ninguna operación tiene un mensaje de entrada con elemento")
    for element in sorted(elements):
        namespace = etree.QName(element).namespace or ""
        if namespace not in profile.paso1.schemas.compiled:
            raise StepFailed(f"{name}: el elemento {element} no está en los esquemas de paso1")
    names = ", ".join(etree.QName(e).localname for e in sorted(elements))
    return f"{name}: SOAP 1.1, petición {names}"


def _paso2_wsdl(profile: WireProfile) -> str:
    from ugpp_bridge.adapters.soap.zeep_gateway import bind_operation  # zeep: slow to load

    name = profile.paso2.wsdl.name
    try:
        client = Client(str(profile.paso2.wsdl))  # type: ignore[no-untyped-call]
    except (ZeepError, OSError, etree.XMLSyntaxError) as exc:
        raise StepFailed(f"{name}: zeep no puede cargarlo ({exc})") from exc
    bound = bind_operation(client, profile.paso2, str(profile.paso2.wsdl))
    version = "SOAP 1.2" if bound.soap12 else "SOAP 1.1"
    return f"{name}: operación {profile.paso2.operation} en {version}"


def _example_request(profile: WireProfile, out: list[FinancialInfoRequest]) -> str:
    path = profile.example_request
    if path is None:
        return "sin examples.request: se usa la solicitud de la demostración para los lotes"
    element = etree.parse(str(path), wire.secure_parser(inbound=True)).getroot()
    request = profile_request(profile, element)
    out.append(request)
    persons = len(request.persons)
    return (f"{path.name} → Solicitud v1 válida ({request.request_id}, "
            f"{persons} persona{'s' if persons != 1 else ''})")  # fmt: skip


def _receipt(profile: WireProfile, request: FinancialInfoRequest) -> str:
    receipt = Receipt(
        request.request_id, "UB-2026-000001", ReceiptStatus.RECEIVED,
        datetime.now(UTC).astimezone(BOGOTA), date.today(), len(request.persons),
    )  # fmt: skip
    acuse = acuse_element(receipt)
    element = acuse if profile.paso1.receipt is None else profile.paso1.receipt(acuse)
    profile.paso1.schemas.validate(element)
    via = profile.paso1.receipt.file if profile.paso1.receipt else "sin transformación"
    return f"AcuseSolicitud → {etree.QName(element).localname} válido ({via})"


def _lotes(
    profile: WireProfile,
    lotes: LoteMaker,
    request: list[FinancialInfoRequest],
    made: list[dict[str, str]],
) -> str:
    built = lotes(profile, request[0] if request else None)
    made.extend(built)
    records = sum(int(parameters["totalRegistros"]) for parameters in built)
    via = profile.paso2.lote.file if profile.paso2.lote else "sin transformación"
    schemas = ", ".join(profile.paso2.schemas.files)
    return f"{len(built)} lote(s), {records} registros → válidos bajo {schemas} ({via})"


def _example_ack(profile: WireProfile, made: list[dict[str, str]]) -> str:
    path = profile.example_ack
    if path is None:
        return "sin examples.ack: no se comprobó la lectura del acuse"
    element = etree.parse(str(path), wire.secure_parser(inbound=True)).getroot()
    profile.paso2.schemas.validate(element)
    parameters = made[0] if made else {"idSolicitud": "X", "idEnvio": "X-1", "numeroLote": "1",
                                       "totalRegistros": "1"}  # fmt: skip
    names = ("idSolicitud", "idEnvio", "numeroLote", "totalRegistros")
    read = element
    if profile.paso2.ack is not None:
        read = profile.paso2.ack(element, **{name: parameters.get(name, "") for name in names})
    acuse = wire.read_acuse_element(read)
    if acuse is None or not acuse.radicado:
        raise StepFailed(f"{path.name}: la transformación no da un AcuseReporte v1 con "
                         "radicadoUGPP")  # fmt: skip
    extra = f"; elementos que v1 no conoce: {', '.join(acuse.unknown)}" if acuse.unknown else ""
    return f"{path.name} → AcuseReporte v1 con radicadoUGPP {acuse.radicado}{extra}"


def _simulator(profile: WireProfile, request: list[FinancialInfoRequest]) -> str:
    from ugpp_bridge.adapters.soap.solicitud_xml import solicitud_to_xml

    done = []
    if profile.simulator_request is not None and request:
        v1 = etree.fromstring(solicitud_to_xml(request[0]), wire.secure_parser())
        profile.paso1.schemas.validate(profile.simulator_request(v1))
        done.append(profile.simulator_request.file)
    if profile.simulator_ack is not None:
        ns = wire.REPORTE_NS
        acuse = etree.Element(f"{{{ns}}}AcuseReporte", nsmap={None: ns})  # type: ignore[dict-item]
        etree.SubElement(acuse, f"{{{ns}}}radicadoUGPP").text = "UGPP-R-000001"
        etree.SubElement(acuse, f"{{{ns}}}fechaRecepcion").text = "2026-01-01T08:00:00-05:00"
        profile.paso2.schemas.validate(profile.simulator_ack(acuse))
        done.append(profile.simulator_ack.file)
    return f"{', '.join(done)}: salidas válidas bajo los esquemas del perfil"
