"""Roster rows to shifts, reporting every problem (file, row, column, reason). Standard library only.

A roster is all or nothing: the caller imports the shifts only when `errors` is empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from hotline.rosters import cells
from hotline.rosters.cells import CellError
from hotline.rosters.lookups import LawyerDirectory, QueueDirectory
from hotline.rosters.model import MAX_SHIFT, Cell, Formula, RawTable, RowError, Shift

T = TypeVar("T")


@dataclass(frozen=True)
class ParsedRow:
    row: int
    shift: Shift


@dataclass
class Validation:
    source: str
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    #: Header names the roster does not use (notes, phone numbers...), left out.
    ignored_columns: list[str] = field(default_factory=list)
    #: Header of the column where shift times are (start, or 时段), for errors about times.
    start_column: str = "-"

    @property
    def shifts(self) -> list[Shift]:
        return [parsed.shift for parsed in self.rows]

    @property
    def dates(self) -> list[date]:
        return sorted({parsed.shift.day for parsed in self.rows})


def validate_table(table: RawTable, lawyers: LawyerDirectory, queues: QueueDirectory) -> Validation:
    result = Validation(table.source)
    columns = _columns(table, result)
    if result.errors:
        return result
    for number, row in table.rows:
        if all(isinstance(cell, str) and not cell.strip() for cell in row):
            continue
        parsed = _row(_RowReader(table, number, row, columns, result.errors), lawyers, queues)
        if parsed is not None:
            result.rows.append(parsed)
    if not result.rows and not result.errors:
        result.errors.append(RowError(table.source, table.header_row + 1, "-", "the roster has no shifts"))
    result.start_column = _label(columns, "start", "hours")
    result.errors += find_overlaps(table.source, result.rows, result.start_column)
    result.errors.sort(key=lambda error: error.row)
    return result


def _columns(table: RawTable, result: Validation) -> dict[str, tuple[int, str]]:
    """Canonical key -> (index, header as written), with header problems added to `result`."""
    columns: dict[str, tuple[int, str]] = {}
    for index, header in enumerate(table.headers):
        key = cells.header_key(header)
        if key is None:
            if header.strip():
                result.ignored_columns.append(header.strip())
            continue
        if key in columns:
            first = columns[key][1]
            result.errors.append(
                RowError(table.source, table.header_row, header, f"same column as {first!r}: keep one of them")
            )
            continue
        columns[key] = (index, header.strip())
    needed = [*cells.REQUIRED]
    if "hours" not in columns or "start" in columns or "end" in columns:
        needed += ["start", "end"]
    for key in needed:
        if key not in columns:
            names = " / ".join(cells.HEADERS[key][:2] + cells.HEADERS[key][-2:])
            result.errors.append(
                RowError(table.source, table.header_row, cells.LABELS[key], f"missing column (name it {names})")
            )
    return columns


def _label(columns: dict[str, tuple[int, str]], *keys: str) -> str:
    for key in keys:
        if key in columns:
            return columns[key][1]
    return "-"


class _RowReader:
    """Reads the cells of one row, noting each problem and carrying on to the next column."""

    def __init__(
        self, table: RawTable, number: int, row: list[Cell], columns: dict[str, tuple[int, str]], errors: list[RowError]
    ) -> None:
        self.table, self.number, self.row, self.columns, self.errors = table, number, row, columns, errors
        self.failed = False

    def fail(self, key: str, reason: str) -> None:
        self.errors.append(RowError(self.table.source, self.number, _label(self.columns, key), reason))
        self.failed = True

    def text(self, key: str, required: bool = True) -> str | None:
        """The cell's checked text ("" for an absent optional column); None when unusable."""
        if key not in self.columns:
            return ""
        index = self.columns[key][0]
        cell = self.row[index] if index < len(self.row) else ""
        try:
            if isinstance(cell, Formula):
                raise CellError(f"formula {cell.text[:40]!r}: type the value itself, not a formula")
            value = cells.check_text(cell)
            if required and not value:
                raise CellError("empty: this column is required")
            return value
        except CellError as exc:
            self.fail(key, str(exc))
            return None

    def parse(self, key: str, value: str | None, parser: Callable[[str], T]) -> T | None:
        if value is None:
            return None
        try:
            return parser(value)
        except CellError as exc:
            self.fail(key, str(exc))
            return None

    def hours(self) -> tuple[str | None, str | None]:
        """Start and end text from the start/end columns, or from one 时段 cell like 09:00-12:00."""
        if "start" in self.columns:
            return self.text("start"), self.text("end")
        ends = self.parse("hours", self.text("hours"), cells.parse_range)
        return ends if ends else (None, None)


