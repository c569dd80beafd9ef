"""Call-back (回访) rules: attempt outcomes, when a task is done, and the call-back SLA.

A task is completed when the citizen is reached, or when failed attempts were made on three
different days (one bad afternoon is not "unreachable"). The SLA is DESIGN.md §5: the share of
closings whose call-back was completed within N working days of closing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from ticketing.domain.errors import AlreadyCompleted, InvalidInput
from ticketing.domain.workdays import WorkCalendar

#: Failed attempts on this many different days close a task as unreachable.
FAILED_DAYS_TO_GIVE_UP = 3


class FollowUpOutcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    REFUSED = "refused"
    WRONG_NUMBER = "wrong_number"

    @property
    def label(self) -> str:
        return _OUTCOME_LABELS[self]

    @property
    def failed(self) -> bool:
        return self is not FollowUpOutcome.REACHED


_OUTCOME_LABELS = {
    FollowUpOutcome.REACHED: "已接通",
    FollowUpOutcome.NO_ANSWER: "无人接听",
    FollowUpOutcome.BUSY: "占线",
    FollowUpOutcome.REFUSED: "拒接",
    FollowUpOutcome.WRONG_NUMBER: "号码错误",
}


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"
    FAIRLY_SATISFIED = "fairly_satisfied"
    DISSATISFIED = "dissatisfied"

    @property
    def label(self) -> str:
        return _SATISFACTION_LABELS[self]


_SATISFACTION_LABELS = {
    Satisfaction.SATISFIED: "满意",
    Satisfaction.FAIRLY_SATISFIED: "基本满意",
    Satisfaction.DISSATISFIED: "不满意",
}


class FollowUpStatus(StrEnum):
    PENDING = "pending"
    REACHED = "reached"
    UNREACHABLE = "unreachable"
    #: The ticket was reopened before anyone called back; its next closing brings a new task.
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    FollowUpStatus.PENDING: "待回访",
    FollowUpStatus.REACHED: "已回访",
    FollowUpStatus.UNREACHABLE: "无法联系",
    FollowUpStatus.CANCELLED: "已取消",
}


@dataclass(frozen=True)
class Attempt:
    day: date
    outcome: FollowUpOutcome


def check_attempt(status: FollowUpStatus, outcome: FollowUpOutcome, satisfaction: Satisfaction | None) -> None:
    """Refuse an attempt on a finished task, a reached call without a rating, a rating without a call."""
    if status is not FollowUpStatus.PENDING:
        raise AlreadyCompleted(
            f"回访任务已结束（{status.label}），不能再记录 / the call-back task is already {status}",
            status=status.value,
        )
    if outcome is FollowUpOutcome.REACHED and satisfaction is None:
        raise InvalidInput(
            "接通后须记录满意度（满意 / 基本满意 / 不满意） / a reached call-back needs the citizen's satisfaction",
            field="satisfaction",
            allowed=[s.value for s in Satisfaction],
        )
    if outcome.failed and satisfaction is not None:
        raise InvalidInput(
            f"「{outcome.label}」时不能记录满意度 / no satisfaction without reaching the citizen ({outcome})",
            field="satisfaction",
            outcome=outcome.value,
        )


def failed_days(attempts: Iterable[Attempt]) -> int:
    return len({a.day for a in attempts if a.outcome.failed})


def settle(attempts: Sequence[Attempt]) -> FollowUpStatus:
    """The task's status after these attempts (in the order they were made)."""
    if any(a.outcome is FollowUpOutcome.REACHED for a in attempts):
        return FollowUpStatus.REACHED
    if failed_days(attempts) >= FAILED_DAYS_TO_GIVE_UP:
        return FollowUpStatus.UNREACHABLE
    return FollowUpStatus.PENDING


@dataclass(frozen=True)
class Closing:
    """Closings of tickets on one local day whose call-back was completed on the same day (or not yet)."""

    closed_on: date
    completed_on: date | None
    count: int = 1


@dataclass(frozen=True)
class FollowUpSla:
    working_days: int
    closed: int = 0
    on_time: int = 0
    late: int = 0
    #: Not completed yet, still within the N working days.
    open_in_time: int = 0
    #: Not completed and already past the N working days.
    open_overdue: int = 0

    @property
    def rate(self) -> float | None:
        """Completed within N working days of closing / closed. None when nothing was closed."""
        return None if not self.closed else round(self.on_time / self.closed, 4)


def callback_sla(closings: Iterable[Closing], calendar: WorkCalendar, working_days: int, today: date) -> FollowUpSla:
    """DESIGN.md §5 call-back SLA over `closings`, with working days on the Chinese calendar."""
    due_by_day: dict[date, date] = {}
    counts = {"closed": 0, "on_time": 0, "late": 0, "open_in_time": 0, "open_overdue": 0}
    for closing in closings:
        due = due_by_day.get(closing.closed_on)
        if due is None:
            due = due_by_day[closing.closed_on] = calendar.add_working_days(closing.closed_on, working_days)
        counts["closed"] += closing.count
        if closing.completed_on is not None:
            counts["on_time" if closing.completed_on <= due else "late"] += closing.count
        else:
            counts["open_in_time" if today <= due else "open_overdue"] += closing.count
    return FollowUpSla(working_days=working_days, **counts)
