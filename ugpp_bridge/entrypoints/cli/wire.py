"""``wire check [DIR]`` (SPEC §10): prove a wire profile before anything goes to UGPP with it.

Every WSDL, XSD and XSLT compiled (every XSLT compile message counts); the example request
through Paso 1's checks and transform; the sample bank's lotes through ``paso2.lote`` and
``paso2.schemas``; the example acknowledgement through ``ack``. Spanish ✓/✗ per step, the
file, line and element of the first problem; exit 1 on any ✗.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import closing
from pathlib import Path

import click

from ugpp_bridge.adapters.soap.profile import WireProfile
from ugpp_bridge.adapters.soap.profile_check import FAIL, LoteMaker, check_profile
from ugpp_bridge.config import Settings
from ugpp_bridge.domain.request import FinancialInfoRequest

SAMPLE_PERSONS = 40
SAMPLE_SEED = 7
CHECK_LOTE_RECORDS = 25  # small lotes, so the check makes several and their order shows


@click.group("wire")
def wire_group() -> None:
    """The wire profile (SPEC §10): the official annex as data."""


@wire_group.command("check")
@click.argument(
    "folder", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.pass_obj
def wire_check(settings: Settings, folder: Path | None) -> None:
    """Prove a wire profile (default: UGPP_BRIDGE_WIRE_PROFILE): ✓/✗ per step, exit 1 on ✗."""
    setting = str(folder) if folder is not None else settings.wire_profile
    failed = 0
    for step in check_profile(setting, sample_lotes(settings)):
        click.echo(f"{step.status} {step.what}: {step.detail}" if step.detail else step.what)
        failed += step.status == FAIL
    if failed:
        click.echo(f"\nEl perfil no está listo: {failed} paso(s) con ✗.")
        raise SystemExit(1)
    click.echo("\nEl perfil está listo.")


def sample_lotes(settings: Settings) -> LoteMaker:
    """The sample bank's lotes under a profile, in a private folder removed afterwards."""

    def make(profile: WireProfile, request: FinancialInfoRequest | None) -> list[dict[str, str]]:
        # The build and the sample bank: loaded by this command only (start-up time).
        from ugpp_bridge.adapters.soap.xml_lotes import ProfileLoteWriter
        from ugpp_bridge.adapters.source.engines import make_engine
        from ugpp_bridge.adapters.source.report_source import SqlAlchemyReportSource
        from ugpp_bridge.bootstrap import source_for
        from ugpp_bridge.bootstrap_source import system_clock
        from ugpp_bridge.entrypoints.demo import DEMO_OPERATOR_NAME, check_request, sample_persons
        from ugpp_bridge.service.build import SCRATCH_PREFIX, BuildOptions, preview_lotes
        from ugpp_bridge.service.sample_bank import DEFAULT_SAMPLE_YEAR, sample_bank

        with tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-") as folder:
            url = f"sqlite:///{Path(folder) / 'banco.db'}"
            parts = list(sample_bank(SAMPLE_PERSONS, SAMPLE_SEED, DEFAULT_SAMPLE_YEAR))
            with source_for(url) as bank:
                bank.write(parts)
            sample = check_request(request, settings, sample_persons(parts))
            options = BuildOptions(
                sample.operator_nit,
                settings.operator_name or DEMO_OPERATOR_NAME,
                profile.paso2.max_records or CHECK_LOTE_RECORDS,
                settings.account_number_digits,
            )
            with closing(SqlAlchemyReportSource(make_engine(url))) as source:
                written = preview_lotes(
                    sample, source=source, writer=ProfileLoteWriter(profile), options=options,
                    out_dir=Path(folder) / "lotes", generated_at=system_clock(),
                )  # fmt: skip
            return [
                {
                    "idSolicitud": sample.request_id,
                    "idEnvio": lote.submission_id,
                    "numeroLote": str(lote.lote_number),
                    "totalRegistros": str(lote.record_count),
                }
                for lote in written
            ]

    return make


COMMANDS = (wire_group,)
