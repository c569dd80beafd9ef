"""Roster coverage against service hours: gaps (open, nobody on duty) and overlaps (one lawyer on two
shifts at once), per queue and day, in minutes. Standard library only.

A queue is open on a day by its schedule: `working_days` follows the Chinese calendar (public
holidays off, make-up working weekends 调休 on), `every_day` is 7×24 style; closures shut whole days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from hotline.rosters.model import MAX_SHIFT, Shift
from ticketing.domain.workdays import WorkCalendar

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class OpeningHours:
    working_days_only: bool
    #: Minute-of-day ranges, end exclusive; 24:00 is 1440.
    ranges: tuple[tuple[int, int], ...]

    def open_on(self, day: date, calendar: WorkCalendar, closed: frozenset[date]) -> list[Interval]:
        if day in closed or (self.working_days_only and not calendar.is_working_day(day)):
            return []
        midnight = datetime.combine(day, time(0))
        return [(midnight + timedelta(minutes=s), midnight + timedelta(minutes=e)) for s, e in self.ranges]


def parse_hours(ranges: Iterable[str], working_days_only: bool) -> OpeningHours:
    """From the service_hours.yaml form "09:00-12:00" (already validated there)."""

    def minute(text: str) -> int:
        hours, minutes = text.split(":")
        return int(hours) * 60 + int(minutes)

    parsed = []
    for text in ranges:
        start, end = text.split("-")
        parsed.append((minute(start), minute(end)))
    return OpeningHours(working_days_only, tuple(sorted(parsed)))


@dataclass(frozen=True)
class Gap:
    queue: str
    day: date
    start: datetime
    end: datetime

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    def as_dict(self) -> dict[str, object]:
        end = "24:00" if self.end.date() > self.day else f"{self.end:%H:%M}"
        return {
            "queue": self.queue,
            "date": self.day.isoformat(),
            "start": f"{self.start:%H:%M}",
            "end": end,
            "minutes": self.minutes,
        }


@dataclass
class QueueCoverage:
    queue: str
    open_minutes: int = 0
    covered_minutes: int = 0
    gaps: list[Gap] = field(default_factory=list)

    @property
    def gap_minutes(self) -> int:
        return sum(gap.minutes for gap in self.gaps)

    def as_dict(self) -> dict[str, object]:
        return {
            "queue": self.queue,
            "open_minutes": self.open_minutes,
            "covered_minutes": self.covered_minutes,
            "gap_minutes": self.gap_minutes,
            "gaps": [gap.as_dict() for gap in self.gaps],
        }


@dataclass(frozen=True)
class Overlap:
    first: Shift
    second: Shift

    @property
    def minutes(self) -> int:
        start = max(self.first.starts_at, self.second.starts_at)
        end = min(self.first.ends_at, self.second.ends_at)
        return int((end - start).total_seconds() // 60)

    def as_dict(self) -> dict[str, object]:
        shared = sorted(set(self.first.queues) & set(self.second.queues))
        return {
            "lawyer": self.first.username,
            "first": self.first.label,
            "second": self.second.label,
            "minutes": self.minutes,
            "queues": shared,
        }


@dataclass
class CoverageReport:
    start: date
    end: date
    queues: list[QueueCoverage]
    overlaps: list[Overlap]

    def as_dict(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "queues": [queue.as_dict() for queue in self.queues],
            "overlaps": [overlap.as_dict() for overlap in self.overlaps],
        }


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def subtract(base: Interval, covered: list[Interval]) -> list[Interval]:
    """Parts of `base` that no interval of the merged, sorted `covered` reaches."""
    left: list[Interval] = []
    cursor, end = base
    for start, stop in covered:
        if stop <= cursor or start >= end:
            continue
        if start > cursor:
            left.append((cursor, start))
        cursor = max(cursor, stop)
    if cursor < end:
        left.append((cursor, end))
    return left


def coverage_report(
    shifts: Iterable[Shift],
    hours: Mapping[str, OpeningHours],
    calendar: WorkCalendar,
    start: date,
    end: date,
    closed: Iterable[date] = (),
) -> CoverageReport:
    """Gaps per queue in `hours` on the days start..end (inclusive), and overlapping shifts then."""
    window = (datetime.combine(start, time(0)), datetime.combine(end + timedelta(days=1), time(0)))
    relevant = [s for s in shifts if s.starts_at < window[1] and s.ends_at > window[0]]
    closed_days = frozenset(closed)
    report = CoverageReport(start, end, [], find_overlapping_shifts(relevant))
    for queue, opening in hours.items():
        on_duty = merge((s.starts_at, s.ends_at) for s in relevant if queue in s.queues)
        coverage = QueueCoverage(queue)
        day = start
        while day <= end:
            for interval in opening.open_on(day, calendar, closed_days):
                minutes = int((interval[1] - interval[0]).total_seconds() // 60)
                gaps = [Gap(queue, day, s, e) for s, e in subtract(interval, on_duty)]
                coverage.open_minutes += minutes
                coverage.covered_minutes += minutes - sum(gap.minutes for gap in gaps)
                coverage.gaps += gaps
            day += timedelta(days=1)
        report.queues.append(coverage)
    return report


def find_overlapping_shifts(shifts: Iterable[Shift]) -> list[Overlap]:
    by_lawyer: dict[int, list[Shift]] = {}
    for shift in shifts:
        by_lawyer.setdefault(shift.lawyer_id, []).append(shift)
    overlaps: list[Overlap] = []
    for own in by_lawyer.values():
        own.sort(key=lambda s: (s.starts_at, s.ends_at))
        for j, current in enumerate(own):
            for i in range(j - 1, -1, -1):
                earlier = own[i]
                if earlier.starts_at + MAX_SHIFT <= current.starts_at:
                    break
                if earlier.overlaps(current):
                    overlaps.append(Overlap(earlier, current))
    overlaps.sort(key=lambda o: (o.second.starts_at, o.first.username))
    return overlaps
