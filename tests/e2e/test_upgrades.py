"""Upgrades keep every record (SPEC §11): a state database made by each release (its own
``demo``, plus an account from its ``user add``: tests/data/releases/make.sh) is upgraded by
today's ``db upgrade``; every row of every table it had is still there, and the old request
reads, exports and verifies. A failed upgrade leaves the database exactly as it was.
"""

from __future__ import annotations

import shutil
import sqlite3
import zipfile
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from tests.conftest import DATA, GOLDEN_RECEIVED_AT
from ugpp_bridge.adapters.soap.solicitud_xml import parse_solicitud
from ugpp_bridge.adapters.state.engine import state_engine
from ugpp_bridge.adapters.state.migrations import (
    MIGRATIONS_DIR,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from ugpp_bridge.bootstrap import state_stores
from ugpp_bridge.domain.filing import ReceivedMessage
from ugpp_bridge.entrypoints.cli import main

RELEASES = sorted((DATA / "releases").glob("*.db"))
FIRST_RELEASE = DATA / "releases" / "r1-0002.db"


def run(env: dict[str, str], *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == code, result.output
    return result.output


def copy_of(release: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    path = tmp_path / "state.db"
    shutil.copyfile(release, path)
    return path, {"UGPP_BRIDGE_DATABASE_URL": f"sqlite:///{path}"}


def every_row(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Each table's rows, sorted (the upgrade may add columns: compared on the old ones)."""
    with closing(sqlite3.connect(path)) as connection:
        tables = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name != 'alembic_version'")]  # fmt: skip
        return {
            table: sorted(map(tuple, connection.execute(f'SELECT * FROM "{table}"')), key=repr)
            for table in tables
        }


def rows_on(path: Path, table: str, columns: list[str]) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as connection:
        names = ", ".join(f'"{c}"' for c in columns)
        return sorted(map(tuple, connection.execute(f'SELECT {names} FROM "{table}"')), key=repr)


def dump(path: Path) -> str:
    with closing(sqlite3.connect(path)) as connection:
        return "\n".join(connection.iterdump())


def columns_of(path: Path, table: str) -> list[str]:
    with closing(sqlite3.connect(path)) as connection:
        return [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')]


def test_there_is_a_state_database_of_the_first_release_and_of_later_ones() -> None:
    # One per release that changed the schema (tests/data/releases/make.sh makes the next).
    names = [release.name for release in RELEASES]
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    assert names[0] == FIRST_RELEASE.name and len(names) >= 4, names
    for name in names:
        assert script.get_revision(name.removesuffix(".db").rsplit("-", 1)[1]) is not None, name


@pytest.mark.parametrize("release", RELEASES, ids=lambda path: path.stem)
def test_db_upgrade_from_each_release_keeps_every_record(release: Path, tmp_path: Path) -> None:
    path, env = copy_of(release, tmp_path)
    before = every_row(path)
    old_columns = {table: columns_of(path, table) for table in before}
    run(env, "db", "upgrade")
    assert current_revision(env["UGPP_BRIDGE_DATABASE_URL"]) == head_revision()
    for table, rows in before.items():
        assert rows_on(path, table, old_columns[table]) == rows, table
    assert before["requests"] and before["lotes"] and before["attempts"] and before["audit_log"]


@pytest.mark.parametrize("release", RELEASES, ids=lambda path: path.stem)
def test_the_old_request_reads_exports_and_verifies_after_the_upgrade(
    release: Path, tmp_path: Path
) -> None:
    path, env = copy_of(release, tmp_path)
    (filing,) = (row[0] for row in rows_on(path, "requests", ["filing_number"]))
    run(env, "db", "upgrade")
    assert "intact" in run(env, "audit", "verify")
    shown = run(env, "show", filing)
    assert filing in shown and "UGPP-R-000001" in shown
    bundle = tmp_path / "evidencia.zip"
    run(env, "evidence", filing, "--out", str(bundle))
    verdict = run(env, "evidence", "verify", str(bundle))
    assert "VERIFICADO" in verdict and "NO VERIFICADO" not in verdict
    assert "operadora" in run(env, "user", "list")


def test_a_failed_upgrade_leaves_the_database_exactly_as_it_was(tmp_path: Path) -> None:
    path, env = copy_of(FIRST_RELEASE, tmp_path)
    # A row the officer's-desk migration cannot copy into its rebuilt table (its state is no
    # state any release knows), so that migration fails after two others have run.
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA ignore_check_constraints = ON")
        connection.execute("UPDATE requests SET state = 'limbo'")
        connection.commit()
    before = dump(path)
    output = run(env, "db", "upgrade", code=1)
    assert "rolled back" in output
    assert current_revision(env["UGPP_BRIDGE_DATABASE_URL"]) == "0002"
    assert dump(path) == before


@pytest.mark.postgresql
@pytest.mark.parametrize("release", RELEASES[:-1], ids=lambda path: path.stem)
def test_db_upgrade_on_postgresql_keeps_every_record_of_each_release(
    release: Path, postgres_url: str
) -> None:
    # The release's rows, moved into a PostgreSQL database at the release's revision, as an
    # entity running that release on PostgreSQL would hold them.
    revision = release.stem.rsplit("-", 1)[1]
    upgrade(postgres_url, revision)
    source = sa.create_engine(f"sqlite:///{release}")
    target = state_engine(postgres_url)
    try:
        old = sa.MetaData()
        old.reflect(source)
        new = sa.MetaData()
        new.reflect(target)
        with source.connect() as reading, target.begin() as writing:
            for table in reversed(new.sorted_tables):  # rows the migrations seed (audit head)
                if table.name != "alembic_version":
                    writing.execute(table.delete())
            for table in old.sorted_tables:
                if table.name == "alembic_version":
                    continue
                rows = [dict(row) for row in reading.execute(table.select()).mappings()]
                if rows:
                    writing.execute(new.tables[table.name].insert(), rows)
        before = _counts(target, old)
        run({"UGPP_BRIDGE_DATABASE_URL": postgres_url}, "db", "upgrade")
        assert current_revision(postgres_url) == head_revision()
        assert _counts(target, old) == before
        assert before["requests"] == 1 and before["lotes"] == 1 and before["audit_log"] >= 9
    finally:
        source.dispose()
        target.dispose()


def _counts(engine: sa.Engine, metadata: sa.MetaData) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.execute(sa.select(sa.func.count()).select_from(
                sa.table(table.name))).scalar_one()
            for table in metadata.sorted_tables
            if table.name != "alembic_version"
        }  # fmt: skip


def test_a_bundle_with_a_damaged_compressed_entry_gets_a_verdict_naming_it(
    tmp_path: Path,
) -> None:
    # Issue 25, item 4: one byte flipped inside a deflated entry ended in a zlib.error traceback.
    path, env = copy_of(RELEASES[-1], tmp_path)
    (filing,) = (row[0] for row in rows_on(path, "requests", ["filing_number"]))
    run(env, "db", "upgrade")
    bundle = tmp_path / "evidencia.zip"
    run(env, "evidence", filing, "--out", str(bundle))
    with zipfile.ZipFile(bundle) as archive:
        entry = next(i for i in archive.infolist() if i.filename.startswith("lotes/")
                     and i.compress_type == zipfile.ZIP_DEFLATED and i.compress_size > 1000)  # fmt: skip
    data = bytearray(bundle.read_bytes())
    header = entry.header_offset
    start = header + 30 + int.from_bytes(data[header + 26 : header + 28], "little") + \
        int.from_bytes(data[header + 28 : header + 30], "little")  # fmt: skip
    data[start] = 0b111  # the first deflate block's header: final, of the reserved type 3
    bundle.write_bytes(bytes(data))
    result = CliRunner().invoke(main, ["evidence", "verify", str(bundle)], env=env)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert f"{entry.filename}: está dañado" in " ".join(result.output.split())
    assert "NO VERIFICADO" in result.output


def test_going_back_a_migration_decompresses_the_kept_messages(tmp_path: Path) -> None:
    path, env = copy_of(RELEASES[-1], tmp_path)
    url = env["UGPP_BRIDGE_DATABASE_URL"]
    run(env, "db", "upgrade")
    golden = (DATA / "wire" / "solicitud.xml").read_bytes()
    stores = state_stores(url)
    try:
        (summary,) = stores.requests.list_requests()
        (before,) = stores.inbound.inbound_messages(stores.requests.find(summary.filing_number).key)
        stores.requests.register(parse_solicitud(golden), received_at=GOLDEN_RECEIVED_AT,
                                 due_date=GOLDEN_RECEIVED_AT.date(), actor="test",
                                 message=ReceivedMessage.of(golden))  # fmt: skip
    finally:
        stores.close()
    downgrade(url, "0006")
    with closing(sqlite3.connect(path)) as connection:
        kept = sorted(
            row[0] for row in connection.execute("SELECT request_bytes FROM inbound_messages")
        )
    assert kept == sorted([before.request_bytes, golden])
