"""The entity's source data: the contract's relations (``schema``), reading and writing
them (``sql``, ``parquet``, ``csv_import``), the engines beyond plain SQLAlchemy URLs
(``parquet`` read by DuckDB, ``spark`` with its ``spark_dialect``), the contract checks
(``shape``, ``check``, ``records``) and the build pushed into the engine (``report_sql``,
``report_source``, ``read_ahead``)."""
