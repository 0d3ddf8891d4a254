"""Appending to and reading the hash-chained audit trail, inside the caller's transaction.

The head row (one row, created by the first migration) is locked with ``FOR UPDATE`` on
PostgreSQL and the SQLite transaction is ``BEGIN IMMEDIATE``, so concurrent appends queue up
instead of forking the chain.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

from sqlalchemy import Connection, RowMapping, func, select, update

from ugpp_bridge.adapters.state.tables import audit_head, audit_log
from ugpp_bridge.domain.audit import (
    ORIGIN,
    AuditEntry,
    AuditLink,
    AuditSegment,
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
    for row in _rows(connection, filing_number=filing_number):
        yield _entry(row)


def audit_segment(connection: Connection, filing_number: str) -> AuditSegment:
    """``filing_number``'s entries and the links of every other entry from its first entry to
    the head, as of one reading of the head (entries appended meanwhile are left out)."""
    head = connection.execute(select(audit_head.c.seq, audit_head.c.hash)).one()
    first = connection.execute(
        select(func.min(audit_log.c.seq)).where(audit_log.c.filing_number == filing_number)
    ).scalar()
    entries: list[AuditEntry] = []
    links: list[AuditLink] = []
    if first is not None:
        for row in _rows(connection, after=first - 1, until=head.seq):
            if row["filing_number"] == filing_number:
                entries.append(_entry(row))
            else:
                links.append(AuditLink(row["seq"], row["prev_hash"], row["hash"]))
    return AuditSegment(tuple(entries), tuple(links), head.seq, head.hash)


def _rows(
    connection: Connection,
    *,
    filing_number: str | None = None,
    after: int = 0,
    until: int | None = None,
) -> Iterator[RowMapping]:
    last = after
    while True:
        query = select(audit_log).where(audit_log.c.seq > last).order_by(audit_log.c.seq)
        if filing_number is not None:
            query = query.where(audit_log.c.filing_number == filing_number)
        if until is not None:
            query = query.where(audit_log.c.seq <= until)
        rows = connection.execute(query.limit(BATCH)).mappings().all()
        yield from rows
        if len(rows) < BATCH:
            return
        last = rows[-1]["seq"]


def _entry(row: RowMapping) -> AuditEntry:
    return AuditEntry(
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


def verify_audit(connection: Connection) -> AuditVerification:
    head = connection.execute(select(audit_head.c.seq, audit_head.c.hash)).one()
    return verify_chain(audit_entries(connection), head.seq, head.hash)
