"""Is a queue open now? Schedules (5×8 on working days, 7×24), the Chinese calendar with its
make-up working days, whole-day closures (service_hours.yaml) and closures for part of a day
(ivr.yaml). The calendar is the one settings.calendar builds; a year it does not know falls
back to Monday–Friday with a warning, never an error."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from ivr.menu_config import IvrFile
from settings.files import ServiceHoursFile
from ticketing.domain.workdays import WorkCalendar

logger = logging.getLogger(__name__)

END_OF_DAY = time(23, 59, 59, 999999)


class HoursState(StrEnum):
    OPEN = "open"
    OUTSIDE_HOURS = "outside_hours"
    HOLIDAY = "holiday"
    REST_DAY = "rest_day"
    CLOSURE = "closure"


@dataclass(frozen=True)
class HoursStatus:
    state: HoursState
    #: For a closure: its reason and the prompt that announces it (None: the generic one).
    reason: str | None = None
    prompt: str | None = None

    @property
    def open(self) -> bool:
        return self.state is HoursState.OPEN


@dataclass(frozen=True)
class Opening:
    every_day: bool
    ranges: tuple[tuple[time, time], ...]


@dataclass(frozen=True)
class Closure:
    start: date
    end: date
    reason: str
    #: Part of the day (None: all day) and the queues it concerns (empty: all).
    hours: tuple[time, time] | None = None
    queues: frozenset[str] = frozenset()
    prompt: str | None = None


def parse_range(text: str) -> tuple[time, time]:
    """'09:00-12:00' -> (09:00, 12:00); '24:00' is the end of the day. The text is already checked."""
    start, end = text.split("-")
    return time.fromisoformat(start), END_OF_DAY if end == "24:00" else time.fromisoformat(end)


def _within(moment: time, ranges: Sequence[tuple[time, time]]) -> bool:
    return any(start <= moment < end or (end == END_OF_DAY and moment >= start) for start, end in ranges)


class ServiceHours:
    def __init__(
        self,
        openings: Mapping[str, Opening],
        calendar: WorkCalendar,
        tz: ZoneInfo,
        closures: Sequence[Closure] = (),
    ) -> None:
        self.openings = dict(openings)
        self.calendar = calendar
        self.tz = tz
        self.closures = list(closures)
        self._warned_years: set[int] = set()

    @classmethod
    def from_config(cls, hours: ServiceHoursFile, ivr: IvrFile, calendar: WorkCalendar, tz: ZoneInfo) -> ServiceHours:
        openings = {}
        for queue in hours.queues:
            schedule = hours.schedules[queue.schedule]
            ranges = tuple(parse_range(text) for text in schedule.hours)
            openings[queue.name] = Opening(schedule.days == "every_day", ranges)
        closures = [Closure(c.start, c.end, c.reason) for c in hours.closures]
        closures += [
            Closure(
                c.date,
                c.date,
                c.reason,
                parse_range(c.hours) if c.hours else None,
                frozenset(c.queues),
                c.prompt,
            )
            for c in ivr.closures
        ]
        return cls(openings, calendar, tz, closures)

    def status(self, queue: str, at: datetime) -> HoursStatus:
        local = at.astimezone(self.tz)
        day, moment = local.date(), local.time()
        for closure in self.closures:
            applies = closure.start <= day <= closure.end and (not closure.queues or queue in closure.queues)
            if applies and (closure.hours is None or _within(moment, [closure.hours])):
                return HoursStatus(HoursState.CLOSURE, closure.reason, closure.prompt)
        opening = self.openings.get(queue)
        if opening is None:
            # A queue with no schedule is reported by the configuration checks; never refuse a caller for it.
            return HoursStatus(HoursState.OPEN)
        if not opening.every_day:
            if not self.calendar.is_known(day) and day.year not in self._warned_years:
                self._warned_years.add(day.year)
                logger.warning(
                    "no public holiday list for %d: queue %s assumes Monday-Friday working days;"
                    " add calendar.%d to config/service_hours.yaml",
                    day.year,
                    queue,
                    day.year,
                )
            if not self.calendar.is_working_day(day):
                state = HoursState.HOLIDAY if day in self.calendar.holidays else HoursState.REST_DAY
                return HoursStatus(state)
        if not _within(moment, opening.ranges):
            return HoursStatus(HoursState.OUTSIDE_HOURS)
        return HoursStatus(HoursState.OPEN)
