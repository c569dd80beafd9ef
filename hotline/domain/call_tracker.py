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
#: Channel variables the IVR sets (SET VARIABLE) and Asterisk reports as VarSet events.
CLOSED_HOURS_VARIABLE = "HOTLINE_CLOSED"  # 1: the caller reached a closed service (outside hours)
BLOCKED_VARIABLE = "HOTLINE_BLOCKED"  # 1: a blocked caller, counted apart
QUEUE_VARIABLE = "HOTLINE_QUEUE"  # the queue the caller chose in the IVR
OVERFLOW_VARIABLE = "HOTLINE_OVERFLOW"  # the number the IVR transferred the caller to
#: The citizen's number on a call-back, set by the Originate (the dialled leg's own caller ID is often
#: empty: Asterisk 22 reports `<unknown>` for a Dial through a trunk without a callerid).
CALLBACK_NUMBER_VARIABLE = "HOTLINE_CALLBACK_NUMBER"
#: Other IVR variables kept on the record as they are (priority, green channel, language).
IVR_VARIABLES = frozenset({"HOTLINE_PRIORITY", "HOTLINE_GREEN", "HOTLINE_LANG", "HOTLINE_PREFERRED", "HOTLINE_TICKET"})
RECORDING_VARIABLE = "MIXMONITOR_FILENAME"


class Outcome(StrEnum):
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    RING_NO_ANSWER_ABANDONED = "ring_no_answer_abandoned"
    CLOSED_HOURS = "closed_hours"
    BLOCKED = "blocked"
    NOT_QUEUED = "not_queued"
    FAILED = "failed"
    #: The call ended while the bridge was not connected, before it was answered or abandoned.
    UNKNOWN = "unknown"


