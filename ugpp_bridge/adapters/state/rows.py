"""Rows of the state tables ⇄ the domain's stored values."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, RowMapping
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ugpp_bridge.adapters.state import tables as t
from ugpp_bridge.domain.codes import InformationType
from ugpp_bridge.domain.filing import (
    Attempt,
    AttemptOutcome,
    RequestKey,
    RequestSummary,
    StoredLote,
    StoredRequest,
    SubmissionType,
)
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.lifecycle import LoteState, RequestState
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.domain.request import FinancialInfoRequest


def insert_sequence_row(connection: Connection, year: int) -> None:
    """Create the counter of ``year`` if it is missing; a concurrent creation is no error."""
    values = {"year": year, "last_value": 0}
    insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(insert(t.filing_sequences).values(values).on_conflict_do_nothing())


def request_from_rows(
    row: RowMapping, persons: Sequence[RowMapping], periods: Sequence[RowMapping]
) -> StoredRequest:
    request = FinancialInfoRequest(
        request_id=row["request_id"],
        operator_nit=row["operator_nit"],
        requested_on=row["requested_on"],
        term_starts_on=row["term_starts_on"],
        information_types=frozenset(
            InformationType(value) for value in row["information_types"].split(",")
        ),
        periods=tuple(Period(p["year"], p["month"]) for p in periods),
        persons=tuple(PersonId(p["doc_type"], p["doc_number"]) for p in persons),
    )
    return same_named(
        StoredRequest, row, request=request, state=RequestState(row["state"]),
        key=RequestKey(row["id"]),
    )  # fmt: skip


def summary_from_row(row: RowMapping) -> RequestSummary:
    return same_named(
        RequestSummary, row, state=RequestState(row["state"]), key=RequestKey(row["id"])
    )


T = TypeVar("T")


def same_named(cls: type[T], row: RowMapping, **given: Any) -> T:
    """A dataclass whose fields are read from the row's columns of the same names, but for
    those ``given`` (the ones a column does not hold as they are)."""
    names = [f.name for f in dataclasses.fields(cls) if f.name not in given]  # type: ignore[arg-type]
    return cls(**{name: row[name] for name in names if name in row}, **given)


def lote_from_row(row: RowMapping) -> StoredLote:
    return StoredLote(
        filing_number=row["filing_number"],
        generation=row["generation"],
        lote_number=row["lote_number"],
        total_lotes=row["total_lotes"],
        submission_id=row["submission_id"],
        submission_type=SubmissionType(row["submission_type"]),
        corrects_submission_id=row["corrects_submission_id"],
        record_count=row["record_count"],
        xml=bytes(row["xml"]),
        sha256=row["sha256"],
        state=LoteState(row["state"]),
        created_at=row["created_at"],
        ugpp_filing_number=row["ugpp_filing_number"],
        acknowledged_at=row["acknowledged_at"],
        canonical=None if row.get("canonical_xml") is None else bytes(row["canonical_xml"]),
    )


def attempt_from_row(row: RowMapping) -> Attempt:
    response = row.get("response_bytes")
    return Attempt(
        submission_id=row["submission_id"],
        started_at=row["started_at"],
        duration_ms=row["duration_ms"],
        endpoint=row["endpoint"],
        outcome=AttemptOutcome(row["outcome"]),
        request_bytes=bytes(row.get("request_bytes") or b""),
        response_bytes=None if response is None else bytes(response),
        http_status=row["http_status"],
        fault_code=row["fault_code"],
        fault_message=row["fault_message"],
        error=row["error"],
        attempt_number=row["attempt_number"],
        warnings=tuple(json.loads(row["warnings"])) if row.get("warnings") else (),
    )
