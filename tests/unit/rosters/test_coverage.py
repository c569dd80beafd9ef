"""Coverage on hand-made rosters with known answers, on the real Chinese calendar of October 2025:
1–8 October are the National Day holidays and Saturday 11 October is a make-up working day (调休)."""

from __future__ import annotations

from datetime import date

from hotline.rosters.coverage import coverage_report, parse_hours
from settings.calendar import build_calendar
from tests.unit.rosters.helpers import shift

CALENDAR = build_calendar({})
HOURS = {
    "consult": parse_hours(["09:00-12:00", "13:30-17:30"], working_days_only=True),  # 5×8: 420 minutes a day
    "general": parse_hours(["00:00-24:00"], working_days_only=False),  # 7×24
}
HOLIDAY, THU, FRI, MAKEUP_SAT = date(2025, 10, 8), date(2025, 10, 9), date(2025, 10, 10), date(2025, 10, 11)
SHIFTS = [
    shift(1, HOLIDAY, "09:00", "12:00", ("consult",)),  # on duty on a holiday: no gap, nothing counted
    shift(2, HOLIDAY, "22:00", "08:00", ("general",), next_day=True),
    shift(1, THU, "08:00", "20:00", ("general",)),
    shift(1, THU, "09:00", "12:00", ("consult",)),  # overlaps the shift above: 180 minutes
    shift(2, THU, "13:30", "17:30", ("consult",)),
    shift(1, FRI, "09:00", "11:00", ("consult",)),
    shift(2, FRI, "14:00", "17:30", ("consult",)),
]


def gaps(report: object, queue: str) -> list[tuple[str, str, str, int]]:
    [coverage] = [q for q in report.queues if q.queue == queue]  # type: ignore[attr-defined]
    return [(g.day.isoformat(), f"{g.start:%H:%M}", g.as_dict()["end"], g.minutes) for g in coverage.gaps]


def test_calendar_of_the_fixture_is_what_the_test_assumes() -> None:
    assert not CALENDAR.is_working_day(HOLIDAY) and CALENDAR.is_working_day(MAKEUP_SAT)


def test_working_day_queue_gaps_include_the_make_up_saturday_and_skip_the_holiday() -> None:
    report = coverage_report(SHIFTS, HOURS, CALENDAR, HOLIDAY, MAKEUP_SAT)
    consult = report.queues[0]
    assert (consult.open_minutes, consult.covered_minutes, consult.gap_minutes) == (1260, 750, 510)
    assert gaps(report, "consult") == [
        ("2025-10-10", "11:00", "12:00", 60),
        ("2025-10-10", "13:30", "14:00", 30),
        ("2025-10-11", "09:00", "12:00", 180),
        ("2025-10-11", "13:30", "17:30", 240),
    ]


def test_round_the_clock_queue_counts_night_shifts_across_midnight() -> None:
    report = coverage_report(SHIFTS, HOURS, CALENDAR, HOLIDAY, MAKEUP_SAT)
    general = report.queues[1]
    assert (general.open_minutes, general.covered_minutes, general.gap_minutes) == (5760, 1320, 4440)
    assert gaps(report, "general") == [
        ("2025-10-08", "00:00", "22:00", 1320),
        ("2025-10-09", "20:00", "24:00", 240),
        ("2025-10-10", "00:00", "24:00", 1440),
        ("2025-10-11", "00:00", "24:00", 1440),
    ]


def test_overlapping_shifts_of_one_lawyer() -> None:
    report = coverage_report(SHIFTS, HOURS, CALENDAR, HOLIDAY, MAKEUP_SAT)
    assert [o.as_dict() for o in report.overlaps] == [
        {
            "lawyer": "lawyer1",
            "first": "2025-10-09 08:00–20:00",
            "second": "2025-10-09 09:00–12:00",
            "minutes": 180,
            "queues": [],
        }
    ]


def test_closures_and_the_night_before_the_period() -> None:
    report = coverage_report(SHIFTS, HOURS, CALENDAR, THU, MAKEUP_SAT, closed=[FRI])
    consult, general = report.queues
    assert (consult.open_minutes, consult.gap_minutes) == (840, 420)  # Thursday covered, Saturday empty
    # The holiday's night shift still covers Thursday 00:00–08:00 although it starts the day before.
    assert gaps(report, "general")[0] == ("2025-10-09", "20:00", "24:00", 240)
    assert general.open_minutes == 2880


def test_an_empty_roster_is_all_gap_and_a_full_one_has_none() -> None:
    empty = coverage_report([], HOURS, CALENDAR, THU, THU)
    assert [(q.queue, q.gap_minutes) for q in empty.queues] == [("consult", 420), ("general", 1440)]
    full = [shift(1, THU, "09:00", "12:00"), shift(2, THU, "12:00", "17:30")]
    assert coverage_report(full, {"consult": HOURS["consult"]}, CALENDAR, THU, THU).queues[0].gaps == []
