"""Thin entrypoints: the CLI (and later the SOAP service, scheduler and dashboard)."""
