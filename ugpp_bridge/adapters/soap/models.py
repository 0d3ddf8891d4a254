"""spyne's model of the Paso 1 contract, mirroring ``xsd/solicitud-v1.xsd``.

spyne is code-first: it generates the WSDL it serves from these classes. ``xsd/`` and ``wsdl/``
stay the truth; ``tests/integration/test_paso1_wsdl.py`` proves that what spyne serves is
equivalent to them (operation, elements, occurrences, types and restrictions).
"""

from __future__ import annotations

from ugpp_bridge.adapters.soap.spyne_compat import ensure_spyne_importable

ensure_spyne_importable()

from spyne import ComplexModel, Date, DateTime, Int, Integer, Unicode  # noqa: E402

from ugpp_bridge.adapters.soap.wire import SOLICITUD_NS  # noqa: E402
from ugpp_bridge.domain.codes import InformationType  # noqa: E402
from ugpp_bridge.domain.identifiers import DOCUMENT_TYPES  # noqa: E402

REQUIRED = {"min_occurs": 1, "nillable": False}


class Periodo(ComplexModel):  # type: ignore[misc]
    __namespace__ = SOLICITUD_NS
    _type_info = [
        ("anio", Int(ge=2000, le=2100, **REQUIRED)),
        ("mes", Int(ge=1, le=12, **REQUIRED)),
    ]


class Persona(ComplexModel):  # type: ignore[misc]
    __namespace__ = SOLICITUD_NS
    _type_info = [
        ("tipoDocumento", Unicode(values=list(DOCUMENT_TYPES), **REQUIRED)),
        ("numeroDocumento", Unicode(pattern="[A-Za-z0-9]{1,16}", **REQUIRED)),
    ]


class TiposInformacion(ComplexModel):  # type: ignore[misc]
    __namespace__ = SOLICITUD_NS
    _type_info = [
        (
            "tipoInformacion",
            Unicode(values=[t.value for t in InformationType], max_occurs=3, **REQUIRED),
        ),
    ]


class Periodos(ComplexModel):  # type: ignore[misc]
    __namespace__ = SOLICITUD_NS
    _type_info = [("periodo", Periodo.customize(max_occurs="unbounded", **REQUIRED))]


class Personas(ComplexModel):  # type: ignore[misc]
    __namespace__ = SOLICITUD_NS
    _type_info = [("persona", Persona.customize(max_occurs="unbounded", **REQUIRED))]


class Solicitud(ComplexModel):  # type: ignore[misc]
    __namespace__ = SOLICITUD_NS
    _type_info = [
        ("idSolicitud", Unicode(min_len=1, max_len=36, **REQUIRED)),
        ("nitOperador", Unicode(pattern="[0-9]{6,15}", **REQUIRED)),
        ("fechaSolicitud", Date(**REQUIRED)),
        ("fechaInicioTermino", Date(**REQUIRED)),
        ("tiposInformacion", TiposInformacion.customize(**REQUIRED)),
        ("periodos", Periodos.customize(**REQUIRED)),
        ("personas", Personas.customize(**REQUIRED)),
    ]


class AcuseSolicitud(ComplexModel):  # type: ignore[misc]
    __namespace__ = SOLICITUD_NS
    _type_info = [
        ("idSolicitud", Unicode(min_len=1, max_len=36, **REQUIRED)),
        ("radicado", Unicode(min_len=1, max_len=40, **REQUIRED)),
        ("estado", Unicode(values=["RECIBIDA", "DUPLICADA"], **REQUIRED)),
        ("fechaRecepcion", DateTime(pattern=r".+(Z|[+\-][0-9]{2}:[0-9]{2})", **REQUIRED)),
        ("fechaVencimiento", Date(**REQUIRED)),
        ("totalPersonas", Integer(ge=1, **REQUIRED)),
    ]
