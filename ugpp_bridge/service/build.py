"""Use cases of the build: from the entity's data to exact, validated, deterministic lotes.

``build_request`` builds a stored request into stored lotes (``received → building → built``,
or ``build_failed`` with the reason). ``preview_lotes`` writes the lotes of a request to a
folder and stores and sends nothing (``ugpp-bridge report``).
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ugpp_bridge.domain.corrections import diff_records, is_unchanged
from ugpp_bridge.domain.filing import (
    BuildRecord,
    CorrectedLotes,
    Correction,
    Decision,
    LoteContext,
    LoteDraft,
    RequestKey,
    StoredLote,
    StoredRequest,
    SubmissionType,
    WrittenLote,
)
from ugpp_bridge.domain.lifecycle import LoteState, RequestState
from ugpp_bridge.domain.report import Record
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.errors import (
    ConfigurationError,
    InvalidInputError,
    InvalidRequestError,
    SourceDataError,
    SourceError,
)
from ugpp_bridge.service.ports import BuildStore, LoteStore, LoteWriter, ReportSource, RequestStore

logger = logging.getLogger(__name__)

PREVIEW_FILING_NUMBER = "SIN-RADICAR"
# A build's private folder holds personal data until it is stored; the pid in its name lets
# the next start remove the folder of a process that was killed (adapters/scratch.py).
SCRATCH_PREFIX = "ugpp-bridge-build-"
Progress = Callable[[int], None]


@dataclass(frozen=True)
class BuildOptions:
    """What the lote headers and sizes need from the settings, and whether an officer must
    approve a build before it is sent (``UGPP_BRIDGE_REQUIRE_APPROVAL``; when not, the build
    approves itself and the audit trail says so)."""

    operator_nit: str
    operator_name: str
    lote_max_records: int
    account_number_digits: int
    require_approval: bool = True
    wire_profile: str | None = None  # the profile's identity, JSON (recorded with the build)


def build_request(
    key: RequestKey,
    *,
    requests: RequestStore,
    builds: BuildStore,
    lotes: LoteStore,
    source: ReportSource,
    writer: LoteWriter,
    options: BuildOptions,
    clock: Callable[[], datetime],
    actor: str = "system",
    progress: Progress | None = None,
) -> StoredRequest:
    """Build a stored request into stored lotes (SPEC §5), recording progress by person.

    ``fechaGeneracion`` is the moment the build starts, stored with the request, so the same
    request over the same data gives byte-identical lotes. A source problem or a lote that
    breaks the XSD moves the request to ``build_failed`` with the reason, and is re-raised.

    A rebuild after UGPP acknowledged lotes is a correction: ``tipoEnvio`` CORRECCION, new
    ``idEnvio``s, each pointing at the acknowledged lote it replaces, and the diff of what
    changed kept with the corrections. A rebuild that finds no record changed keeps the
    acknowledged lotes (the request goes back to ``sent`` or ``confirmed``): UGPP never gets
    an empty correction.

    What the build is made with (fechaGeneracion, NIT, name, lote size, account digits) is
    recorded, so its lotes can be rebuilt byte for byte from the same data
    (``evidence verify --source``).
    """
    stored = requests.start_build(key, at=clock(), actor=actor)
    filing = stored.filing_number
    assert stored.generated_at is not None
    builds.record_build(key, build_record(stored, options, actor))
    tracker = _ProgressTracker(requests, key, len(stored.request.persons), clock, progress)
    try:
        _check_ready(stored.request, source, options)
        corrected = acknowledged_lotes(lotes, key, stored.generation)
        replaced = [lote.submission_id for lote in corrected]
        context = LoteContext(
            request_id=stored.request.request_id,
            filing_number=filing,
            generation=stored.generation,
            operator_nit=options.operator_nit,
            operator_name=options.operator_name,
            generated_at=stored.generated_at,
            submission_type=SubmissionType.CORRECTION if corrected else SubmissionType.ORIGINAL,
            corrects=CorrectedLotes(replaced) if replaced else {},
            persons=stored.request.person_keys,
        )
        with tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-") as folder:
            records = report_records(stored.request, source, options, tracker)
            written = writer.write(records, context, options.lote_max_records, Path(folder))
            diff = _diff(writer, corrected, written) if corrected else None
            if diff is not None and is_unchanged(diff):
                kept = corrected[0].generation
                logger.info("Rebuilt request %s: nothing changed; build %d kept", filing, kept)
                return builds.keep_acknowledged(key, kept, at=clock(), actor=actor)
            count = lotes.store_lotes(key, _drafts(written), at=clock(), actor=actor)
        if diff is not None:
            _record_corrections(lotes, key, written, diff, clock(), actor)
    except (SourceError, InvalidInputError, ConfigurationError) as exc:  # e.g. a broken profile
        requests.transition(key, RequestState.BUILD_FAILED, at=clock(), actor=actor, error=str(exc))
        raise
    logger.info("Built request %s into %d lote(s)", filing, count)
    if not options.require_approval:
        return builds.decide(
            key, Decision.APPROVED, at=clock(), actor=actor,
            reason="aprobación no requerida (UGPP_BRIDGE_REQUIRE_APPROVAL=false)",
        )  # fmt: skip
    return requests.get(key)


def build_record(stored: StoredRequest, options: BuildOptions, actor: str) -> BuildRecord:
    assert stored.generated_at is not None
    return BuildRecord(
        generation=stored.generation,
        generated_at=stored.generated_at,
        actor=actor,
        operator_nit=options.operator_nit,
        operator_name=options.operator_name,
        lote_max_records=options.lote_max_records,
        account_number_digits=options.account_number_digits,
        wire_profile=options.wire_profile,
    )


def preview_lotes(
    request: FinancialInfoRequest,
    *,
    source: ReportSource,
    writer: LoteWriter,
    options: BuildOptions,
    out_dir: Path,
    generated_at: datetime,
    progress: Progress | None = None,
) -> list[WrittenLote]:
    """Write ``<idSolicitud>-<numeroLote>.xml`` files for ``request``; store and send nothing."""
    _check_ready(request, source, options)
    context = LoteContext(
        request_id=request.request_id,
        filing_number=PREVIEW_FILING_NUMBER,
        generation=0,
        operator_nit=options.operator_nit,
        operator_name=options.operator_name,
        generated_at=generated_at,
        persons=request.person_keys,
    )
    safe_id = re.sub(r"[^A-Za-z0-9._-]", "_", request.request_id)
    records = report_records(request, source, options, progress or (lambda _done: None))
    return writer.write(
        records, context, options.lote_max_records, out_dir, file_name=f"{safe_id}-{{number}}.xml"
    )


def rebuild_lotes(
    request: FinancialInfoRequest,
    context: LoteContext,
    *,
    source: ReportSource,
    writer: LoteWriter,
    options: BuildOptions,
    out_dir: Path,
) -> list[WrittenLote]:
    """The lotes a recorded build would write over the source as it is now — the same code as
    ``build_request``, storing nothing (``evidence verify --source``)."""
    _check_ready(request, source, options)
    records = report_records(request, source, options, lambda _done: None)
    return writer.write(records, context, options.lote_max_records, out_dir)


def report_records(
    request: FinancialInfoRequest, source: ReportSource, options: BuildOptions, progress: Progress
) -> Iterator[Record]:
    """Every record of the request in wire order, reporting each finished person."""
    reports = source.person_reports(request, account_number_digits=options.account_number_digits)
    for done, person in enumerate(reports, start=1):
        yield from person.records()
        progress(done)


def _check_ready(
    request: FinancialInfoRequest, source: ReportSource, options: BuildOptions
) -> None:
    if request.operator_nit != options.operator_nit:
        raise InvalidRequestError(
            f"The request is addressed to NIT {request.operator_nit} but this bridge answers for "
            f"NIT {options.operator_nit}; check UGPP_BRIDGE_OPERATOR_NIT.",
            field="nitOperador",
        )
    problems = source.check()
    if problems:
        raise SourceDataError(problems)


def acknowledged_lotes(lotes: LoteStore, key: RequestKey, generation: int) -> list[StoredLote]:
    """The lotes UGPP acknowledged in the latest earlier build that has any (what to correct)."""
    for earlier in range(generation - 1, 0, -1):
        acknowledged = [
            lote
            for lote in lotes.lotes(key, generation=earlier)
            if lote.state is LoteState.ACKNOWLEDGED
        ]
        if acknowledged:
            return acknowledged
    return []


def _diff(
    writer: LoteWriter, corrected: list[StoredLote], written: list[WrittenLote]
) -> dict[str, object]:
    before = [record for lote in corrected for record in writer.records_of(lote.v1_xml)]
    after = [record for lote in written for record in writer.records_of(lote.v1_path.read_bytes())]
    return diff_records(before, after)


def _record_corrections(
    lotes: LoteStore,
    key: RequestKey,
    written: list[WrittenLote],
    diff: dict[str, object],
    at: datetime,
    actor: str,
) -> None:
    """One correction a new lote; the diff, for the whole answer, kept with the first."""
    first = written[0].submission_id
    for lote in written:
        assert lote.corrects_submission_id is not None
        kept: dict[str, object] = diff if lote.submission_id == first else {"diferencias_en": first}
        lotes.record_correction(
            Correction(key, lote.corrects_submission_id, lote.submission_id, kept, at),
            actor=actor,
        )


def _drafts(written: Iterable[WrittenLote]) -> Iterator[LoteDraft]:
    """Stored one at a time, so memory holds a single lote's bytes."""
    for lote in written:
        yield LoteDraft(
            lote_number=lote.lote_number,
            total_lotes=lote.total_lotes,
            submission_id=lote.submission_id,
            submission_type=lote.submission_type,
            record_count=lote.record_count,
            xml=lote.path.read_bytes(),
            corrects_submission_id=lote.corrects_submission_id,
            canonical=None if lote.canonical_path is None else lote.canonical_path.read_bytes(),
        )


class _ProgressTracker:
    """Records progress by person on the request about a hundred times per build, at most."""

    def __init__(
        self,
        requests: RequestStore,
        key: RequestKey,
        total: int,
        clock: Callable[[], datetime],
        listener: Progress | None,
    ) -> None:
        self.requests, self.key, self.clock, self.listener = requests, key, clock, listener
        self.step = max(1, total // 100)
        self.total = total

    def __call__(self, done: int) -> None:
        if done % self.step == 0 or done == self.total:
            self.requests.record_progress(self.key, done, at=self.clock())
        if self.listener is not None:
            self.listener(done)
