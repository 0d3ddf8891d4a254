<?xml version="1.0" encoding="UTF-8"?>
<!-- Paso 1: a v1 AcuseSolicitud → the annex's RespuestaPeticion. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:sol="urn:ugpp-bridge:solicitud:v1" xmlns:p="urn:anexo-prueba:peticion:2019"
                exclude-result-prefixes="sol">
  <xsl:template match="/sol:AcuseSolicitud">
    <p:RespuestaPeticion numero="{sol:idSolicitud}" radicado="{sol:radicado}"
                         recibida="{sol:fechaRecepcion}" vence="{sol:fechaVencimiento}"
                         personas="{sol:totalPersonas}">
      <xsl:attribute name="estado">
        <xsl:choose>
          <xsl:when test="sol:estado = 'DUPLICADA'">REPETIDA</xsl:when>
          <xsl:otherwise>RECIBIDA</xsl:otherwise>
        </xsl:choose>
      </xsl:attribute>
    </p:RespuestaPeticion>
  </xsl:template>
</xsl:stylesheet>
