"""Evidence an auditor can verify: the inbound SOAP message and the AcuseSolicitud answered,
and the parameters of every build (so its lotes can be rebuilt from the data).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ugpp_bridge.adapters.state.tables import UtcDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_pk", sa.Integer(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("request_bytes", sa.LargeBinary(), nullable=False),
        sa.Column("response_bytes", sa.LargeBinary(), nullable=True),
        sa.Column("answered_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_pk"], ["requests.id"], name=op.f("fk_inbound_messages_request_pk_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
    )
    op.create_index(
        op.f("ix_inbound_messages_request_pk"), "inbound_messages", ["request_pk"], unique=False
    )
    op.create_table(
        "builds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_pk", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("generated_at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("operator_nit", sa.String(length=20), nullable=False),
        sa.Column("operator_name", sa.String(length=200), nullable=False),
        sa.Column("lote_max_records", sa.Integer(), nullable=False),
        sa.Column("account_number_digits", sa.Integer(), nullable=False),
        sa.Column("kept_generation", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_pk"], ["requests.id"], name=op.f("fk_builds_request_pk_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_builds")),
        sa.UniqueConstraint("request_pk", "generation", name="uq_builds_generation"),
    )
    op.create_index(op.f("ix_builds_request_pk"), "builds", ["request_pk"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_builds_request_pk"), table_name="builds")
    op.drop_table("builds")
    op.drop_index(op.f("ix_inbound_messages_request_pk"), table_name="inbound_messages")
    op.drop_table("inbound_messages")
