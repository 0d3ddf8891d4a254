"""The entity's source data (SPEC §3, §9): the contract's relations (``schema``) and the SQL
forms that differ by engine (``dialects``); reading and writing them (``sql``, ``writing``,
``csv_import``, ``records``); the contract checks (``shape``, ``check``); the build pushed into
the engine (``report_sql``, ``report_source``, ``read_ahead``) and its proof on the entity's
own server (``selftest``). Each engine's quirks live in its own module under ``engines/``,
chosen by URL scheme from the registry there."""
