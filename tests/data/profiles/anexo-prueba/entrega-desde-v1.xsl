<?xml version="1.0" encoding="UTF-8"?>
<!-- Paso 2: a v1 Reporte (one lote) → the annex's EntregaInformacion, records grouped by
     person in the request's order (the ordenPersonas parameter). -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:r="urn:ugpp-bridge:reporte:v1" xmlns:e="urn:anexo-prueba:entrega:2019"
                xmlns:str="http://exslt.org/strings"
                extension-element-prefixes="str" exclude-result-prefixes="r str">
  <xsl:include href="codigos.xsl"/>
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>
  <xsl:param name="ordenPersonas"/>
  <xsl:param name="numeroLote"/>
  <xsl:param name="totalLotes"/>
  <xsl:key name="registros" match="r:cuenta | r:inversion | r:rendimiento | r:persona"
           use="concat(r:tipoDocumento, ':', r:numeroDocumento)"/>
  <xsl:variable name="lote" select="/"/>
  <xsl:variable name="orden" select="concat(' ', $ordenPersonas, ' ')"/>

  <xsl:template match="/r:Reporte">
    <xsl:variable name="h" select="r:encabezado"/>
    <e:EntregaInformacion>
      <e:Control solicitud="{$h/r:idSolicitud}" radicado="{$h/r:radicado}" envio="{$h/r:idEnvio}"
                 entidad="{concat($h/r:nitOperador, '-', $h/r:dvOperador)}"
                 nombre="{$h/r:razonSocialOperador}" lote="{$numeroLote}" de="{$totalLotes}"
                 registros="{$h/r:totalRegistros}" generado="{$h/r:fechaGeneracion}">
        <xsl:attribute name="tipo">
          <xsl:choose><xsl:when test="$h/r:tipoEnvio = 'CORRECCION'">C</xsl:when><xsl:otherwise>O</xsl:otherwise></xsl:choose>
        </xsl:attribute>
        <xsl:if test="$h/r:idEnvioCorregido">
          <xsl:attribute name="corrige"><xsl:value-of select="$h/r:idEnvioCorregido"/></xsl:attribute>
        </xsl:if>
      </e:Control>
      <!-- A lote holds a run of consecutive persons of the request: only that stretch of
           ordenPersonas is walked (from the earliest first record of a section to the
           latest last one), not the whole request for every lote. -->
      <xsl:variable name="desde">
        <xsl:for-each select="r:*[position() &gt; 1]/*[1]">
          <xsl:sort select="string-length(substring-before($orden, concat(' ', r:tipoDocumento, ':', r:numeroDocumento, ' ')))" data-type="number"/>
          <xsl:if test="position() = 1">
            <xsl:value-of select="string-length(substring-before($orden, concat(' ', r:tipoDocumento, ':', r:numeroDocumento, ' ')))"/>
          </xsl:if>
        </xsl:for-each>
      </xsl:variable>
      <xsl:variable name="hasta">
        <xsl:for-each select="r:*[position() &gt; 1]/*[last()]">
          <xsl:sort select="string-length(substring-before($orden, concat(' ', r:tipoDocumento, ':', r:numeroDocumento, ' ')))" data-type="number" order="descending"/>
          <xsl:if test="position() = 1">
            <xsl:value-of select="string-length(substring-before($orden, concat(' ', r:tipoDocumento, ':', r:numeroDocumento, ' '))) + string-length(concat(r:tipoDocumento, ':', r:numeroDocumento)) + 2"/>
          </xsl:if>
        </xsl:for-each>
      </xsl:variable>
      <xsl:for-each select="str:tokenize(substring($orden, $desde + 1, $hasta - $desde), ' ')">
        <xsl:variable name="persona" select="string(.)"/>
        <xsl:for-each select="$lote">
          <xsl:variable name="suyos" select="key('registros', $persona)"/>
          <xsl:if test="$suyos">
            <e:Titular id="{substring-after($persona, ':')}">
              <xsl:attribute name="tipoId">
                <xsl:call-template name="codigo-documento">
                  <xsl:with-param name="tipo" select="substring-before($persona, ':')"/>
                </xsl:call-template>
              </xsl:attribute>
              <xsl:if test="$suyos[self::r:persona]"><xsl:attribute name="sinInformacion">true</xsl:attribute></xsl:if>
              <xsl:apply-templates select="$suyos[not(self::r:persona)]"/>
            </e:Titular>
          </xsl:if>
        </xsl:for-each>
      </xsl:for-each>
    </e:EntregaInformacion>
  </xsl:template>

  <xsl:template match="r:cuenta">
    <e:Cuenta periodo="{concat(r:anio, substring(concat('0', r:mes), string-length(r:mes)))}" clase="{r:tipoCuenta}"
              numero="{r:numeroCuenta}" creditos="{r:valorCreditos}" nCreditos="{r:numeroCreditos}"
              debitos="{r:valorDebitos}" nDebitos="{r:numeroDebitos}"
              mediana="{r:medianaSaldoDiario}" saldo="{r:saldoFinal}"/>
  </xsl:template>
  <xsl:template match="r:inversion">
    <e:Titulo periodo="{concat(r:anio, substring(concat('0', r:mes), string-length(r:mes)))}" numero="{r:numeroTitulo}"
              clase="{r:tipoTitulo}" movimiento="{r:tipoMovimiento}" valor="{r:valor}" saldo="{r:saldo}"/>
  </xsl:template>
  <xsl:template match="r:rendimiento">
    <e:Rendimiento anio="{r:anio}" valor="{r:valorGirado}"/>
  </xsl:template>
</xsl:stylesheet>
