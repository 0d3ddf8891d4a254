"""CSV files of the six relations → the source database (``ugpp-bridge source import DIR``).

One file per relation, named after it (``accounts.csv``, ``transactions.csv``, …), a header row
with the contract's column names, comma- or semicolon-separated; dates ``YYYY-MM-DD``, amounts
with at most two decimals, booleans ``true``/``false``.

As banks export them: the encoding is UTF-8 (with or without a BOM) unless told otherwise, and
a file that is not UTF-8 is read as Windows-1252 (what Excel and most core systems write) with
a notice; ``decimal_comma`` reads ``1.234.567,89``.

The import reads every file twice: once to validate every line — values, keys repeated in the
file or (appending) already in the source, transactions and balances of accounts that are in
neither, events of unknown titles — collecting the errors with file, line and column; and only
when all are clean a second time to write, in one transaction (``replace`` empties the six
relations first, in it). Memory holds the account and title keys, not the rows; a bad line
leaves the database as it was.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Boolean, Date, Integer

from ugpp_bridge.adapters.source import schema as schema
from ugpp_bridge.adapters.source.records import RowError, record_from_row
from ugpp_bridge.domain.source import SourceData
from ugpp_bridge.errors import ImportErrorLine, SourceImportError
from ugpp_bridge.service.ports import SourceWriter, WriteCounts

MAX_ERRORS = 50
BATCH = 2_000
FALLBACK_ENCODING = "cp1252"
_INTEGER = re.compile(r"-?[0-9]{1,9}")
_AMOUNT = re.compile(r"-?[0-9]{1,18}(\.[0-9]{1,2})?")
_AMOUNT_COMMA = re.compile(r"-?(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]{1,18})(?:,[0-9]{1,2})?")
_TOO_MANY_DECIMALS = re.compile(r"-?[0-9]+\.[0-9]{3,}")
_TOO_MANY_DECIMALS_COMMA = re.compile(r"-?[0-9.]+,[0-9]{3,}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BOOLEANS = {"true": True, "t": True, "1": True, "false": False, "f": False, "0": False}
_PRIMARY_KEYS = {"accounts": "account_id", "titles": "title_id"}
_REFERENCES = {  # relation → (column, the relation whose key it names)
    "transactions": ("account_id", "accounts"),
    "daily_balances": ("account_id", "accounts"),
    "title_events": ("title_id", "titles"),
}


@dataclass(frozen=True)
class CsvFormat:
    """How the files are written: ``encoding`` ``"auto"`` (UTF-8, else Windows-1252 with a
    notice) or a codec name; ``decimal_comma`` for ``1.234.567,89``."""

    encoding: str = "auto"
    decimal_comma: bool = False


@dataclass
class ImportReport:
    counts: WriteCounts
    notices: list[str] = field(default_factory=list)  # e.g. a file read as Windows-1252


def import_csv_directory(
    directory: Path,
    writer: SourceWriter,
    csv_format: CsvFormat | None = None,
    *,
    replace: bool = False,
) -> WriteCounts:
    """Validate every file of ``directory``, then write them all in one transaction."""
    return import_csv(directory, writer, csv_format or CsvFormat(), replace=replace).counts


def import_csv(
    directory: Path, writer: SourceWriter, csv_format: CsvFormat, *, replace: bool
) -> ImportReport:
    files = _files(directory)
    encodings, notices = _encodings(files, csv_format.encoding)
    reading = _Reading(files, encodings, csv_format)
    errors = _validate(reading, writer, replace)
    if errors:
        raise SourceImportError(errors[:MAX_ERRORS], truncated=len(errors) > MAX_ERRORS)
    return ImportReport(writer.write(_batches(reading), replace=replace), notices)


@dataclass(frozen=True)
class _Reading:
    files: dict[str, Path]
    encodings: dict[str, str]
    csv_format: CsvFormat


def _files(directory: Path) -> dict[str, Path]:
    if not directory.is_dir():
        line = ImportErrorLine(str(directory), 0, None, "the folder does not exist")
        raise SourceImportError([line])
    files = {name: directory / f"{name}.csv" for name in schema.RELATION_ORDER}
    present = sorted(path.name for path in directory.iterdir() if path.is_file())
    missing = []
    for path in files.values():
        if path.is_file():
            continue
        message = "the file is missing (a header row alone is fine)"
        close = [n for n in present if n.lower() == path.name.lower()] or difflib.get_close_matches(
            path.name, present, n=1, cutoff=0.7
        )
        if close:
            message = f"the file is missing; is {close[0]} meant to be {path.name}? Rename it"
        missing.append(ImportErrorLine(path.name, 0, None, message))
    if missing:
        raise SourceImportError(missing)
    return files


def _encodings(files: dict[str, Path], requested: str) -> tuple[dict[str, str], list[str]]:
    """Each file's codec, and the notices to print (a file that was not UTF-8)."""
    if requested != "auto":
        try:
            codec = codecs.lookup(requested).name
        except LookupError:
            line = ImportErrorLine("--encoding", 0, None, f"{requested!r} is not an encoding "
                                   "Python knows (try utf-8, cp1252 or latin-1)")  # fmt: skip
            raise SourceImportError([line]) from None
        return {relation: codec for relation in files}, []
    encodings, notices = {}, []
    for relation, path in files.items():
        problem = _not_utf8(path)
        if problem is None:
            encodings[relation] = "utf-8-sig"
        else:
            encodings[relation] = FALLBACK_ENCODING
            notices.append(f"{path.name} is not UTF-8 ({problem}); it was read as Windows-1252 "
                           "(cp1252). Use --encoding to say which it is.")  # fmt: skip
    return encodings, notices


