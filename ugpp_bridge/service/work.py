"""Use cases the scheduler runs: build what was received, send what was built, retry what is
due, and take over what a dead process left behind — each request claimed first, so that no
two processes (schedulers, CLI runs, the dashboard) ever work on the same one.

A claim is a lease, renewed by a background thread while the work runs. A process killed
mid-job stops renewing; when the lease runs out the request is due again: a build left in
``building`` is marked interrupted (``build_failed``) and started over; a send left in
``sending`` resumes, and never resends what UGPP already acknowledged (``submit_request``).
A send parked after its attempts ran out is due again ``parked_retry`` later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from ugpp_bridge.domain.filing import RequestKey, StoredRequest
from ugpp_bridge.domain.lifecycle import RequestState
from ugpp_bridge.domain.work import Claim, WorkKind
from ugpp_bridge.errors import UgppBridgeError
from ugpp_bridge.service.ports import RequestStore, WorkQueue

logger = logging.getLogger(__name__)

T = TypeVar("T")
INTERRUPTED = "The build was interrupted (the process that ran it stopped); it was started over."


@dataclass(frozen=True)
class Leasing:
    """Who claims, for how long, and the clock."""

    queue: WorkQueue
    owner: str
    lease: timedelta
    clock: Callable[[], datetime]


@dataclass(frozen=True)
class WorkContext:
    """What the sweeps need: the stores, the lease, and the build and send use cases bound to
    their adapters (``build(key, actor)``, ``send(key)``)."""

    requests: RequestStore
    leasing: Leasing
    build: Callable[[RequestKey, str], StoredRequest]
    send: Callable[[RequestKey], StoredRequest]
    parked_retry: timedelta


@dataclass(frozen=True)
class Swept:
    """One request a sweep worked on, and where it stands afterwards: ``state`` (``None`` if
    it could not be read back) and, for a parked send, when it is tried again."""

    filing_number: str
    state: RequestState | None
    retry_at: datetime | None = None

    @property
    def parked(self) -> bool:
        return self.retry_at is not None


def build_due(context: WorkContext, limit: int = 50) -> list[Swept]:
    """Build every received request (and restart interrupted builds), most urgent first."""
    return _sweep(context, WorkKind.BUILD, _build_claimed, limit)


def send_due(context: WorkContext, limit: int = 50) -> list[Swept]:
    """Send every built request, resume interrupted sends and retry parked ones when due."""
    return _sweep(context, WorkKind.SEND, _send_claimed, limit)


def run_claimed(leasing: Leasing, key: RequestKey, action: Callable[[RequestKey], T]) -> T:
    """An operator's action on one request, under its lease (``WorkInProgressError`` when
    another process holds it); ``action`` gets the request's key."""
    claim = leasing.queue.claim(key, owner=leasing.owner, now=leasing.clock(), lease=leasing.lease)
    with holding(leasing, claim):
        return action(claim.key)


def _sweep(
    context: WorkContext,
    kind: WorkKind,
    work: Callable[[WorkContext, Claim], datetime | None],
    limit: int,
) -> list[Swept]:
    leasing, done = context.leasing, []
    for _ in range(limit):
        claim = leasing.queue.claim_next(
            kind, owner=leasing.owner, now=leasing.clock(), lease=leasing.lease
        )
        if claim is None:
            break
        retry_at = None
        try:
            with _renewing(leasing, claim):
                retry_at = work(context, claim)
        finally:
            leasing.queue.release(claim, retry_at=retry_at)
        done.append(Swept(claim.filing_number, _state_of(context, claim), retry_at))
    return done


def _state_of(context: WorkContext, claim: Claim) -> RequestState | None:
    try:
        return context.requests.get(claim.key).state
    except UgppBridgeError:
        return None


def recover_interrupted_build(
    requests: RequestStore, key: RequestKey, *, at: datetime, actor: str
) -> None:
    """Under a held lease, a request still ``building`` was left by a process that stopped:
    mark it interrupted (``build_failed``, audited) so it can be built again."""
    stored = requests.get(key)
    if stored.state is RequestState.BUILDING:
        logger.warning("Request %s was left mid-build; building it again", stored.filing_number)
        requests.transition(
            key, RequestState.BUILD_FAILED, at=at, actor=actor, reason="interrupted",
            error=INTERRUPTED,
        )  # fmt: skip


def _build_claimed(context: WorkContext, claim: Claim) -> datetime | None:
    filing, owner = claim.filing_number, context.leasing.owner
    if claim.interrupted:
        recover_interrupted_build(
            context.requests, claim.key, at=context.leasing.clock(), actor=owner
        )
    try:
        # A rebuild a person asked for is theirs (four eyes: they cannot approve it).
        context.build(claim.key, claim.rebuild_requested_by or owner)
    except UgppBridgeError as exc:
        # build_request has already moved the request to build_failed with the reason.
        logger.warning("Request %s could not be built: %s", filing, type(exc).__name__)
    except Exception:
        logger.exception("Request %s: the build failed unexpectedly", filing)
        _fail_build(context, claim.key, "The build failed unexpectedly; see the bridge's log.")
    return None


def _fail_build(context: WorkContext, key: RequestKey, error: str) -> None:
    if context.requests.get(key).state is RequestState.BUILDING:
        context.requests.transition(
            key, RequestState.BUILD_FAILED, at=context.leasing.clock(),
            actor=context.leasing.owner, error=error,
        )  # fmt: skip


def _send_claimed(context: WorkContext, claim: Claim) -> datetime | None:
    filing = claim.filing_number
    try:
        result = context.send(claim.key)
    except Exception:
        logger.exception("Request %s: the send failed unexpectedly; it is retried later", filing)
        error = "The send failed unexpectedly; see the bridge's log."
        context.requests.record_error(claim.key, error, at=context.leasing.clock())
        return context.leasing.clock() + context.parked_retry
    if result.state is RequestState.SENDING:  # parked: attempts ran out
        return context.leasing.clock() + context.parked_retry
    return None


@contextmanager
def holding(leasing: Leasing, claim: Claim) -> Iterator[Claim]:
    """Keep ``claim`` renewed while the body runs; release it afterwards."""
    try:
        with _renewing(leasing, claim):
            yield claim
    finally:
        leasing.queue.release(claim)


@contextmanager
def _renewing(leasing: Leasing, claim: Claim) -> Iterator[None]:
    stop = threading.Event()
    interval = max(leasing.lease.total_seconds() / 3, 0.05)

    def renew() -> None:
        while not stop.wait(interval):
            try:
                held = leasing.queue.renew(claim, now=leasing.clock(), lease=leasing.lease)
            except UgppBridgeError:
                logger.warning("Could not renew the lease on %s; retrying", claim.filing_number)
                continue
            if held is None:
                logger.error("The lease on %s was lost to another process", claim.filing_number)
                return

    thread = threading.Thread(target=renew, name=f"lease-{claim.filing_number}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
