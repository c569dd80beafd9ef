"""Call records built from the recorded Asterisk 22 traces, event by event, with no I/O."""

from __future__ import annotations

from collections import Counter

import pytest

from hotline.ami.frames import AmiMessage, FrameDecoder
from hotline.domain.call_tracker import CallRecord, CallTracker, Outcome
from tests.traces import AMI, needs_traces

TRACES = AMI
pytestmark = needs_traces


def replay(name: str, tracker: CallTracker | None = None) -> tuple[list[CallRecord], CallTracker]:
    tracker = tracker or CallTracker()
    finished: list[CallRecord] = []
    for frame in FrameDecoder().feed((TRACES / f"{name}.ami").read_bytes()):
        if isinstance(frame, AmiMessage) and frame.kind == "event":
            record = tracker.handle(frame.as_dict())
            if record is not None and record.ended_at is not None and record not in finished:
                finished.append(record)
    return finished, tracker


@pytest.mark.parametrize(
    ("trace", "completed_by"), [("02-call-answered", "caller"), ("02b-call-answered-agent-hangup", "agent")]
)
def test_answered_queue_call(trace: str, completed_by: str) -> None:
    [call], tracker = replay(trace)
    assert tracker.calls == {}
    assert call.outcome is Outcome.ANSWERED and call.direction == "inbound"
    assert (call.queue, call.agent_interface, call.agent_name) == ("legal-consult", "PJSIP/sipp-lawyer", "SIPp lawyer")
    assert call.caller_number == "5550100"
    # The lawyer's phone rang 0.6 s; AgentConnect's HoldTime (whole seconds) would say 0.
    assert call.wait_seconds is not None and 0.5 < call.wait_seconds < 0.7
    assert call.talk_seconds is not None and 2.9 < call.talk_seconds < 3.2
    assert call.completed_by == completed_by
    assert call.started_at is not None and call.offered_at is not None and call.ended_at is not None
    assert call.started_at <= call.offered_at <= call.answered_at <= call.ended_at  # type: ignore[operator]


@pytest.mark.parametrize("trace", ["03-call-abandoned-empty-queue", "03b-call-abandoned-paused-member"])
def test_abandon_comes_from_queue_caller_abandon_not_the_hangup_cause(trace: str) -> None:
    [call], _ = replay(trace)
    assert call.outcome is Outcome.ABANDONED
    assert call.answered_at is None and call.talk_seconds is None
    assert call.wait_seconds is not None and 4.0 < call.wait_seconds < 5.0


def test_ring_no_answer_then_abandoned() -> None:
    [call], _ = replay("04-ring-no-answer")
    assert call.outcome is Outcome.RING_NO_ANSWER_ABANDONED
    assert call.ring_no_answer == 1 and call.agents_rung == ["PJSIP/sipp-lawyer", "PJSIP/sipp-lawyer"]


def test_originated_call_back_is_answered_when_bridged() -> None:
    [call], _ = replay("06-originate-callback")
    assert call.direction == "callback" and call.outcome is Outcome.ANSWERED
    assert call.queue is None
    # Originated from the lawyer's phone: the citizen is the leg the dialplan dialled.
    assert (call.caller_number, call.agent_interface) == ("5550100", "PJSIP/sipp-lawyer")


def test_a_call_back_whose_dialled_leg_has_no_caller_id_takes_the_number_the_originate_set() -> None:
    """Seen on Asterisk 22 with the sample config: the citizen's leg (Dial through the carrier trunk)
    comes up as CallerIDNum `<unknown>`, so the call-back row had no number; the Originate's
    HOTLINE_CALLBACK_NUMBER names the citizen."""
    tracker = CallTracker()
    base = {"Timestamp": "100.0", "Linkedid": "100.2", "ChannelState": "0"}
    lawyer = {
        **base,
        "Event": "Newchannel",
        "Channel": "PJSIP/1001-00000002",
        "Uniqueid": "100.2",
        "CallerIDNum": "1001",
    }
    tracker.handle(lawyer)
    tracker.handle(
        {**base, "Event": "VarSet", "Uniqueid": "100.2", "Variable": "HOTLINE_CALLBACK_NUMBER", "Value": "13900005555"}
    )
    citizen = {**lawyer, "Channel": "PJSIP/carrier-00000003", "Uniqueid": "100.3", "CallerIDNum": "<unknown>"}
    call = tracker.handle(citizen)
    assert call is not None and call.direction == "callback"
    assert (call.caller_number, call.agent_interface) == ("13900005555", "PJSIP/1001")


