"""Service hours per queue on the Chinese calendar: holidays, make-up working Saturdays, closures,
and years the calendar does not know yet (a warning, never a crash)."""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.hours import Closure, HoursState, ServiceHours, parse_range
from ivr.menu_checks import load_ivr_config
from settings.calendar import build_calendar
from settings.files import YearCalendar, load_config

CONFIG = Path(__file__).resolve().parents[3] / "config"
TZ = ZoneInfo("Asia/Shanghai")


def at(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), TZ).replace(hour=hour, minute=minute)


@pytest.fixture(scope="module")
def hours() -> ServiceHours:
    hotline = load_config(CONFIG)
    ivr = load_ivr_config(CONFIG, hotline)
    return ServiceHours.from_config(hotline.service_hours, ivr, build_calendar({}), TZ)


@pytest.mark.parametrize(
    ("moment", "queue", "state"),
    [
        (at("2026-11-24", 10), "consult", HoursState.OPEN),  # Tuesday morning
        (at("2026-11-24", 12, 30), "consult", HoursState.OUTSIDE_HOURS),  # lunch break
        (at("2026-11-24", 13, 30), "consult", HoursState.OPEN),
        (at("2026-11-24", 17, 30), "consult", HoursState.OUTSIDE_HOURS),  # closes at 17:30 sharp
        (at("2026-11-24", 8, 59), "consult", HoursState.OUTSIDE_HOURS),
        (at("2026-10-01", 10), "consult", HoursState.HOLIDAY),  # National Day
        (at("2026-10-10", 10), "consult", HoursState.OPEN),  # Saturday, make-up working day (调休)
        (at("2026-11-28", 10), "consult", HoursState.REST_DAY),  # ordinary Saturday
        (at("2026-10-01", 3), "zonghe", HoursState.OPEN),  # 7×24 line on a holiday night
        (at("2026-11-28", 23, 59), "zonghe", HoursState.OPEN),
    ],
)
def test_queue_hours(hours: ServiceHours, moment: datetime, queue: str, state: HoursState) -> None:
    assert hours.status(queue, moment).state is state


def test_utc_moments_are_judged_in_local_time(hours: ServiceHours) -> None:
    # 01:30 UTC is 09:30 in Sichuan.
    assert hours.status("consult", datetime(2026, 11, 24, 1, 30, tzinfo=ZoneInfo("UTC"))).open


def test_unknown_year_falls_back_to_weekdays_with_one_warning(
    hours: ServiceHours, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ivr.hours"):
        assert hours.status("consult", at("2031-03-05", 10)).open  # a Wednesday, year unknown
        assert hours.status("consult", at("2031-03-08", 10)).state is HoursState.REST_DAY  # Saturday
    warnings = [r for r in caplog.records if "no public holiday list for 2031" in r.getMessage()]
    assert len(warnings) == 1


def test_configured_year_replaces_the_package(hours: ServiceHours) -> None:
    calendar = build_calendar({2027: YearCalendar(holidays=[date(2027, 2, 8)], workdays=[date(2027, 2, 20)])})
    configured = ServiceHours(hours.openings, calendar, TZ)
    assert configured.status("consult", at("2027-02-08", 10)).state is HoursState.HOLIDAY  # a Monday off
    assert configured.status("consult", at("2027-02-20", 10)).open  # a Saturday on


def test_closures(hours: ServiceHours) -> None:
    closures = [
        Closure(date(2026, 12, 31), date(2026, 12, 31), "系统升级", parse_range("14:00-17:30"), frozenset({"consult"})),
        Closure(date(2026, 12, 1), date(2026, 12, 2), "搬迁", prompt="closed-moving"),
    ]
    closed = ServiceHours(hours.openings, hours.calendar, TZ, closures)
    assert closed.status("consult", at("2026-12-31", 10)).open
    upgrade = closed.status("consult", at("2026-12-31", 15))
    assert upgrade.state is HoursState.CLOSURE and upgrade.reason == "系统升级"
    assert closed.status("legal-aid", at("2026-12-31", 15)).open  # other queues unaffected
    moving = closed.status("zonghe", at("2026-12-02", 3))
    assert moving.state is HoursState.CLOSURE and moving.prompt == "closed-moving"


def test_end_of_day_range() -> None:
    start, end = parse_range("00:00-24:00")
    assert start.hour == 0 and end.hour == 23 and end.minute == 59
