"""Demo mode's simulated callers go through the real bridge into call rows and live state."""

from __future__ import annotations

import asyncio
import time

from hotline.ami.sim_calls import Member
from hotline.ami.sim_queues import SimQueues
from hotline.ami.sim_traffic import DemoTraffic, TrafficProfile
from hotline.ami.simulator import AmiSimulator
from hotline.bootstrap import Context
from hotline.bridge_client import BridgeClient
from tests.integration.test_bridge import rows, run, running, until

FAST = TrafficProfile(
    calls_per_minute=300, ivr_s=(0.05, 0.1), patience_s=(0.3, 1.0), talk_s=(0.2, 0.4), wrapup_s=0.05, ring_s=0.1
)


def test_simulated_calls_become_rows_and_a_click_to_call_becomes_a_call_back(context: Context) -> None:
    async def scenario() -> None:
        queues = SimQueues(["consult", "legal-aid"])
        simulator = AmiSimulator(handlers=[queues])
        traffic = DemoTraffic(simulator, queues, FAST, seed=7)
        async with running(context, simulator, source="simulator"):
            for queue in ("consult", "legal-aid"):
                traffic.seat(queue, Member("PJSIP/1001", "张律师"))
            task = asyncio.create_task(traffic.run())
            try:
                await until(lambda: len([c for c in rows(context).values() if c.ended_at]) >= 10, timeout=40)
                client = BridgeClient(context.redis.client)
                action_id = await asyncio.to_thread(
                    client.originate_callback, lawyer_interface="PJSIP/1002", number="13808081234"
                )
                assert action_id.startswith("callback-")
                callback = await until(
                    lambda: next((c for c in rows(context).values() if c.direction == "callback" and c.ended_at), None),
                    timeout=20,
                    what="the call-back row",
                )
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        found = list(rows(context).values())
        outcomes = {c.outcome for c in found if c.direction == "inbound" and c.ended_at}
        assert outcomes <= {"answered", "abandoned", "ring_no_answer_abandoned"} and "answered" in outcomes
        assert all(c.queue in ("consult", "legal-aid") for c in found if c.direction == "inbound" and c.ended_at)
        assert callback.caller_number == "13808081234" and callback.agent_interface == "PJSIP/1002"
        assert callback.outcome == "answered"
        assert time.time() - callback.ended_at.timestamp() < 60  # simulated calls run on the real clock

    run(scenario())


def test_paused_or_absent_lawyers_take_no_simulated_calls(context: Context) -> None:
    queues = SimQueues(["consult"])
    traffic = DemoTraffic(AmiSimulator(handlers=[queues]), queues, FAST, seed=1)
    assert traffic.on_duty("consult") == []
    queues.observe({"Event": "QueueMemberAdded", "Queue": "consult", "Interface": "PJSIP/1001",
                    "MemberName": "张律师", "Status": "1", "Paused": "0"}, 0.0)  # fmt: skip
    assert [m.interface for m in traffic.on_duty("consult")] == ["PJSIP/1001"]
    queues.observe({"Event": "QueueMemberPause", "Queue": "consult", "Interface": "PJSIP/1001",
                    "MemberName": "张律师", "Status": "1", "Paused": "1", "PausedReason": "培训"}, 0.0)  # fmt: skip
    assert traffic.on_duty("consult") == []
