<?xml version="1.0" encoding="UTF-8"?>
<!-- Paso 2: the annex's ConstanciaRecibo (no identifiers of its own) → a v1 AcuseReporte; a
     RECHAZADO constancia rejects the lote. What v1 does not know is carried over as it is. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:e="urn:anexo-prueba:entrega:2019" xmlns:r="urn:ugpp-bridge:reporte:v1"
                exclude-result-prefixes="e">
  <xsl:param name="idSolicitud"/>
  <xsl:param name="idEnvio"/>
  <xsl:param name="numeroLote"/>
  <xsl:param name="totalRegistros"/>
  <xsl:template match="/e:ConstanciaRecibo">
    <xsl:if test="e:estado = 'RECHAZADO'">
      <xsl:message terminate="yes">RECHAZO: <xsl:value-of select="e:observacion"/></xsl:message>
    </xsl:if>
    <r:AcuseReporte>
      <r:idSolicitud><xsl:value-of select="$idSolicitud"/></r:idSolicitud>
      <r:idEnvio><xsl:value-of select="$idEnvio"/></r:idEnvio>
      <r:numeroLote><xsl:value-of select="$numeroLote"/></r:numeroLote>
      <r:radicadoUGPP><xsl:value-of select="e:numeroConstancia"/></r:radicadoUGPP>
      <r:fechaRecepcion><xsl:value-of select="e:fechaHora"/></r:fechaRecepcion>
      <r:registrosRecibidos><xsl:value-of select="$totalRegistros"/></r:registrosRecibidos>
      <xsl:copy-of select="*[not(self::e:numeroConstancia or self::e:fechaHora or self::e:estado)]"/>
    </r:AcuseReporte>
  </xsl:template>
  <xsl:template match="/*[not(self::e:ConstanciaRecibo)]">
    <xsl:message terminate="yes">la respuesta no es una ConstanciaRecibo</xsl:message>
  </xsl:template>
</xsl:stylesheet>
