"""Working days on the Chinese calendar (with 调休) and the deadlines tickets run on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from settings.calendar import build_calendar, warn_missing_years
from settings.files import YearCalendar
from ticketing.domain.codes import format_code, is_ticket_code
from ticketing.domain.policy import TicketPolicy
from ticketing.domain.workdays import WorkCalendar

BEIJING = ZoneInfo("Asia/Shanghai")


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(n) for n in range((end - start).days + 1)]


# National Day 2026 (from the State Council's 2026 list): Oct 1-7 off; Sun Sep 20 and Sat Oct 10 worked.
CAL = WorkCalendar(
    holidays=days(date(2026, 10, 1), date(2026, 10, 7)),
    workdays=[date(2026, 9, 20), date(2026, 10, 10)],
    known_years=[2026],
)


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (date(2026, 11, 20), 1, date(2026, 11, 23)),  # Friday + 1 skips the weekend
        (date(2026, 9, 30), 1, date(2026, 10, 8)),  # across National Day
        (date(2026, 10, 9), 1, date(2026, 10, 10)),  # a make-up Saturday is a working day
        (date(2026, 9, 19), 1, date(2026, 9, 20)),  # and so is a make-up Sunday
        (date(2026, 9, 28), 5, date(2026, 10, 10)),
        (date(2026, 11, 24), 0, date(2026, 11, 24)),
    ],
)
def test_add_working_days(start: date, count: int, expected: date) -> None:
    assert CAL.add_working_days(start, count) == expected


def test_negative_count_is_refused() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2026, 1, 1), -1)


def test_working_days_between_counts_make_up_days() -> None:
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3  # Oct 8, 9, 10
    assert CAL.working_days_between(date(2026, 10, 10), date(2026, 10, 1)) == 0


def test_due_at_is_local_midnight_after_the_last_working_day() -> None:
    policy = TicketPolicy(calendar=CAL, tz=BEIJING, accept_days=1)
    # 17:00 UTC on Sep 30 is already 01:00 on Oct 1 in Beijing: the count starts from Oct 1.
    due = policy.due_at(datetime(2026, 9, 30, 17, 0, tzinfo=UTC), 1)
    assert due == datetime(2026, 10, 9, 0, 0, tzinfo=BEIJING)
    assert policy.due_at(datetime(2026, 9, 30, 2, 0, tzinfo=UTC), 1) == datetime(2026, 10, 9, 0, 0, tzinfo=BEIJING)


def test_finish_days_per_category_and_callback_due() -> None:
    policy = TicketPolicy(calendar=CAL, tz=BEIJING, finish_days={"劳动争议": 3}, callback_days=3)
    assert policy.finish_days_for("劳动争议") == 3
    assert policy.finish_days_for("婚姻家庭") == policy.finish_days_for(None) == 5
    assert policy.callback_due_date(datetime(2026, 9, 29, 3, 0, tzinfo=UTC)) == date(2026, 10, 9)


def test_package_years_are_known_and_configured_years_override_them() -> None:
    calendar = build_calendar({})
    assert calendar.is_known(date(2026, 5, 1)) and not calendar.is_working_day(date(2026, 10, 1))
    assert calendar.is_working_day(date(2026, 10, 10))  # 调休 Saturday, from the package
    configured = build_calendar(
        {2027: YearCalendar(holidays=[date(2027, 1, 1)], workdays=[date(2027, 1, 2)]), 2026: YearCalendar()}
    )
    assert configured.is_known(date(2027, 6, 1))
    assert not configured.is_working_day(date(2027, 1, 1)) and configured.is_working_day(date(2027, 1, 2))
    assert configured.is_working_day(date(2026, 10, 1))  # 2026 replaced by an (empty) configured list


def test_missing_next_year_warns_instead_of_failing(caplog: pytest.LogCaptureFixture) -> None:
    calendar = build_calendar({})
    missing = warn_missing_years(calendar, date(2026, 11, 24))
    assert 2027 in missing
    assert "no public holiday list for 2027" in caplog.text
    assert calendar.is_working_day(date(2027, 3, 1))  # falls back to Monday-Friday


def test_ticket_codes() -> None:
    assert format_code(date(2026, 11, 23), 42) == "12348-20261123-000042"
    assert format_code(date(2026, 11, 23), 1_234_567) == "12348-20261123-1234567"
    with pytest.raises(ValueError):
        format_code(date(2026, 11, 23), 0)
    assert is_ticket_code("12348-20261123-000042")
    assert not is_ticket_code("12345-20261123-000042") and not is_ticket_code("12348-2026112-000042")
