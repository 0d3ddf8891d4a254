"""The entity's source data: the contract's relations (``schema``), reading and writing
them (``sql``, ``parquet``, ``csv_import``), the contract checks (``check``, ``records``) and the
build pushed into the engine (``report_sql``, ``report_source``, ``read_ahead``)."""
