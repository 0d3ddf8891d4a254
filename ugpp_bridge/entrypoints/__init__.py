"""Thin entrypoints: the CLI (``cli/``, one module per command group), the dashboard
(``dashboard/``), the Paso 1 SOAP app (``soap``), the scheduler, health and metrics, the demo
and the UGPP stand-in. They parse, call one use case and format; they build their apps from
``bootstrap``, which only they import."""
