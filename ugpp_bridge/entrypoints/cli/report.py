"""``report``: build the lotes of a Solicitud file from the source into a folder, storing and
sending nothing.

Its own module, importing only what a preview needs (no state stores, no SOAP stacks): for a
small request, start-up is most of the command's time.
"""

from __future__ import annotations

from contextlib import closing
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console

from ugpp_bridge.adapters.soap.solicitud_xml import read_request_file
from ugpp_bridge.bootstrap_source import (
    build_options,
    lote_writer,
    report_source_for,
    system_clock,
    wire_profile,
)
from ugpp_bridge.config import Settings
from ugpp_bridge.domain.filing import BOGOTA
from ugpp_bridge.entrypoints.cli.console import lotes_table, progress_counter
from ugpp_bridge.service.build import preview_lotes


@click.command()
@click.option(
    "--request",
    "request_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A Solicitud XML file, or the profile's request (alone or in a SOAP envelope).",
)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--source-url", default=None, help="Default: UGPP_BRIDGE_SOURCE_URL.")
@click.option(
    "--generated-at",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="fechaGeneracion (default: now, Bogotá time); fix it to reproduce a preview.",
)
@click.pass_obj
def report(
    settings: Settings,
    request_file: Path,
    out_dir: Path,
    source_url: str | None,
    generated_at: datetime | None,
) -> None:
    """Build the lotes of a Solicitud file from the source into OUT; store and send nothing."""
    console = Console()
    request = read_request_file(wire_profile(settings), request_file.read_bytes())
    moment = system_clock() if generated_at is None else _aware(generated_at)
    with (
        closing(report_source_for(settings, source_url)) as source,
        progress_counter(console, "Building", len(request.persons)) as progress,
    ):
        written = preview_lotes(
            request,
            source=source,
            writer=lote_writer(settings),
            options=build_options(settings, request),
            out_dir=out_dir,
            generated_at=moment,
            progress=progress,
        )
    console.print(lotes_table(written, f"Preview of {request.request_id} in {out_dir}"))
    console.print("Nothing was stored or sent: these files are a preview (radicado SIN-RADICAR).")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=BOGOTA)


COMMANDS = (report,)
