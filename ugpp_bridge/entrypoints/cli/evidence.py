"""``evidence``: export a request's evidence bundle (``evidence ID --out FILE.zip``, or
``evidence export``), its certificate alone (``--certificate FILE.pdf``), and check a bundle
offline (``evidence verify BUNDLE.zip [--source URL]``). Registered by ``cli.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO

import click
from rich.console import Console

from ugpp_bridge.bootstrap import (
    bundle_checks,
    evidence_exporter,
    settings_stores,
    source_rebuilder,
)
from ugpp_bridge.config import Settings
from ugpp_bridge.entrypoints.cli.identity import operator_name
from ugpp_bridge.service.evidence import EvidenceBundle, bundle_name
from ugpp_bridge.service.evidence_check import Verification, verify_bundle


class _ExportByDefault(click.Group):
    """``evidence ID --out FILE`` is ``evidence export ID --out FILE``: the command kept
    working when ``verify`` joined it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["export", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_ExportByDefault)
def evidence() -> None:
    """Evidence of a request (article 12): export the bundle or its certificate, verify a bundle."""


@evidence.command("export")
@click.argument("identifier", metavar="ID")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The bundle (.zip); default evidencia-RADICADO.zip here.")  # fmt: skip
@click.option("--certificate", "certificate", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Also write the certificate alone (.pdf).")  # fmt: skip
@click.pass_obj
def export(settings: Settings, identifier: str, out: Path | None, certificate: Path | None) -> None:
    """Package the request, its Paso 1 messages, every lote and attempt, the approvals and the
    audit segment under a manifest, with a Spanish certificate (signed with
    UGPP_BRIDGE_SIGNING_KEY when set)."""
    stores = settings_stores(settings)
    try:
        key = stores.requests.find(identifier).key
        filing = stores.requests.get(key).filing_number
        target = out or Path(bundle_name(filing))
        actor = operator_name()
        bundle_of = evidence_exporter(settings, stores)
        bundle = _write(target, lambda sink: bundle_of(key, sink, target.name, actor))
        click.echo(f"Evidence bundle {target}: {bundle.files} files, SHA-256 {bundle.sha256}; "
                   f"manifest SHA-256 {bundle.manifest_sha256}.")  # fmt: skip
        if certificate is not None:
            certificate_of = evidence_exporter(settings, stores, certificate_only=True)
            alone = _write(certificate, lambda s: certificate_of(key, s, certificate.name, actor))
            click.echo(f"Certificate {certificate}: SHA-256 {alone.sha256} (its bundle's "
                       f"manifest {alone.manifest_sha256}).")  # fmt: skip
    finally:
        stores.close()


@evidence.command("verify")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", "source_url", default=None,
              help="Rebuild the lotes from this source and compare their SHA-256.")  # fmt: skip
@click.pass_obj
def verify(settings: Settings, bundle: Path, source_url: str | None) -> None:
    """Check a bundle offline, without the bridge's database: manifest, seal and signature,
    audit chain, lotes against the XSD and against the bytes sent; exit 1 on any mismatch."""
    rebuild = source_rebuilder(settings, source_url) if source_url else None
    result = verify_bundle(bundle, bundle_checks(settings), rebuild=rebuild)
    _print(Console(highlight=False), result, with_source=source_url is not None)
    if not result.ok:
        raise SystemExit(1)


def _write(path: Path, write: Callable[[IO[bytes]], EvidenceBundle]) -> EvidenceBundle:
    """Write through a ``.part`` file that becomes ``path`` only when complete; a failure
    leaves nothing (the bundle holds personal data)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    try:
        with partial.open("wb") as sink:
            done = write(sink)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return done


def _print(console: Console, result: Verification, *, with_source: bool) -> None:
    who = ""
    if result.request_id or result.filing_number:
        who = f" — solicitud {result.request_id}, radicado {result.filing_number}"
    console.print(f"Paquete {result.bundle}{who}")
    for line in result.checked:
        console.print(f"  [green]✓[/green] {line}")
    for finding in result.findings:
        console.print(f"  [red]✗ {finding.file}[/red]: {finding.problem}")
    if result.ok:
        signed = (
            f"Firmado con la clave de huella {result.signed_by} (compárela con la que publica la "
            "entidad)."
            if result.signed_by
            else "Sin firma: el paquete prueba integridad, no autoría."
        )
        source = " Los lotes se reconstruyeron desde el origen." if with_source else ""
        console.print(f"[bold green]VERIFICADO[/bold green]: el paquete está íntegro.{source} "
                      f"{signed}")  # fmt: skip
    else:
        count = len(result.findings)
        console.print(f"[bold red]NO VERIFICADO[/bold red]: {count} "
                      f"{'problema' if count == 1 else 'problemas'}.")  # fmt: skip


COMMANDS = (evidence,)
