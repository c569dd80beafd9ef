"""The bridge's event processing on the recorded traces, with no sockets: calls, lawyers, resync."""

from __future__ import annotations

from hotline.ami.panoramisk_adapter import ListResult
from hotline.bridge.core import BridgeCore, wants
from hotline.bridge.resync import duration_seconds, epoch_of
from hotline.domain.call_tracker import CallRecord, CallTracker, Outcome, member_interface
from hotline.live.calls import CallState
from hotline.live.model import AgentState, LiveModel
from tests.traces import events, list_items, needs_traces

pytestmark = needs_traces


class Rows:
    """Collects what the core hands to the database writer (latest snapshot per call)."""

    def __init__(self) -> None:
        self.submitted: list[tuple[str, Outcome]] = []

    def submit(self, call: CallRecord) -> None:
        self.submitted.append((call.linkedid, call.outcome))


def core(wrapup_s: float = 0.0) -> tuple[BridgeCore, Rows]:
    rows = Rows()
    return BridgeCore(CallTracker(), LiveModel(default_wrapup_s=wrapup_s), rows), rows


def test_an_answered_call_moves_the_lawyer_through_ringing_talking_and_wrap_up() -> None:
    bridge, rows = core(wrapup_s=5)
    states: list[AgentState] = []
    call_states: list[CallState] = []
    from hotline.live.calls import call_state

    for event in events("02-call-answered"):
        bridge.process([event])
        agent = bridge.model.agents.get("PJSIP/sipp-lawyer")
        if agent is not None and (not states or states[-1] is not agent.state):
            states.append(agent.state)
        call = bridge.model.calls.get("1795448931.75")
        if call is not None and (not call_states or call_states[-1] is not call_state(call)):
            call_states.append(call_state(call))
    assert states == [AgentState.AVAILABLE, AgentState.RINGING, AgentState.TALKING, AgentState.WRAPUP]
    assert call_states == [CallState.IVR, CallState.WAITING, CallState.RINGING, CallState.TALKING]
    # Removed from the queue at the end of the trace: off duty, gone from the live view.
    assert bridge.model.agents == {} and bridge.model.calls == {}
    # Rows: the start, the queue join, the answer and the end; the last one is final.
    assert [linkedid for linkedid, _ in rows.submitted] == ["1795448931.75"] * 4
    assert rows.submitted[-1][1] is Outcome.ANSWERED


def test_wrap_up_ends_with_time_not_with_an_event() -> None:
    from hotline.live.model import Changes

    bridge, _ = core(wrapup_s=5)
    trace = events("02-call-answered")
    # Up to the member's last status (its phone idle again), before it is removed from the queue.
    idle = max(i for i, e in enumerate(trace) if e["Event"] == "QueueMemberStatus")
    bridge.process(trace[: idle + 1])
    agent = bridge.model.agents["PJSIP/sipp-lawyer"]
    assert agent.state is AgentState.WRAPUP and agent.wrapup_until is not None
    changes = Changes()
    bridge.model.tick(agent.wrapup_until - 1, changes)
    assert agent.state is AgentState.WRAPUP and not changes
    bridge.model.tick(agent.wrapup_until + 0.1, changes)
    assert agent.state is AgentState.AVAILABLE and "PJSIP/sipp-lawyer" in changes.agents


def test_a_paused_member_is_paused_with_its_reason() -> None:
    bridge, _ = core()
    bridge.process(events("05-queue-admin")[:12])
    paused = bridge.model.agents["PJSIP/1001"]
    assert paused.state is AgentState.PAUSED and paused.pause_reason == "lunch break"
    snapshot = bridge.model.queue_snapshot("legal-consult", 0.0)
    assert snapshot["members_on_duty"] == 2 and snapshot["members_paused"] == 1


def test_burst_gives_one_final_row_per_call() -> None:
    bridge, rows = core()
    bridge.process(events("09-burst-20-calls"))
    final = {linkedid: outcome for linkedid, outcome in rows.submitted}
    assert len(final) == 20
    assert sorted(final.values()).count(Outcome.ABANDONED) == 17
    assert bridge.model.calls == {} and bridge.tracker.calls == {}


def test_selector_skips_noise_but_keeps_what_calls_need() -> None:
    assert wants(b"Event: Hangup\r\nLinkedid: 1.1\r\n\r\n")
    assert wants(b"Event: VarSet\r\nVariable: MIXMONITOR_FILENAME\r\nValue: /x.wav\r\n\r\n")
    assert wants(b"Event: VarSet\r\nVariable: HOTLINE_CLOSED\r\nValue: 1\r\n\r\n")
    assert not wants(b"Event: VarSet\r\nVariable: RTPAUDIOQOS\r\nValue: x\r\n\r\n")
    assert not wants(b"Event: Newexten\r\n\r\n") and not wants(b"Event: RTCPSent\r\n\r\n")
    # Responses and list items (they carry an ActionID) always reach the protocol.
    assert wants(b"Response: Success\r\n\r\n") and wants(b"Event: QueueMember\r\nActionID: q-1\r\n\r\n")
    # In place, inside a larger buffer, as the decoder asks.
    buffer = bytearray(b"xxEvent: RTCPSent\r\n\r\nEvent: Hangup\r\n\r\n")
    assert not wants(buffer, 2, 23) and wants(buffer, 23, len(buffer))


