"""Call-back (回访) rules: when a task is done, what an attempt may carry, and the SLA of DESIGN.md §5."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from settings.calendar import build_calendar
from ticketing.domain.errors import AlreadyCompleted, InvalidInput
from ticketing.domain.follow_up import (
    Attempt,
    Closing,
    FollowUpOutcome,
    FollowUpStatus,
    Satisfaction,
    callback_sla,
    check_attempt,
    failed_days,
    settle,
)

Outcome = FollowUpOutcome
MON = date(2026, 11, 23)


def test_three_failures_on_one_day_are_not_unreachable() -> None:
    attempts = [Attempt(MON, Outcome.NO_ANSWER), Attempt(MON, Outcome.BUSY), Attempt(MON, Outcome.REFUSED)]
    assert failed_days(attempts) == 1
    assert settle(attempts) is FollowUpStatus.PENDING


def test_failures_on_three_different_days_close_the_task_as_unreachable() -> None:
    attempts = [
        Attempt(MON, Outcome.NO_ANSWER),
        Attempt(MON, Outcome.BUSY),
        Attempt(MON + timedelta(1), Outcome.WRONG_NUMBER),
    ]
    assert settle(attempts) is FollowUpStatus.PENDING
    attempts.append(Attempt(MON + timedelta(3), Outcome.REFUSED))
    assert failed_days(attempts) == 3
    assert settle(attempts) is FollowUpStatus.UNREACHABLE


def test_reaching_the_citizen_completes_the_task_whatever_failed_before() -> None:
    attempts = [
        Attempt(MON, Outcome.NO_ANSWER),
        Attempt(MON + timedelta(1), Outcome.BUSY),
        Attempt(MON + timedelta(2), Outcome.REACHED),
    ]
    assert settle(attempts) is FollowUpStatus.REACHED


def test_reached_needs_a_rating_and_failures_may_not_have_one() -> None:
    with pytest.raises(InvalidInput) as missing:
        check_attempt(FollowUpStatus.PENDING, Outcome.REACHED, None)
    assert missing.value.details["field"] == "satisfaction"
    with pytest.raises(InvalidInput):
        check_attempt(FollowUpStatus.PENDING, Outcome.BUSY, Satisfaction.SATISFIED)
    check_attempt(FollowUpStatus.PENDING, Outcome.REACHED, Satisfaction.FAIRLY_SATISFIED)
    check_attempt(FollowUpStatus.PENDING, Outcome.NO_ANSWER, None)


@pytest.mark.parametrize("status", [FollowUpStatus.REACHED, FollowUpStatus.UNREACHABLE, FollowUpStatus.CANCELLED])
def test_finished_tasks_take_no_more_attempts(status: FollowUpStatus) -> None:
    with pytest.raises(AlreadyCompleted):
        check_attempt(status, Outcome.NO_ANSWER, None)


def test_labels_are_the_words_lawyers_use() -> None:
    assert [s.label for s in Satisfaction] == ["满意", "基本满意", "不满意"]
    assert Outcome.WRONG_NUMBER.label == "号码错误" and FollowUpStatus.UNREACHABLE.label == "无法联系"


# The real calendar: National Day 2025 is Oct 1-8 off, Sun Sep 28 and Sat Oct 11 are worked (调休).
CALENDAR = build_calendar({})


def test_sla_counts_working_days_on_the_chinese_calendar() -> None:
    closed = date(2025, 9, 30)  # 3 working days after: Oct 9, 10 and the make-up Saturday Oct 11
    closings = [
        Closing(closed, date(2025, 10, 11)),  # on the last day, a make-up Saturday: on time
        Closing(closed, date(2025, 10, 13)),  # late
        Closing(closed, date(2025, 10, 5)),  # during the holiday: on time
        Closing(closed, None),  # not done, and the deadline has passed
        Closing(date(2025, 10, 10), None),  # not done, still in time on Oct 14 (10 → 11, 13, 14)
    ]
    sla = callback_sla(closings, CALENDAR, 3, today=date(2025, 10, 14))
    assert (sla.closed, sla.on_time, sla.late, sla.open_in_time, sla.open_overdue) == (5, 2, 1, 1, 1)
    assert sla.rate == 0.4


def test_sla_across_spring_festival_2026_with_make_up_saturdays() -> None:
    # Closed Fri Feb 13; Sat Feb 14 is worked, Feb 15-23 off: 3 working days end on Wed Feb 25.
    closings = [Closing(date(2026, 2, 13), date(2026, 2, 25)), Closing(date(2026, 2, 13), date(2026, 2, 26))]
    sla = callback_sla(closings, CALENDAR, 3, today=date(2026, 3, 1))
    assert (sla.on_time, sla.late) == (1, 1)


def test_sla_of_nothing_is_none_not_zero() -> None:
    assert callback_sla([], CALENDAR, 3, today=MON).rate is None
