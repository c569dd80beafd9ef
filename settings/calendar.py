"""Build the working-day calendar from the chinese-calendar package plus config/service_hours.yaml.

The package knows the years up to its release; the State Council publishes the next year's holidays
each November, and admins add them to `calendar:` in service_hours.yaml. A year in neither source
gets a warning, never a crash.
"""

from __future__ import annotations

import logging
from datetime import date

import chinese_calendar

from settings.files import YearCalendar
from ticketing.domain.workdays import WorkCalendar

logger = logging.getLogger(__name__)


def build_calendar(configured: dict[int, YearCalendar]) -> WorkCalendar:
    holidays = {day for day in chinese_calendar.holidays if day.year not in configured}
    workdays = {day for day in chinese_calendar.workdays if day.year not in configured}
    known = {day.year for day in chinese_calendar.holidays}
    for year, listed in configured.items():
        holidays.update(listed.holidays)
        workdays.update(listed.workdays)
        known.add(year)
    return WorkCalendar(holidays, workdays, known)


def warn_missing_years(calendar: WorkCalendar, today: date) -> list[int]:
    """Warn about this year and next when their holidays are unknown; returns the missing years."""
    missing = calendar.missing_years([today.year, today.year + 1])
    for year in missing:
        logger.warning(
            "no public holiday list for %d: working days fall back to Monday-Friday; add calendar.%d "
            "(holidays and make-up workdays) to config/service_hours.yaml",
            year,
            year,
        )
    return missing
