"""Wire profiles (SPEC §10): a lote stored in a profile's shape keeps the v1 lote it was made
from, which the preview and a correction's diff read (NULL under v1: the stored bytes are
v1); a build records the profile it was written in (name, version, every file's SHA-256).

A nullable column added in place: no table rebuild, so existing rows and foreign keys stay as
they are on SQLite too.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 10:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("lotes", sa.Column("canonical_xml", sa.LargeBinary(), nullable=True))
    op.add_column("builds", sa.Column("wire_profile", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("builds") as batch:
        batch.drop_column("wire_profile")
    with op.batch_alter_table("lotes") as batch:
        batch.drop_column("canonical_xml")
