"""``source selftest`` (SPEC §11): the build's statements, run by the entity's engine over the
trap bank, against the pure rules — every record, in order. The first difference is what an
integrator needs to see; a clean run is recorded so that builds on that engine may proceed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from ugpp_bridge.domain.report import Record, build_report
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.domain.source import SourceData
from ugpp_bridge.service.trap_bank import trap_bank


@dataclass(frozen=True)
class SelftestVerdict:
    """``records`` the rules give; the first position where the engine differs (None: none),
    with both records there (None where one list ended first)."""

    records: int
    position: int | None = None
    engine_record: Record | None = None
    rules_record: Record | None = None

    @property
    def passed(self) -> bool:
        return self.position is None

    def differing_fields(self) -> list[tuple[str, object, object]]:
        """(field, the engine's value, the rules' value) of the first differing record."""
        mine, rules = self.engine_record, self.rules_record
        if mine is None or rules is None or type(mine) is not type(rules):
            return []
        pairs = ((f.name, getattr(mine, f.name), getattr(rules, f.name)) for f in fields(mine))
        return [(name, found, expected) for name, found, expected in pairs if found != expected]


def selftest_source(
    run: Callable[[SourceData, FinancialInfoRequest], list[Record]],
) -> SelftestVerdict:
    """Load the trap bank through ``run`` (the engine's build) and compare every record."""
    data, request = trap_bank()
    expected = list(build_report(request, data).records())
    found = run(data, request)
    for position in range(max(len(found), len(expected))):
        mine = found[position] if position < len(found) else None
        rules = expected[position] if position < len(expected) else None
        if mine != rules:
            return SelftestVerdict(len(expected), position + 1, mine, rules)
    return SelftestVerdict(len(expected))
