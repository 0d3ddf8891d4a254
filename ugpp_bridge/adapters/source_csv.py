"""CSV files of the six relations → the source database (``ugpp-bridge source import DIR``).

One file per relation, named after it (``accounts.csv``, ``transactions.csv``, …), UTF-8 (a BOM
is accepted), a header row with the contract's column names, comma- or semicolon-separated;
dates ``YYYY-MM-DD``, amounts with a dot and at most two decimals, booleans ``true``/``false``.

The import reads every file twice: once to validate every line (collecting the errors with
file, line and column), and only when all are clean a second time to write, in one transaction.
Memory stays flat whatever the size; a bad line leaves the database as it was.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Date, Integer

from ugpp_bridge.adapters import source_schema as schema
from ugpp_bridge.adapters.source_records import RowError, record_from_row
from ugpp_bridge.domain.source import SourceData
from ugpp_bridge.errors import ImportErrorLine, SourceImportError
from ugpp_bridge.service.ports import SourceWriter, WriteCounts

MAX_ERRORS = 50
BATCH = 2_000
_INTEGER = re.compile(r"-?[0-9]{1,9}")
_AMOUNT = re.compile(r"-?[0-9]{1,18}(\.[0-9]{1,2})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BOOLEANS = {"true": True, "t": True, "1": True, "false": False, "f": False, "0": False}
_PRIMARY_KEYS = {"accounts": "account_id", "titles": "title_id"}


def import_csv_directory(directory: Path, writer: SourceWriter) -> WriteCounts:
    """Validate every file of ``directory``, then write them all in one transaction."""
    files = _files(directory)
    errors = _validate(files)
    if errors:
        raise SourceImportError(errors[:MAX_ERRORS], truncated=len(errors) > MAX_ERRORS)
    return writer.write(_batches(files))


def _files(directory: Path) -> dict[str, Path]:
    if not directory.is_dir():
        line = ImportErrorLine(str(directory), 0, None, "the folder does not exist")
        raise SourceImportError([line])
    files = {name: directory / f"{name}.csv" for name in schema.RELATION_ORDER}
    missing = [
        ImportErrorLine(path.name, 0, None, "the file is missing (a header row alone is fine)")
        for path in files.values()
        if not path.is_file()
    ]
    if missing:
        raise SourceImportError(missing)
    return files


def _validate(files: dict[str, Path]) -> list[ImportErrorLine]:
    errors: list[ImportErrorLine] = []
    for relation, path in files.items():
        seen: dict[str, int] = {}
        key_column = _PRIMARY_KEYS.get(relation)
        for line, row in _rows(relation, path, errors):
            if key_column and row.get(key_column) is not None:
                first = seen.setdefault(str(row[key_column]), line)
                if first != line:
                    message = f"{row[key_column]} is already on line {first}"
                    errors.append(ImportErrorLine(path.name, line, key_column, message))
            if len(errors) > MAX_ERRORS:
                return errors
    return errors


def _batches(files: dict[str, Path]) -> Iterator[SourceData]:
    for relation, path in files.items():
        batch: list[Any] = []
        for _line, row in _rows(relation, path, []):
            batch.append(record_from_row(relation, row))
            if len(batch) == BATCH:
                yield SourceData(**{relation: tuple(batch)})
                batch = []
        if batch:
            yield SourceData(**{relation: tuple(batch)})


def _rows(
    relation: str, path: Path, errors: list[ImportErrorLine]
) -> Iterator[tuple[int, dict[str, object]]]:
    """Typed rows that are valid records, with their line numbers; errors are appended."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = handle.readline()
        delimiter = ";" if ";" in header and "," not in header else ","
        columns = next(csv.reader([header], delimiter=delimiter), [])
        if not _header_ok(relation, path, [c.strip() for c in columns], errors):
            return
        reader = csv.DictReader(
            handle, fieldnames=[c.strip() for c in columns], delimiter=delimiter
        )
        for line, raw in enumerate(reader, start=2):
            row = _typed(relation, path, line, raw, errors)
            if row is not None:
                yield line, row


def _header_ok(
    relation: str, path: Path, columns: list[str], errors: list[ImportErrorLine]
) -> bool:
    expected = [column.name for column in schema.RELATIONS[relation].columns]
    missing = [name for name in expected if name not in columns]
    unknown = [name for name in columns if name not in expected]
    for name in missing:
        errors.append(ImportErrorLine(path.name, 1, name, "the column is missing from the header"))
    for name in unknown:
        errors.append(ImportErrorLine(path.name, 1, name, "the column is not in the contract"))
    return not (missing or unknown)


def _typed(
    relation: str, path: Path, line: int, raw: dict[str | Any, Any], errors: list[ImportErrorLine]
) -> dict[str, object] | None:
    if None in raw:
        errors.append(
            ImportErrorLine(path.name, line, None, "the line has more fields than the header")
        )
        return None
    row: dict[str, object] = {}
    bad = False
    for column in schema.RELATIONS[relation].columns:
        text = (raw.get(column.name) or "").strip()
        try:
            row[column.name] = _parser(column.type)(text) if text else None
        except ValueError as exc:
            errors.append(ImportErrorLine(path.name, line, column.name, str(exc)))
            bad = True
    if bad:
        return None
    try:
        record_from_row(relation, row)
    except RowError as exc:
        errors.append(ImportErrorLine(path.name, line, exc.column, exc.message))
        return None
    return row


def _parser(column_type: object) -> Callable[[str], object]:
    if isinstance(column_type, schema.Amount):
        return _amount
    if isinstance(column_type, Integer):
        return _integer
    if isinstance(column_type, Date):
        return _date
    if isinstance(column_type, Boolean):
        return _boolean
    return str


def _amount(text: str) -> Decimal:
    if not _AMOUNT.fullmatch(text):
        raise ValueError(
            f"{text!r} is not an amount; write it like 1234567.89 (dot, no thousands separator)"
        )
    return Decimal(text)


def _integer(text: str) -> int:
    if not _INTEGER.fullmatch(text):
        raise ValueError(f"{text!r} is not a whole number")
    return int(text)


def _date(text: str) -> date:
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date; write it as YYYY-MM-DD") from None


def _boolean(text: str) -> bool:
    try:
        return _BOOLEANS[text.lower()]
    except KeyError:
        raise ValueError(f"{text!r} is not true or false") from None
