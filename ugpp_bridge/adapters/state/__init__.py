"""The bridge's own state database (SQLite or PostgreSQL): its engine (``engine``), tables and
migrations, and one store per concern — requests, builds and approvals, inbound messages, the
audit trail, lotes and attempts, alerts, defences, users, self-tests, the work queue — and the
metrics it serves."""
