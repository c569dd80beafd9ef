"""The simulator's queue membership answers trace 05-queue-admin's actions as Asterisk 22 did."""

from __future__ import annotations

import asyncio
import contextlib

from hotline.ami.frames import AmiMessage, FrameDecoder, parse_message
from hotline.ami.sim_queues import UNAVAILABLE, SimEntry, SimQueues
from hotline.ami.simulator import AmiSimulator, encode
from tests.traces import needs_traces
from tests.unit.rosters.helpers import trace_actions, trace_messages

TRACE = "05-queue-admin"
QUEUE_ACTIONS = {"queueadd", "queueremove", "queuepause", "queuepenalty", "queuestatus", "queuesummary"}
#: Values that depend on the clock or on calls made before the recording.
VOLATILE = {
    "Timestamp",
    "LoginTime",
    "LastPause",
    "LastCall",
    "CallsTaken",
    "Completed",
    "Abandoned",
    "TalkTime",
    "Holdtime",
    "HoldTime",
    "ServicelevelPerf",
    "ServicelevelPerf2",
    "Wait",
    "Uniqueid",
    "Channel",
    "CallerIDNum",
    "CallerIDName",
    "LongestHoldTime",
    "Calls",
    "Callers",
    "InCall",
    "Status",
}


def keys(message: AmiMessage) -> list[str]:
    return [key for key, _ in message.headers]


def stable(message: AmiMessage) -> list[tuple[str, str]]:
    return [(key, value) for key, value in message.headers if key not in VOLATILE]


def recorded_replies() -> dict[str, list[AmiMessage]]:
    """ActionID -> the response and list items Asterisk sent for it (not the events it caused)."""
    replies: dict[str, list[AmiMessage]] = {}
    for message in trace_messages(TRACE):
        action_id = message.get("ActionID")
        if action_id is not None:
            replies.setdefault(action_id, []).append(message)
    return replies


def recorded_member_events() -> list[AmiMessage]:
    names = {"QueueMemberAdded", "QueueMemberRemoved", "QueueMemberPause", "QueueMemberPenalty"}
    return [m for m in trace_messages(TRACE) if m.kind == "event" and m.name in names]


def replay() -> tuple[dict[str, list[AmiMessage]], list[AmiMessage]]:
    """Send the trace's queue actions to a SimQueues in the rig's state; its replies and events."""
    queues = SimQueues(["legal-consult"], clock=lambda: 1795448990.7, device_states={"PJSIP/1001": UNAVAILABLE})
    replies: dict[str, list[AmiMessage]] = {}
    events: list[AmiMessage] = []
    for action in trace_actions(TRACE):
        if (action.get("Action") or "").lower() not in QUEUE_ACTIONS:
            continue
        if action.get("ActionID") == "queuestatus-5":
            # As in the recording: the SIPp lawyer is talking to call 1 and call 2 waits.
            queues.members("legal-consult")["PJSIP/sipp-lawyer"].in_call = True
            queues.join("legal-consult", SimEntry("PJSIP/sipp-in-00000056", "1795448993.86", "5550100", "SIPp caller"))
        if action.get("ActionID") == "queueremove-23":
            queues.leave("legal-consult", "1795448993.86")
        reply = queues.answer(action)
        assert reply is not None
        replies[action.get("ActionID") or ""] = [_parse(raw) for raw in reply.to_sender]
        events += [_parse(raw) for raw in reply.events]
    return replies, events


def _parse(raw: bytes) -> AmiMessage:
    message = parse_message(raw)
    assert isinstance(message, AmiMessage)
    return message


@needs_traces
def test_every_queue_reply_matches_the_recording_key_for_key() -> None:
    recorded = recorded_replies()
    simulated, _ = replay()
    assert len(simulated) == 20
    for action_id, ours in simulated.items():
        theirs = recorded[action_id]
        assert [keys(m) for m in ours] == [keys(m) for m in theirs], action_id
        assert [stable(m) for m in ours] == [stable(m) for m in theirs], action_id


@needs_traces
def test_simple_replies_are_byte_for_byte_the_recorded_ones() -> None:
    recorded = recorded_replies()
    simulated, _ = replay()
    for action_id in (
        "queueadd-2",
        "queuepause-4",
        "queueremove-15",
        "queueadd-16",
        "queueadd-17",
        "queuepause-18",
        "queueremove-19",
        "queueadd-21",
        "queuepenalty-14",
        "queueremove-23",
    ):
        assert [m.raw for m in simulated[action_id]] == [m.raw for m in recorded[action_id]], action_id


@needs_traces
def test_member_events_follow_in_the_recorded_order_and_shape() -> None:
    _, events = replay()
    recorded = recorded_member_events()
    assert [(m.name, keys(m)) for m in events] == [(m.name, keys(m)) for m in recorded]
    assert [stable(m) for m in events] == [stable(m) for m in recorded]


def test_static_members_cannot_be_removed_and_pause_without_queue_reaches_every_queue() -> None:
    queues = SimQueues(["a", "b"])
    queues.add_static("a", "PJSIP/1001", "张律师")
    for name in ("a", "b"):
        assert queues.answer(_action("QueueAdd", Queue=name, Interface="PJSIP/1002")) is not None
    removed = queues.answer(_action("QueueRemove", Queue="a", Interface="PJSIP/1001"))
    assert removed is not None and _parse(removed.to_sender[0]).get("Message") == "Member not dynamic"
    paused = queues.answer(_action("QueuePause", Interface="PJSIP/1002", Paused="true", Reason="午休"))
    assert paused is not None and [_parse(e).get("Queue") for e in paused.events] == ["a", "b"]
    assert all(m.paused_reason == "午休" for q in ("a", "b") for m in [queues.members(q)["PJSIP/1002"]])
    assert queues.answer(_action("Originate", Channel="PJSIP/1001")) is None  # not a queue action


def _action(name: str, **fields: str) -> AmiMessage:
    return _parse_action(encode([("Action", name), ("ActionID", "t-1"), *fields.items()]))


def _parse_action(raw: bytes) -> AmiMessage:
    message = parse_message(raw, ("action",))
    assert isinstance(message, AmiMessage)
    return message


def test_over_tcp_the_response_comes_before_the_event_it_causes() -> None:
    async def main() -> list[AmiMessage]:
        simulator = AmiSimulator(handlers=[SimQueues(["consult"])])
        host, port = await simulator.start()
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(encode([("Action", "Login"), ("Username", "hotline"), ("Secret", "hotline-secret")]))
            writer.write(
                encode(
                    [
                        ("Action", "QueueAdd"),
                        ("ActionID", "a-1"),
                        ("Queue", "consult"),
                        ("Interface", "PJSIP/1001"),
                        ("MemberName", "张律师"),
                    ]
                )
            )
            decoder, seen = FrameDecoder(), []
            while len(seen) < 4:
                seen += [f for f in decoder.feed(await reader.read(65536)) if isinstance(f, AmiMessage)]
            return seen
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            await simulator.close()

    login, booted, added, event = asyncio.run(asyncio.wait_for(main(), 10))
    assert (login.name, booted.name) == ("Success", "FullyBooted")
    assert (added.name, added.get("ActionID"), added.get("Message")) == ("Success", "a-1", "Added interface to queue")
    assert (event.name, event.get("MemberName"), event.get("Interface")) == ("QueueMemberAdded", "张律师", "PJSIP/1001")
