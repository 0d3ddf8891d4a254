<?xml version="1.0" encoding="UTF-8"?>
<!-- For ugpp-sim and demo: a v1 Solicitud → the annex's PeticionInformacion. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:sol="urn:ugpp-bridge:solicitud:v1" xmlns:p="urn:anexo-prueba:peticion:2019"
                exclude-result-prefixes="sol">
  <xsl:include href="codigos.xsl"/>
  <xsl:template match="/sol:Solicitud">
    <xsl:variable name="dv">
      <xsl:call-template name="digito-verificacion"><xsl:with-param name="nit" select="sol:nitOperador"/></xsl:call-template>
    </xsl:variable>
    <p:PeticionInformacion numero="{sol:idSolicitud}" nitEntidad="{concat(sol:nitOperador, '-', $dv)}"
                           fecha="{sol:fechaSolicitud}" inicioTermino="{sol:fechaInicioTermino}">
      <xsl:for-each select="sol:tiposInformacion/sol:tipoInformacion">
        <p:Tipo>
          <xsl:attribute name="codigo">
            <xsl:choose>
              <xsl:when test=". = 'CUENTAS'">1</xsl:when>
              <xsl:when test=". = 'INVERSIONES'">2</xsl:when>
              <xsl:otherwise>3</xsl:otherwise>
            </xsl:choose>
          </xsl:attribute>
        </p:Tipo>
      </xsl:for-each>
      <xsl:for-each select="sol:periodos/sol:periodo">
        <p:Periodo valor="{concat(sol:anio, format-number(sol:mes, '00'))}"/>
      </xsl:for-each>
      <xsl:for-each select="sol:personas/sol:persona">
        <p:Persona id="{sol:numeroDocumento}">
          <xsl:attribute name="tipoId">
            <xsl:call-template name="codigo-documento"><xsl:with-param name="tipo" select="sol:tipoDocumento"/></xsl:call-template>
          </xsl:attribute>
        </p:Persona>
      </xsl:for-each>
    </p:PeticionInformacion>
  </xsl:template>
</xsl:stylesheet>
