"""The bridge's own state database: tables and migrations, the stores of requests, lotes,
audit, alerts, defences, users, the work queue and the metrics it serves."""