def _not_utf8(path: Path) -> str | None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 16):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                at = min(exc.start, len(chunk) - 1)
                near = line + chunk[:at].count(b"\n")
                return f"byte 0x{chunk[at]:02X} near line {near}"
            line += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "it ends in the middle of a character"
    return None


def _validate(reading: _Reading, writer: SourceWriter, replace: bool) -> list[ImportErrorLine]:
    errors: list[ImportErrorLine] = []
    known: dict[str, set[str]] = {"accounts": set(), "titles": set()}
    for relation, path in reading.files.items():
        seen, references = _scan(relation, reading, errors)
        if len(errors) > MAX_ERRORS:
            return errors
        if relation in _PRIMARY_KEYS:
            known[relation] = set(seen)
            if not replace:
                errors.extend(_already_there(relation, path, seen, writer))
        if relation in _REFERENCES:
            errors.extend(_unknown_references(relation, path, references, known, writer, replace))
    return errors


def _scan(
    relation: str, reading: _Reading, errors: list[ImportErrorLine]
) -> tuple[dict[str, int], dict[str, list[int]]]:
    """One file's keys (→ first line; a repeat is an error) and the keys it names of another
    relation (→ [first line, lines])."""
    path = reading.files[relation]
    key_column = _PRIMARY_KEYS.get(relation)
    reference_column = _REFERENCES.get(relation, ("", ""))[0]
    seen: dict[str, int] = {}
    references: dict[str, list[int]] = {}
    for line, row in _rows(relation, reading, errors):
        if key_column and row.get(key_column) is not None:
            key = str(row[key_column])
            first = seen.setdefault(key, line)
            if first != line:
                message = f"{key} is already on line {first}"
                errors.append(ImportErrorLine(path.name, line, key_column, message))
        if reference_column and row.get(reference_column):
            references.setdefault(str(row[reference_column]), [line, 0])[1] += 1
        if len(errors) > MAX_ERRORS:
            break
    return seen, references


def _already_there(
    relation: str, path: Path, seen: dict[str, int], writer: SourceWriter
) -> list[ImportErrorLine]:
    """Keys of the file the source already holds (appending would repeat them)."""
    column = _PRIMARY_KEYS[relation]
    return [
        ImportErrorLine(
            path.name,
            seen[key],
            column,
            f"{key} is already in the source's "
            f"{relation}; import with --mode replace to load the folder anew",
        )  # fmt: skip
        for key in sorted(writer.existing_keys(relation, seen), key=seen.__getitem__)
    ]


def _unknown_references(
    relation: str,
    path: Path,
    references: dict[str, list[int]],
    known: dict[str, set[str]],
    writer: SourceWriter,
    replace: bool,
) -> list[ImportErrorLine]:
    column, target = _REFERENCES[relation]
    unknown = set(references) - known[target]
    if unknown and not replace:
        unknown -= writer.existing_keys(target, unknown)
    return [
        ImportErrorLine(
            path.name,
            references[key][0],
            column,
            f"{key} is not in {target}.csv (nor in the source); "
            f"{references[key][1]} line(s) name it",
        )  # fmt: skip
        for key in sorted(unknown, key=lambda k: references[k][0])
    ]


