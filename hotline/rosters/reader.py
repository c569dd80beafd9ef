"""Roster files to rows of cells: CSV (UTF-8 with or without BOM, GB18030 as Excel in China saves it,
UTF-16 "Unicode text") and XLSX (the first worksheet, read with openpyxl).

The file's content decides its kind, not only its name. A file that is not a roster at all (empty,
binary, an old .xls, a damaged zip, too big) raises RosterFileError with what to do about it.
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import PurePath
from typing import Any

from hotline.rosters.cells import header_key
from hotline.rosters.model import Cell, Formula, RawTable

#: Same as the API's request limit: a year of shifts for a hundred lawyers fits well within it.
MAX_FILE_BYTES = 1_000_000
MAX_ROWS = 10_000
MAX_COLUMNS = 50
#: A real roster workbook unpacks to a few MB; more is a zip bomb.
MAX_UNZIPPED_BYTES = 50_000_000
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CSV_SUFFIXES = ("", ".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")


class RosterFileError(Exception):
    """The file cannot be read as a roster; nothing was imported."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


def read_roster(data: bytes, filename: str) -> RawTable:
    source = PurePath(filename).name or "roster"
    suffix = PurePath(filename).suffix.lower()
    if not data.strip():
        raise RosterFileError(source, "the file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise RosterFileError(
            source, f"the file has {len(data):,} bytes; a roster may have {MAX_FILE_BYTES:,} (split it by month)"
        )
    if data.startswith(OLE_MAGIC) or suffix == ".xls":
        raise RosterFileError(source, "an Excel 97–2003 .xls file: save it as .xlsx or as CSV UTF-8 (逗号分隔)")
    if data.startswith(ZIP_MAGIC):
        return _read_xlsx(data, source)
    if suffix in XLSX_SUFFIXES:
        raise RosterFileError(source, "not a readable .xlsx file (it is not a zip archive): damaged or renamed")
    if suffix not in CSV_SUFFIXES:
        raise RosterFileError(source, f"unsupported file type {suffix!r}: upload a CSV or XLSX roster")
    return _read_csv(data, source)


def _decode(data: bytes, source: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise RosterFileError(source, "damaged UTF-16 text: save the roster as CSV UTF-8") from None
    if b"\x00" in data:
        raise RosterFileError(source, "binary data, not text: upload a CSV or XLSX roster")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if max(data[: exc.start], default=0) >= 0x80:
            # Valid UTF-8 Chinese before the bad byte: a damaged UTF-8 file, not a GB18030 one.
            line = data[: exc.start].count(b"\n") + 1
            raise RosterFileError(
                source,
                f"invalid UTF-8 on line {line} (byte offset {exc.start}): the file is damaged or truncated;"
                " save it again as CSV UTF-8",
            ) from None
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise RosterFileError(
            source,
            f"neither UTF-8 nor GB18030 text (byte 0x{data[exc.start]:02x} at offset {exc.start}):"
            " save the roster as CSV UTF-8",
        ) from None


def _delimiter(text: str) -> str:
    """The separator that makes the most roster headers out of one of the first lines (else comma)."""
    lines = [line for line in text.splitlines()[:20] if line.strip()][:5]
    best, best_count = ",", 0
    for candidate in (",", ";", "\t"):
        for line in lines:
            count = sum(1 for name in line.split(candidate) if header_key(name.strip('"')) is not None)
            if count > best_count:
                best, best_count = candidate, count
    return best


def _read_csv(data: bytes, source: str) -> RawTable:
    text = _decode(data, source)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    records: list[tuple[int, list[Cell]]] = []
    try:
        for number, record in enumerate(reader, start=1):
            records.append((number, [*record]))
            if len(records) > MAX_ROWS + 1:
                raise RosterFileError(source, f"more than {MAX_ROWS:,} rows: split the roster by month")
    except csv.Error as exc:
        raise RosterFileError(source, f"line {reader.line_num}: not valid CSV ({exc})") from None
    return _table(source, records)


def _table(source: str, records: list[tuple[int, list[Cell]]]) -> RawTable:
    for i, (number, cells) in enumerate(records):
        if any(isinstance(cell, Formula) or cell.strip() for cell in cells):
            headers = [cell if isinstance(cell, str) else cell.text for cell in cells]
            return RawTable(source, headers, records[i + 1 :], header_row=number)
    raise RosterFileError(source, "the file has no rows")


def _read_xlsx(data: bytes, source: str) -> RawTable:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise RosterFileError(source, "damaged or truncated .xlsx file (not a readable zip archive)") from None
    if "xl/workbook.xml" not in names:
        raise RosterFileError(source, "a zip archive but not an Excel workbook: upload a CSV or XLSX roster")
    if unpacked > MAX_UNZIPPED_BYTES:
        raise RosterFileError(source, f"the workbook unpacks to {unpacked:,} bytes; too big for a roster")
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it skips
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            try:
                sheet = workbook.worksheets[0]
                records: list[tuple[int, list[Cell]]] = []
                for row in sheet.iter_rows(max_col=MAX_COLUMNS):
                    number = next((c.row for c in row if getattr(c, "row", None)), None)
                    if number is None:
                        continue  # a row with nothing in it
                    cells = [_xlsx_cell(c) for c in row]
                    while cells and cells[-1] == "":
                        cells.pop()  # max_col pads every row to MAX_COLUMNS
                    records.append((number, cells))
                    if len(records) > MAX_ROWS + 1:
                        raise RosterFileError(source, f"more than {MAX_ROWS:,} rows: split the roster by month")
            finally:
                workbook.close()
    except RosterFileError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook; all mean the same here
        raise RosterFileError(source, f"damaged .xlsx workbook ({type(exc).__name__}: {exc})") from None
    return _table(source, records)


def _xlsx_cell(cell: Any) -> Cell:
    value = cell.value
    if value is None:
        return ""
    if getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and cell.data_type == "f"):
        return Formula(str(value))
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        if value.date() in (date(1899, 12, 30), date(1899, 12, 31), date(1900, 1, 1)):
            return _clock_text(value.time())
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return _clock_text(value)
    if isinstance(value, timedelta):
        minutes = int(value.total_seconds() // 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    return str(value)


def _clock_text(value: time) -> str:
    return f"{value:%H:%M}" if not value.second else f"{value:%H:%M:%S}"