def _row(reader: _RowReader, lawyers: LawyerDirectory, queues: QueueDirectory) -> ParsedRow | None:
    extra = [
        cell for cell in reader.row[len(reader.table.headers) :] if not (isinstance(cell, str) and not cell.strip())
    ]
    if extra:
        reader.fail("-", f"{len(extra)} value(s) beyond the last named column")
    lawyer = reader.parse("lawyer", reader.text("lawyer"), lawyers.resolve)
    day = reader.parse("date", reader.text("date"), cells.parse_date)
    start_text, end_text = reader.hours()
    start = reader.parse("start" if "start" in reader.columns else "hours", start_text, cells.parse_time)
    end_key = "end" if "end" in reader.columns else "hours"
    end = reader.parse(end_key, end_text, lambda value: cells.parse_end(value, start))
    queue_names = reader.parse("queues", reader.text("queues"), lambda value: _queues(value, queues))
    languages = reader.parse("languages", reader.text("languages", required=False), cells.parse_languages)
    penalty = reader.parse("penalty", reader.text("penalty", required=False), cells.parse_penalty)
    if reader.failed or lawyer is None or day is None or start is None or end is None or not queue_names:
        return None
    return ParsedRow(
        reader.number,
        Shift(
            lawyer_id=lawyer.id,
            interface=lawyer.interface or "",
            member_name=lawyer.display_name,
            day=day,
            start=start,
            end=end[0],
            ends_next_day=end[1],
            queues=tuple(queue_names),
            languages=languages or cells.DEFAULT_LANGUAGES,
            penalty=penalty,
            username=lawyer.username,
        ),
    )


def _queues(value: str, queues: QueueDirectory) -> list[str]:
    names: list[str] = []
    problems: list[str] = []
    for item in cells.split_list(value):
        try:
            name = queues.resolve(item)
        except CellError as exc:
            problems.append(str(exc))
            continue
        if name not in names:
            names.append(name)
    if problems:
        raise CellError("; ".join(problems))
    if not names:
        raise CellError("empty: name at least one queue or skill")
    return names


def find_overlaps(source: str, rows: list[ParsedRow], column: str) -> list[RowError]:
    """Duplicate or overlapping shifts of one lawyer, each pair reported once on its later row."""
    errors: list[RowError] = []
    by_lawyer: dict[int, list[ParsedRow]] = {}
    for parsed in rows:
        by_lawyer.setdefault(parsed.shift.lawyer_id, []).append(parsed)
    for shifts in by_lawyer.values():
        shifts.sort(key=lambda parsed: (parsed.shift.starts_at, parsed.row))
        for j, current in enumerate(shifts):
            for i in range(j - 1, -1, -1):
                other = shifts[i]
                if other.shift.starts_at + MAX_SHIFT <= current.shift.starts_at:
                    break  # shifts last at most a day: nothing earlier can reach this one
                if not other.shift.overlaps(current.shift):
                    continue
                first, second = sorted((other, current), key=lambda parsed: parsed.row)
                same = (first.shift.starts_at, first.shift.ends_at) == (second.shift.starts_at, second.shift.ends_at)
                errors.append(
                    RowError(
                        source,
                        second.row,
                        column,
                        f"{'duplicates' if same else 'overlaps'} row {first.row} ({first.shift.label}) of"
                        f" {second.shift.username}: a lawyer works one shift at a time; list all its queues in one row",
                    )
                )
    return errors
