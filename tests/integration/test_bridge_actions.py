"""The internal action API end to end: BridgeClient → Redis → bridge → AMI simulator → answer."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from hotline.ami.sim_queues import SimQueues
from hotline.ami.simulator import AmiSimulator
from hotline.bootstrap import Context
from hotline.bridge_client import (
    BridgeClient,
    BridgeInvalid,
    BridgeRefused,
    BridgeTimeout,
    BridgeUnavailable,
)
from hotline.live.feed import FEED_STREAM
from tests.integration.test_bridge import run, running, trace, until
from tests.traces import needs_traces

pytestmark = needs_traces


def client_for(context: Context) -> BridgeClient:
    return BridgeClient(context.redis.client)


def test_no_bridge_running_is_known_at_once(context: Context) -> None:
    with pytest.raises(BridgeUnavailable, match="not running"):
        client_for(context).originate_callback(lawyer_interface="PJSIP/1001", number="13808081234")


def test_click_to_call_originates_from_the_lawyers_phone(context: Context) -> None:
    async def scenario() -> None:
        simulator = AmiSimulator()
        async with running(context, simulator):
            bridge = client_for(context)
            await until(lambda: bridge.status(), what="heartbeat")
            action_id = await asyncio.to_thread(
                bridge.originate_callback,
                lawyer_interface="PJSIP/1001",
                number="+86 138-0808-1234",
                variables={"HOTLINE_TASK": "17"},
            )
            originate = next(a for a in simulator.received if a.get("Action") == "Originate")
            assert originate.get("ActionID") == action_id and action_id.startswith("callback-")
            assert originate.get("Channel") == "PJSIP/1001" and originate.get("Exten") == "13808081234"
            assert originate.get("Context") == "hotline-callback" and originate.get("Async") == "true"
            assert sorted(originate.get_all("Variable")) == [
                "HOTLINE_CALLBACK=1",
                "HOTLINE_CALLBACK_NUMBER=13808081234",
                "HOTLINE_TASK=17",
            ]
            # Asterisk later reports the outcome (trace 06b: the phone rang out): it reaches the feed.
            response = (
                "Event: OriginateResponse\r\nPrivilege: call,all\r\nTimestamp: 1795449020.590502\r\n"
                f"ActionID: {action_id}\r\nResponse: Failure\r\nChannel: PJSIP/1001\r\nContext: hotline-callback\r\n"
                "Exten: 13808081234\r\nReason: 3\r\nUniqueid: <unknown>\r\nCallerIDNum: 12348\r\n"
                "CallerIDName: Hotline\r\n\r\n"
            )
            await simulator.send_event(response.encode())

            def outcome() -> Any:
                entries = context.redis.client.xrange(FEED_STREAM)
                found = [json.loads(e[b"data"]) for _, e in entries]
                return next((f for f in found if f.get("action_id") == action_id), None)

            result = await until(outcome, what="originate outcome in the feed")
            assert result["ok"] is False and result["outcome"] == "no_answer"

    run(scenario())


def test_bad_requests_and_refusals_are_clear(context: Context) -> None:
    async def scenario() -> None:
        simulator = AmiSimulator(handlers=[SimQueues(["consult"])])
        async with running(context, simulator) as running_bridge:
            bridge = client_for(context)
            await until(lambda: bridge.status(), what="heartbeat")
            with pytest.raises(BridgeInvalid, match="not a phone number"):
                await asyncio.to_thread(
                    bridge.originate_callback, lawyer_interface="PJSIP/1001", number="138; Action: Hangup"
                )
            with pytest.raises(BridgeInvalid, match="invalid interface"):
                await asyncio.to_thread(bridge.queue_add, "consult", "PJSIP/1001\r\nAction: Logoff")
            with pytest.raises(BridgeInvalid, match="reason"):
                await asyncio.to_thread(bridge.queue_pause, "PJSIP/1001", True, "lunch\r\nAction: Logoff")
            with pytest.raises(BridgeInvalid, match="no call"):
                await asyncio.to_thread(bridge.transfer, "1.1", "12345")
            # Asterisk's own refusal text comes back.
            with pytest.raises(BridgeRefused, match="Unable to remove interface: Not there"):
                await asyncio.to_thread(bridge.queue_remove, "consult", "PJSIP/1001")
            with pytest.raises(BridgeRefused, match="No such queue"):
                await asyncio.to_thread(bridge.queue_add, "no-such-queue", "PJSIP/1001")
            added = await asyncio.to_thread(bridge.queue_add, "consult", "PJSIP/1001", "张律师")
            assert added == {"message": "Added interface to queue"}
            paused = await asyncio.to_thread(bridge.queue_pause, "PJSIP/1001", True, "培训")
            assert paused == {"message": "Interface paused successfully"}
            agents = running_bridge.model.agents
            await until(lambda: "PJSIP/1001" in agents and agents["PJSIP/1001"].pause_reason == "培训")
            assert agents["PJSIP/1001"].state.value == "paused"
            # Asterisk silent: the action times out inside the bridge and says so.
            simulator.silent.add("queuepause")
            running_bridge.actions.action_timeout_s = 0.3
            with pytest.raises(BridgeRefused.__base__, match="did not answer"):  # type: ignore[misc]
                await asyncio.to_thread(bridge.queue_pause, "PJSIP/1001", False)

    run(scenario())


def test_transfer_and_record_act_on_the_callers_channel(context: Context) -> None:
    async def scenario() -> None:
        simulator = AmiSimulator()
        async with running(context, simulator) as running_bridge:
            messages = trace("02-call-answered")
            connect = next(i for i, m in enumerate(messages) if m.name == "AgentConnect")
            await simulator.play(messages[: connect + 1], speed=0)
            await until(lambda: "1795448931.75" in running_bridge.tracker.calls, what="call tracked")
            bridge = client_for(context)
            assert await asyncio.to_thread(bridge.record, "1795448931.75") == {
                "channel": "PJSIP/sipp-in-0000004b",
                "file": "1795448931.75.wav",
            }
            # Talking to a lawyer: the lawyer's channel transfers the caller (app_queue sees a transfer).
            result = await asyncio.to_thread(bridge.transfer, "1795448931.75", "12345")
            lawyer = result.pop("transferred_by")
            assert result == {"channel": "PJSIP/sipp-in-0000004b", "exten": "12345"}
            assert lawyer == "PJSIP/sipp-lawyer-0000004c"
            transfer = next(a for a in simulator.received if a.get("Action") == "BlindTransfer")
            assert (transfer.get("Channel"), transfer.get("Context"), transfer.get("Exten")) == (
                lawyer,
                "hotline-transfer",
                "12345",
            )
            assert not any(a.get("Action") == "Redirect" for a in simulator.received)

    run(scenario())


def test_a_request_nobody_waits_for_any_more_is_not_acted_on(context: Context) -> None:
    async def scenario() -> None:
        simulator = AmiSimulator()
        async with running(context, simulator) as running_bridge:
            stale = {"id": "x", "action": "queue_pause", "params": {}, "reply_to": "hotline:bridge:reply:x"}
            assert await running_bridge.actions.handle(json.dumps({**stale, "expires_at": 1.0})) is None
            assert await running_bridge.actions.handle(b"{not json") is None
            assert await running_bridge.actions.handle(json.dumps({**stale, "reply_to": "elsewhere"})) is None

    run(scenario())


def test_a_timeout_waiting_for_the_bridge_is_reported(context: Context) -> None:
    context.redis.client.set("hotline:bridge:default:alive", "{}", ex=5)  # a bridge that never answers
    with pytest.raises(BridgeTimeout, match="no answer from the bridge within 1 s"):
        client_for(context).request("queue_pause", {"interface": "PJSIP/1001", "paused": True}, timeout=1)
