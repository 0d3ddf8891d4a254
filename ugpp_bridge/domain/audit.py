"""The audit trail: append-only, hash-chained entries of operator and system actions.

Each entry's hash covers its own fields and the previous entry's hash, so editing an entry
breaks its hash and deleting one breaks the next entry's link. The store also keeps the hash of
the last entry (the head), so removing entries at the end is detected too. An attacker able to
rewrite the whole chain *and* the head is outside what a hash chain can catch: export the head
(``ugpp-bridge audit verify`` prints it) to somewhere they cannot reach.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

GENESIS_HASH = "0" * 64

# Where the action being audited came from (the dashboard's client address), set by the
# entrypoint for the duration of a request and added to every entry written meanwhile.
ORIGIN: ContextVar[str | None] = ContextVar("audit_origin", default=None)


@dataclass(frozen=True)
class AuditEntry:
    """Who did what, when, to which request, and why."""

    seq: int
    at: datetime
    actor: str
    action: str
    filing_number: str | None
    details: Mapping[str, object] = field(default_factory=dict)
    reason: str | None = None
    prev_hash: str = GENESIS_HASH
    hash: str = ""

    def computed_hash(self) -> str:
        return entry_hash(self.prev_hash, self)


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    """SHA-256 over the previous hash and the entry's canonical JSON."""
    body = {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "filing_number": entry.filing_number,
        "details": entry.details,
        "reason": entry.reason,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


@dataclass(frozen=True)
class AuditVerification:
    """The result of walking the chain: how many entries, the head, and every break found."""

    entries: int
    head_hash: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(entries: Iterable[AuditEntry], head_seq: int, head_hash: str) -> AuditVerification:
    """Check every link and hash in seq order, and that the chain ends at the stored head."""
    problems: list[str] = []
    previous_hash, expected_seq, count = GENESIS_HASH, 1, 0
    for entry in entries:
        count += 1
        if entry.seq != expected_seq:
            problems.append(f"entries {expected_seq}–{entry.seq - 1} are missing")
        if entry.prev_hash != previous_hash:
            problems.append(f"entry {entry.seq} does not link to the entry before it")
        if entry.computed_hash() != entry.hash:
            problems.append(f"entry {entry.seq} was altered after it was written")
        previous_hash, expected_seq = entry.hash, entry.seq + 1
    if (expected_seq - 1, previous_hash) != (head_seq, head_hash):
        problems.append(
            f"the chain ends at entry {expected_seq - 1} but the head says {head_seq}: "
            "entries were removed or added outside the bridge"
        )
    return AuditVerification(count, head_hash, tuple(problems))


@dataclass(frozen=True)
class AuditLink:
    """An entry of the chain reduced to its links (another request's: no content)."""

    seq: int
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AuditSegment:
    """One request's entries as a verifiable piece of the chain: from its first entry to the
    head at export time, the request's entries in full and every other entry as its links."""

    entries: tuple[AuditEntry, ...]
    links: tuple[AuditLink, ...]
    head_seq: int
    head_hash: str


def verify_segment(segment: AuditSegment) -> list[str]:
    """Problems found walking a segment (Spanish, for the auditor): each of the request's
    entries must hash to its recorded hash, every entry must link to the one before it with no
    gap, and the last one must be the head at export time."""
    problems: list[str] = []
    for entry in segment.entries:
        if entry.computed_hash() != entry.hash:
            problems.append(f"la entrada {entry.seq} fue alterada después de escrita")
    chain = sorted(
        [(e.seq, e.prev_hash, e.hash) for e in segment.entries]
        + [(link.seq, link.prev_hash, link.hash) for link in segment.links]
    )
    for (seq, _, hash_), (next_seq, next_prev, _) in zip(chain, chain[1:], strict=False):
        if next_seq != seq + 1:
            problems.append(f"faltan las entradas {seq + 1} a {next_seq - 1}")
        elif next_prev != hash_:
            problems.append(f"la entrada {next_seq} no enlaza con la entrada {seq}")
    if chain and (chain[-1][0], chain[-1][2]) != (segment.head_seq, segment.head_hash):
        problems.append(
            f"la cadena termina en la entrada {chain[-1][0]} pero la cabeza exportada es la "
            f"{segment.head_seq}"
        )
    return problems
