"""Reporting periods as the API takes them: local calendar days, checked, and as UTC instants."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Query
from pydantic import BeforeValidator

from hotline.api.errors import ApiError

#: Longest period one request may ask for; monthly reports of a year fit.
MAX_PERIOD_DAYS = 400
#: The days any date parameter may name: the hotline's records begin after the first and a period
#: ending on the last still has a following day (0001-01-01 or 9999-12-31 would overflow).
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def checked_day(value: object) -> date:
    """A calendar day written YYYY-MM-DD between FIRST_DAY and LAST_DAY; numbers (which pydantic would
    read as Unix times) and other forms are refused."""
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    elif isinstance(value, str) and _DAY.match(value):
        day = date.fromisoformat(value)  # ValueError for 2026-02-30: pydantic reports it as 422
    else:
        raise ValueError("a calendar day written YYYY-MM-DD")
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"a day between {FIRST_DAY} and {LAST_DAY}")
    return day


#: Every date parameter of the API: checked here, once.
Day = Annotated[date, BeforeValidator(checked_day)]
#: A month parameter YYYY-MM within the same years.
Month = Annotated[
    str,
    Query(pattern=r"^(20\d\d)-(0[1-9]|1[0-2])$", description=f"YYYY-MM, {FIRST_DAY.year}-{LAST_DAY.year}"),
]


def local_days(
    start: date | None, end: date | None, tz: ZoneInfo, default_start: date | None = None
) -> tuple[date, date]:
    """[start, end] in local days: one missing side takes the other; both missing, `default_start`
    (or today) to today. Refuses a reversed or over-long period with a clear error."""
    today = datetime.now(tz).date()
    start = start or end or default_start or today
    end = end or (today if default_start is not None else start)
    if end < start:
        raise ApiError("结束日期早于开始日期 / end is before start", start=start.isoformat(), end=end.isoformat())
    if (end - start).days > MAX_PERIOD_DAYS:
        raise ApiError(f"时间段过长 / period over {MAX_PERIOD_DAYS} days", days=(end - start).days)
    return start, end


def local_period(start: date | None, end: date | None, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Local calendar days [start, end] as UTC instants [begin, finish); today when neither is given."""
    first, last = local_days(start, end, tz)
    begin = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    finish = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return begin, finish
