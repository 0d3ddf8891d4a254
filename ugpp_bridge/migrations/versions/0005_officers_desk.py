"""The officer's desk: builds approved or returned by an officer (four eyes), who asked for
each build, officers and disabled accounts, deadline alerts by e-mail, scheduler heartbeats.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 23:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ugpp_bridge.adapters.state.tables import UtcDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = ("received", "building", "built", "build_failed", "sending", "sent", "confirmed",
          "rejected")  # fmt: skip
NEW_STATES = (*STATES[:4], "approved", "returned", *STATES[4:])


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("built_by", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("rebuild_requested_by", sa.String(length=120), nullable=True))
        batch_op.drop_constraint(op.f("ck_requests_state_valid"), type_="check")
        batch_op.create_check_constraint("state_valid", _in("state", NEW_STATES))
    with op.batch_alter_table("dashboard_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disabled_at", UtcDateTime(), nullable=True))
        batch_op.drop_constraint(op.f("ck_dashboard_users_role_valid"), type_="check")
        batch_op.create_check_constraint("role_valid", "role IN ('viewer', 'operator', 'officer')")
    with op.batch_alter_table("deadline_alerts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("email_delivered_at", UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("email_error", sa.Text(), nullable=True))
    with op.batch_alter_table("deadline_alerts", schema=None) as batch_op:
        batch_op.alter_column("email_attempts", server_default=None)
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_pk", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "decision IN ('approved', 'returned')", name=op.f("ck_approvals_decision_valid")
        ),
        sa.ForeignKeyConstraint(
            ["request_pk"], ["requests.id"], name=op.f("fk_approvals_request_pk_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
    )
    op.create_index(op.f("ix_approvals_request_pk"), "approvals", ["request_pk"], unique=False)
    op.create_table(
        "scheduler_heartbeats",
        sa.Column("owner", sa.String(length=120), nullable=False),
        sa.Column("beat_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("owner", name=op.f("pk_scheduler_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("scheduler_heartbeats")
    op.drop_index(op.f("ix_approvals_request_pk"), table_name="approvals")
    op.drop_table("approvals")
    with op.batch_alter_table("deadline_alerts", schema=None) as batch_op:
        batch_op.drop_column("email_error")
        batch_op.drop_column("email_delivered_at")
        batch_op.drop_column("email_attempts")
    op.execute("UPDATE dashboard_users SET role = 'operator' WHERE role = 'officer'")
    with op.batch_alter_table("dashboard_users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_dashboard_users_role_valid"), type_="check")
        batch_op.create_check_constraint("role_valid", "role IN ('viewer', 'operator')")
        batch_op.drop_column("disabled_at")
    op.execute("UPDATE requests SET state = 'built' WHERE state IN ('approved', 'returned')")
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_requests_state_valid"), type_="check")
        batch_op.create_check_constraint("state_valid", _in("state", STATES))
        batch_op.drop_column("rebuild_requested_by")
        batch_op.drop_column("built_by")
