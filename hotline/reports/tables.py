"""Report downloads: tables rendered as CSV or XLSX (openpyxl), safe to open in a spreadsheet.

Citizens' text must never run as a formula nor break the file: control characters (which XLSX
cannot hold) are dropped; in CSV a cell that a spreadsheet would take for a formula (=, +, -, @
first) gets an apostrophe in front; in XLSX every text cell is typed as a string.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: What XML 1.0 (and so XLSX) refuses, plus the remaining C0/C1 controls.
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Table:
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]


def clean_cell(value: Any) -> Any:
    """Numbers stay numbers; anything else becomes text without control characters."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return _UNSAFE.sub("", str(value))


def csv_cell(value: Any) -> Any:
    value = clean_cell(value)
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def to_csv(tables: Sequence[Table]) -> bytes:
    """UTF-8 with a byte-order mark (Excel opens Chinese text right); tables one after another."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for i, table in enumerate(tables):
        if i:
            writer.writerow([])
        writer.writerow([csv_cell(table.title)])
        writer.writerow([csv_cell(h) for h in table.headers])
        writer.writerows([csv_cell(v) for v in row] for row in table.rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _sheet_title(title: str, taken: set[str]) -> str:
    base = _SHEET_NAME.sub(" ", _UNSAFE.sub("", title)).strip("' ")[:28] or "Sheet"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base[:25]} {n}"
    taken.add(name)
    return name


def to_xlsx(tables: Sequence[Table]) -> bytes:
    """One sheet per table, headers in the first row."""
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    taken: set[str] = set()
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(table.title, taken))
        for r, row in enumerate([table.headers, *table.rows], start=1):
            for c, value in enumerate(row, start=1):
                cell = sheet.cell(row=r, column=c, value=clean_cell(value))
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text starts with
        for column, header in enumerate(table.headers, start=1):
            sheet.column_dimensions[get_column_letter(column)].width = max(10, min(60, 2 * len(str(header)) + 4))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
