<?xml version="1.0" encoding="UTF-8"?>
<!-- For ugpp-sim: a v1 AcuseReporte → the annex's ConstanciaRecibo. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:e="urn:anexo-prueba:entrega:2019" xmlns:r="urn:ugpp-bridge:reporte:v1"
                exclude-result-prefixes="r">
  <xsl:template match="/r:AcuseReporte">
    <e:ConstanciaRecibo>
      <e:numeroConstancia><xsl:value-of select="r:radicadoUGPP"/></e:numeroConstancia>
      <e:fechaHora><xsl:value-of select="r:fechaRecepcion"/></e:fechaHora>
      <e:estado>ACEPTADO</e:estado>
      <e:observacion>Recibido por el simulador.</e:observacion>
    </e:ConstanciaRecibo>
  </xsl:template>
</xsl:stylesheet>
