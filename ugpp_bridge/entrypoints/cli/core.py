"""The core commands: ``demo``, ``build``, ``source``, ``db``, ``audit``.

Loaded only when one of them runs (see ``cli.py``), so their imports cost nothing to
``--help`` or to the other commands.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click
from rich.console import Console

from ugpp_bridge.adapters.database import safe_url
from ugpp_bridge.adapters.source.csv_import import CsvFormat, import_csv
from ugpp_bridge.bootstrap import (
    build_stored,
    leasing,
    process_name,
    settings_stores,
    source_from_settings,
)
from ugpp_bridge.bootstrap_source import system_clock
from ugpp_bridge.config import Settings, check_required
from ugpp_bridge.domain.filing import RequestKey, StoredRequest
from ugpp_bridge.domain.labels import number
from ugpp_bridge.entrypoints.cli.console import (
    lotes_table,
    progress_bar,
    progress_counter,
    write_counts_table,
)
from ugpp_bridge.entrypoints.cli.identity import acting_actor, acting_options
from ugpp_bridge.errors import UgppBridgeError
from ugpp_bridge.service.sample_bank import DEFAULT_SAMPLE_YEAR, sample_bank
from ugpp_bridge.service.selftest import SelftestVerdict
from ugpp_bridge.service.work import recover_interrupted_build, run_claimed


@click.command()
@click.option("--persons", default=60, show_default=True, help="Persons in the sample bank.")
@click.option("--seed", default=2026, show_default=True, help="Seed of the sample data.")
@click.option(
    "--keep-running", is_flag=True, help="Leave the dashboard up afterwards (Ctrl+C stops it)."
)
@click.option(
    "--profile", "profile_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None, help="Run the whole job in this wire profile (SPEC §10), both sides.",
)  # fmt: skip
@click.pass_obj
def demo(
    settings: Settings, persons: int, seed: int, keep_running: bool, profile_dir: Path | None
) -> None:
    """The whole job on sample data, in a temporary folder, on 127.0.0.1 only."""
    from ugpp_bridge.entrypoints import demo as demo_command  # start-up time: loaded by its command

    if profile_dir is not None:
        settings = replace(settings, wire_profile=str(profile_dir.resolve()))
    demo_command.run(
        settings, persons=persons, seed=seed, console=Console(width=140), keep_running=keep_running
    )


@click.command()
@click.argument("identifier", metavar="ID")
@click.option("--source-url", default=None, help="Default: UGPP_BRIDGE_SOURCE_URL.")
@acting_options
@click.pass_obj
def build(
    settings: Settings, identifier: str, source_url: str | None, acting_as: str | None,
    password_stdin: bool,
) -> None:  # fmt: skip
    """Build a stored request (radicado or idSolicitud) into stored, validated lotes."""
    if source_url is None:
        check_required(settings, ("build",))
    console = Console()
    stores = settings_stores(settings)
    try:
        actor = acting_actor(settings, stores, acting_as, password_stdin, command="build",
                             required=settings.require_approval)  # fmt: skip
    except BaseException:
        stores.close()
        raise

    def run(key: RequestKey) -> StoredRequest:
        recover_interrupted_build(stores.requests, key, at=system_clock(), actor=actor)
        stored = stores.requests.get(key)
        with progress_counter(console, "Building", len(stored.request.persons)) as progress:
            return build_stored(
                settings, stores, stored, actor, source_url=source_url, progress=progress
            )

    try:
        key = stores.requests.find(identifier).key
        built = run_claimed(leasing(settings, stores, process_name("cli")), key, run)
        console.print(lotes_table(stores.lotes.lotes(built.key), built.filing_number))
        console.print(f"{built.filing_number}: {built.state.value}, generation {built.generation}.")
    finally:
        stores.close()


@click.group()
def source() -> None:
    """The entity's source data: sample, import, check, selftest (SPEC §3, §11)."""


_url_option = click.option(
    "--url", help="Source database URL (default: UGPP_BRIDGE_SOURCE_URL).", default=None
)


@source.command("sample")
@_url_option
@click.option("--persons", type=click.IntRange(1), default=100, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--year", type=click.IntRange(2001, 2100), default=DEFAULT_SAMPLE_YEAR, show_default=True
)
@click.pass_obj
def source_sample(settings: Settings, url: str | None, persons: int, seed: int, year: int) -> None:
    """Write synthetic bank data into an empty source database, reproducibly for a seed."""
    console = Console()
    with (
        source_from_settings(settings, url, create=True) as target,
        progress_bar(console, "Generating sample data", persons) as advance,
    ):
        counts = target.write(advance(sample_bank(persons, seed, year)))
    console.print(
        write_counts_table(counts, f"Sample data: {persons} persons, seed {seed}, {year}")
    )


@source.command("import")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@_url_option
@click.option("--encoding", default="auto", show_default=True,
              help="auto: UTF-8 (BOM or not), else Windows-1252 with a notice; or a codec name "
                   "such as cp1252 or latin-1.")  # fmt: skip
