"""``SqlAlchemySelftestStore``: the source self-tests that passed (SPEC §11), by engine and the
fingerprint of the build's statements; each one audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ugpp_bridge.adapters.state import tables as t
from ugpp_bridge.adapters.state.audit import append_audit
from ugpp_bridge.adapters.state.base import SqlAlchemyStateBase
from ugpp_bridge.service.ports import SelftestStore

S = t.source_selftests


class SqlAlchemySelftestStore(SqlAlchemyStateBase, SelftestStore):
    def record_pass(
        self, engine: str, fingerprint: str, *, source: str, records: int, at: datetime
    ) -> None:
        with self._tx() as connection:
            connection.execute(S.insert().values(engine=engine, fingerprint=fingerprint,
                                                 source=source[:400], passed_at=at,
                                                 records=records))  # fmt: skip
            append_audit(connection, at=at, actor="selftest", filing_number=None,
                         action="source.selftest_passed",
                         details={"motor": engine, "huella": fingerprint, "fuente": source,
                                  "registros": records})  # fmt: skip

    def has_passed(self, engine: str, fingerprint: str) -> bool:
        query = select(S.c.id).where(S.c.engine == engine, S.c.fingerprint == fingerprint)
        with self._read() as connection:
            return connection.execute(query.limit(1)).first() is not None
