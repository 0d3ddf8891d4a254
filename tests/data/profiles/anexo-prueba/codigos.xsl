<?xml version="1.0" encoding="UTF-8"?>
<!-- Shared by the transforms (xsl:include): document codes both ways, the NIT's check digit. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:variable name="letras" select="' RC TI CC SC CE NI PA CD PE PT '"/>
  <xsl:variable name="numeros" select="' 11 12 13 21 22 31 41 42 47 48 '"/>

  <!-- CC → 13 -->
  <xsl:template name="codigo-documento">
    <xsl:param name="tipo"/>
    <xsl:variable name="en" select="string-length(substring-before($letras, concat(' ', $tipo, ' ')))"/>
    <xsl:if test="not(contains($letras, concat(' ', $tipo, ' ')))">
      <xsl:message terminate="yes">tipo de documento sin código en el anexo: <xsl:value-of select="$tipo"/></xsl:message>
    </xsl:if>
    <xsl:value-of select="substring($numeros, $en + 2, 2)"/>
  </xsl:template>

  <!-- 13 → CC -->
  <xsl:template name="tipo-documento">
    <xsl:param name="codigo"/>
    <xsl:variable name="en" select="string-length(substring-before($numeros, concat(' ', $codigo, ' ')))"/>
    <xsl:value-of select="substring($letras, $en + 2, 2)"/>
  </xsl:template>

  <!-- DIAN's check digit: weights 3, 7, 13, 17… from the rightmost digit, modulo 11. -->
  <xsl:template name="digito-verificacion">
    <xsl:param name="nit"/>
    <xsl:param name="i" select="1"/>
    <xsl:param name="suma" select="0"/>
    <xsl:choose>
      <xsl:when test="$i &gt; string-length($nit)">
        <xsl:variable name="r" select="$suma mod 11"/>
        <xsl:choose>
          <xsl:when test="$r &lt; 2"><xsl:value-of select="$r"/></xsl:when>
          <xsl:otherwise><xsl:value-of select="11 - $r"/></xsl:otherwise>
        </xsl:choose>
      </xsl:when>
      <xsl:otherwise>
        <xsl:call-template name="digito-verificacion">
          <xsl:with-param name="nit" select="$nit"/>
          <xsl:with-param name="i" select="$i + 1"/>
          <xsl:with-param name="suma" select="$suma + substring($nit, string-length($nit) - $i + 1, 1)
              * substring('030713171923293741434753596771', 2 * $i - 1, 2)"/>
        </xsl:call-template>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