def test_failed_originates_are_failed_calls() -> None:
    calls, tracker = replay("06b-originate-failures")
    assert calls and all(c.outcome is Outcome.FAILED and c.direction == "callback" for c in calls)
    assert tracker.calls == {}


@pytest.mark.parametrize("trace", ["08-recording-ami-mixmonitor", "08b-recording-dialplan-mixmonitor"])
def test_recording_path_comes_from_mixmonitor_filename(trace: str) -> None:
    [call], _ = replay(trace)
    assert len(call.recording_paths) == 1 and call.recording_paths[0].endswith(".wav")


@pytest.mark.parametrize("trace", ["07-dtmf-rfc2833", "07-dtmf-sip-info"])
def test_caller_digits_are_collected(trace: str) -> None:
    [call], _ = replay(trace)
    assert call.dtmf == "1234" and call.outcome is Outcome.NOT_QUEUED


def test_burst_of_twenty_calls() -> None:
    calls, tracker = replay("09-burst-20-calls")
    assert len({c.linkedid for c in calls}) == 20 and tracker.calls == {}
    assert Counter(c.outcome for c in calls) == {Outcome.ANSWERED: 3, Outcome.ABANDONED: 17}
    answered = [c for c in calls if c.outcome is Outcome.ANSWERED]
    assert all(c.agent_interface in ("PJSIP/1002", "PJSIP/sipp-lawyer") for c in answered)


def test_events_of_unknown_calls_and_malformed_events_are_ignored() -> None:
    tracker = CallTracker()
    assert tracker.handle({"Event": "Hangup", "Linkedid": "1.1", "Uniqueid": "1.1", "Timestamp": "5"}) is None
    assert tracker.handle({"Event": "Newchannel"}) is None
    assert tracker.handle({"Event": "Newchannel", "Linkedid": "2.1", "Timestamp": "6"}) is None  # no Uniqueid
    assert tracker.calls == {}
    # A garbled Timestamp takes the last time seen rather than dropping the event.
    call = tracker.handle({"Event": "Newchannel", "Linkedid": "3.1", "Uniqueid": "3.1", "Timestamp": "x"})
    assert call is not None and call.started_at == 6.0


def test_closed_hours_flag_from_the_ivr() -> None:
    tracker = CallTracker()
    base = {"Linkedid": "9.1", "Uniqueid": "9.1", "Timestamp": "100.0"}
    tracker.handle({**base, "Event": "Newchannel", "ChannelState": "4", "CallerIDNum": "13808081234"})
    tracker.handle({**base, "Event": "VarSet", "Variable": "HOTLINE_CLOSED", "Value": "1"})
    call = tracker.handle({**base, "Event": "Hangup", "Timestamp": "130.0"})
    assert call is not None and call.outcome is Outcome.CLOSED_HOURS and call.ended_at == 130.0


