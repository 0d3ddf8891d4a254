"""``SqlAlchemyMetricsReader``: the counts behind ``/metrics``, read from the state database.

Counting in the database (not in process memory) makes every web process and worker report
the same figures, and keeps them across restarts.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, case, func, select

from ugpp_bridge.adapters.state import tables as t
from ugpp_bridge.adapters.state.base import SqlAlchemyStateBase
from ugpp_bridge.service.ports import MetricsReader, StoreCounts


class SqlAlchemyMetricsReader(SqlAlchemyStateBase, MetricsReader):
    def counts(self, bounds: Sequence[float]) -> StoreCounts:
        a = t.attempts
        buckets = [
            func.coalesce(func.sum(case((a.c.duration_ms <= bound * 1000, 1), else_=0)), 0)
            for bound in bounds
        ]
        with self._read() as connection:
            requests = _grouped(connection, t.requests.c.state)
            lotes = _grouped(connection, t.lotes.c.state)
            outcomes = _grouped(connection, a.c.outcome)
            row = connection.execute(
                select(
                    func.count(), func.coalesce(func.sum(a.c.duration_ms), 0), *buckets
                ).select_from(a)
            ).one()
        return StoreCounts(
            requests_by_state=requests,
            lotes_by_state=lotes,
            attempts_by_outcome=outcomes,
            duration_buckets=[(bound, int(n)) for bound, n in zip(bounds, row[2:], strict=True)],
            duration_sum_seconds=int(row[1]) / 1000,
            duration_count=int(row[0]),
        )


def _grouped(connection: Connection, column: ColumnElement[str]) -> dict[str, int]:
    rows = connection.execute(select(column, func.count()).group_by(column)).all()
    return {str(value): int(count) for value, count in rows}
