"""Call records as a pure function of AMI events (no I/O): feed events in order, get finished calls.

Channels are grouped into calls by Linkedid. Queue semantics follow app_queue (DESIGN.md §5):
offered at QueueCallerJoin, answered at AgentConnect, abandoned at QueueCallerAbandon — never
from the Hangup cause, which is 0 for an abandon. Times come from the events' own Timestamp
header, so replaying a trace gives the same records as living through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

#: Newchannel ChannelState of a call that arrives from a phone (4 = Ring); originated legs start Down (0).
_STATE_RING = "4"
#: Set by our dialplan/IVR on a call that reached a closed service (outside hours).
CLOSED_HOURS_VARIABLE = "HOTLINE_CLOSED"


class Outcome(StrEnum):
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    RING_NO_ANSWER_ABANDONED = "ring_no_answer_abandoned"
    CLOSED_HOURS = "closed_hours"
    NOT_QUEUED = "not_queued"
    FAILED = "failed"


@dataclass
class CallRecord:
    linkedid: str
    direction: str = "inbound"
    caller_number: str | None = None
    caller_name: str | None = None
    exten: str | None = None
    started_at: float | None = None
    queue: str | None = None
    offered_at: float | None = None
    answered_at: float | None = None
    talk_ended_at: float | None = None
    ended_at: float | None = None
    agent_interface: str | None = None
    agent_name: str | None = None
    abandoned_at: float | None = None
    closed_hours: bool = False
    ring_no_answer: int = 0
    agents_rung: list[str] = field(default_factory=list)
    completed_by: str | None = None
    recording_paths: list[str] = field(default_factory=list)
    dtmf: str = ""
    open_channels: set[str] = field(default_factory=set)
    outcome: Outcome = Outcome.IN_PROGRESS

    @property
    def wait_seconds(self) -> float | None:
        """Time in queue until answered or abandoned."""
        if self.offered_at is None:
            return None
        end = self.answered_at or self.abandoned_at
        return None if end is None else round(end - self.offered_at, 3)

    @property
    def talk_seconds(self) -> float | None:
        if self.answered_at is None:
            return None
        end = self.talk_ended_at or self.ended_at
        return None if end is None else round(end - self.answered_at, 3)

    def finish(self, at: float) -> None:
        self.ended_at = at
        if self.answered_at is not None:
            self.outcome = Outcome.ANSWERED
        elif self.abandoned_at is not None:
            self.outcome = Outcome.RING_NO_ANSWER_ABANDONED if self.ring_no_answer else Outcome.ABANDONED
        elif self.closed_hours:
            self.outcome = Outcome.CLOSED_HOURS
        elif self.direction != "inbound":
            self.outcome = Outcome.FAILED
        else:
            self.outcome = Outcome.NOT_QUEUED


def _time(event: Mapping[str, str]) -> float | None:
    try:
        return float(event["Timestamp"])
    except (KeyError, ValueError):
        return None


class CallTracker:
    """Live calls by Linkedid. `handle` returns the record a call-relevant event touched.

    An event without a usable Timestamp (list items, FullyBooted) takes the last time seen.
    """

    def __init__(self) -> None:
        self.calls: dict[str, CallRecord] = {}
        self._last_time: float | None = None

    def handle(self, event: Mapping[str, str]) -> CallRecord | None:
        name = event.get("Event")
        linkedid = event.get("Linkedid")
        at = _time(event) or self._last_time
        if at is not None:
            self._last_time = at
        if not name or not linkedid or at is None:
            return None
        if name == "Newchannel":
            if not event.get("Uniqueid"):
                return None
            return self._new_channel(event, linkedid, at)
        call = self.calls.get(linkedid)
        if call is None:
            return None  # a channel we never saw start (connected mid-call); the resync covers it
        handler = _HANDLERS.get(name)
        if handler is not None:
            handler(self, call, event, at)
        if call.ended_at is not None:
            del self.calls[linkedid]
        return call

    def _new_channel(self, event: Mapping[str, str], linkedid: str, at: float) -> CallRecord:
        call = self.calls.get(linkedid)
        if call is None:
            call = CallRecord(linkedid=linkedid, started_at=at)
            call.direction = "inbound" if event.get("ChannelState") == _STATE_RING else "callback"
            call.caller_number = _value(event.get("CallerIDNum"))
            call.caller_name = _value(event.get("CallerIDName"))
            call.exten = _value(event.get("Exten"))
            self.calls[linkedid] = call
        call.open_channels.add(event.get("Uniqueid", ""))
        return call

    def _queue_join(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        if call.offered_at is None:
            call.queue = event.get("Queue")
            call.offered_at = at

    def _agent_called(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        call.agents_rung.append(event.get("Interface", ""))

    def _ring_no_answer(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        call.ring_no_answer += 1

    def _agent_connect(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        call.answered_at = at
        call.agent_interface = event.get("Interface")
        call.agent_name = event.get("MemberName")

    def _agent_complete(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        call.talk_ended_at = at
        call.completed_by = event.get("Reason")

    def _bridge_enter(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        # Calls outside a queue (call-backs, transfers) are answered when two parties are bridged;
        # queue calls are answered at AgentConnect, which comes first.
        if call.answered_at is None and call.offered_at is None and _int(event.get("BridgeNumChannels")) >= 2:
            call.answered_at = at

    def _abandon(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        call.abandoned_at = at

    def _var_set(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        variable = event.get("Variable")
        if variable == "MIXMONITOR_FILENAME":
            path = event.get("Value", "")
            if path and path not in call.recording_paths:
                call.recording_paths.append(path)
        elif variable == CLOSED_HOURS_VARIABLE and event.get("Value") == "1":
            call.closed_hours = True

    def _dtmf(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        if event.get("Direction") == "Received" and event.get("Uniqueid") == call.linkedid:
            call.dtmf += event.get("Digit", "")

    def _hangup(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        call.open_channels.discard(event.get("Uniqueid", ""))
        if not call.open_channels:
            call.finish(at)


def _value(text: str | None) -> str | None:
    return None if text in (None, "", "<unknown>") else text


_HANDLERS = {
    "QueueCallerJoin": CallTracker._queue_join,
    "AgentCalled": CallTracker._agent_called,
    "AgentRingNoAnswer": CallTracker._ring_no_answer,
    "AgentConnect": CallTracker._agent_connect,
    "AgentComplete": CallTracker._agent_complete,
    "QueueCallerAbandon": CallTracker._abandon,
    "BridgeEnter": CallTracker._bridge_enter,
    "VarSet": CallTracker._var_set,
    "DTMFEnd": CallTracker._dtmf,
    "Hangup": CallTracker._hangup,
}


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0
