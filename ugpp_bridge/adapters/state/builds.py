"""``SqlAlchemyBuildStore``: each build of a request and the officers' decisions on it
(four eyes, SPEC §9), on SQLite or PostgreSQL. The states a decision or an unchanged rebuild
leads to are the domain's (``domain/lifecycle.py``); this store persists them, audited, in one
transaction."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import func, select, update

from ugpp_bridge.adapters.state import tables as t
from ugpp_bridge.adapters.state.audit import append_audit
from ugpp_bridge.adapters.state.base import SqlAlchemyStateBase
from ugpp_bridge.domain.filing import Approval, BuildRecord, Decision, RequestKey, StoredRequest
from ugpp_bridge.domain.lifecycle import RequestState, decision_target, unchanged_rebuild_target
from ugpp_bridge.service.ports import BuildStore


class SqlAlchemyBuildStore(SqlAlchemyStateBase, BuildStore):
    """Builds and approvals on SQLite or PostgreSQL (an engine with serialised writes)."""

    def record_build(self, key: RequestKey, build: BuildRecord) -> None:
        with self._tx() as connection:
            connection.execute(
                t.builds.insert().values(request_pk=key, **dataclasses.asdict(build))
            )

    def builds(self, key: RequestKey) -> list[BuildRecord]:
        b = t.builds
        query = select(b).where(b.c.request_pk == key).order_by(b.c.generation)
        with self._read() as connection:
            return [
                BuildRecord(**{f.name: row[f.name] for f in dataclasses.fields(BuildRecord)})
                for row in connection.execute(query).mappings()
            ]

    def keep_acknowledged(
        self, key: RequestKey, generation: int, *, at: datetime, actor: str
    ) -> StoredRequest:
        """The build found nothing changed since ``generation``'s acknowledged lotes: the
        request goes back to them (sent, or confirmed), and no correction is made."""
        with self._tx() as connection:
            row = self._row(connection, key, lock=True)
            target = unchanged_rebuild_target(
                RequestState(row["state"]), confirmed=bool(row["confirmation"])
            )
            b = t.builds
            kept_at = connection.execute(
                select(b.c.generated_at).where(b.c.request_pk == key, b.c.generation == generation)
            ).scalar_one_or_none()
            if kept_at is None:  # built before builds were recorded: its lotes' creation time
                kept_at = connection.execute(
                    select(func.min(t.lotes.c.created_at)).where(
                        t.lotes.c.request_pk == key, t.lotes.c.generation == generation
                    )
                ).scalar_one()
            connection.execute(
                update(b)
                .where(b.c.request_pk == key, b.c.generation == row["generation"])
                .values(kept_generation=generation)
            )
            connection.execute(
                update(t.requests)
                .where(t.requests.c.id == key)
                .values(
                    state=target.value, generation=generation, generated_at=kept_at, updated_at=at
                )  # fmt: skip
            )
            append_audit(
                connection, at=at, actor=actor, action="request.rebuild_unchanged",
                filing_number=row["filing_number"],
                details={"from": RequestState.BUILDING.value, "to": target.value,
                         "build": row["generation"], "kept": generation},
            )  # fmt: skip
            return self._load(connection, self._row(connection, key))

    def decide(
        self,
        key: RequestKey,
        decision: Decision,
        *,
        at: datetime,
        actor: str,
        reason: str | None = None,
    ) -> StoredRequest:
        with self._tx() as connection:
            row = self._row(connection, key, lock=True)
            approved = decision is Decision.APPROVED
            target = decision_target(RequestState(row["state"]), approved)
            self._move(connection, row, target, at=at, actor=actor, reason=reason)
            connection.execute(
                t.approvals.insert().values(
                    request_pk=key, generation=row["generation"], decision=decision.value,
                    actor=actor, at=at, reason=reason,
                )
            )  # fmt: skip
            return self._load(connection, self._row(connection, key))

    def approvals(self, key: RequestKey) -> list[Approval]:
        a = t.approvals
        query = select(a).where(a.c.request_pk == key).order_by(a.c.at, a.c.id)
        with self._read() as connection:
            return [
                Approval(r["generation"], Decision(r["decision"]), r["actor"], r["at"], r["reason"])
                for r in connection.execute(query).mappings()
            ]
