"""Appending to and reading the hash-chained audit trail, inside the caller's transaction.

The head row (one row, created by the first migration) is locked with ``FOR UPDATE`` on
PostgreSQL and the SQLite transaction is ``BEGIN IMMEDIATE``, so concurrent appends queue up
instead of forking the chain.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

from sqlalchemy import Connection, select, update

from ugpp_bridge.adapters.state_tables import audit_head, audit_log
from ugpp_bridge.domain.audit import (
    ORIGIN,
    AuditEntry,
    AuditVerification,
    entry_hash,
    verify_chain,
)

BATCH = 1_000


def append_audit(
    connection: Connection,
    *,
    at: datetime,
    actor: str,
    action: str,
    filing_number: str | None,
    details: Mapping[str, object] | None = None,
    reason: str | None = None,
) -> AuditEntry:
    """Add one entry linked to the current head, and move the head to it. An entry written
    while :data:`ORIGIN` is set (a dashboard request) records that address too."""
    origin = ORIGIN.get()
    if origin and not (details and "address" in details):
        details = {**(details or {}), "address": origin}
    head = connection.execute(
        select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()
    ).one()
    draft = AuditEntry(
        seq=head.seq + 1,
        at=at.astimezone(UTC),  # hashed as stored: UTC, so a read-back hashes the same
        actor=actor,
        action=action,
        filing_number=filing_number,
        details=json.loads(json.dumps(details or {}, sort_keys=True, default=str)),
        reason=reason,
        prev_hash=head.hash,
    )
    entry = AuditEntry(**{**draft.__dict__, "hash": entry_hash(head.hash, draft)})
    connection.execute(
        audit_log.insert().values(
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            filing_number=entry.filing_number,
            details=json.dumps(entry.details, sort_keys=True, default=str),
            reason=entry.reason,
            prev_hash=entry.prev_hash,
            hash=entry.hash,
        )
    )
    connection.execute(
        update(audit_head).where(audit_head.c.id == 1).values(seq=entry.seq, hash=entry.hash)
    )
    return entry


def audit_entries(connection: Connection, filing_number: str | None = None) -> Iterator[AuditEntry]:
    """Entries in seq order (all of them, or one request's), read in batches."""
    last = 0
    while True:
        query = select(audit_log).where(audit_log.c.seq > last).order_by(audit_log.c.seq)
        if filing_number is not None:
            query = query.where(audit_log.c.filing_number == filing_number)
        rows = connection.execute(query.limit(BATCH)).mappings().all()
        for row in rows:
            yield AuditEntry(
                seq=row["seq"],
                at=row["at"],
                actor=row["actor"],
                action=row["action"],
                filing_number=row["filing_number"],
                details=json.loads(row["details"]),
                reason=row["reason"],
                prev_hash=row["prev_hash"],
                hash=row["hash"],
            )
        if len(rows) < BATCH:
            return
        last = rows[-1]["seq"]


def verify_audit(connection: Connection) -> AuditVerification:
    head = connection.execute(select(audit_head.c.seq, audit_head.c.hash)).one()
    return verify_chain(audit_entries(connection), head.seq, head.hash)