def test_a_repeat_caller_answered_by_their_own_lawyer_before_the_queue_counts_as_answered() -> None:
    tracker = CallTracker()
    caller = {"Linkedid": "9.1", "Uniqueid": "9.1", "Channel": "PJSIP/trunk-00000001"}
    lawyer = {"Linkedid": "9.1", "Uniqueid": "9.2", "Channel": "PJSIP/1001-00000002"}
    tracker.handle(
        {**caller, "Event": "Newchannel", "ChannelState": "4", "CallerIDNum": "13808081234", "Timestamp": "100"}
    )
    tracker.handle({**caller, "Event": "VarSet", "Variable": "HOTLINE_QUEUE", "Value": "consult", "Timestamp": "110"})
    tracker.handle(
        {**caller, "Event": "VarSet", "Variable": "HOTLINE_PREFERRED", "Value": "PJSIP/1001", "Timestamp": "110"}
    )
    tracker.handle({**lawyer, "Event": "Newchannel", "ChannelState": "0", "Timestamp": "110.5"})
    tracker.handle({**lawyer, "Event": "BridgeEnter", "BridgeNumChannels": "1", "Timestamp": "114"})
    tracker.handle({**caller, "Event": "BridgeEnter", "BridgeNumChannels": "2", "Timestamp": "114"})
    tracker.handle({**lawyer, "Event": "Hangup", "Timestamp": "200"})
    call = tracker.handle({**caller, "Event": "Hangup", "Timestamp": "200"})
    assert call is not None and call.outcome is Outcome.ANSWERED
    assert (call.queue, call.agent_interface, call.offered_at, call.wait_seconds) == (
        "consult",
        "PJSIP/1001",
        110.0,
        4.0,
    )


def test_an_overflow_transfer_is_not_counted_as_an_answer_in_the_queue() -> None:
    tracker = CallTracker()
    caller = {"Linkedid": "9.1", "Uniqueid": "9.1", "Channel": "PJSIP/trunk-00000001"}
    outside = {"Linkedid": "9.1", "Uniqueid": "9.2", "Channel": "PJSIP/trunk-00000002"}
    tracker.handle({**caller, "Event": "Newchannel", "ChannelState": "4", "Timestamp": "100"})
    tracker.handle({**caller, "Event": "VarSet", "Variable": "HOTLINE_QUEUE", "Value": "tibetan", "Timestamp": "110"})
    tracker.handle({**outside, "Event": "Newchannel", "ChannelState": "0", "Timestamp": "110.5"})
    tracker.handle({**caller, "Event": "BridgeEnter", "BridgeNumChannels": "2", "Timestamp": "114"})
    tracker.handle({**outside, "Event": "Hangup", "Timestamp": "200"})
    call = tracker.handle({**caller, "Event": "Hangup", "Timestamp": "200"})
    assert call is not None and call.offered_at is None  # not offered to a queue: not in the KPIs


def test_an_after_hours_overflow_stays_a_closed_hours_call_when_the_other_line_answers() -> None:
    tracker = CallTracker()
    caller = {"Linkedid": "9.1", "Uniqueid": "9.1", "Channel": "PJSIP/carrier-00000001"}
    outside = {"Linkedid": "9.1", "Uniqueid": "9.2", "Channel": "PJSIP/carrier-00000002"}
    tracker.handle({**caller, "Event": "Newchannel", "ChannelState": "4", "Timestamp": "100"})
    for variable, value in (("HOTLINE_CLOSED", "1"), ("HOTLINE_QUEUE", "tibetan"), ("HOTLINE_OVERFLOW", "02886120000")):
        tracker.handle({**caller, "Event": "VarSet", "Variable": variable, "Value": value, "Timestamp": "110"})
    tracker.handle({**outside, "Event": "Newchannel", "ChannelState": "0", "Timestamp": "118"})
    tracker.handle({**outside, "Event": "BridgeEnter", "BridgeNumChannels": "1", "Timestamp": "119"})
    tracker.handle({**caller, "Event": "BridgeEnter", "BridgeNumChannels": "2", "Timestamp": "119"})
    tracker.handle({**outside, "Event": "Hangup", "Timestamp": "150"})
    call = tracker.handle({**caller, "Event": "Hangup", "Timestamp": "150"})
    assert call is not None and call.outcome is Outcome.CLOSED_HOURS
    assert (call.queue, call.answered_at, call.agent_interface, call.offered_at) == ("tibetan", None, None, 100.0)
