"""In-memory fakes of the ports the operating use cases use: UGPP's gateway, the work queue,
the deadline alerts, the accounts and the directory (``fakes.py`` holds the stores of a
request)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from tests.unit.fakes import FakeRequestStore
from ugpp_bridge.domain.alerts import DeadlineAlert
from ugpp_bridge.domain.filing import AttemptOutcome, Exchange, PreparedCall, RequestKey
from ugpp_bridge.domain.users import Role, User
from ugpp_bridge.domain.work import DUE_STATES, Claim, WorkKind
from ugpp_bridge.errors import CredentialsRefusedError, WorkInProgressError
from ugpp_bridge.service.ports import (
    AlertStore,
    Directory,
    DirectoryAccount,
    UgppGateway,
    UserStore,
    WorkQueue,
)

ENDPOINT = "https://ugpp.example/paso2"


class FakeUgppGateway(UgppGateway):
    """Answers each post with the next scripted outcome (the last one repeats); keeps every
    call it was asked to make."""

    def __init__(self, *outcomes: AttemptOutcome, token_refused: bool = False) -> None:
        self.outcomes = list(outcomes) or [AttemptOutcome.ACKNOWLEDGED]
        self.token_refused = token_refused
        self.posted: list[PreparedCall] = []
        self.closed = False

    def prepare(self, lote_xml: bytes, answering: Mapping[str, str] | None = None) -> PreparedCall:
        if self.token_refused:
            raise CredentialsRefusedError(
                "the token service refused the client", endpoint=ENDPOINT, http_status=401
            )
        return PreparedCall(ENDPOINT, b"<Envelope>" + lote_xml + b"</Envelope>", {})

    def post(self, call: PreparedCall) -> Exchange:
        self.posted.append(call)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        return Exchange(
            datetime(2026, 12, 1), 12, call.endpoint, outcome, call.request_bytes,
            b"<Acuse/>", 200 if outcome is AttemptOutcome.ACKNOWLEDGED else 500,
            fault_message="datos inválidos" if outcome is AttemptOutcome.CLIENT_FAULT else None,
            error="connection refused" if outcome is AttemptOutcome.CONNECTION_ERROR else None,
            ugpp_filing_number="UGPP-1" if outcome is AttemptOutcome.ACKNOWLEDGED else None,
        )  # fmt: skip

    @property
    def renews_token(self) -> bool:
        return False

    def forget_token(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class FakeWorkQueue(WorkQueue):
    """Leases over the fake requests: due by ``DUE_STATES``, most urgent deadline first."""

    def __init__(self, requests: FakeRequestStore) -> None:
        self.requests = requests
        self.held: dict[RequestKey, Claim] = {}
        self.not_before: dict[RequestKey, datetime] = {}
        self.beats: list[tuple[str, datetime]] = []

    def claim_next(
        self, kind: WorkKind, *, owner: str, now: datetime, lease: timedelta
    ) -> Claim | None:
        due = [
            stored for stored in self.requests.requests.values()
            if stored.state in DUE_STATES[kind] and not self._live(stored.key, now)
            and self.not_before.get(stored.key, now) <= now
        ]  # fmt: skip
        if not due:
            return None
        return self._take(min(due, key=lambda s: s.due_date).key, owner, now, lease)

    def claim(self, key: RequestKey, *, owner: str, now: datetime, lease: timedelta) -> Claim:
        if self._live(key, now):
            held = self.held[key]
            raise WorkInProgressError(held.filing_number, held.owner, held.until.isoformat())
        return self._take(key, owner, now, lease)

    def renew(self, claim: Claim, *, now: datetime, lease: timedelta) -> Claim | None:
        if self.held.get(claim.key) != claim:
            return None
        self.held[claim.key] = replace(claim, until=now + lease)
        return self.held[claim.key]

    def release(self, claim: Claim, *, retry_at: datetime | None = None) -> None:
        self.held.pop(claim.key, None)
        if retry_at is not None:
            self.not_before[claim.key] = retry_at

    def beat(self, owner: str, at: datetime) -> None:
        self.beats.append((owner, at))

    def last_beat(self) -> datetime | None:
        return max((at for _, at in self.beats), default=None)

    def _live(self, key: RequestKey, now: datetime) -> bool:
        return key in self.held and self.held[key].until > now

    def _take(self, key: RequestKey, owner: str, now: datetime, lease: timedelta) -> Claim:
        stored = self.requests.get(key)
        claim = Claim(key, stored.filing_number, stored.state, owner, now + lease,
                      self.requests.rebuild_asked.get(key))  # fmt: skip
        self.held[key] = claim
        return claim


@dataclass
class FakeAlertStore(AlertStore):
    """Alerts raised once per request, threshold and due date; tries per channel."""

    raised: list[DeadlineAlert] = field(default_factory=list)
    tries: dict[tuple[int, str], list[str | None]] = field(default_factory=dict)

    def raise_alert(self, alert: DeadlineAlert, *, at: datetime) -> bool:
        same = [
            a
            for a in self.raised
            if (a.key, a.threshold, a.due_date) == (alert.key, alert.threshold, alert.due_date)
        ]
        if same:
            return False
        self.raised.append(replace(alert, alert_id=len(self.raised) + 1))
        return True

    def undelivered(self, channel: str, max_attempts: int) -> list[DeadlineAlert]:
        def pending(alert: DeadlineAlert) -> bool:
            tries = self.tries.get((alert.alert_id or 0, channel), [])
            return None not in tries and len(tries) < max_attempts

        return [alert for alert in self.raised if pending(alert)]

    def record_delivery(
        self, alert: DeadlineAlert, channel: str, *, at: datetime, error: str | None
    ) -> None:
        self.tries.setdefault((alert.alert_id or 0, channel), []).append(error)

    def recent(self, since: datetime) -> list[DeadlineAlert]:
        return list(reversed(self.raised))


class FakeUserStore(UserStore):
    """Accounts with a (fake) password digest; directory accounts have none."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.digests: dict[str, str] = {}
        self.sessions: dict[str, str] = {}

    def add(self, name: str, role: Role, password: str, *, at: datetime, actor: str,
            update: bool = False) -> User:  # fmt: skip
        self.users[name] = User(name, role)
        self.digests[name] = _digest(password)
        return self.users[name]

    def authenticate(self, name: str, password: str) -> User | None:
        user = self.users.get(name)
        if user is None or user.disabled or self.digests.get(name) != _digest(password):
            return None
        return user

    def get(self, name: str) -> User | None:
        return self.users.get(name)

    def sync_directory_account(self, name: str, role: Role, *, at: datetime) -> User:
        known = self.users.get(name)
        self.users[name] = User(name, role, disabled=bool(known and known.disabled),
                                directory=True)  # fmt: skip
        return self.users[name]

    def list_users(self) -> list[User]:
        return sorted(self.users.values(), key=lambda user: user.name)

    def set_password(self, name: str, password: str, *, at: datetime, actor: str) -> User:
        self.digests[name] = _digest(password)
        return self.users[name]

    def disable(self, name: str, *, at: datetime, actor: str) -> User:
        self.users[name] = replace(self.users[name], disabled=True)
        return self.users[name]

    def open_session(
        self, name: str, *, at: datetime, lifetime: timedelta, address: str | None
    ) -> str:
        token = f"token-{len(self.sessions) + 1}"
        self.sessions[token] = name
        return token

    def session_user(self, token: str, *, now: datetime) -> User | None:
        name = self.sessions.get(token)
        return None if name is None else self.users.get(name)

    def close_session(self, token: str) -> None:
        self.sessions.pop(token, None)


class FakeDirectory(Directory):
    """People with a password and the role their groups give (None: in no group)."""

    def __init__(self, people: Iterable[tuple[str, str, Role | None]] = ()) -> None:
        self.people = {name: (password, role) for name, password, role in people}
        self.asked: list[str] = []

    def authenticate(self, name: str, password: str) -> DirectoryAccount | None:
        self.asked.append(name)
        known = self.people.get(name)
        if known is None or known[0] != password:
            return None
        return DirectoryAccount(name, f"uid={name},ou=people,dc=banco,dc=co", known[1])

    def check(self) -> str:
        return f"{len(self.people)} people"


def _digest(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()
