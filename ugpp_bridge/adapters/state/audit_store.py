"""``SqlAlchemyAuditStore``: the hash-chained audit trail read, verified, and appended to for
actions that change no state (an evidence export, a login). State changes append their own
entries in their store's transaction (``audit.append_audit``)."""

from __future__ import annotations

from datetime import datetime

from ugpp_bridge.adapters.state.audit import (
    append_audit,
    audit_entries,
    audit_segment,
    verify_audit,
)
from ugpp_bridge.adapters.state.base import SqlAlchemyStateBase
from ugpp_bridge.domain.audit import AuditEntry, AuditSegment, AuditVerification
from ugpp_bridge.service.ports import AuditStore


class SqlAlchemyAuditStore(SqlAlchemyStateBase, AuditStore):
    """The audit trail: read, verified, and actions that change no state."""

    def audit_trail(self, filing_number: str | None = None) -> list[AuditEntry]:
        with self._read() as connection:
            return list(audit_entries(connection, filing_number))

    def audit_segment(self, filing_number: str) -> AuditSegment:
        with self._read() as connection:
            return audit_segment(connection, filing_number)

    def record_action(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        filing_number: str | None = None,
        details: dict[str, object] | None = None,
        reason: str | None = None,
    ) -> AuditEntry:
        with self._tx() as connection:
            return append_audit(
                connection,
                at=at,
                actor=actor,
                action=action,
                filing_number=filing_number,
                details=details,
                reason=reason,
            )

    def verify_audit(self) -> AuditVerification:
        with self._read() as connection:
            return verify_audit(connection)
