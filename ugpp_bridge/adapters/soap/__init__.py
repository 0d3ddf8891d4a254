"""The wire (SPEC §4, §5, §10): namespaces and the secure parser (``wire``), the Solicitud and
the lotes as XML (``solicitud_xml``, ``xml_lotes``), Paso 1's front behind spyne (``inbound``,
``models``, ``spyne_compat``), WS-Security (``wsse``), and the zeep clients of Paso 1 and
Paso 2 (``paso1_client``, ``zeep_gateway``). Every library error of this room is translated to
``ugpp_bridge.errors`` here, once."""
