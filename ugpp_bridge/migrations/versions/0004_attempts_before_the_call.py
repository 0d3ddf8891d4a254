"""Attempts stored before their call (outcome ``unknown`` until completed) with the warnings of
a tolerant reading, the ``credentials_refused`` outcome, and requests held for an operator.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ("acknowledged", "client_fault", "server_fault", "http_error", "timeout", "connection_error")
NEW = ("unknown", *OLD[:3], "credentials_refused", *OLD[3:])


def _outcomes(values: Sequence[str]) -> str:
    return "outcome IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def upgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("warnings", sa.Text(), nullable=True))
        batch_op.drop_constraint(op.f("ck_attempts_outcome_valid"), type_="check")
        batch_op.create_check_constraint("outcome_valid", _outcomes(NEW))
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("held_reason")
    op.execute("UPDATE attempts SET outcome = 'connection_error' WHERE outcome = 'unknown'")
    op.execute("UPDATE attempts SET outcome = 'client_fault' WHERE outcome = 'credentials_refused'")
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_attempts_outcome_valid"), type_="check")
        batch_op.create_check_constraint("outcome_valid", _outcomes(OLD))
        batch_op.drop_column("warnings")
