"""Engines proven where they run (SPEC §11): each passing ``source selftest``, by engine and
the fingerprint of the bridge's build statements, so that a build on an engine the project's
CI does not prove is refused until it has passed on the running version.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 05:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ugpp_bridge.adapters.state.tables import UtcDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "source_selftests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("engine", sa.String(length=40), nullable=False),
        sa.Column("fingerprint", sa.String(length=80), nullable=False),
        sa.Column("source", sa.String(length=400), nullable=False),
        sa.Column("passed_at", UtcDateTime(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_selftests")),
    )
    op.create_index(
        "ix_source_selftests_engine_fingerprint",
        "source_selftests",
        ["engine", "fingerprint"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_source_selftests_engine_fingerprint", table_name="source_selftests")
    op.drop_table("source_selftests")
