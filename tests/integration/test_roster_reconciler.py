"""The roster reconciler over TCP: AmiClient (panoramisk) against the simulator's queue membership,
shifts from the real database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hotline.accounts import create_user
from hotline.ami.panoramisk_adapter import AmiClient
from hotline.ami.sim_queues import SimQueues
from hotline.ami.simulator import AmiSimulator
from hotline.bootstrap import Context
from hotline.rosters.membership import QueueAdd, QueueRemove
from hotline.rosters.reconciler import ReconcileReport, reconcile_once, seconds_to_next_pass
from storage.tables import DutyShift
from ticketing.domain.roles import Role

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 12, 1)
QUEUES = ["general", "consult", "family", "tibetan"]
ASTERISK_QUEUES = ["general", "consult", "family", "other"]  # no tibetan; "other" is not the roster's


def at(hh: int, mm: int, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, 2, tzinfo=TZ)


@pytest.fixture
def roster(context: Context) -> None:
    with context.sessions.begin() as session:
        one = create_user(session, "lawyer1", "pw-lawyer-12348", Role.LAWYER, "张律师", interface="PJSIP/1001")
        two = create_user(session, "lawyer2", "pw-lawyer-12348", Role.LAWYER, "李律师", interface="PJSIP/1002")
        create_user(session, "boss", "pw-boss-123481", Role.SUPERVISOR, "王班长", interface="PJSIP/9000")
        for user, start, end, queues in (
            (one, time(9), time(12), ["consult", "family"]),
            (two, time(12), time(17, 30), ["consult", "tibetan"]),
            (two, time(22), time(8), ["general"]),
        ):
            session.add(
                DutyShift(
                    user_id=user.id,
                    day=DAY,
                    starts_at=start,
                    ends_at=end,
                    ends_next_day=end < start,
                    queues=queues,
                    languages=["普通话"],
                    source_file="t.csv",
                    source_row=2,
                    imported_by="test",
                )
            )


Scenario = Callable[[SimQueues, AmiClient, Callable[..., Awaitable[ReconcileReport]]], Awaitable[None]]


def run(context: Context, scenario: Scenario) -> None:
    async def main() -> None:
        queues = SimQueues(ASTERISK_QUEUES, clock=lambda: 1795449000.0)
        simulator = AmiSimulator(handlers=[queues])
        host, port = await simulator.start()
        client = AmiClient(host, port, "hotline", "hotline-secret")
        await client.connect()

        async def reconcile(now: datetime, action: Any = None) -> ReconcileReport:
            return await reconcile_once(action or client.action, context.sessions, QUEUES, now, TZ)

        try:
            await asyncio.wait_for(scenario(queues, client, reconcile), timeout=30)
        finally:
            client.close()
            await simulator.close()
            await asyncio.sleep(0.05)

    asyncio.run(main())


def members(queues: SimQueues) -> dict[str, set[str]]:
    return {name: set(queues.members(name)) for name in ASTERISK_QUEUES if queues.members(name)}


def test_a_second_pass_sends_nothing_and_foreign_members_stay(context: Context, roster: None) -> None:
    async def scenario(queues: SimQueues, client: AmiClient, reconcile: Any) -> None:
        await client.action("QueueAdd", Queue="consult", Interface="PJSIP/9000", MemberName="王班长")
        queues.add_static("other", "PJSIP/1002", "李律师")
        first = await reconcile(at(10, 0))
        assert first.applied == [
            QueueAdd("consult", "PJSIP/1001", "张律师"),
            QueueAdd("family", "PJSIP/1001", "张律师"),
        ]
        assert first.complete and first.failed == [] and first.missing_queues == ["tibetan"]
        assert members(queues) == {
            "consult": {"PJSIP/9000", "PJSIP/1001"},
            "family": {"PJSIP/1001"},
            "other": {"PJSIP/1002"},
        }
        assert queues.members("consult")["PJSIP/1001"].name == "张律师"
        second = await reconcile(at(10, 1))
        assert second.sent == 0 and second.on_duty == first.on_duty

    run(context, scenario)


def test_a_paused_lawyer_stays_paused_on_duty_and_leaves_at_the_shift_boundary(context: Context, roster: None) -> None:
    async def scenario(queues: SimQueues, client: AmiClient, reconcile: Any) -> None:
        await reconcile(at(11, 0))
        await client.action("QueuePause", Queue="consult", Interface="PJSIP/1001", Paused="true", Reason="午休")
        assert (await reconcile(at(11, 59))).sent == 0
        assert queues.members("consult")["PJSIP/1001"].paused_reason == "午休"
        boundary = await reconcile(at(12, 0))
        assert boundary.applied == [
            QueueAdd("consult", "PJSIP/1002", "李律师"),  # the next shift first: the queue is never empty
            QueueRemove("consult", "PJSIP/1001", "张律师"),
            QueueRemove("family", "PJSIP/1001", "张律师"),
        ]
        assert members(queues) == {"consult": {"PJSIP/1002"}}
        evening = await reconcile(at(22, 0))
        assert [a.action for a in evening.applied] == ["QueueAdd", "QueueRemove"]
        assert members(queues) == {"general": {"PJSIP/1002"}}
        morning = await reconcile(at(8, 0, date(2026, 12, 2)))  # the night shift ends; nobody is on duty
        assert morning.applied == [QueueRemove("general", "PJSIP/1002", "李律师")] and members(queues) == {}

    run(context, scenario)


def test_already_there_and_not_there_count_as_converged(context: Context, roster: None) -> None:
    async def scenario(queues: SimQueues, client: AmiClient, reconcile: Any) -> None:
        await reconcile(at(10, 0))

        async def racing(name: str, timeout: float = 5.0, **fields: str) -> Any:
            """Another process (a second bridge, an operator) gets there between QueueStatus and us."""
            if name == "QueueAdd":
                await client.action("QueueAdd", Queue=fields["Queue"], Interface=fields["Interface"])
            if name == "QueueRemove":
                await client.action("QueueRemove", Queue=fields["Queue"], Interface=fields["Interface"])
            return await client.action(name, timeout=timeout, **fields)

        report = await reconcile(at(12, 0), racing)
        assert report.applied == [] and report.failed == []
        assert [a.action for a in report.converged] == ["QueueAdd", "QueueRemove", "QueueRemove"]
        assert members(queues) == {"consult": {"PJSIP/1002"}}

    run(context, scenario)


def test_a_refused_action_is_reported_and_the_pass_goes_on(context: Context, roster: None) -> None:
    async def scenario(queues: SimQueues, client: AmiClient, reconcile: Any) -> None:
        async def stale_status(name: str, timeout: float = 5.0, **fields: str) -> Any:
            response = await client.action(name, timeout=timeout, **fields)
            if name == "QueueStatus":
                queues.queues.pop("consult")  # removed from Asterisk (a reload) right after QueueStatus
            return response

        report = await reconcile(at(10, 0), stale_status)
        assert [(a.queue, reason) for a, reason in report.failed] == [
            ("consult", "Unable to add interface to queue: No such queue")
        ]
        assert report.applied == [QueueAdd("family", "PJSIP/1001", "张律师")]

    run(context, scenario)


def test_the_loop_runs_two_seconds_after_each_minute() -> None:
    assert seconds_to_next_pass(datetime(2026, 12, 1, 9, 0, 0)) == 2.0
    assert seconds_to_next_pass(datetime(2026, 12, 1, 9, 0, 2)) == 60.0
    assert seconds_to_next_pass(datetime(2026, 12, 1, 8, 59, 59, 500000)) == 2.5
