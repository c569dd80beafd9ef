"""Scripted simulated calls (demo mode, browser tests): the course asked for, told as Asterisk would."""

from __future__ import annotations

import asyncio

import pytest

from hotline.ami.frames import parse_fields
from hotline.ami.sim_queues import SimQueues
from hotline.ami.sim_traffic import DemoTraffic, TrafficProfile
from hotline.ami.simulator import AmiSimulator


def _traffic(rate: float = 0.0) -> tuple[DemoTraffic, SimQueues]:
    queues = SimQueues(["family", "consult"])
    clock = [1000.0]
    traffic = DemoTraffic(AmiSimulator(handlers=[queues]), queues, TrafficProfile(rate), seed=1, clock=lambda: clock[0])
    for interface, name in (("PJSIP/1001", "张律师"), ("PJSIP/1002", "李律师")):
        queues.observe({"Event": "QueueMemberAdded", "Queue": "family", "Interface": interface, "MemberName": name,
                        "Status": "1", "Paused": "0"}, 0.0)  # fmt: skip
    return traffic, queues


def test_a_scripted_call_is_answered_by_the_lawyer_asked_for_after_the_wait_asked_for() -> None:
    traffic, _ = _traffic()
    placed = traffic.scripted_call("13912345678", "family", wait_s=4, talk_s=6, interface="PJSIP/1002")
    assert placed["answered_by"] == "PJSIP/1002"
    events = [parse_fields(raw)[0] for _, _, raw in sorted(traffic._heap)]
    assert {e.get("Linkedid") for e in events if "Linkedid" in e} == {placed["linkedid"]}
    joined = next(float(e["Timestamp"]) for e in events if e["Event"] == "QueueCallerJoin")
    connect = next(e for e in events if e["Event"] == "AgentConnect")
    assert float(connect["Timestamp"]) - joined == pytest.approx(4) and connect["Interface"] == "PJSIP/1002"
    complete = next(e for e in events if e["Event"] == "AgentComplete")
    assert float(complete["Timestamp"]) - float(connect["Timestamp"]) == pytest.approx(6)
    assert next(e for e in events if e["Event"] == "Newchannel")["CallerIDNum"] == "13912345678"


def test_with_nobody_on_duty_the_scripted_caller_gives_up() -> None:
    traffic, _ = _traffic()
    placed = traffic.scripted_call("13912345678", "consult", wait_s=3, talk_s=6)
    assert placed["answered_by"] is None
    events = [parse_fields(raw)[0]["Event"] for _, _, raw in sorted(traffic._heap)]
    assert "QueueCallerAbandon" in events and "AgentConnect" not in events
    with pytest.raises(ValueError, match="no simulated queue"):
        traffic.scripted_call("13912345678", "nowhere", wait_s=3, talk_s=6)


def test_a_rate_of_zero_places_no_random_calls() -> None:
    traffic, _ = _traffic(rate=0.0)

    async def run_briefly() -> None:
        task = asyncio.create_task(traffic.run())
        await asyncio.sleep(0.3)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(run_briefly())
    assert traffic.calls == 0
