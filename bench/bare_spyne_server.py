"""The ceiling of our stack for Paso 1: spyne + waitress that only parses and validates.

Same spyne models, same SOAP 1.1 protocol with lxml schema validation, same WSGI server and
threads as `ugpp-bridge serve`; it answers a fixed AcuseSolicitud and stores nothing.

    python bench/bare_spyne_server.py PORT
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ugpp_bridge.adapters.soap.models import AcuseSolicitud, Solicitud  # noqa: E402
from ugpp_bridge.adapters.soap.spyne_compat import ensure_spyne_importable  # noqa: E402
from ugpp_bridge.adapters.soap.wire import SOLICITUD_NS  # noqa: E402
from ugpp_bridge.domain.filing import BOGOTA  # noqa: E402

ensure_spyne_importable()

import waitress  # noqa: E402
from spyne import Application, ServiceBase, rpc  # noqa: E402
from spyne.protocol.soap import Soap11  # noqa: E402
from spyne.server.wsgi import WsgiApplication  # noqa: E402


class Bare(ServiceBase):  # type: ignore[misc]
    @rpc(
        Solicitud,
        _returns=AcuseSolicitud,
        _body_style="bare",
        _operation_name="RecibirSolicitud",
        _in_message_name="Solicitud",
        _out_message_name="AcuseSolicitud",
    )
    def RecibirSolicitud(ctx, solicitud):  # type: ignore[no-untyped-def]  # noqa: N802, N805
        return AcuseSolicitud(
            idSolicitud=solicitud.idSolicitud,
            radicado="UB-2026-000001",
            estado="RECIBIDA",
            fechaRecepcion=datetime.now(BOGOTA).replace(microsecond=0),
            fechaVencimiento=date(2026, 12, 7),
            totalPersonas=len(solicitud.personas.persona),
        )


def app() -> WsgiApplication:
    application = Application(
        [Bare],
        tns=SOLICITUD_NS,
        name="Solicitudes",
        in_protocol=Soap11(validator="lxml"),
        out_protocol=Soap11(),
    )
    return WsgiApplication(application, max_content_length=2**30)


if __name__ == "__main__":
    waitress.serve(
        app(), host="127.0.0.1", port=int(sys.argv[1]), threads=8, max_request_body_size=2**30
    )