@click.option("--decimal-comma", is_flag=True,
              help="Amounts written 1.234.567,89 (thousands dots, decimal comma).")  # fmt: skip
@click.option("--mode", type=click.Choice(["append", "replace"]), default="append",
              show_default=True,
              help="append: add to what the source holds (a key already there is an error); "
                   "replace: empty the six relations first, in the same transaction.")  # fmt: skip
@click.pass_obj
def source_import(
    settings: Settings,
    directory: Path,
    url: str | None,
    encoding: str,
    decimal_comma: bool,
    mode: str,
) -> None:
    """Load one CSV file per relation from DIRECTORY; all or nothing."""
    console = Console()
    csv_format = CsvFormat(encoding=encoding, decimal_comma=decimal_comma)
    with source_from_settings(settings, url, create=True) as target:
        report = import_csv(directory, target, csv_format, replace=mode == "replace")
    for notice in report.notices:
        click.echo(f"Note: {notice}", err=True)
    console.print(write_counts_table(report.counts, f"Imported from {directory} ({mode})"))


@source.command("check")
@_url_option
@click.pass_obj
def source_check(settings: Settings, url: str | None) -> None:
    """Check the source against the contract: relations, columns and codes."""
    with source_from_settings(settings, url) as target:
        problems = target.check()
    if not problems:
        click.echo("The source meets the contract: six relations, every column, valid codes.")
        return
    click.echo(f"The source breaks the contract in {len(problems)} place(s):", err=True)
    for problem in problems:
        click.echo(f"  - {problem.describe()}", err=True)
    sys.exit(1)


@source.command("selftest")
@_url_option
@click.pass_obj
def source_selftest(settings: Settings, url: str | None) -> None:
    """Prove the build on this engine: a built-in trap bank in temporary tables, the build's
    own statements, every record compared with the rules; exit 1 on any difference."""
    from ugpp_bridge.adapters.source.selftest import build_fingerprint  # start-up time
    from ugpp_bridge.bootstrap_source import run_selftest

    engine, verdict = run_selftest(settings, url)
    where, fingerprint = safe_url(url or settings.source_url or ""), build_fingerprint()
    if not verdict.passed:
        click.echo(selftest_failure(engine, where, verdict))
        sys.exit(1)
    click.echo(f"✓ Autoprueba en {engine} ({where}): los {number(verdict.records)} registros del "
               "banco de trampas coinciden con las reglas.")  # fmt: skip
    try:
        stores = settings_stores(settings)
        try:
            stores.selftests.record_pass(engine, fingerprint, source=where,
                                         records=verdict.records, at=system_clock())  # fmt: skip
        finally:
            stores.close()
        click.echo(f"  Registrada en la base de estado para la versión {fingerprint}.")
    except UgppBridgeError as exc:
        click.echo(f"! No quedó registrada en la base de estado: {str(exc).splitlines()[0]}")


def selftest_failure(engine: str, where: str, verdict: SelftestVerdict) -> str:
    """The first record where the engine and the rules differ, in Spanish."""
    position, total = number(verdict.position or 0), number(verdict.records)
    lines = [f"✗ Autoprueba en {engine} ({where}): el registro {position} de {total} difiere de "
             "las reglas; no construya con este motor."]  # fmt: skip
    differing = verdict.differing_fields()
    if differing:
        rules = verdict.rules_record
        lines.append(f"  {type(rules).__name__} de {getattr(rules, 'person', '')}, "
                     f"periodo {getattr(rules, 'period', '')}:")  # fmt: skip
        lines += [f"    {name}: el motor da {mine}, las reglas {expected}"
                  for name, mine, expected in differing]  # fmt: skip
    else:
        lines.append(f"  el motor da {verdict.engine_record}")
        lines.append(f"  las reglas {verdict.rules_record}")
    return "\n".join(lines)


@click.group()
def db() -> None:
    """The bridge's own state database (UGPP_BRIDGE_DATABASE_URL)."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(settings: Settings) -> None:
    """Apply the Alembic migrations up to the newest."""
    from ugpp_bridge.adapters.state import (  # start-up time: loaded where used
        migrations as migrations,  # alembic loads slowly; only this command needs it
    )

    migrations.upgrade(settings.database_url)
    revision = migrations.current_revision(settings.database_url)
    click.echo(f"The state database {safe_url(settings.database_url)} is at revision {revision}.")


@click.group()
def audit() -> None:
    """The hash-chained audit trail."""


@audit.command("verify")
@click.pass_obj
def audit_verify(settings: Settings) -> None:
    """Walk the audit chain and report any entry edited, deleted or added outside the bridge."""
    stores = settings_stores(settings)
    try:
        result = stores.audit.verify_audit()
    finally:
        stores.close()
    if result.ok:
        click.echo(f"The audit trail is intact: {result.entries} entries, head {result.head_hash}.")
        return
    click.echo(f"The audit trail was tampered with ({len(result.problems)} problem(s)):", err=True)
    for problem in result.problems:
        click.echo(f"  - {problem}", err=True)
    sys.exit(1)


COMMANDS = (demo, build, source, db, audit)
