"""The ports the use cases talk to; adapters implement them, tests fake them."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.source import SourceData
from ugpp_bridge.errors import SourceProblem


@dataclass
class WriteCounts:
    """Rows written per relation."""

    rows: dict[str, int] = field(default_factory=dict)

    def add(self, relation: str, count: int) -> None:
        self.rows[relation] = self.rows.get(relation, 0) + count

    @property
    def total(self) -> int:
        return sum(self.rows.values())


class SourceReader(abc.ABC):
    """Read-only access to the entity's six relations (SPEC §3)."""

    @abc.abstractmethod
    def check(self) -> list[SourceProblem]:
        """Every breach of the contract found: missing relations or columns, bad codes."""

    @abc.abstractmethod
    def load(self, persons: Sequence[PersonId]) -> SourceData:
        """The records of ``persons`` (their accounts, movements, balances, titles, yields)."""

    @abc.abstractmethod
    def holders(self, limit: int, relation: str = "accounts") -> list[PersonId]:
        """Up to ``limit`` holders found in ``relation`` (accounts, titles or
        trust_yield_payments), in a stable order."""


class SourceWriter(abc.ABC):
    """Writes the six relations; used for sample data and CSV imports, never by the build."""

    @abc.abstractmethod
    def write(self, parts: Iterable[SourceData]) -> WriteCounts:
        """Create the relations if missing and write every part in one transaction."""