def _batches(reading: _Reading) -> Iterator[SourceData]:
    for relation in reading.files:
        batch: list[Any] = []
        for _line, row in _rows(relation, reading, []):
            batch.append(record_from_row(relation, row))
            if len(batch) == BATCH:
                yield SourceData(**{relation: tuple(batch)})
                batch = []
        if batch:
            yield SourceData(**{relation: tuple(batch)})


def _rows(
    relation: str, reading: _Reading, errors: list[ImportErrorLine]
) -> Iterator[tuple[int, dict[str, object]]]:
    """Typed rows that are valid records, with their line numbers; errors are appended."""
    path = reading.files[relation]
    with path.open(encoding=reading.encodings[relation], newline="") as handle:
        yield from _parse(relation, path, handle, reading.csv_format, errors)


def _parse(
    relation: str,
    path: Path,
    handle: IO[str],
    csv_format: CsvFormat,
    errors: list[ImportErrorLine],
) -> Iterator[tuple[int, dict[str, object]]]:
    header = handle.readline()
    delimiter = ";" if ";" in header and ("," not in header or csv_format.decimal_comma) else ","
    columns = [c.strip() for c in next(csv.reader([header], delimiter=delimiter), [])]
    if not _header_ok(relation, path, columns, errors):
        return
    reader = csv.DictReader(handle, fieldnames=columns, delimiter=delimiter)
    parsers = {c.name: _parser(c.type, csv_format) for c in schema.RELATIONS[relation].columns}
    for line, raw in enumerate(reader, start=2):
        row = _typed(relation, path, line, raw, parsers, errors)
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
        close = difflib.get_close_matches(name, expected, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        errors.append(
            ImportErrorLine(path.name, 1, name, f"the column is not in the contract{hint}")
        )
    return not (missing or unknown)


def _typed(
    relation: str,
    path: Path,
    line: int,
    raw: dict[str | Any, Any],
    parsers: dict[str, Callable[[str], object]],
    errors: list[ImportErrorLine],
) -> dict[str, object] | None:
    if None in raw:
        errors.append(
            ImportErrorLine(path.name, line, None, "the line has more fields than the header")
        )
        return None
    row: dict[str, object] = {}
    bad = False
    for name, parse in parsers.items():
        text = (raw.get(name) or "").strip()
        try:
            row[name] = parse(text) if text else None
        except ValueError as exc:
            errors.append(ImportErrorLine(path.name, line, name, str(exc)))
            bad = True
    if bad:
        return None
    try:
        record_from_row(relation, row)
    except RowError as exc:
        errors.append(ImportErrorLine(path.name, line, exc.column, exc.message))
        return None
    return row


def _parser(column_type: object, csv_format: CsvFormat) -> Callable[[str], object]:
    if isinstance(column_type, schema.Amount):
        return _amount_comma if csv_format.decimal_comma else _amount
    if isinstance(column_type, Integer):
        return _integer
    if isinstance(column_type, Date):
        return _date
    if isinstance(column_type, Boolean):
        return _boolean
    return str


def _amount(text: str) -> Decimal:
    if not _AMOUNT.fullmatch(text):
        example = "1234567.89 (dot, no thousands separator; --decimal-comma for 1.234.567,89)"
        raise ValueError(_amount_problem(text, _TOO_MANY_DECIMALS, example))
    return Decimal(text)


def _amount_comma(text: str) -> Decimal:
    if not _AMOUNT_COMMA.fullmatch(text):
        example = "1.234.567,89 (--decimal-comma)"
        raise ValueError(_amount_problem(text, _TOO_MANY_DECIMALS_COMMA, example))
    return Decimal(text.replace(".", "").replace(",", "."))


def _amount_problem(text: str, too_many: re.Pattern[str], example: str) -> str:
    if too_many.fullmatch(text):
        return f"{text!r} has more than two decimals (dos decimales como máximo)"
    return f"{text!r} is not an amount; write it like {example}"


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
