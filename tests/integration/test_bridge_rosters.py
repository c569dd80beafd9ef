"""The duty roster drives queue membership through the running bridge (the simulator as Asterisk)."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from hotline.accounts import create_user
from hotline.ami.sim_queues import SimQueues
from hotline.ami.simulator import AmiSimulator
from hotline.bootstrap import Context
from hotline.bridge.runner import roster_work
from hotline.bridge_client import BridgeClient
from hotline.demo import load_demo_roster
from hotline.live.model import AgentState
from storage.tables import DutyShift
from tests.integration.test_bridge import run, running, until
from ticketing.domain.roles import Role


def test_roster_seats_lawyers_at_connect_and_on_request_after_an_import(context: Context) -> None:
    ALL = [q.name for q in context.config.service_hours.queues]
    tz = ZoneInfo(context.settings.timezone)
    today = datetime.now(tz).date()
    with context.sessions.begin() as session:
        lawyer1 = create_user(session, "lawyer1", "correct-horse-12348", Role.LAWYER, "张律师", interface="PJSIP/1001")
        create_user(session, "lawyer2", "correct-horse-12348", Role.LAWYER, "李律师", interface="PJSIP/1002")
        # Today and tomorrow: on duty at every roster pass, even one after local midnight.
        for day in (today, today + timedelta(days=1)):
            session.add(
                DutyShift(user_id=lawyer1.id, day=day, starts_at=time(0), ends_at=time(0), ends_next_day=True,
                          queues=["consult", "family"], languages=["普通话"], source_file="t.csv", source_row=2,
                          imported_by="test")
            )  # fmt: skip

    async def scenario() -> None:
        queues = SimQueues([q.name for q in context.config.service_hours.queues])
        simulator = AmiSimulator(handlers=[queues])
        loop, now = roster_work(context)
        async with running(context, simulator) as bridge:
            bridge.while_connected.append(loop)
            bridge.actions.register("reconcile_roster", now)
            # The companions start with each connection: drop it once so this one gets them.
            await simulator.drop_connections()
            await until(lambda: bridge.connections == 2 and bridge.ready.is_set(), what="reconnect")
            # One QueueAdd per queue: wait for the whole pass, not its first action.
            seated = {"consult": {"PJSIP/1001"}, "family": {"PJSIP/1001"}}
            await until(lambda: all(set(queues.members(q)) == m for q, m in seated.items()), what="roster seated")
            assert queues.members("zonghe") == {}
            await until(lambda: "PJSIP/1001" in bridge.model.agents, what="the lawyer in the live state")
            assert bridge.model.agents["PJSIP/1001"].state is AgentState.AVAILABLE
            # A new roster (the demo one: both lawyers all day, today and tomorrow) is seated on request,
            # not at the next minute.
            with context.sessions.begin() as session:
                assert load_demo_roster(session, ALL, today, days=1) == 0  # today already has a shift
                session.query(DutyShift).delete()
            with context.sessions.begin() as session:
                assert load_demo_roster(session, ALL, today, days=2) == 4
            result = await asyncio.to_thread(BridgeClient(context.redis.client).reconcile_roster)
            assert result["applied"] > 0 and result["refused"] == [] and result["on_duty"] == 2
            assert set(queues.members("consult")) == {"PJSIP/1001", "PJSIP/1002"}
            assert all(len(queues.members(q)) >= 1 for q in ALL), "every queue has someone on duty"
            assert set(queues.members("zonghe")) == {"PJSIP/1001", "PJSIP/1002"}

    run(scenario())
