"""Inbound SOAP messages kept compressed as they stream in (an authenticated body costs
bounded memory, SPEC §11): ``request_encoding`` says how ``request_bytes`` is stored ('zlib';
NULL for the messages stored before, as they arrived, which stay as they are).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 04:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_encoding", sa.String(length=10), nullable=True))


def downgrade() -> None:
    # The compressed messages are decompressed first: nothing is lost going back.
    import zlib

    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, request_bytes FROM inbound_messages WHERE request_encoding = 'zlib'")
    ).all()
    for message_id, data in rows:
        connection.execute(
            sa.text("UPDATE inbound_messages SET request_bytes = :raw WHERE id = :id"),
            {"raw": zlib.decompress(data), "id": message_id},
        )
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_column("request_encoding")
