"""Virtual hold end to end: a request the IVR stored is called back when a lawyer is free, in order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from hotline.ami.sim_calls import Member
from hotline.ami.sim_queues import SimQueues
from hotline.ami.sim_traffic import DemoTraffic, TrafficProfile
from hotline.ami.simulator import AmiSimulator
from hotline.bootstrap import Context
from hotline.bridge.virtual_hold import VirtualHold
from ivr.virtual_hold import request_callback
from storage.tables import VirtualHoldRequest
from tests.integration.test_bridge import rows, run, running, until

QUIET = TrafficProfile(calls_per_minute=0.001, talk_s=(0.3, 0.5), ring_s=0.1)


def test_a_free_lawyer_calls_back_the_oldest_request_and_the_call_is_recorded(context: Context) -> None:
    now = datetime.now(UTC)
    with context.sessions.begin() as session:
        older, _ = request_callback(
            session, number="13808081234", queue="consult", arrived_at=now - timedelta(minutes=9), now=now
        )
        newer, _ = request_callback(
            session, number="13900001111", queue="consult", arrived_at=now - timedelta(minutes=2), now=now
        )
        ids = (older.id, newer.id)

    async def scenario() -> None:
        queues = SimQueues(["consult"])
        simulator = AmiSimulator(handlers=[queues])
        traffic = DemoTraffic(simulator, queues, QUIET, seed=3)
        async with running(context, simulator) as bridge:
            hold = VirtualHold(context.sessions, bridge.model, interval_s=0.2)
            bridge.core.on_originate.append(hold.originated)
            bridge.core.on_call_end.append(hold.call_ended)
            player = asyncio.create_task(traffic.run())
            traffic.seat("consult", Member("PJSIP/1001", "张律师"))
            await until(lambda: "PJSIP/1001" in bridge.model.agents, what="lawyer on duty")
            assert bridge.client is not None
            worker = asyncio.create_task(hold.run(bridge.client))
            try:

                def status(request_id: int) -> str:
                    with context.sessions() as session:
                        request = session.get(VirtualHoldRequest, request_id)
                        return request.status if request else "?"

                await until(lambda: status(ids[0]) == "done", timeout=20, what="the older request served")
                await until(lambda: status(ids[1]) == "done", timeout=20, what="then the newer one")
            finally:
                for task in (worker, player):
                    task.cancel()
                await asyncio.gather(worker, player, return_exceptions=True)
        callbacks = sorted((c for c in rows(context).values() if c.direction == "callback"), key=lambda c: c.started_at)
        assert [c.caller_number for c in callbacks] == ["13808081234", "13900001111"]
        assert all(c.outcome == "answered" and c.agent_interface == "PJSIP/1001" for c in callbacks)

    run(scenario())
