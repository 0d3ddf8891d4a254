"""Initial state store: requests, persons, periods, lotes, attempts, corrections, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 04:15:43.030556
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ugpp_bridge.adapters.state.tables import UtcDateTime

GENESIS_HASH = "0" * 64

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    audit_head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    # The chain's head starts at the genesis hash; appends lock and move this one row.
    op.bulk_insert(audit_head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH}])
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("filing_number", sa.String(length=40), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_log_filing_number"), ["filing_number"], unique=False
        )

    op.create_table(
        "filing_sequences",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_filing_sequences")),
    )
    op.create_table(
        "requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("filing_number", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("operator_nit", sa.String(length=15), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("term_starts_on", sa.Date(), nullable=False),
        sa.Column("information_types", sa.String(length=40), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("generated_at", UtcDateTime(), nullable=True),
        sa.Column("persons_done", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("confirmation", sa.String(length=120), nullable=True),
        sa.Column("confirmed_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "state IN ('received', 'building', 'built', 'build_failed', 'sending', 'sent', 'confirmed', 'rejected')",
            name=op.f("ck_requests_state_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requests")),
        sa.UniqueConstraint("filing_number", name=op.f("uq_requests_filing_number")),
        sa.UniqueConstraint("request_id", name=op.f("uq_requests_request_id")),
    )
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_pk", sa.Integer(), nullable=False),
        sa.Column("corrected_submission_id", sa.String(length=64), nullable=False),
        sa.Column("correcting_submission_id", sa.String(length=64), nullable=False),
        sa.Column("diff", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_pk"], ["requests.id"], name=op.f("fk_corrections_request_pk_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
        sa.UniqueConstraint(
            "correcting_submission_id", name=op.f("uq_corrections_correcting_submission_id")
        ),
    )
    with op.batch_alter_table("corrections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_corrections_request_pk"), ["request_pk"], unique=False)

    op.create_table(
        "lotes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_pk", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("lote_number", sa.Integer(), nullable=False),
        sa.Column("total_lotes", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.String(length=64), nullable=False),
        sa.Column("submission_type", sa.String(length=12), nullable=False),
        sa.Column("corrects_submission_id", sa.String(length=64), nullable=True),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("xml", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("ugpp_filing_number", sa.String(length=40), nullable=True),
        sa.Column("acknowledged_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "state IN ('stored', 'acknowledged', 'rejected', 'superseded')",
            name=op.f("ck_lotes_state_valid"),
        ),
        sa.CheckConstraint(
            "submission_type IN ('ORIGINAL', 'CORRECCION')",
            name=op.f("ck_lotes_submission_type_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["request_pk"], ["requests.id"], name=op.f("fk_lotes_request_pk_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lotes")),
        sa.UniqueConstraint("request_pk", "generation", "lote_number", name="uq_lotes_number"),
        sa.UniqueConstraint("submission_id", name=op.f("uq_lotes_submission_id")),
    )
    with op.batch_alter_table("lotes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lotes_request_pk"), ["request_pk"], unique=False)

    op.create_table(
        "request_periods",
        sa.Column("request_pk", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_pk"],
            ["requests.id"],
            name=op.f("fk_request_periods_request_pk_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_pk", "year", "month", name=op.f("pk_request_periods")),
    )
    op.create_table(
        "request_persons",
        sa.Column("request_pk", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=2), nullable=False),
        sa.Column("doc_number", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_pk"],
            ["requests.id"],
            name=op.f("fk_request_persons_request_pk_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_pk", "position", name=op.f("pk_request_persons")),
        sa.UniqueConstraint(
            "request_pk", "doc_type", "doc_number", name="uq_request_persons_person"
        ),
    )
    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lote_id", sa.Integer(), nullable=False),
        sa.Column("attempt_number", sa.Integer(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("fault_code", sa.String(length=80), nullable=True),
        sa.Column("fault_message", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("request_bytes", sa.LargeBinary(), nullable=False),
        sa.Column("response_bytes", sa.LargeBinary(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('acknowledged', 'client_fault', 'server_fault', 'http_error', 'timeout', 'connection_error')",
            name=op.f("ck_attempts_outcome_valid"),
        ),
        sa.ForeignKeyConstraint(["lote_id"], ["lotes.id"], name=op.f("fk_attempts_lote_id_lotes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempts")),
        sa.UniqueConstraint("lote_id", "attempt_number", name="uq_attempts_number"),
    )
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attempts_lote_id"), ["lote_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attempts_lote_id"))

    op.drop_table("attempts")
    op.drop_table("request_persons")
    op.drop_table("request_periods")
    with op.batch_alter_table("lotes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lotes_request_pk"))

    op.drop_table("lotes")
    with op.batch_alter_table("corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_corrections_request_pk"))

    op.drop_table("corrections")
    op.drop_table("requests")
    op.drop_table("filing_sequences")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_filing_number"))

    op.drop_table("audit_log")
    op.drop_table("audit_head")