def test_resync_adopts_calls_from_the_channel_list_of_trace_05() -> None:
    """A bridge that connects while one call is talking and another is waiting (trace 05's lists)."""
    bridge, rows = core()
    bridge.resync_now = 1795448994.0
    channels = list_items("05-queue-admin", "coreshowchannels-8")
    bridge.process([ListResult("c", "CoreShowChannels", {"Response": "Success"}, channels)])
    talking = bridge.tracker.calls["1795448992.84"]
    waiting = bridge.tracker.calls["1795448993.86"]
    assert talking.reconciled_by == waiting.reconciled_by == "resync"
    assert talking.agent_interface == "PJSIP/sipp-lawyer" and talking.queue == "legal-consult"
    assert talking.answered_at is not None and waiting.answered_at is None
    assert talking.started_at == 1795448992.0  # from the Linkedid
    assert talking.open_channels == {"1795448992.84", "1795448992.85"}

    status = list_items("05-queue-admin", "queuestatus-5")
    bridge.process([ListResult("q", "QueueStatus", {"Response": "Success"}, status)])
    assert waiting.waiting and waiting.offered_at == 1795448994.0 - 1  # QueueEntry Wait: 1
    assert bridge.model.agents["PJSIP/sipp-lawyer"].state is AgentState.TALKING
    assert bridge.model.agents["PJSIP/1001"].state is AgentState.PAUSED
    assert {linkedid for linkedid, _ in rows.submitted} == {"1795448992.84", "1795448993.86"}


def test_resync_closes_calls_that_ended_while_disconnected() -> None:
    """Connection lost mid-trace: the waiting call and the answered call are both gone on return."""
    bridge, rows = core()
    trace = events("05-queue-admin")
    upto = next(i for i, e in enumerate(trace) if e["Event"] == "QueueCallerJoin" and e["Uniqueid"] == "1795448993.86")
    bridge.process(trace[: upto + 1])
    assert set(bridge.tracker.calls) == {"1795448992.84", "1795448993.86"}
    bridge.resync_now = 1795449010.0
    bridge.process([ListResult("c", "CoreShowChannels", {"Response": "Success"}, [])])
    assert bridge.tracker.calls == {}
    final = dict(rows.submitted)
    assert final == {"1795448992.84": Outcome.ANSWERED, "1795448993.86": Outcome.UNKNOWN}


def test_restored_calls_that_are_gone_are_closed_and_live_ones_keep_their_history() -> None:
    bridge, rows = core()
    bridge.resync_now = 1795448994.0
    known = CallRecord("1795448992.84", caller_number="5550100", queue="legal-consult", offered_at=1795448992.5)
    gone = CallRecord("1795440000.1", queue="legal-consult", offered_at=1795440000.5)
    bridge.restored = {known.linkedid: known, gone.linkedid: gone}
    channels = list_items("05-queue-admin", "coreshowchannels-8")
    bridge.process([ListResult("c", "CoreShowChannels", {"Response": "Success"}, channels)])
    assert bridge.tracker.calls["1795448992.84"] is known and known.offered_at == 1795448992.5
    assert gone.outcome is Outcome.UNKNOWN and gone.reconciled_by == "resync"
    assert (gone.linkedid, Outcome.UNKNOWN) in rows.submitted


def test_channel_list_helpers() -> None:
    assert member_interface("PJSIP/sipp-lawyer-00000055") == "PJSIP/sipp-lawyer"
    assert member_interface("PJSIP/1001") == "PJSIP/1001"
    assert duration_seconds("01:02:03") == 3723 and duration_seconds("garbage") == 0
    assert epoch_of("1795448992.84") == 1795448992.0 and epoch_of("x.1") is None


def test_a_bad_event_is_logged_and_the_stream_goes_on() -> None:
    bridge, _ = core()
    bridge.process([{"Event": "QueueMemberStatus", "Queue": "q", "Interface": "PJSIP/1", "Wrapuptime": "x"}])
    bridge.process(events("03-call-abandoned-empty-queue"))
    assert bridge.events > 1 and bridge.tracker.calls == {}


def test_a_call_back_is_dialling_until_the_citizen_answers() -> None:
    from hotline.live.calls import call_state

    bridge, _ = core()
    states = []
    for event in events("06-originate-callback"):
        bridge.process([event])
        call = bridge.model.calls.get("1795449007.87")
        if call is not None and (not states or states[-1] is not call_state(call)):
            states.append(call_state(call))
    assert states == [CallState.DIALLING, CallState.TALKING]
