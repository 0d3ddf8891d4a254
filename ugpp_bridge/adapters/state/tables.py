"""The bridge's own database: requests, persons, periods, lotes, attempts, corrections, audit.

SQLAlchemy Core tables with a naming convention, so that Alembic migrations get stable
constraint names on SQLite and PostgreSQL alike. Times are stored in UTC and read back aware.
Personal data at rest: document numbers are kept (the report needs them); account numbers only
appear inside lote XML, as the trailing digits the report sends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

from ugpp_bridge.domain.filing import AttemptOutcome, SubmissionType
from ugpp_bridge.domain.lifecycle import LoteState, RequestState

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC (``timestamptz`` on PostgreSQL, text on SQLite)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware one")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _enum_check(column: str, values: list[str]) -> CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=f"{column}_valid")


requests = Table(
    "requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("filing_number", String(40), nullable=False, unique=True),
    Column("request_id", String(36), nullable=False, unique=True),
    Column("fingerprint", String(64), nullable=False),
    Column("operator_nit", String(15), nullable=False),
    Column("requested_on", Date, nullable=False),
    Column("term_starts_on", Date, nullable=False),
    Column("information_types", String(40), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("state", String(20), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("generation", Integer, nullable=False, default=0),
    Column("generated_at", UtcDateTime, nullable=True),
    Column("persons_done", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("confirmation", String(120), nullable=True),
    Column("confirmed_at", UtcDateTime, nullable=True),
    # Work leases (the scheduler's claims): who works on the request, until when, and when a
    # parked send is due again. See adapters/state/work_queue.py.
    Column("lease_owner", String(120), nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    # Why the request waits for an operator (credentials refused): the scheduler skips it.
    Column("held_reason", Text, nullable=True),
    # Who asked for the current build (four eyes: they cannot approve it), and who asked for
    # a rebuild the scheduler has not started yet (a correction from the dashboard).
    Column("built_by", String(120), nullable=True),
    Column("rebuild_requested_by", String(120), nullable=True),
    _enum_check("state", [state.value for state in RequestState]),
)

request_persons = Table(
    "request_persons",
    metadata,
    Column("request_pk", ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("doc_type", String(2), nullable=False),
    Column("doc_number", String(16), nullable=False),
    UniqueConstraint("request_pk", "doc_type", "doc_number", name="uq_request_persons_person"),
)

request_periods = Table(
    "request_periods",
    metadata,
    Column("request_pk", ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("month", Integer, primary_key=True),
)

filing_sequences = Table(
    "filing_sequences",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last_value", Integer, nullable=False),
)

lotes = Table(
    "lotes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_pk", ForeignKey("requests.id"), nullable=False, index=True),
    Column("generation", Integer, nullable=False),
    Column("lote_number", Integer, nullable=False),
    Column("total_lotes", Integer, nullable=False),
    Column("submission_id", String(64), nullable=False, unique=True),
    Column("submission_type", String(12), nullable=False),
    Column("corrects_submission_id", String(64), nullable=True),
    Column("record_count", Integer, nullable=False),
    Column("xml", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("state", String(20), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("ugpp_filing_number", String(40), nullable=True),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    # Migration 0009 (SPEC §10): the v1 lote a profile's document was made from; NULL under v1.
    Column("canonical_xml", LargeBinary, nullable=True),
    UniqueConstraint("request_pk", "generation", "lote_number", name="uq_lotes_number"),
    _enum_check("state", [state.value for state in LoteState]),
    _enum_check("submission_type", [kind.value for kind in SubmissionType]),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lote_id", ForeignKey("lotes.id"), nullable=False, index=True),
    Column("attempt_number", Integer, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("duration_ms", BigInteger, nullable=False),
    Column("endpoint", Text, nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("http_status", Integer, nullable=True),
    Column("fault_code", String(80), nullable=True),
    Column("fault_message", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("request_bytes", LargeBinary, nullable=False),
    Column("response_bytes", LargeBinary, nullable=True),
    Column("warnings", Text, nullable=True),  # JSON list: what a tolerant reading set aside
    UniqueConstraint("lote_id", "attempt_number", name="uq_attempts_number"),
    _enum_check("outcome", [outcome.value for outcome in AttemptOutcome]),
)

corrections = Table(
    "corrections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_pk", ForeignKey("requests.id"), nullable=False, index=True),
    Column("corrected_submission_id", String(64), nullable=False),
    Column("correcting_submission_id", String(64), nullable=False, unique=True),
    Column("diff", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(120), nullable=False),
    Column("action", String(60), nullable=False),
    Column("filing_number", String(40), nullable=True, index=True),
    Column("details", Text, nullable=False),
    Column("reason", Text, nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

deadline_alerts = Table(
    "deadline_alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_pk", ForeignKey("requests.id", ondelete="CASCADE"), nullable=False),
    Column("threshold", Integer, nullable=False),
    Column("business_days_left", Integer, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("raised_at", UtcDateTime, nullable=False),
    Column("webhook_attempts", Integer, nullable=False, default=0),
    Column("webhook_delivered_at", UtcDateTime, nullable=True),
    Column("webhook_error", Text, nullable=True),
    Column("email_attempts", Integer, nullable=False, default=0),
    Column("email_delivered_at", UtcDateTime, nullable=True),
    Column("email_error", Text, nullable=True),
    UniqueConstraint("request_pk", "threshold", "due_date", name="uq_deadline_alerts_once"),
)

dashboard_users = Table(
    "dashboard_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("disabled_at", UtcDateTime, nullable=True),
    CheckConstraint("role IN ('viewer', 'operator', 'officer')", name="role_valid"),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

# -- Defences shared by every process (SPEC §9): migration 0003 ------------------------------

wsse_nonces = Table(
    "wsse_nonces",
    metadata,
    # SHA-256 of the nonce: a replay is a duplicate key, whichever process sees it.
    Column("nonce_hash", String(64), primary_key=True),
    Column("seen_at", UtcDateTime, nullable=False, index=True),
)

auth_failures = Table(
    "auth_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scope", String(20), nullable=False),  # paso1 | dashboard
    Column("kind", String(10), nullable=False),  # user | address
    Column("subject", String(120), nullable=False),
    Column("failures", Integer, nullable=False),
    Column("window_started_at", UtcDateTime, nullable=False),
    Column("last_failure_at", UtcDateTime, nullable=False),
    Column("blocked_until", UtcDateTime, nullable=True),
    UniqueConstraint("scope", "kind", "subject", name="uq_auth_failures_subject"),
)

dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    # SHA-256 of the random token the signed cookie carries: the database alone opens nothing.
    Column("token_hash", String(64), primary_key=True),
    Column(
        "user_id",
        ForeignKey("dashboard_users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("address", String(64), nullable=True),
)


# -- The officer's desk (SPEC §9): migration 0005 -------------------------------------------

approvals = Table(
    "approvals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_pk", ForeignKey("requests.id"), nullable=False, index=True),
    Column("generation", Integer, nullable=False),
    Column("decision", String(10), nullable=False),
    Column("actor", String(120), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("reason", Text, nullable=True),
    CheckConstraint("decision IN ('approved', 'returned')", name="decision_valid"),
)

scheduler_heartbeats = Table(
    "scheduler_heartbeats",
    metadata,
    Column("owner", String(120), primary_key=True),
    Column("beat_at", UtcDateTime, nullable=False),
)

# -- Evidence an auditor can verify (SPEC §9): migration 0006 --------------------------------

inbound_messages = Table(
    "inbound_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_pk", ForeignKey("requests.id"), nullable=False, index=True),
    Column("received_at", UtcDateTime, nullable=False),
    Column("request_bytes", LargeBinary, nullable=False),  # the SOAP message as it arrived
    # 'zlib': request_bytes compressed as it streamed in (0007); NULL: stored as it arrived
    Column("request_encoding", String(10), nullable=True),
    Column("response_bytes", LargeBinary, nullable=True),  # the AcuseSolicitud we answered
    Column("answered_at", UtcDateTime, nullable=True),
)

builds = Table(
    "builds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_pk", ForeignKey("requests.id"), nullable=False, index=True),
    Column("generation", Integer, nullable=False),
    Column("generated_at", UtcDateTime, nullable=False),  # fechaGeneracion of its lotes
    Column("actor", String(120), nullable=False),
    Column("operator_nit", String(20), nullable=False),
    Column("operator_name", String(200), nullable=False),
    Column("lote_max_records", Integer, nullable=False),
    Column("account_number_digits", Integer, nullable=False),
    Column("kept_generation", Integer, nullable=True),  # unchanged: the lotes it kept
    Column("wire_profile", Text, nullable=True),  # migration 0009: the profile's identity (JSON)
    UniqueConstraint("request_pk", "generation", name="uq_builds_generation"),
)

# -- Engines proven where they run (SPEC §11): migration 0008 ---------------------------------

source_selftests = Table(
    "source_selftests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("engine", String(40), nullable=False),  # the source's SQL dialect
    Column("fingerprint", String(80), nullable=False),  # the bridge's build statements
    Column("source", String(400), nullable=False),  # where, without its password
    Column("passed_at", UtcDateTime, nullable=False),
    Column("records", Integer, nullable=False),
    Index("ix_source_selftests_engine_fingerprint", "engine", "fingerprint"),
)
