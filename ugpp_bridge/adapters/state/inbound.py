"""``SqlAlchemyInboundStore``: Paso 1 as it happened — each inbound message as it arrived
and the exact answer (art. 12), on SQLite or PostgreSQL. Messages are stored with the request
they carry (``SqlAlchemyRequestStore.register``)."""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update

from ugpp_bridge.adapters.state import tables as t
from ugpp_bridge.adapters.state.base import SqlAlchemyStateBase
from ugpp_bridge.adapters.state.requests import ZLIB
from ugpp_bridge.domain.filing import InboundMessage, RequestKey
from ugpp_bridge.service.ports import InboundStore


class SqlAlchemyInboundStore(SqlAlchemyStateBase, InboundStore):
    """Inbound messages and their answers."""

    def record_answer(self, message_id: int, response: bytes, *, at: datetime) -> None:
        with self._tx() as connection:
            connection.execute(
                update(t.inbound_messages)
                .where(t.inbound_messages.c.id == message_id)
                .values(response_bytes=response, answered_at=at)
            )

    def inbound_messages(self, key: RequestKey) -> list[InboundMessage]:
        m = t.inbound_messages
        query = select(m).where(m.c.request_pk == key).order_by(m.c.received_at, m.c.id)
        with self._read() as connection:
            return [
                InboundMessage(
                    row.id, row.received_at, as_arrived(row), row.response_bytes, row.answered_at
                )  # fmt: skip
                for row in connection.execute(query)
            ]


def as_arrived(row: Row[Any]) -> bytes:
    data: bytes = row.request_bytes
    return zlib.decompress(data) if row.request_encoding == ZLIB else data
