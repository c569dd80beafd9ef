"""Desired membership from shifts, actual membership from QueueStatus, and the plan between them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from hotline.ami.queue_status import parse_queue_status
from hotline.rosters.membership import (
    ActualMember,
    MemberSpec,
    QueueAdd,
    QueuePenalty,
    QueueRemove,
    desired_membership,
    missing_queues,
    plan_reconciliation,
    stuck_members,
)
from tests.traces import needs_traces
from tests.unit.rosters.helpers import shift, trace_messages

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 12, 1)


def by_action_id(action_id: str) -> list:  # type: ignore[type-arg]
    return [m for m in trace_messages("05-queue-admin") if m.get("ActionID") == action_id]


@needs_traces
def test_queue_status_of_the_recording() -> None:
    snapshot = parse_queue_status(by_action_id("queuestatus-5"))
    assert snapshot.complete and snapshot.skipped == 0
    sipp, lawyer = snapshot.members["legal-consult"].values()
    assert (sipp.interface, sipp.name, sipp.in_call, sipp.status, sipp.paused) == (
        "PJSIP/sipp-lawyer",
        "SIPp lawyer",
        True,
        2,
        False,
    )
    assert (lawyer.interface, lawyer.penalty, lawyer.status, lawyer.paused, lawyer.paused_reason) == (
        "PJSIP/1001",
        1,
        5,
        True,
        "lunch break",
    )
    assert lawyer.membership == "dynamic" and lawyer.state_interface == "PJSIP/1001"
    [caller] = snapshot.callers["legal-consult"]
    assert (caller.position, caller.channel, caller.uniqueid, caller.wait_seconds) == (
        1,
        "PJSIP/sipp-in-00000056",
        "1795448993.86",
        1,
    )
    assert snapshot.params["legal-consult"]["Strategy"] == "rrmemory"


@needs_traces
def test_empty_and_missing_queues_in_the_recording() -> None:
    emptied = parse_queue_status(by_action_id("queuestatus-25"))
    assert emptied.complete and emptied.members == {"legal-consult": {}}  # the queue exists, nobody in it
    missing = parse_queue_status(by_action_id("queuestatus-20"))
    assert missing.complete and missing.members == {}


@needs_traces
def test_a_list_cut_short_is_not_complete() -> None:
    messages = by_action_id("queuestatus-5")
    assert not parse_queue_status(messages[:-1]).complete  # no QueueStatusComplete
    assert not parse_queue_status(messages[:2] + messages[3:]).complete  # one item lost


def test_desired_membership_follows_the_minute() -> None:
    shifts = [
        shift(1, DAY, "09:00", "12:00", ("consult", "family")),
        shift(2, DAY, "12:00", "17:30", ("consult",), penalty=2),
        shift(3, DAY, "22:00", "08:00", ("general",), next_day=True),
    ]
    at = lambda hh, mm, day=DAY: datetime(day.year, day.month, day.day, hh, mm, tzinfo=SHANGHAI)  # noqa: E731
    assert desired_membership(shifts, at(8, 59), tz=SHANGHAI) == {}
    assert desired_membership(shifts, at(9, 0), tz=SHANGHAI) == {
        "consult": {"PJSIP/1001": MemberSpec("张律师")},
        "family": {"PJSIP/1001": MemberSpec("张律师")},
    }
    # 12:00 sharp: the morning shift has ended, the afternoon one begun (end exclusive).
    assert desired_membership(shifts, at(12, 0), tz=SHANGHAI) == {"consult": {"PJSIP/1002": MemberSpec("李律师", 2)}}
    assert desired_membership(shifts, at(7, 59, date(2026, 12, 2)), tz=SHANGHAI) == {
        "general": {"PJSIP/1003": MemberSpec("王律师")}
    }
    # The same instant in UTC: 23:30 UTC on 1 Dec is 07:30 on 2 Dec in Shanghai.
    assert "general" in desired_membership(shifts, datetime(2026, 12, 1, 23, 30, tzinfo=UTC), tz=SHANGHAI)
    # With the managed queues named, each gets an entry and others are left out.
    assert desired_membership(shifts, at(10, 0), tz=SHANGHAI, queues=["consult", "general"]) == {
        "consult": {"PJSIP/1001": MemberSpec("张律师")},
        "general": {},
    }


def member(interface: str, name: str = "x", **kwargs: object) -> ActualMember:
    return ActualMember(interface, name, interface, **kwargs)  # type: ignore[arg-type]


def test_plan_adds_first_removes_only_managed_dynamic_members_and_keeps_paused_ones() -> None:
    desired = {
        "consult": {"PJSIP/1001": MemberSpec("张律师"), "PJSIP/1002": MemberSpec("李律师", penalty=3)},
        "family": {},
        "tibetan": {"PJSIP/1001": MemberSpec("张律师")},  # Asterisk has no such queue
    }
    actual = {
        "consult": {
            "PJSIP/1002": member("PJSIP/1002", "李律师", penalty=0, paused=True, paused_reason="午休"),
            "PJSIP/1003": member("PJSIP/1003", "王律师"),  # a lawyer off duty
            "PJSIP/9000": member("PJSIP/9000", "supervisor phone"),  # not a lawyer
            "PJSIP/1004": member("PJSIP/1004", "静态", membership="static"),  # queues.conf
        },
        "family": {"PJSIP/1001": member("PJSIP/1001", "张律师")},
        "other": {"PJSIP/1003": member("PJSIP/1003")},  # a queue the roster does not manage
    }
    managed = {"PJSIP/1001", "PJSIP/1002", "PJSIP/1003", "PJSIP/1004"}
    plan = plan_reconciliation(desired, actual, managed=managed)
    assert plan == [
        QueueAdd("consult", "PJSIP/1001", "张律师"),
        QueuePenalty("consult", "PJSIP/1002", "李律师", 3),
        QueueRemove("consult", "PJSIP/1003", "王律师"),
        QueueRemove("family", "PJSIP/1001", "张律师"),
    ]
    assert plan[0].fields() == {"Queue": "consult", "Interface": "PJSIP/1001", "MemberName": "张律师"}
    assert missing_queues(desired, actual) == ["tibetan"]
    assert [(q, m.interface) for q, m in stuck_members(desired, actual, managed)] == [("consult", "PJSIP/1004")]
    # A list cut short removes nothing.
    assert all(
        not isinstance(a, QueueRemove) for a in plan_reconciliation(desired, actual, managed=managed, complete=False)
    )


def apply(plan: list, actual: dict[str, dict[str, ActualMember]]) -> None:  # type: ignore[type-arg]
    """What Asterisk does with the plan."""
    for action in plan:
        if isinstance(action, QueueAdd):
            actual[action.queue][action.interface] = member(
                action.interface, action.member_name, penalty=action.penalty or 0
            )
        elif isinstance(action, QueueRemove):
            del actual[action.queue][action.interface]
        elif isinstance(action, QueuePenalty):
            old = actual[action.queue][action.interface]
            actual[action.queue][action.interface] = member(old.interface, old.name, penalty=action.penalty)


def test_the_plan_converges_and_a_second_plan_is_empty() -> None:
    desired = {"consult": {"PJSIP/1001": MemberSpec("张律师", 1)}, "family": {"PJSIP/1002": MemberSpec("李律师")}}
    actual = {"consult": {"PJSIP/1002": member("PJSIP/1002")}, "family": {}}
    managed = {"PJSIP/1001", "PJSIP/1002"}
    plan = plan_reconciliation(desired, actual, managed=managed)
    assert len(plan) == 3
    apply(plan, actual)
    assert {q: set(m) for q, m in actual.items()} == {q: set(m) for q, m in desired.items()}
    assert plan_reconciliation(desired, actual, managed=managed) == []


def test_without_a_managed_set_only_interfaces_on_the_roster_are_touched() -> None:
    actual = {"consult": {"PJSIP/1002": member("PJSIP/1002"), "PJSIP/1001": member("PJSIP/1001")}}
    assert plan_reconciliation({"consult": {"PJSIP/1001": MemberSpec("张律师")}}, actual) == []
