"""UGPP's side of Paso 1, with zeep: send a ``Solicitud`` with a UsernameToken, get the receipt.

Used by ``ugpp-bridge ugpp-sim send-request`` and the tests — a real SOAP client exercising the
bridge exactly as UGPP would (WSDL fetched from ``?wsdl``, document/literal, WS-Security). The
call goes to ``url``, the address the caller was given, whatever the WSDL names.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import requests
from lxml import etree
from zeep import Client, Settings
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, TransportError
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from ugpp_bridge.adapters.soap import wire
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.errors import RemoteFaultError, RemoteUnavailableError

OPERATION_TIMEOUT = 60
BINDING = "{urn:ugpp-bridge:solicitud:v1}SolicitudesSoap11"


@dataclass(frozen=True)
class SolicitudReceipt:
    """``AcuseSolicitud`` as received."""

    request_id: str
    filing_number: str
    status: str
    received_at: str
    due_date: str
    total_persons: int


def send_solicitud(
    url: str,
    request: FinancialInfoRequest,
    *,
    username: str,
    password: str,
    use_digest: bool = True,
    timeout: int = OPERATION_TIMEOUT,
) -> SolicitudReceipt:
    """Call ``RecibirSolicitud`` at ``url``; faults and transport errors become our errors."""
    session = requests.Session()
    transport = Transport(session=session, timeout=timeout, operation_timeout=timeout)
    try:
        client = Client(
            f"{url}?wsdl",
            transport=transport,
            wsse=UsernameToken(username, password, use_digest=use_digest),
            settings=Settings(strict=True, xml_huge_tree=False),
        )
        service = client.create_service(BINDING, url)
        answer = service.RecibirSolicitud(**solicitud_arguments(request))
    except Fault as exc:
        code = (exc.message or "").split(":", 1)[0]
        raise RemoteFaultError(code, exc.message or "", str(exc.code or "")) from exc
    except (TransportError, requests.RequestException, ZeepError) as exc:
        raise RemoteUnavailableError(
            f"The SOAP service at {url} could not be reached: {exc}"
        ) from exc
    finally:
        session.close()
    return SolicitudReceipt(
        request_id=answer.idSolicitud,
        filing_number=answer.radicado,
        status=answer.estado,
        received_at=answer.fechaRecepcion.isoformat(),
        due_date=answer.fechaVencimiento.isoformat(),
        total_persons=int(answer.totalPersonas),
    )


def solicitud_arguments(request: FinancialInfoRequest) -> dict[str, Any]:
    """The keyword arguments of ``service.RecibirSolicitud`` (SPEC §4) for ``request``."""
    return {
        "idSolicitud": request.request_id,
        "nitOperador": request.operator_nit,
        "fechaSolicitud": request.requested_on,
        "fechaInicioTermino": request.term_starts_on,
        "tiposInformacion": {"tipoInformacion": sorted(t.value for t in request.information_types)},
        "periodos": {"periodo": [{"anio": p.year, "mes": p.month} for p in request.periods]},
        "personas": {
            "persona": [
                {"tipoDocumento": p.doc_type, "numeroDocumento": p.doc_number}
                for p in request.persons
            ]
        },
    }


def send_profile_request(
    url: str,
    document: etree._Element,
    *,
    username: str,
    password: str,
    use_digest: bool = True,
    timeout: int = OPERATION_TIMEOUT,
) -> etree._Element:
    """SPEC §10: a profile's Paso 1 request element, sent as UGPP would (SOAP 1.1, a
    UsernameToken, no SOAPAction needed); the answer's Body element, or our errors."""
    envelope = etree.Element(f"{{{wire.SOAP_ENV}}}Envelope", nsmap={"soapenv": wire.SOAP_ENV})
    etree.SubElement(envelope, f"{{{wire.SOAP_ENV}}}Header")
    etree.SubElement(envelope, f"{{{wire.SOAP_ENV}}}Body").append(copy.deepcopy(document))
    envelope, _ = UsernameToken(username, password, use_digest=use_digest).apply(envelope, {})
    data = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    try:
        answer = requests.post(url, data=data, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise RemoteUnavailableError(
            f"The SOAP service at {url} could not be reached: {exc}"
        ) from exc
    root = wire.answer_root(answer.content)
    fault = None if root is None else wire.read_fault(root)
    if fault is not None:
        raise RemoteFaultError(fault.code, fault.message, fault.faultcode)
    child = None if root is None else wire.body_child(root)
    if child is None:
        raise RemoteUnavailableError(f"HTTP {answer.status_code}: the answer has no SOAP Body.")
    return child