@dataclass
class CallRecord:
    linkedid: str
    direction: str = "inbound"
    caller_number: str | None = None
    caller_name: str | None = None
    exten: str | None = None
    started_at: float | None = None
    queue: str | None = None
    #: When the IVR named the queue (HOTLINE_QUEUE): the arrival of a call its lawyer took directly.
    queue_chosen_at: float | None = None
    offered_at: float | None = None
    answered_at: float | None = None
    talk_ended_at: float | None = None
    ended_at: float | None = None
    agent_interface: str | None = None
    agent_name: str | None = None
    abandoned_at: float | None = None
    left_queue_at: float | None = None
    closed_hours: bool = False
    blocked: bool = False
    #: The IVR sent the caller to another line (HOTLINE_OVERFLOW): whoever answers there is not the hotline.
    overflowed: bool = False
    ring_no_answer: int = 0
    agents_rung: list[str] = field(default_factory=list)
    #: The member being rung right now (AgentCalled until connect, no-answer or the caller leaving).
    ringing_interface: str | None = None
    #: HOTLINE_PRIORITY / HOTLINE_GREEN / HOTLINE_LANG as the IVR set them.
    ivr_variables: dict[str, str] = field(default_factory=dict)
    completed_by: str | None = None
    recording_paths: list[str] = field(default_factory=list)
    dtmf: str = ""
    open_channels: set[str] = field(default_factory=set)
    #: Channel names by Uniqueid, so a resync can match CoreShowChannels' list to this call.
    channel_names: dict[str, str] = field(default_factory=dict)
    outcome: Outcome = Outcome.IN_PROGRESS
    #: None when live events built the record; "resync" when a resync after a reconnect filled gaps.
    reconciled_by: str | None = None
    #: The last moment (Asterisk's clock) the call was known to be up: its latest event, a resync
    #: that listed it, or the last word heard from Asterisk before the link was lost.
    last_seen_at: float | None = None
    #: False when the call ended out of sight (a resync found it gone): `ended_at` is then only the
    #: last moment it was known to be up, and its talk time is unknown unless AgentComplete said.
    end_seen: bool = True

    @property
    def wait_seconds(self) -> float | None:
        """Time in queue until answered or abandoned."""
        if self.offered_at is None:
            return None
        end = self.answered_at or self.abandoned_at
        return None if end is None else round(end - self.offered_at, 3)

    @property
    def talk_seconds(self) -> float | None:
        """Answer to AgentComplete or hang-up; None when that end was not seen (kept out of AHT)."""
        if self.answered_at is None:
            return None
        end = self.talk_ended_at or (self.ended_at if self.end_seen else None)
        return None if end is None else round(end - self.answered_at, 3)

    @property
    def waiting(self) -> bool:
        """In a queue now: joined, not yet connected, abandoned or gone."""
        return (
            self.offered_at is not None
            and self.answered_at is None
            and self.left_queue_at is None
            and self.ended_at is None
            and not self.closed_hours
        )

    def finish(self, at: float, reconciled_by: str | None = None, *, seen: bool = True) -> None:
        """End the call at `at`; `seen=False`: the end happened out of sight, `at` is a lower bound."""
        self.ended_at = at
        self.end_seen = seen
        self.ringing_interface = None
        if reconciled_by is not None:
            self.reconciled_by = reconciled_by
        if self.answered_at is not None:
            self.outcome = Outcome.ANSWERED
        elif self.abandoned_at is not None:
            self.outcome = Outcome.RING_NO_ANSWER_ABANDONED if self.ring_no_answer else Outcome.ABANDONED
        elif self.blocked:
            self.outcome = Outcome.BLOCKED
        elif self.closed_hours:
            self.outcome = Outcome.CLOSED_HOURS
            if self.offered_at is None:
                self.offered_at = self.started_at  # counted apart, in the period and queue it arrived in
        elif self.offered_at is not None and self.left_queue_at is None and reconciled_by is not None:
            self.outcome = Outcome.UNKNOWN  # waiting when we lost sight of it, gone when we looked again
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

    An event without a usable Timestamp (list items, FullyBooted) takes the last time seen, which
    is also `last_time`: Asterisk's clock as far as the events tell.
    """

    def __init__(self) -> None:
        self.calls: dict[str, CallRecord] = {}
        self.last_time: float | None = None

    def handle(self, event: Mapping[str, str]) -> CallRecord | None:
        name = event.get("Event")
        linkedid = event.get("Linkedid")
        at = _time(event) or self.last_time
        if at is not None:
            self.last_time = at
        if not name or not linkedid or at is None:
            return None
        if name == "Newchannel":
            if not event.get("Uniqueid"):
                return None
            return self._new_channel(event, linkedid, at)
        call = self.calls.get(linkedid)
        if call is None:
            return None  # a channel we never saw start (connected mid-call); the resync covers it
        call.last_seen_at = at
        handler = _HANDLERS.get(name)
        if handler is not None:
            handler(self, call, event, at)
        if call.ended_at is not None:
            del self.calls[linkedid]
        return call

    def heard(self, at: float) -> None:
        """Asterisk spoke at `at` (its clock) without a word of these calls ending: all were up then."""
        for call in self.calls.values():
            if call.last_seen_at is None or call.last_seen_at < at:
                call.last_seen_at = at

    def _new_channel(self, event: Mapping[str, str], linkedid: str, at: float) -> CallRecord:
        call = self.calls.get(linkedid)
        if call is None:
            call = CallRecord(linkedid=linkedid, started_at=at)
            call.direction = "inbound" if event.get("ChannelState") == _STATE_RING else "callback"
            if call.direction == "inbound":
                call.caller_number = _value(event.get("CallerIDNum"))
                call.caller_name = _value(event.get("CallerIDName"))
            else:  # originated from a lawyer's phone: the citizen is known when the dialplan dials them
                call.agent_interface = member_interface(event.get("Channel", ""))
            call.exten = _value(event.get("Exten"))
            self.calls[linkedid] = call
        elif call.direction == "callback" and len(call.channel_names) == 1:
            # An originated call-back starts on the lawyer's phone; the citizen is the leg dialled next.
            call.caller_number = _value(event.get("CallerIDNum")) or call.caller_number
        call.last_seen_at = at
        uniqueid = event.get("Uniqueid", "")
        call.open_channels.add(uniqueid)
        call.channel_names[uniqueid] = event.get("Channel", "")
        return call

    def _queue_join(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        if call.offered_at is None:
            call.queue = event.get("Queue")
            call.offered_at = at

    def _queue_leave(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        # app_queue reports the leave just before AgentConnect; the member may still be ringing.
        call.left_queue_at = at

    def _agent_called(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        interface = event.get("Interface", "")
        call.agents_rung.append(interface)
        call.ringing_interface = interface

    def _ring_no_answer(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        call.ring_no_answer += 1
        call.ringing_interface = None

    def _agent_connect(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        call.answered_at = at
        call.ringing_interface = None
        call.agent_interface = event.get("Interface")
        call.agent_name = event.get("MemberName")

    def _agent_complete(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        call.talk_ended_at = at
        call.completed_by = event.get("Reason")

    def _bridge_enter(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        # Calls outside a queue (call-backs, transfers) are answered when two parties are bridged;
        # queue calls are answered at AgentConnect, which comes first.
        if call.overflowed:
            return  # the overflow line (e.g. after hours) answered: not a call answered here
        if call.answered_at is None and call.offered_at is None and _int(event.get("BridgeNumChannels")) >= 2:
            call.answered_at = at
            preferred = call.ivr_variables.get("HOTLINE_PREFERRED")
            lawyers = {member_interface(name) for uid, name in call.channel_names.items() if uid != call.linkedid}
            if call.direction == "inbound" and call.queue and preferred and preferred in lawyers:
                # The IVR rang a repeat caller's own lawyer before the queue, and they answered: the
                # call was offered to the hotline and answered, in the queue the caller chose.
                call.offered_at = call.queue_chosen_at or call.started_at
                call.left_queue_at = at
                call.agent_interface = preferred

    def _abandon(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        call.abandoned_at = at
        call.ringing_interface = None

    def _var_set(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        variable = event.get("Variable")
        value = event.get("Value", "")
        if variable == RECORDING_VARIABLE:
            if value and value not in call.recording_paths:
                call.recording_paths.append(value)
        elif variable == CLOSED_HOURS_VARIABLE:
            call.closed_hours = value == "1"
        elif variable == BLOCKED_VARIABLE:
            call.blocked = value == "1"
        elif variable == OVERFLOW_VARIABLE:
            call.overflowed = bool(value)
        elif variable == CALLBACK_NUMBER_VARIABLE:
            if call.direction == "callback" and value:
                call.caller_number = value[:32]
        elif variable == QUEUE_VARIABLE:
            if call.offered_at is None and value:
                call.queue = value[:64]
                call.queue_chosen_at = at
        elif variable in IVR_VARIABLES:
            call.ivr_variables[variable] = value[:64]

    def _dtmf(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        if event.get("Direction") == "Received" and event.get("Uniqueid") == call.linkedid:
            call.dtmf += event.get("Digit", "")

    def _hangup(self, call: CallRecord, event: Mapping[str, str], at: float) -> None:
        call.open_channels.discard(event.get("Uniqueid", ""))
        if not call.open_channels:
            call.finish(at)


def member_interface(channel: str) -> str:
    """`PJSIP/1001-0000002a` → `PJSIP/1001`: the device a channel belongs to (queue member interface)."""
    base, sep, suffix = channel.rpartition("-")
    if sep and len(suffix) == 8 and all(c in "0123456789abcdef" for c in suffix):
        return base
    return channel


def _value(text: str | None) -> str | None:
    return None if text in (None, "", "<unknown>") else text


_HANDLERS = {
    "QueueCallerJoin": CallTracker._queue_join,
    "QueueCallerLeave": CallTracker._queue_leave,
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
