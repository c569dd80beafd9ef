"""Reporting periods as the API takes them: local calendar days, checked, and as UTC instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hotline.api.errors import ApiError

#: Longest period one request may ask for; monthly reports of a year fit.
MAX_PERIOD_DAYS = 400


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
