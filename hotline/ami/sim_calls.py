"""New calls for the simulator, shaped like the calls Asterisk 22 reported in the recorded traces.

`CallFactory` writes the AMI events of an answered call (trace 02), an abandoned one (trace 03) and
a ring-no-answer followed by an abandon (trace 04): the same events in the same order, each with
Asterisk's header keys in Asterisk's order, with fresh Uniqueids, channel names, callers, queues
and lawyers, and timings chosen by the caller. The dialplan noise that carries nothing for the
bridge (RTCP reports, most VarSets, AGI command echoes) is thinned out but kept in kind, so the
bridge still has to skip it. tests/unit/ami/test_sim_calls.py checks the result against the traces.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field

from hotline.ami.sim_queues import SimMember, member_fields
from hotline.ami.simulator import encode

Event = tuple[float, bytes]

_STATE_DESC = {"0": "Down", "4": "Ring", "5": "Ringing", "6": "Up"}
_BRIDGE = ("basic", "simple_bridge", "<unknown>", "<unknown>")


@dataclass
class Channel:
    name: str
    uniqueid: str
    linkedid: str
    number: str
    caller_name: str
    context: str
    exten: str
    priority: str = "1"
    state: str = "4"
    connected_num: str = "<unknown>"
    connected_name: str = "<unknown>"

    def snapshot(self, prefix: str = "") -> list[tuple[str, str]]:
        return [
            (f"{prefix}Channel", self.name),
            (f"{prefix}ChannelState", self.state),
            (f"{prefix}ChannelStateDesc", _STATE_DESC.get(self.state, "Unknown")),
            (f"{prefix}CallerIDNum", self.number),
            (f"{prefix}CallerIDName", self.caller_name),
            (f"{prefix}ConnectedLineNum", self.connected_num),
            (f"{prefix}ConnectedLineName", self.connected_name),
            (f"{prefix}Language", "zh"),
            (f"{prefix}AccountCode", ""),
            (f"{prefix}Context", self.context),
            (f"{prefix}Exten", self.exten),
            (f"{prefix}Priority", self.priority),
            (f"{prefix}Uniqueid", self.uniqueid),
            (f"{prefix}Linkedid", self.linkedid),
        ]


#: A queue member as the generated calls see it: the simulator's own (hotline.ami.sim_queues).
Member = SimMember


@dataclass
class CallFactory:
    """Makes call event streams; Uniqueids count up from `first_sequence` like Asterisk's."""

    first_sequence: int = 1000
    inbound_context: str = "hotline-in"
    member_context: str = "lawyers"
    _sequence: itertools.count[int] = field(init=False)
    _suffix: itertools.count[int] = field(init=False)
    #: Per queue, the callers waiting (join time, leave time), for Position and Count.
    _waiting: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    _position: int = 1

    def __post_init__(self) -> None:
        self._sequence = itertools.count(self.first_sequence)
        self._suffix = itertools.count(0x100)

    # -- building blocks --------------------------------------------------------------------------
    def _uniqueid(self, at: float) -> str:
        return f"{int(at)}.{next(self._sequence)}"

    def _channel_name(self, endpoint: str) -> str:
        return f"PJSIP/{endpoint}-{next(self._suffix):08x}"

    @staticmethod
    def _event(name: str, privilege: str, at: float, *parts: list[tuple[str, str]]) -> Event:
        headers = [("Event", name), ("Privilege", privilege), ("Timestamp", f"{at:.6f}")]
        for part in parts:
            headers.extend(part)
        return at, encode(headers)

    def member_added(self, queue: str, member: Member, at: float) -> list[Event]:
        member.login_time = member.login_time or int(at)
        return [
            self._event("QueueMemberAdded", "agent,all", at, member_fields(queue, member, "1")),
            self._event("DeviceStateChange", "call,all", at, _device(f"Queue:{queue}_avail", "NOT_INUSE")),
        ]  # fmt: skip

    def member_status(self, queue: str, member: Member, status: str, at: float) -> Event:
        """QueueMemberStatus as Asterisk sends it when the member's phone changes state (2 in use,
        6 ringing, 1 idle), also for calls outside the queue such as a call-back."""
        return self._event("QueueMemberStatus", "agent,all", at, member_fields(queue, member, status))

    def member_paused(self, queue: str, member: Member, paused: bool, reason: str, at: float) -> list[Event]:
        member.paused, member.paused_reason = paused, reason if paused else ""
        return [self._event("QueueMemberPause", "agent,all", at, member_fields(queue, member, "1"))]

    def _arrive(self, caller: str, name: str, queue: str, at: float, ivr_s: float) -> tuple[Channel, list[Event]]:
        uid = self._uniqueid(at)
        chan = Channel(self._channel_name("trunk"), uid, uid, caller, name, self.inbound_context, "12348")
        out = [self._event("Newchannel", "call,all", at, chan.snapshot())]
        chan.priority = "3"
        out.append(self._event("Newexten", "dialplan,all", at, chan.snapshot(), _app("Answer", "")))
        chan.state = "6"
        out.append(self._event("Newstate", "call,all", at, chan.snapshot()))
        out.append(self._event("DeviceStateChange", "call,all", at, _device("PJSIP/trunk", "INUSE")))
        chan.priority = "4"
        out.append(
            self._event("Newexten", "dialplan,all", at, chan.snapshot(), _app("AGI", "agi://127.0.0.1:4573/ivr"))
        )
        t = at + ivr_s
        out.append(self._event("VarSet", "dialplan,all", t, chan.snapshot(), _var("HOTLINE_QUEUE", queue)))
        out.append(self._event("VarSet", "dialplan,all", t, chan.snapshot(), _var("AGISTATUS", "SUCCESS")))
        chan.priority = "8"
        out.append(self._event("Newexten", "dialplan,all", t, chan.snapshot(), _app("Queue", f"{queue},,,,600")))
        return chan, out

    def _join(self, chan: Channel, queue: str, at: float, leave: float) -> list[Event]:
        waiting = self._waiting.setdefault(queue, [])
        ahead = sum(1 for joined, left in waiting if joined <= at < left)
        waiting.append((at, leave))
        if len(waiting) > 2000:
            del waiting[:1000]
        self._position = ahead + 1
        return [
            self._event("DeviceStateChange", "call,all", at, _device(f"Queue:{queue}", "RINGING")),
            self._event("QueueCallerJoin", "agent,all", at, chan.snapshot(),
                        [("Queue", queue), ("Position", str(ahead + 1)), ("Count", str(ahead + 1))]),
            self._event("MusicOnHoldStart", "call,all", at, chan.snapshot(), [("Class", "default")]),
        ]  # fmt: skip

    def _leave(self, chan: Channel, queue: str, at: float) -> Event:
        waiting = self._waiting.get(queue, [])
        count = sum(1 for joined, left in waiting if joined <= at < left) - 1
        return self._event("QueueCallerLeave", "agent,all", at, chan.snapshot(),
                           [("Queue", queue), ("Position", "1"), ("Count", str(max(count, 0)))])  # fmt: skip

    def _ring(self, chan: Channel, queue: str, member: Member, at: float) -> tuple[Channel, list[Event]]:
        uid = self._uniqueid(at)
        leg = Channel(self._channel_name(member.endpoint), uid, chan.linkedid, member.endpoint, member.name,
                      self.member_context, "s", state="0")  # fmt: skip
        leg.connected_num, leg.connected_name = chan.number, chan.caller_name
        out = [self._event("Newchannel", "call,all", at, leg.snapshot())]
        agent = [("Queue", queue), ("Interface", member.interface), ("MemberName", member.name)]
        out.append(self._event("AgentCalled", "agent,all", at, chan.snapshot(), leg.snapshot("Dest"), agent))
        out.append(
            self._dial("DialBegin", at, chan, leg, ("DialString", member.interface))
        )  # fmt: skip
        leg.state, leg.exten = "5", chan.exten
        out.append(self._event("Newstate", "call,all", at, leg.snapshot()))
        out.append(self._event("Newexten", "dialplan,all", at, leg.snapshot(), _app("AppQueue", "(Outgoing Line)")))
        out.append(self._dial("DialState", at, chan, leg, ("DialStatus", "RINGING")))
        out.append(self._event("QueueMemberStatus", "agent,all", at, member_fields(queue, member, "6")))
        out.append(self._event("DeviceStateChange", "call,all", at, _device(member.interface, "RINGING")))
        return leg, out

    def _dial(self, name: str, at: float, chan: Channel, leg: Channel, extra: tuple[str, str]) -> Event:
        return self._event(name, "call,all", at, chan.snapshot(), leg.snapshot("Dest"), [extra])

    def _hangup(self, chan: Channel, at: float, cause: str) -> Event:
        text = "Normal Clearing" if cause == "16" else "Unknown"
        return self._event("Hangup", "call,all", at, chan.snapshot(), [("Cause", cause), ("Cause-txt", text)])

    # -- whole calls ----------------------------------------------------------------------------
    def answered(
        self,
        caller: str,
        queue: str,
        member: Member,
        at: float,
        *,
        wait_s: float = 5.0,
        talk_s: float = 60.0,
        ring_s: float = 0.6,
        ivr_s: float = 1.0,
        name: str = "",
        hangup_by: str = "caller",
    ) -> list[Event]:
        chan, out = self._arrive(caller, name, queue, at, ivr_s)
        joined = at + ivr_s
        answer = joined + max(wait_s, 0.0)
        out += self._join(chan, queue, joined, answer)
        ring_at = max(joined, answer - ring_s)
        leg, ringing = self._ring(chan, queue, member, ring_at)
        out += ringing
        leg.state = "6"
        chan.connected_num, chan.connected_name = member.endpoint, member.name
        out.append(self._event("Newstate", "call,all", answer, leg.snapshot()))
        out.append(self._dial("DialEnd", answer, chan, leg, ("DialStatus", "ANSWER")))
        out.append(self._event("MusicOnHoldStop", "call,all", answer, chan.snapshot()))
        out.append(
            self._event("VarSet", "dialplan,all", answer, chan.snapshot(), _var("MEMBERINTERFACE", member.interface))
        )
        out.append(self._event("QueueMemberStatus", "agent,all", answer, member_fields(queue, member, "2")))
        out.append(self._leave(chan, queue, answer))
        hold = [("HoldTime", str(int(answer - joined)))]
        agent = [("Queue", queue), ("Interface", member.interface), ("MemberName", member.name)]
        out.append(self._event("AgentConnect", "agent,all", answer, chan.snapshot(), leg.snapshot("Dest"), agent, hold,
                               [("RingTime", str(int(answer - ring_at)))]))  # fmt: skip
        bridge_id = str(uuid.uuid4())
        out.append(self._event("BridgeCreate", "call,all", answer, _bridge(bridge_id, 0)))
        out.append(self._event("BridgeEnter", "call,all", answer, _bridge(bridge_id, 1), leg.snapshot()))
        out.append(self._event("BridgeEnter", "call,all", answer, _bridge(bridge_id, 2), chan.snapshot()))
        end = answer + talk_s
        first, second = (chan, leg) if hangup_by == "caller" else (leg, chan)
        out.append(self._event("HangupRequest", "call,all", end, first.snapshot()))
        reason = "caller" if hangup_by == "caller" else "agent"
        out.append(self._event("AgentComplete", "agent,all", end, chan.snapshot(), leg.snapshot("Dest"), agent, hold,
                               [("TalkTime", str(int(talk_s))), ("Reason", reason)]))  # fmt: skip
        out.append(self._event("BridgeLeave", "call,all", end, _bridge(bridge_id, 1), first.snapshot()))
        out.append(self._event("SoftHangupRequest", "call,all", end, second.snapshot(), [("Cause", "16")]))
        out.append(self._event("BridgeLeave", "call,all", end, _bridge(bridge_id, 0), second.snapshot()))
        out.append(self._event("BridgeDestroy", "call,all", end, _bridge(bridge_id, 0)))
        out.append(self._hangup(chan, end, "16"))
        out.append(self._hangup(leg, end, "16"))
        member.calls_taken += 1
        member.last_call = int(end)
        out.append(self._event("QueueMemberStatus", "agent,all", end, member_fields(queue, member, "1")))
        return out

    def abandoned(
        self,
        caller: str,
        queue: str,
        at: float,
        *,
        wait_s: float = 30.0,
        ivr_s: float = 1.0,
        name: str = "",
        rung: Member | None = None,
        ring_timeout_s: float = 20.0,
    ) -> list[Event]:
        """The caller gives up after `wait_s` in the queue; with `rung`, that lawyer's phone rang out
        first (AgentRingNoAnswer) and was ringing again when the caller hung up (trace 04)."""
        chan, out = self._arrive(caller, name, queue, at, ivr_s)
        joined = at + ivr_s
        gone = joined + wait_s
        out += self._join(chan, queue, joined, gone)
        leg: Channel | None = None
        if rung is not None and wait_s > ring_timeout_s:
            leg, ringing = self._ring(chan, queue, rung, joined)
            out += ringing
            out_of_time = joined + ring_timeout_s
            member = [("Queue", queue), ("Interface", rung.interface), ("MemberName", rung.name)]
            ring_ms = [("RingTime", str(int(ring_timeout_s * 1000)))]
            out.append(self._event("AgentRingNoAnswer", "agent,all", out_of_time, chan.snapshot(),
                                   leg.snapshot("Dest"), member, ring_ms))  # fmt: skip
            out.append(self._dial("DialEnd", out_of_time, chan, leg, ("DialStatus", "NOANSWER")))
            out.append(self._dial("DialEnd", out_of_time, chan, leg, ("DialStatus", "CANCEL")))
            out.append(self._hangup(leg, out_of_time, "0"))
            out.append(
                self._event("QueueMemberStatus", "agent,all", joined + ring_timeout_s, member_fields(queue, rung, "1"))
            )
            leg, ringing = self._ring(chan, queue, rung, joined + ring_timeout_s + 2)
            out += [event for event in ringing if event[0] < gone]
        out.append(self._event("HangupRequest", "call,all", gone, chan.snapshot()))
        out.append(self._event("MusicOnHoldStop", "call,all", gone, chan.snapshot()))
        if leg is not None:
            out.append(self._dial("DialEnd", gone, chan, leg, ("DialStatus", "CANCEL")))
            out.append(self._dial("DialEnd", gone, chan, leg, ("DialStatus", "CANCEL")))
        out.append(self._event("QueueCallerAbandon", "agent,all", gone, chan.snapshot(),
                               [("Queue", queue), ("Position", "1"), ("OriginalPosition", str(self._position)),
                                ("HoldTime", str(int(wait_s)))]))  # fmt: skip
        out.append(self._leave(chan, queue, gone))
        out.append(self._event("SoftHangupRequest", "call,all", gone, chan.snapshot(), [("Cause", "16")]))
        if leg is not None and rung is not None:
            out.append(self._hangup(leg, gone, "0"))
            out.append(self._event("QueueMemberStatus", "agent,all", gone, member_fields(queue, rung, "1")))
        out.append(self._hangup(chan, gone, "0"))  # Asterisk reports Cause 0 for an abandon
        return sorted(out, key=lambda event: event[0])

    def callback(
        self,
        member: Member,
        number: str,
        at: float,
        *,
        action_id: str,
        context: str = "hotline-callback",
        answered: bool = True,
        ring_s: float = 0.6,
        talk_s: float = 60.0,
    ) -> list[Event]:
        """An Originate from the lawyer's phone to a citizen (trace 06): the lawyer's leg rings and
        answers, OriginateResponse reports it, then the dialplan dials the citizen and bridges."""
        uid = self._uniqueid(at)
        leg = Channel(self._channel_name(member.endpoint), uid, uid, member.endpoint, member.name,
                      self.member_context, "s", state="0")  # fmt: skip
        out = [self._event("Newchannel", "call,all", at, leg.snapshot())]
        leg.state = "5"
        out.append(self._event("Newstate", "call,all", at, leg.snapshot()))
        up = at + ring_s
        response = [("ActionID", action_id), ("Response", "Success" if answered else "Failure"),
                    ("Channel", leg.name if answered else member.interface), ("Context", context), ("Exten", number),
                    ("Reason", "4" if answered else "3"), ("Uniqueid", uid if answered else "<unknown>"),
                    ("CallerIDNum", "12348"), ("CallerIDName", "12348")]  # fmt: skip
        if not answered:
            out.append(self._hangup(leg, up, "0"))
            out.append(self._event("OriginateResponse", "call,all", up, response))
            return out
        leg.state, leg.context, leg.exten, leg.priority = "6", context, number, "2"
        out.append(self._event("Newstate", "call,all", up, leg.snapshot()))
        out.append(self._event("OriginateResponse", "call,all", up, response))
        out.append(
            self._event("Newexten", "dialplan,all", up, leg.snapshot(), _app("Dial", f"PJSIP/{number}@trunk,30"))
        )
        citizen = Channel(self._channel_name("trunk"), self._uniqueid(up), uid, number, "", self.inbound_context, "s",
                          state="0")  # fmt: skip
        out.append(self._event("Newchannel", "call,all", up, citizen.snapshot()))
        out.append(self._dial("DialBegin", up, leg, citizen, ("DialString", f"{number}@trunk")))
        citizen.state = "5"
        out.append(self._event("Newstate", "call,all", up, citizen.snapshot()))
        answer = up + ring_s
        citizen.state = "6"
        out.append(self._event("Newstate", "call,all", answer, citizen.snapshot()))
        out.append(self._dial("DialEnd", answer, leg, citizen, ("DialStatus", "ANSWER")))
        bridge_id = str(uuid.uuid4())
        out.append(self._event("BridgeCreate", "call,all", answer, _bridge(bridge_id, 0)))
        out.append(self._event("BridgeEnter", "call,all", answer, _bridge(bridge_id, 1), citizen.snapshot()))
        out.append(self._event("BridgeEnter", "call,all", answer, _bridge(bridge_id, 2), leg.snapshot()))
        end = answer + talk_s
        out.append(self._event("BridgeLeave", "call,all", end, _bridge(bridge_id, 1), leg.snapshot()))
        out.append(self._event("BridgeLeave", "call,all", end, _bridge(bridge_id, 0), citizen.snapshot()))
        out.append(self._event("SoftHangupRequest", "call,all", end, leg.snapshot(), [("Cause", "16")]))
        out.append(self._event("BridgeDestroy", "call,all", end, _bridge(bridge_id, 0)))
        out.append(self._hangup(leg, end, "16"))
        out.append(self._hangup(citizen, end, "16"))
        return out


def _app(application: str, data: str) -> list[tuple[str, str]]:
    return [("Extension", "12348"), ("Application", application), ("AppData", data)]


def _device(device: str, state: str) -> list[tuple[str, str]]:
    return [("Device", device), ("State", state)]


def _var(name: str, value: str) -> list[tuple[str, str]]:
    return [("Variable", name), ("Value", value)]


def _bridge(bridge_id: str, count: int) -> list[tuple[str, str]]:
    kind, tech, creator, name = _BRIDGE
    return [
        ("BridgeUniqueid", bridge_id), ("BridgeType", kind), ("BridgeTechnology", tech), ("BridgeCreator", creator),
        ("BridgeName", name), ("BridgeNumChannels", str(count)), ("BridgeVideoSourceMode", "none"),
    ]  # fmt: skip
