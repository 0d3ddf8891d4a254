"""The rules of Resolución UGPP 1707 de 2019 as pure code.

Dependency rule: the standard library and ``Decimal`` only, plus two pure-data libraries with no
I/O — ``holidays`` is *not* imported here (the calendar is passed in as a container of dates) and
``python-stdnum`` computes the DIAN NIT check digit. No SQLAlchemy, lxml, zeep or spyne: a test
enforces it.

Glossary (the regulation's Spanish term → the identifier used in code):

==========================  ===========================================
solicitud                   request (``FinancialInfoRequest``)
idSolicitud                 ``request_id``
radicado                    ``filing_number`` (our receipt number)
fechaInicioTermino          ``term_starts_on``
fechaVencimiento            ``due_date``
tiposInformacion            ``information_types``
periodo (anio, mes)         ``Period(year, month)``
persona                     ``PersonId(doc_type, doc_number)``
tipoDocumento               ``doc_type``
numeroDocumento             ``doc_number``
cuenta                      ``AccountMonthRecord``
valorCreditos / numeroCreditos    ``credits_value`` / ``credits_count``
valorDebitos / numeroDebitos      ``debits_value`` / ``debits_count``
medianaSaldoDiario          ``median_daily_balance`` (upper median)
saldoFinal                  ``end_balance``
inversion / título          ``TitleMonthRecord``
tipoMovimiento              ``movement_type``
rendimiento fiduciario      ``TrustYieldRecord``
valorGirado                 ``amount_paid``
personasSinInformacion      ``persons_without_information``
lote                        ``Lote`` (a batch of at most N records)
envío (idEnvio)             ``submission`` (``submission_id``)
UVT                         ``uvt`` (Unidad de Valor Tributario)
==========================  ===========================================
"""
