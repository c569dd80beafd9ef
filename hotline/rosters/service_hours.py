"""config/service_hours.yaml as the roster rules need it: queue names and labels, opening hours,
closed days."""

from __future__ import annotations

from datetime import date, timedelta

from hotline.rosters.coverage import OpeningHours, parse_hours
from hotline.rosters.lookups import QueueDirectory, QueueRef
from settings.files import ServiceHoursFile


def queue_directory(config: ServiceHoursFile) -> QueueDirectory:
    return QueueDirectory(QueueRef(queue.name, queue.label) for queue in config.queues)


def opening_hours(config: ServiceHoursFile, queue: str | None = None) -> dict[str, OpeningHours]:
    hours = {}
    for item in config.queues:
        if queue is None or item.name == queue:
            schedule = config.schedules[item.schedule]
            hours[item.name] = parse_hours(schedule.hours, working_days_only=schedule.days == "working_days")
    return hours


def closed_days(config: ServiceHoursFile) -> set[date]:
    days = set()
    for closure in config.closures:
        day = closure.start
        while day <= closure.end:
            days.add(day)
            day += timedelta(days=1)
    return days
