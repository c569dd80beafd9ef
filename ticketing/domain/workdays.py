"""Working days on the Chinese calendar: weekends off, public holidays off, 调休 weekends on.

The calendar is built from explicit lists, so a year nobody has published yet is visible as missing
instead of silently treated as ordinary weekdays.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta


class WorkCalendar:
    def __init__(self, holidays: Iterable[date], workdays: Iterable[date], known_years: Iterable[int]) -> None:
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self.known_years = frozenset(known_years)

    def is_known(self, day: date) -> bool:
        return day.year in self.known_years

    def is_working_day(self, day: date) -> bool:
        """For an unknown year this falls back to Monday–Friday; check `is_known` to warn."""
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: date, count: int) -> date:
        """The `count`-th working day after `start` (start itself not counted)."""
        if count < 0:
            raise ValueError(f"count must not be negative, got {count}")
        day = start
        remaining = count
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def missing_years(self, years: Iterable[int]) -> list[int]:
        return sorted(set(years) - self.known_years)
