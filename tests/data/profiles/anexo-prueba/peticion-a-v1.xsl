<?xml version="1.0" encoding="UTF-8"?>
<!-- Paso 1: the annex's PeticionInformacion → a v1 Solicitud. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:p="urn:anexo-prueba:peticion:2019" xmlns="urn:ugpp-bridge:solicitud:v1"
                exclude-result-prefixes="p">
  <xsl:include href="codigos.xsl"/>
  <xsl:template match="/p:PeticionInformacion">
    <xsl:variable name="nit" select="substring-before(@nitEntidad, '-')"/>
    <xsl:variable name="dv">
      <xsl:call-template name="digito-verificacion"><xsl:with-param name="nit" select="$nit"/></xsl:call-template>
    </xsl:variable>
    <xsl:if test="string($dv) != substring-after(@nitEntidad, '-')">
      <xsl:message terminate="yes">el dígito de verificación del NIT no corresponde</xsl:message>
    </xsl:if>
    <Solicitud>
      <idSolicitud><xsl:value-of select="@numero"/></idSolicitud>
      <nitOperador><xsl:value-of select="$nit"/></nitOperador>
      <fechaSolicitud><xsl:value-of select="@fecha"/></fechaSolicitud>
      <fechaInicioTermino><xsl:value-of select="@inicioTermino"/></fechaInicioTermino>
      <tiposInformacion>
        <xsl:for-each select="p:Tipo">
          <tipoInformacion>
            <xsl:choose>
              <xsl:when test="@codigo = 1">CUENTAS</xsl:when>
              <xsl:when test="@codigo = 2">INVERSIONES</xsl:when>
              <xsl:otherwise>FIDUCIARIA</xsl:otherwise>
            </xsl:choose>
          </tipoInformacion>
        </xsl:for-each>
      </tiposInformacion>
      <periodos>
        <xsl:for-each select="p:Periodo">
          <periodo>
            <anio><xsl:value-of select="substring(@valor, 1, 4)"/></anio>
            <mes><xsl:value-of select="number(substring(@valor, 5, 2))"/></mes>
          </periodo>
        </xsl:for-each>
      </periodos>
      <personas>
        <xsl:for-each select="p:Persona">
          <persona>
            <tipoDocumento>
              <xsl:call-template name="tipo-documento"><xsl:with-param name="codigo" select="@tipoId"/></xsl:call-template>
            </tipoDocumento>
            <numeroDocumento><xsl:value-of select="@id"/></numeroDocumento>
          </persona>
        </xsl:for-each>
      </personas>
    </Solicitud>
  </xsl:template>
</xsl:stylesheet>
