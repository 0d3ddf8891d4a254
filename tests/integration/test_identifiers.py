"""Radicados and idSolicitudes are separate name spaces (SPEC §9): internal work goes by primary
key, and an operator's ID that names two requests is refused, naming both."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.conftest import DATA
from ugpp_bridge.adapters.soap.solicitud_xml import parse_solicitud
from ugpp_bridge.bootstrap import StateStores
from ugpp_bridge.domain.filing import RequestKey, StoredRequest
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.errors import AmbiguousIdentifierError, RequestNotFoundError
from ugpp_bridge.service.work import Leasing, WorkContext, build_due

T0 = datetime(2026, 11, 5, 14, tzinfo=UTC)
GOLDEN = parse_solicitud((DATA / "wire" / "solicitud.xml").read_bytes())


def colliding(stores: StateStores) -> tuple[StoredRequest, StoredRequest]:
    """Request A, and request B whose idSolicitud is A's radicado."""
    a = stores.requests.register(GOLDEN, received_at=T0, due_date=date(2026, 12, 7), actor="t")
    b_request = replace(GOLDEN, request_id=a.filing_number)
    b = stores.requests.register(b_request, received_at=T0, due_date=date(2026, 12, 9), actor="t")
    return stores.requests.find(f"radicado:{a.filing_number}"), stores.requests.find(
        f"radicado:{b.filing_number}"
    )


def test_an_id_that_is_one_radicado_and_another_idsolicitud_is_refused_naming_both(
    stores: StateStores,
) -> None:
    a, b = colliding(stores)
    with pytest.raises(AmbiguousIdentifierError) as refused:
        stores.requests.find(a.filing_number)
    message = str(refused.value)
    assert a.filing_number in message and b.filing_number in message
    assert f"radicado:{a.filing_number}" in message and f"solicitud:{a.filing_number}" in message
    assert stores.requests.find(f"radicado:{a.filing_number}").key == a.key
    assert stores.requests.find(f"solicitud:{a.filing_number}").key == b.key
    assert stores.requests.find(GOLDEN.request_id).key == a.key  # unambiguous: found as before


@pytest.mark.parametrize("text", ["", "   ", "UB\x00-1", "radicado:", "x" * 65, "solicitud:\t"])
def test_ids_that_cannot_name_a_request_are_not_found(stores: StateStores, text: str) -> None:
    colliding(stores)
    with pytest.raises(RequestNotFoundError):
        stores.requests.find(text)


def test_a_prefix_keeps_to_its_own_name_space(stores: StateStores) -> None:
    a, _ = colliding(stores)
    with pytest.raises(RequestNotFoundError):
        stores.requests.find(f"solicitud:{a.request.request_id}x")
    with pytest.raises(RequestNotFoundError):
        stores.requests.find(f"radicado:{GOLDEN.request_id}")  # an idSolicitud, not a radicado


def test_the_scheduler_builds_each_colliding_request_once_by_its_key(
    stores: StateStores,
) -> None:
    a, b = colliding(stores)
    built: list[RequestKey] = []

    def build(key: RequestKey, actor: str) -> StoredRequest:
        built.append(key)
        stores.requests.start_build(key, at=T0, actor=actor)
        return stores.requests.transition(key, RequestState.BUILD_FAILED, at=T0, actor=actor)

    context = WorkContext(
        stores.requests,
        Leasing(stores.work, "worker-test", timedelta(minutes=5), lambda: T0),
        build,
        lambda key: stores.requests.get(key),
        timedelta(minutes=30),
    )
    swept = build_due(context)
    assert sorted(item.filing_number for item in swept) == sorted(
        [a.filing_number, b.filing_number]
    )
    assert sorted(built) == sorted([a.key, b.key])
    assert build_due(context) == []
    assert stores.requests.get(a.key).generation == stores.requests.get(b.key).generation == 1
