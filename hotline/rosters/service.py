"""Roster handlers the CLI and the API share: import a file, report coverage, list shifts.

Each takes an open session; the caller owns the transaction (`with sessions.begin()`), so an import
with any error, or one that fails half-way, writes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from hotline.rosters import store
from hotline.rosters.coverage import CoverageReport, coverage_report
from hotline.rosters.model import RowError, Shift
from hotline.rosters.reader import read_roster
from hotline.rosters.service_hours import closed_days, opening_hours, queue_directory
from hotline.rosters.validate import validate_table
from settings.files import ServiceHoursFile
from ticketing.domain.workdays import WorkCalendar

logger = logging.getLogger(__name__)

#: Longest period a coverage report may span.
MAX_COVERAGE_DAYS = 400


@dataclass
class ImportResult:
    source: str
    dry_run: bool
    errors: list[RowError] = field(default_factory=list)
    dates: list[date] = field(default_factory=list)
    shifts: int = 0
    #: Shifts that were on those dates before and are replaced.
    replaced: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            return f"{self.source}: {len(self.errors)} error(s); nothing imported"
        verb = "would import" if self.dry_run else "imported"
        span = f"{self.dates[0]} – {self.dates[-1]}" if self.dates else "-"
        text = (
            f"{self.source}: {verb} {self.shifts} shift(s) on {len(self.dates)} date(s) ({span}),"
            f" replacing {self.replaced}"
        )
        if self.ignored_columns:
            text += f"; ignored column(s): {', '.join(self.ignored_columns)}"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.source,
            "dry_run": self.dry_run,
            "imported": self.ok and not self.dry_run,
            "shifts": self.shifts,
            "replaced": self.replaced,
            "dates": [day.isoformat() for day in self.dates],
            "ignored_columns": self.ignored_columns,
            "errors": [error.as_dict() for error in self.errors],
        }


def import_roster(
    session: Session,
    data: bytes,
    filename: str,
    service_hours: ServiceHoursFile,
    imported_by: str,
    now: datetime,
    dry_run: bool = False,
) -> ImportResult:
    """Validate the file and, when every row is valid, replace the shifts of the dates it covers.

    Raises RosterFileError when the file is not a readable roster at all."""
    table = read_roster(data, filename)
    store.lock_rosters(session)
    validation = validate_table(table, store.lawyer_directory(session), queue_directory(service_hours))
    result = ImportResult(table.source, dry_run, ignored_columns=validation.ignored_columns)
    if not validation.errors:
        validation.errors += store.neighbour_conflicts(session, table.source, validation.rows, validation.start_column)
    if validation.errors:
        result.errors = validation.errors
        logger.info("roster %s refused: %d error(s)", table.source, len(result.errors))
        return result
    result.dates, result.shifts = validation.dates, len(validation.rows)
    if dry_run:
        result.replaced = store.count_on(session, result.dates)
        return result
    result.replaced = store.replace_days(session, validation.rows, table.source, imported_by, now)
    logger.info(
        "roster %s imported by %s: %d shift(s) on %d date(s), %d replaced",
        table.source,
        imported_by,
        result.shifts,
        len(result.dates),
        result.replaced,
    )
    return result


def coverage(
    session: Session,
    service_hours: ServiceHoursFile,
    calendar: WorkCalendar,
    start: date,
    end: date,
    queue: str | None = None,
) -> CoverageReport:
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    if (end - start).days > MAX_COVERAGE_DAYS:
        raise ValueError(f"the period spans {(end - start).days} days; at most {MAX_COVERAGE_DAYS}")
    hours = opening_hours(service_hours, queue)
    if queue is not None and not hours:
        raise ValueError(f"unknown queue {queue!r}: one of {', '.join(q.name for q in service_hours.queues)}")
    shifts = store.load_shifts(session, start, end)
    return coverage_report(shifts, hours, calendar, start, end, closed_days(service_hours))


def shifts_on(session: Session, day: date, user_id: int | None = None) -> list[Shift]:
    """Shifts that start on `day` (and, for the lawyer console, last night's still running into it)."""
    return store.load_shifts(session, day, day, user_id)


def shift_dict(shift: Shift) -> dict[str, object]:
    return {
        "id": shift.id,
        "lawyer": shift.username,
        "name": shift.member_name,
        "interface": shift.interface,
        "date": shift.day.isoformat(),
        "start": f"{shift.start:%H:%M}",
        "end": shift.hours_label.split("–", 1)[1],
        "ends_next_day": shift.ends_next_day,
        "queues": list(shift.queues),
        "languages": list(shift.languages),
        "penalty": shift.penalty,
    }


def lawyers_day(session: Session, user_id: int, tz: ZoneInfo) -> dict[str, Any]:
    """A lawyer's shifts today (local time), the one running now and the next one."""
    now = datetime.now(tz).replace(tzinfo=None)
    shifts = shifts_on(session, now.date(), user_id)
    current = next((s for s in shifts if s.on_duty(now)), None)
    upcoming = next((s for s in shifts if s.starts_at > now), None)
    return {
        "date": now.date().isoformat(),
        "on_duty": current is not None,
        "current": shift_dict(current) if current else None,
        "next": shift_dict(upcoming) if upcoming else None,
        "shifts": [shift_dict(s) for s in shifts],
    }
