"""Generated calls look like the recorded ones: same events, same order, same keys, same records."""

from __future__ import annotations

from collections import Counter

import pytest

from hotline.ami.frames import parse_fields
from hotline.ami.sim_calls import CallFactory, Member
from hotline.domain.call_tracker import CallTracker, Outcome
from tests.traces import events, messages, needs_traces

pytestmark = needs_traces

#: The events a call's story is told by (the dialplan noise in between is thinned out on purpose).
STORY = {
    "Newchannel", "Newstate", "QueueCallerJoin", "MusicOnHoldStart", "AgentCalled", "DialBegin",
    "DialEnd", "MusicOnHoldStop", "QueueCallerLeave", "AgentConnect", "BridgeEnter", "HangupRequest",
    "AgentComplete", "BridgeLeave", "SoftHangupRequest", "Hangup", "QueueCallerAbandon", "AgentRingNoAnswer",
}  # fmt: skip


def story(evs: list[dict[str, str]]) -> list[str]:
    return [e["Event"] for e in evs if e["Event"] in STORY]


def generated(raw_events: list[tuple[float, bytes]]) -> list[dict[str, str]]:
    return [parse_fields(raw)[0] for _, raw in raw_events]


def trace_keys() -> dict[str, list[str]]:
    keys: dict[str, list[str]] = {}
    for name in ("02-call-answered", "03-call-abandoned-empty-queue", "04-ring-no-answer"):
        for m in messages(name):
            if m.kind == "event" and m.get("ActionID") is None:
                keys.setdefault(m.name, [k for k, _ in m.headers])
    return keys


LAWYER = Member("PJSIP/sipp-lawyer", "SIPp lawyer", login_time=1795448930)


def answered_like_trace_02() -> list[dict[str, str]]:
    factory = CallFactory()
    return generated(factory.answered("5550100", "legal-consult", LAWYER, 1795448931.2, wait_s=0.6, talk_s=3.05))


def test_answered_call_tells_the_story_of_trace_02() -> None:
    recorded = [e for e in events("02-call-answered") if e.get("Linkedid") == "1795448931.75"]
    assert story(answered_like_trace_02()) == story(recorded)


def test_abandoned_call_tells_the_story_of_trace_03() -> None:
    made = generated(CallFactory().abandoned("5550100", "legal-consult", 1795448967.9, wait_s=4.5, ivr_s=0.5))
    recorded = [e for e in events("03-call-abandoned-empty-queue") if e.get("Linkedid")]
    assert story(made) == story(recorded)


def test_ring_no_answer_then_abandon_tells_the_story_of_trace_04() -> None:
    made = generated(
        CallFactory().abandoned("5550100", "legal-consult", 1795448982.3, wait_s=25.0, ivr_s=0.5, rung=LAWYER)
    )
    recorded = [e for e in events("04-ring-no-answer") if e.get("Linkedid")]
    assert Counter(story(made)) == Counter(story(recorded))
    assert story(made)[:6] == story(recorded)[:6]


@pytest.mark.parametrize("kind", ["answered", "abandoned", "rung"])
def test_every_generated_event_has_asterisks_keys_in_asterisks_order(kind: str) -> None:
    factory = CallFactory()
    raw = {
        "answered": lambda: factory.answered("13808081234", "consult", LAWYER, 1.8e9),
        "abandoned": lambda: factory.abandoned("13808081234", "consult", 1.8e9),
        "rung": lambda: factory.abandoned("13808081234", "consult", 1.8e9, wait_s=40, rung=LAWYER),
    }[kind]()
    reference = trace_keys()
    for event in generated(raw):
        assert list(event) == reference[event["Event"]], event["Event"]


def test_the_tracker_reads_a_generated_call_as_it_reads_the_recorded_one() -> None:
    tracker = CallTracker()
    records = [tracker.handle(e) for e in answered_like_trace_02()]
    call = [r for r in records if r is not None][-1]
    assert call is not None and call.outcome is Outcome.ANSWERED
    assert (call.queue, call.agent_interface, call.caller_number) == ("legal-consult", "PJSIP/sipp-lawyer", "5550100")
    assert call.wait_seconds == pytest.approx(0.6) and call.talk_seconds == pytest.approx(3.05)
    assert tracker.calls == {}


def test_positions_count_the_callers_already_waiting() -> None:
    factory = CallFactory()
    first = generated(factory.abandoned("13800000001", "consult", 100.0, wait_s=60))
    second = generated(factory.abandoned("13800000002", "consult", 110.0, wait_s=60))
    join = next(e for e in second if e["Event"] == "QueueCallerJoin")
    assert (join["Position"], join["Count"]) == ("2", "2")
    assert {e["Linkedid"] for e in first if "Linkedid" in e}.isdisjoint(
        {e["Linkedid"] for e in second if "Linkedid" in e}
    )


def test_call_back_tells_the_story_of_trace_06() -> None:
    made = generated(CallFactory().callback(LAWYER, "5550100", 1795449007.1, action_id="x", talk_s=2.4))
    recorded = [m.as_dict() for m in messages("06-originate-callback") if m.kind == "event"]
    wanted = {"Newchannel", "Newstate", "OriginateResponse", "BridgeEnter", "BridgeLeave", "Hangup"}
    assert [e["Event"] for e in made if e["Event"] in wanted] == [e["Event"] for e in recorded if e["Event"] in wanted]
    tracker = CallTracker()
    call = [r for r in (tracker.handle(e) for e in made) if r is not None][-1]
    assert (call.direction, call.outcome, call.caller_number) == ("callback", Outcome.ANSWERED, "5550100")
    assert call.agent_interface == "PJSIP/sipp-lawyer"
