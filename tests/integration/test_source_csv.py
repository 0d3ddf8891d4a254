"""CSV import into SQLite and PostgreSQL, and a hand-computed report over the imported data."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import DATA
from ugpp_bridge.adapters.source.csv_import import import_csv_directory
from ugpp_bridge.adapters.source.sql import SqlAlchemySource
from ugpp_bridge.domain.codes import InformationType
from ugpp_bridge.domain.identifiers import PersonId
from ugpp_bridge.domain.periods import Period
from ugpp_bridge.domain.report import build_report
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.errors import SourceImportError, SourceUnavailableError
from ugpp_bridge.service.sample_bank import sample_bank

Sources = Callable[[str], SqlAlchemySource]
GOLDEN = DATA / "source_csv"
ANA = PersonId("CC", "52123456")
PEDRO = PersonId("PT", "7788990")
STRANGER = PersonId("RC", "1234")


def copy_golden(tmp_path: Path) -> Path:
    folder = tmp_path / "csv"
    shutil.copytree(GOLDEN, folder)
    return folder


def edit(folder: Path, file: str, old: str, new: str) -> None:
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_import_loads_every_relation(sources: Sources, source_url: str) -> None:
    counts = import_csv_directory(GOLDEN, sources(source_url))
    assert counts.rows == {
        "accounts": 3,
        "transactions": 10,
        "daily_balances": 10,
        "titles": 1,
        "title_events": 2,
        "trust_yield_payments": 2,
    }
    assert sources(source_url).check() == []


def test_imported_data_gives_the_hand_computed_report(sources: Sources, source_url: str) -> None:
    source = sources(source_url)
    import_csv_directory(GOLDEN, source)
    request = FinancialInfoRequest(
        request_id="SOL-GOLDEN",
        operator_nit="800197268",
        requested_on=date(2026, 11, 2),
        term_starts_on=date(2026, 11, 5),
        information_types=frozenset(InformationType),
        periods=(Period(2025, 1), Period(2025, 2)),
        persons=(ANA, PEDRO, STRANGER),
    )
    assert source.check() == []
    loaded = source.load(request.persons)
    records = [_row(record) for record in build_report(request, loaded).records()]
    # Worked by hand in tests/data/source_csv/README.md.
    assert records == [
        ("cuenta", ANA, "2025-01", 1, "6789", 1_500_001, 1, 120_001, 1, 2_130_000, 2_130_000),
        ("cuenta", ANA, "2025-01", 2, "4321", 0, 0, 0, 0, 250_000, 250_000),
        ("cuenta", ANA, "2025-02", 1, "6789", 0, 0, 0, 0, 2_130_000, 2_130_000),
        ("cuenta", ANA, "2025-02", 2, "4321", 0, 0, 0, 0, 250_000, 250_000),
        ("inversion", ANA, "2025-01", "CDT-0001", 4, 2, 250_000, 10_250_000),
        ("inversion", ANA, "2025-02", "CDT-0001", 4, 4, 10_250_000, 10_250_000),
        ("cuenta", PEDRO, "2025-01", 5, "4567", 120_001, 1, 0, 0, 0, 120_001),
        ("cuenta", PEDRO, "2025-02", 5, "4567", 0, 0, 0, 0, 120_001, 120_001),
        ("rendimiento", PEDRO, 2025, 35_000),
        ("sin informacion", STRANGER),
    ]


def _row(record: object) -> tuple[object, ...]:
    name = type(record).__name__
    if name == "AccountMonthRecord":
        r = record
        return (
            "cuenta", r.person, str(r.period), int(r.account_type), r.account_number,  # type: ignore[attr-defined]
            r.credits_value, r.credits_count, r.debits_value, r.debits_count,  # type: ignore[attr-defined]
            r.median_daily_balance, r.end_balance,  # type: ignore[attr-defined]
        )  # fmt: skip
    if name == "TitleMonthRecord":
        r = record
        return (
            "inversion", r.person, str(r.period), r.title_number, int(r.title_type),  # type: ignore[attr-defined]
            int(r.movement_type), r.value, r.balance,  # type: ignore[attr-defined]
        )  # fmt: skip
    if name == "TrustYieldRecord":
        return ("rendimiento", record.person, record.year, record.amount_paid)  # type: ignore[attr-defined]
    return ("sin informacion", record.person)  # type: ignore[attr-defined]


def test_semicolon_separated_files_with_a_bom_are_accepted(
    sources: Sources, source_url: str, tmp_path: Path
) -> None:
    folder = copy_golden(tmp_path)
    for path in folder.glob("*.csv"):
        text = path.read_text(encoding="utf-8").replace(",", ";")
        path.write_text("\ufeff" + text, encoding="utf-8")
    assert import_csv_directory(folder, sources(source_url)).total == 28


BAD_LINES = [
    ("accounts.csv", "A1,CC,52123456,1,", "A1,CC,52123456,7,", "accounts.csv line 2, column account_type"),
    ("accounts.csv", "B1,PT,", "B1,XY,", "accounts.csv line 4, column holder_doc_type"),
    ("accounts.csv", "A2,CC,52123456", "A2,CC,5212-3456", "accounts.csv line 3, column holder_doc_number"),
    ("accounts.csv", "2024-07-01,2025-02-03", "2024-07-01,2023-02-03", "accounts.csv line 4, column closed_on"),
    ("transactions.csv", "1500000.50", "1.500.000.50", "transactions.csv line 2, column amount"),
    ("transactions.csv", "A1,2025-01-05", "A1,05/01/2025", "transactions.csv line 2, column booked_on"),
    ("transactions.csv", "-200000.00,own_transfer", "-200000.00,transfer", "transactions.csv line 3, column kind"),
    ("title_events.csv", "issue,10000000.00", "issue,-10000000.00", "title_events.csv line 2, column amount"),
    ("trust_yield_payments.csv", "35000.00,false", "35000.00,no", "trust_yield_payments.csv line 2, column from_fideicomiso"),
    ("titles.csv", "T1,CC,52123456,4,CDT-0001", "T1,CC,52123456,4,CDT-0001,extra", "titles.csv line 2: the line has more"),
    ("accounts.csv", "B1,PT,7788990", "A1,PT,7788990", "accounts.csv line 4, column account_id: A1 is already on line 2"),
    ("daily_balances.csv", "account_id,balance_date,balance", "account_id,date,balance", "daily_balances.csv line 1, column balance_date"),
]  # fmt: skip


@pytest.mark.parametrize(("file", "old", "new", "where"), BAD_LINES)
def test_a_bad_line_is_named_and_nothing_is_written(
    sources: Sources, source_url: str, tmp_path: Path, file: str, old: str, new: str, where: str
) -> None:
    folder = copy_golden(tmp_path)
    edit(folder, file, old, new)
    source = sources(source_url)
    with pytest.raises(SourceImportError) as caught:
        import_csv_directory(folder, source)
    assert where in str(caught.value)
    assert "nothing was written" in str(caught.value)
    assert {problem.relation for problem in source.check()} == {
        "accounts", "transactions", "daily_balances", "titles", "title_events",
        "trust_yield_payments",
    }, "no relation may have been created"  # fmt: skip


def test_every_bad_line_is_listed_not_only_the_first(
    tmp_path: Path, sources: Sources, sqlite_url: str
) -> None:
    folder = copy_golden(tmp_path)
    edit(folder, "transactions.csv", "regular", "bogus")
    with pytest.raises(SourceImportError) as caught:
        import_csv_directory(folder, sources(sqlite_url))
    assert len(caught.value.errors) == 6


def test_a_missing_file_is_named(tmp_path: Path, sources: Sources, sqlite_url: str) -> None:
    folder = copy_golden(tmp_path)
    (folder / "titles.csv").unlink()
    with pytest.raises(SourceImportError, match="titles.csv.*missing"):
        import_csv_directory(folder, sources(sqlite_url))


def test_appending_keys_the_source_holds_names_them_and_replace_loads_anew(
    sources: Sources, source_url: str
) -> None:
    source = sources(source_url)
    import_csv_directory(GOLDEN, source)
    with pytest.raises(SourceImportError) as caught:
        import_csv_directory(GOLDEN, source)
    assert "accounts.csv line 2, column account_id: A1 is already in the source" in str(
        caught.value
    ) and "titles.csv line 2, column title_id: T1" in str(caught.value)
    assert len(source.load([ANA, PEDRO]).transactions) == 10
    counts = import_csv_directory(GOLDEN, source, replace=True)
    assert counts.total == 28 and len(source.load([ANA, PEDRO]).transactions) == 10


def test_rows_of_unknown_accounts_or_titles_are_named_with_their_keys(
    sources: Sources, source_url: str, tmp_path: Path
) -> None:
    folder = copy_golden(tmp_path)
    edit(folder, "transactions.csv", "A2,2025-01-06", "Z9,2025-01-06")
    edit(folder, "daily_balances.csv", "B1,", "B7,")
    edit(folder, "title_events.csv", "T1,2025-01-01", "T4,2025-01-01")
    with pytest.raises(SourceImportError) as caught:
        import_csv_directory(folder, sources(source_url))
    text = str(caught.value)
    assert "transactions.csv line 4, column account_id: Z9 is not in accounts.csv" in text
    assert "daily_balances.csv" in text and "B7 is not in accounts.csv" in text
    assert "title_events.csv line 3, column title_id: T4 is not in titles.csv" in text


def test_a_bank_export_in_windows_1252_with_decimal_commas_gives_the_same_records(
    sources: Sources, tmp_path: Path
) -> None:
    """Excel and core systems write cp1252, semicolons, thousands dots and decimal commas."""
    folder = copy_golden(tmp_path)
    for path in folder.glob("*.csv"):
        lines = path.read_text(encoding="utf-8").splitlines()
        converted = [lines[0].replace(",", ";")]
        for line in lines[1:]:
            cells = [_comma_amount(cell) for cell in line.split(",")]
            converted.append(";".join(cells))
        path.write_bytes(("\r\n".join(converted) + "\r\n").encode("cp1252"))
    (folder / "titles.csv").write_bytes(
        (folder / "titles.csv").read_bytes().replace(b"CDT-0001", "CDT-Ñ001".encode("cp1252"))
    )
    utf8, windows = (
        sources(f"sqlite:///{tmp_path / 'a.db'}"),
        sources(f"sqlite:///{tmp_path / 'b.db'}"),
    )
    golden = copy_golden(tmp_path / "twin")
    edit(golden, "titles.csv", "CDT-0001", "CDT-Ñ001")
    import_csv_directory(golden, utf8)
    from ugpp_bridge.adapters.source.csv_import import CsvFormat, import_csv

    report = import_csv(folder, windows, CsvFormat(decimal_comma=True), replace=False)
    assert report.counts.total == 28
    assert any("titles.csv is not UTF-8" in notice and "cp1252" in notice
               for notice in report.notices)  # fmt: skip
    assert windows.load([ANA, PEDRO]) == utf8.load([ANA, PEDRO])
    assert windows.check() == []


def _comma_amount(cell: str) -> str:
    """1500000.50 → 1.500.000,50 (the golden data's amounts have a dot and two decimals)."""
    if not cell or "." not in cell or not cell.replace("-", "").replace(".", "").isdigit():
        return cell
    whole, cents = cell.split(".")
    sign, whole = ("-", whole[1:]) if whole.startswith("-") else ("", whole)
    groups = f"{int(whole):,}".replace(",", ".")
    return f"{sign}{groups},{cents}"


@pytest.mark.parametrize(
    ("text", "words"),
    [("10.005", "more than two decimals (dos decimales como máximo)"),
     ("1,500", "is not an amount")],
)  # fmt: skip
def test_amount_messages_say_what_is_wrong(
    sources: Sources, sqlite_url: str, tmp_path: Path, text: str, words: str
) -> None:
    folder = copy_golden(tmp_path)
    edit(folder, "transactions.csv", "1500000.50", f'"{text}"')
    with pytest.raises(SourceImportError, match="transactions.csv line 2, column amount") as caught:
        import_csv_directory(folder, sources(sqlite_url))
    assert words in str(caught.value)


def test_a_misnamed_file_is_named_with_a_hint(
    tmp_path: Path, sources: Sources, sqlite_url: str
) -> None:
    folder = copy_golden(tmp_path)
    (folder / "accounts.csv").rename(folder / "Accounts.CSV")
    (folder / "transactions.csv").rename(folder / "transaction.csv")
    with pytest.raises(SourceImportError) as caught:
        import_csv_directory(folder, sources(sqlite_url))
    text = str(caught.value)
    assert "is Accounts.CSV meant to be accounts.csv?" in text
    assert "is transaction.csv meant to be transactions.csv?" in text


def test_a_parquet_write_that_fails_names_the_folder_and_keeps_what_was_there(
    sources: Sources, parquet_url: str
) -> None:
    source = sources(parquet_url)
    import_csv_directory(GOLDEN, source)
    folder = Path(parquet_url.removeprefix("parquet://"))
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    part = next(iter(sample_bank(3, seed=1, year=2025)))
    with pytest.raises(SourceUnavailableError) as caught:
        source.write([part, part], replace=True)  # the same keys twice: the staging refuses
    assert str(folder) in str(caught.value) and "staging" not in str(caught.value)
    assert "duplicate key" in str(caught.value).lower()
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before


def test_a_partitioned_parquet_dataset_is_not_overwritten(
    sources: Sources, parquet_url: str
) -> None:
    folder = Path(parquet_url.removeprefix("parquet://"))
    (folder / "accounts").mkdir(parents=True)
    with pytest.raises(SourceUnavailableError, match="partitioned dataset"):
        import_csv_directory(GOLDEN, sources(parquet_url))
    assert [path.name for path in folder.iterdir()] == ["accounts"]
