"""The dashboard's JSON: the same data as its pages, with stable English keys."""

from __future__ import annotations

from typing import Any

from ugpp_bridge.domain.deadlines import DeadlineKind
from ugpp_bridge.domain.labels import STATE_LABELS, deadline_text
from ugpp_bridge.service.overview import RequestDetail, RequestOverview


def overview_json(item: RequestOverview) -> dict[str, Any]:
    r = item.request
    return {
        "filing_number": r.filing_number,
        "request_id": r.request_id,
        "state": r.state.value,
        "state_label": STATE_LABELS[r.state],
        "received_at": r.received_at.isoformat(),
        "due_date": r.due_date.isoformat(),
        "deadline": {
            "kind": item.status.kind.value,
            "business_days_left": item.status.days if item.status.kind is DeadlineKind.AHEAD else 0,
            "days_late": item.status.days if item.status.late else 0,
            "text": deadline_text(item.status),
        },
        "open": item.open,
        "awaiting_approval": item.awaiting_approval,
        "held_reason": r.held_reason,
        "persons": r.persons,
        "persons_done": r.persons_done,
        "lotes": item.lotes,
        "lotes_acknowledged": item.lotes_acknowledged,
        "attempts": item.attempts,
        "last_error": r.last_error,
        "confirmation": r.confirmation,
        "delivered_on": item.delivered_on.isoformat() if item.delivered_on else None,
        "exposure_estimate": {
            "months_late": item.exposure.months_late,
            "uvt": item.exposure.uvt,
            "cop": item.exposure.cop,
            "uvt_year": item.exposure.uvt_year,
            "is_estimate": True,
        },
    }


def detail_json(detail: RequestDetail) -> dict[str, Any]:
    return {
        **overview_json(detail.overview),
        "periods": [f"{p.year:04d}-{p.month:02d}" for p in detail.stored.request.periods],
        "generation": detail.stored.generation,
        "built_by": detail.stored.built_by,
        "decisions": [
            {
                "generation": a.generation,
                "decision": a.decision.value,
                "actor": a.actor,
                "at": a.at.isoformat(),
                "reason": a.reason,
            }
            for a in detail.approvals
        ],
        "lotes_detail": [
            {
                "submission_id": lote.submission_id,
                "lote_number": lote.lote_number,
                "record_count": lote.record_count,
                "state": lote.state.value,
                "ugpp_filing_number": lote.ugpp_filing_number,
                "acknowledged_at": lote.acknowledged_at.isoformat()
                if lote.acknowledged_at
                else None,
            }
            for lote in detail.lotes
        ],
        "attempts_detail": [
            {
                "submission_id": a.submission_id,
                "attempt_number": a.attempt_number,
                "started_at": a.started_at.isoformat(),
                "duration_ms": a.duration_ms,
                "endpoint": a.endpoint,
                "outcome": a.outcome.value,
                "http_status": a.http_status,
                "fault_code": a.fault_code,
                "error": a.fault_message or a.error,
                "warnings": list(a.warnings),
            }
            for a in detail.attempts
        ],
    }
