"""Queue membership for the AMI simulator, answering as Asterisk 22 does in trace 05-queue-admin.

QueueAdd, QueueRemove, QueuePause, QueuePenalty, QueueStatus and QueueSummary get the same
responses, error messages, list items and QueueMember* events, with headers in the same order, as
the recording. The simulator has one (`AmiSimulator(handlers=[SimQueues(["consult"])])` names the
configured queues); it also follows the queue events the simulator plays (`observe`).
Members are dynamic unless added with `add_static`; device states come from `device_states`
(1 not in use by default; 5 is an unregistered phone).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hotline.ami.frames import AmiMessage
from hotline.ami.simulator import HandlerReply as SimReply
from hotline.ami.simulator import encode

Headers = list[tuple[str, str]]
NOT_IN_USE, IN_USE, UNAVAILABLE, RINGING = 1, 2, 5, 6


@dataclass
class SimMember:
    interface: str
    name: str
    #: The device whose state the member follows; the interface itself when not given.
    state_interface: str = ""
    membership: str = "dynamic"
    penalty: int = 0
    paused: bool = False
    paused_reason: str = ""
    last_pause: int = 0
    login_time: int = 0
    calls_taken: int = 0
    last_call: int = 0
    in_call: bool = False
    wrapuptime: int = 0

    def __post_init__(self) -> None:
        self.state_interface = self.state_interface or self.interface

    @property
    def endpoint(self) -> str:
        """`PJSIP/1001` → `1001`: the name its channels carry."""
        return self.interface.partition("/")[2] or self.interface


def member_fields(queue: str, member: SimMember, status: int | str) -> Headers:
    """The body of a QueueMember* event (Added, Removed, Status, Pause, Penalty), as Asterisk 22
    writes it: the same keys in the same order in every one of them (trace 02, 05)."""
    return [
        ("Queue", queue), ("MemberName", member.name), ("Interface", member.interface),
        ("StateInterface", member.state_interface), ("Membership", member.membership),
        ("Penalty", str(member.penalty)), ("CallsTaken", str(member.calls_taken)),
        ("LastCall", str(member.last_call)), ("LastPause", str(member.last_pause)),
        ("LoginTime", str(member.login_time)), ("InCall", "1" if member.in_call else "0"),
        ("Status", str(status)), ("Paused", "1" if member.paused else "0"),
        ("PausedReason", member.paused_reason), ("Ringinuse", "0"), ("Wrapuptime", str(member.wrapuptime)),
    ]  # fmt: skip


@dataclass
class SimEntry:
    channel: str
    uniqueid: str
    caller_id_num: str = ""
    caller_id_name: str = ""
    joined: float = 0.0


@dataclass
class SimQueue:
    name: str
    strategy: str = "rrmemory"
    members: dict[str, SimMember] = field(default_factory=dict)
    entries: list[SimEntry] = field(default_factory=list)
    completed: int = 0
    abandoned: int = 0


def _true(value: str | None) -> bool:
    """Asterisk's ast_true."""
    return (value or "").strip().lower() in ("yes", "true", "y", "t", "1", "on")


class SimQueues:
    def __init__(
        self,
        queues: Iterable[str],
        clock: Callable[[], float] = time.time,
        device_states: dict[str, int] | None = None,
    ) -> None:
        self.queues = {name: SimQueue(name) for name in queues}
        self.clock = clock
        self.device_states = device_states if device_states is not None else {}
        self.actions = {
            "queueadd": self._add,
            "queueremove": self._remove,
            "queuepause": self._pause,
            "queuepenalty": self._penalty,
            "queuestatus": self._status,
            "queuesummary": self._summary,
        }

    # -- state the tests and the scripted calls use -------------------------------------------

    def add_static(self, queue: str, interface: str, name: str = "", penalty: int = 0) -> None:
        """A member from queues.conf: listed like the others but not removable over AMI."""
        member = SimMember(interface, name or interface, interface, membership="static", penalty=penalty)
        self.queues[queue].members[interface] = member

    def members(self, queue: str) -> dict[str, SimMember]:
        return self.queues[queue].members

    def join(self, queue: str, entry: SimEntry) -> None:
        entry.joined = entry.joined or self.clock()
        self.queues[queue].entries.append(entry)

    def leave(self, queue: str, uniqueid: str) -> None:
        self.queues[queue].entries = [e for e in self.queues[queue].entries if e.uniqueid != uniqueid]

    def observe(self, event: dict[str, str], now: float) -> None:
        """Follow the queue events the simulator plays (recorded or scripted calls), so QueueStatus
        lists the callers waiting and the members those calls brought, as Asterisk would."""
        name, queue_name = event.get("Event", ""), event.get("Queue", "")
        if not queue_name:
            return
        queue = self.queues.setdefault(queue_name, SimQueue(queue_name))
        if name == "QueueCallerJoin":
            entry = SimEntry(event.get("Channel", ""), event.get("Uniqueid", ""), event.get("CallerIDNum", ""),
                             event.get("CallerIDName", ""), joined=now)  # fmt: skip
            self.leave(queue_name, entry.uniqueid)
            queue.entries.append(entry)
        elif name in ("QueueCallerLeave", "QueueCallerAbandon"):
            self.leave(queue_name, event.get("Uniqueid", ""))
            if name == "QueueCallerAbandon":
                queue.abandoned += 1
        elif name == "AgentComplete":
            queue.completed += 1
        elif name == "QueueMemberRemoved":
            queue.members.pop(event.get("Interface", ""), None)
        elif name.startswith("QueueMember") and event.get("Interface"):
            interface = event["Interface"]
            member = queue.members.get(interface)
            if member is None:
                member = queue.members[interface] = SimMember(
                    interface, event.get("MemberName") or interface, event.get("StateInterface") or interface
                )
            member.paused = event.get("Paused") == "1"
            member.paused_reason = event.get("PausedReason", "")
            member.in_call = event.get("InCall") == "1"
            for attribute, key in (("penalty", "Penalty"), ("calls_taken", "CallsTaken"), ("last_call", "LastCall"),
                                   ("login_time", "LoginTime"), ("last_pause", "LastPause")):  # fmt: skip
                value = event.get(key, "")
                if value.isdigit():
                    setattr(member, attribute, int(value))
            if event.get("Status", "").isdigit():
                self.device_states[member.state_interface] = int(event["Status"])

    # -- the simulator's hook ------------------------------------------------------------------

    def answer(self, action: AmiMessage) -> SimReply | None:
        """The reply to a queue action, or None when the action is not one of ours."""
        handler = self.actions.get((action.get("Action") or "").strip().lower())
        return handler(action) if handler is not None else None

    def _head(self, action: AmiMessage, response: str) -> Headers:
        action_id = action.get("ActionID")
        return [("Response", response), *([("ActionID", action_id)] if action_id is not None else [])]

    def _ok(self, action: AmiMessage, message: str, events: list[bytes] | None = None) -> SimReply:
        return SimReply([encode([*self._head(action, "Success"), ("Message", message)])], events or [])

    def _error(self, action: AmiMessage, message: str) -> SimReply:
        return SimReply([encode([*self._head(action, "Error"), ("Message", message)])])

    def _status_of(self, member: SimMember) -> int:
        if member.in_call:
            return IN_USE
        return self.device_states.get(member.state_interface, NOT_IN_USE)

    def _member_event(self, event: str, queue: str, member: SimMember) -> bytes:
        head = [("Event", event), ("Privilege", "agent,all"), ("Timestamp", f"{self.clock():.6f}")]
        return encode([*head, *member_fields(queue, member, self._status_of(member))])

    def _add(self, action: AmiMessage) -> SimReply:
        queue_name, interface = action.get("Queue") or "", action.get("Interface") or ""
        if not queue_name:
            return self._error(action, "'Queue' not specified.")
        if not interface:
            return self._error(action, "'Interface' not specified.")
        queue = self.queues.get(queue_name)
        if queue is None:
            return self._error(action, "Unable to add interface to queue: No such queue")
        if interface in queue.members:
            return self._error(action, "Unable to add interface: Already there")
        penalty_text = (action.get("Penalty") or "").strip()
        now = int(self.clock())
        paused = _true(action.get("Paused"))
        member = SimMember(
            interface=interface,
            name=action.get("MemberName") or interface,
            state_interface=action.get("StateInterface") or interface,
            penalty=int(penalty_text) if penalty_text.isdigit() else 0,
            paused=paused,
            paused_reason=(action.get("Reason") or "") if paused else "",
            last_pause=now if paused else 0,
            login_time=now,
        )
        queue.members[interface] = member
        return self._ok(
            action, "Added interface to queue", [self._member_event("QueueMemberAdded", queue_name, member)]
        )

    def _remove(self, action: AmiMessage) -> SimReply:
        queue_name, interface = action.get("Queue") or "", action.get("Interface") or ""
        if not queue_name or not interface:
            return self._error(action, "Need 'Queue' and 'Interface' parameters.")
        queue = self.queues.get(queue_name)
        if queue is None:
            return self._error(action, "Unable to remove interface from queue: No such queue")
        member = queue.members.get(interface)
        if member is None:
            return self._error(action, "Unable to remove interface: Not there")
        if member.membership != "dynamic":
            return self._error(action, "Member not dynamic")
        del queue.members[interface]
        return self._ok(
            action, "Removed interface from queue", [self._member_event("QueueMemberRemoved", queue_name, member)]
        )

    def _pause(self, action: AmiMessage) -> SimReply:
        interface, paused_text = action.get("Interface") or "", action.get("Paused") or ""
        if not interface or not paused_text:
            return self._error(action, "Need 'Interface' and 'Paused' parameters.")
        paused, reason = _true(paused_text), action.get("Reason") or ""
        events = []
        for queue in self._queues_of(interface, action.get("Queue")):
            member = queue.members[interface]
            member.paused, member.paused_reason = paused, reason if paused else ""
            if paused:
                member.last_pause = int(self.clock())
            events.append(self._member_event("QueueMemberPause", queue.name, member))
        if not events:
            return self._error(action, "Interface not found")
        return self._ok(
            action, "Interface paused successfully" if paused else "Interface unpaused successfully", events
        )

    def _penalty(self, action: AmiMessage) -> SimReply:
        interface, penalty_text = action.get("Interface") or "", (action.get("Penalty") or "").strip()
        if not interface or not penalty_text:
            return self._error(action, "Need 'Interface' and 'Penalty' parameters.")
        queues = self._queues_of(interface, action.get("Queue"))
        if not queues or not penalty_text.isdigit():
            return self._error(action, "Invalid interface, queuename or penalty")
        events = []
        for queue in queues:
            member = queue.members[interface]
            member.penalty = int(penalty_text)
            events.append(self._member_event("QueueMemberPenalty", queue.name, member))
        return self._ok(action, "Interface penalty set successfully", events)

    def _queues_of(self, interface: str, queue_name: str | None) -> list[SimQueue]:
        """The queues `interface` is a member of; only `queue_name` when given (QueuePause without
        Queue applies to every queue of the interface)."""
        return [
            queue
            for queue in self.queues.values()
            if interface in queue.members and (not queue_name or queue.name == queue_name)
        ]

    def _list(self, action: AmiMessage, message: str, complete: str, items: list[Headers]) -> SimReply:
        action_id = action.get("ActionID")
        tail = [("ActionID", action_id)] if action_id is not None else []
        out = [encode([*self._head(action, "Success"), ("EventList", "start"), ("Message", message)])]
        out += [encode([*item, *tail]) for item in items]
        out.append(encode([("Event", complete), *tail, ("EventList", "Complete"), ("ListItems", str(len(items)))]))
        return SimReply(out)

    def _status(self, action: AmiMessage) -> SimReply:
        wanted, member_filter = action.get("Queue") or "", action.get("Member") or ""
        items: list[Headers] = []
        now = self.clock()
        for queue in self.queues.values():
            if wanted and queue.name != wanted:
                continue
            items.append(
                [
                    ("Event", "QueueParams"),
                    ("Queue", queue.name),
                    ("Max", "0"),
                    ("Strategy", queue.strategy),
                    ("Calls", str(len(queue.entries))),
                    ("Holdtime", "0"),
                    ("TalkTime", "0"),
                    ("Completed", str(queue.completed)),
                    ("Abandoned", str(queue.abandoned)),
                    ("ServiceLevel", "0"),
                    ("ServicelevelPerf", "0.0"),
                    ("ServicelevelPerf2", "0.0"),
                    ("Weight", "0"),
                ]
            )
            for member in queue.members.values():
                if member_filter and member.interface != member_filter and member.name != member_filter:
                    continue
                items.append(
                    [
                        ("Event", "QueueMember"),
                        ("Queue", queue.name),
                        ("Name", member.name),
                        ("Location", member.interface),
                        ("StateInterface", member.state_interface),
                        ("Membership", member.membership),
                        ("Penalty", str(member.penalty)),
                        ("CallsTaken", str(member.calls_taken)),
                        ("LastCall", str(member.last_call)),
                        ("LastPause", str(member.last_pause)),
                        ("LoginTime", str(member.login_time)),
                        ("InCall", "1" if member.in_call else "0"),
                        ("Status", str(self._status_of(member))),
                        ("Paused", "1" if member.paused else "0"),
                        ("PausedReason", member.paused_reason),
                        ("Wrapuptime", str(member.wrapuptime)),
                    ]
                )
            for position, entry in enumerate(queue.entries, start=1):
                items.append(
                    [
                        ("Event", "QueueEntry"),
                        ("Queue", queue.name),
                        ("Position", str(position)),
                        ("Channel", entry.channel),
                        ("Uniqueid", entry.uniqueid),
                        ("CallerIDNum", entry.caller_id_num or "unknown"),
                        ("CallerIDName", entry.caller_id_name or "unknown"),
                        ("ConnectedLineNum", "unknown"),
                        ("ConnectedLineName", "unknown"),
                        ("Wait", str(int(now - entry.joined))),
                        ("Priority", "0"),
                    ]
                )
        return self._list(action, "Queue status will follow", "QueueStatusComplete", items)

    def _summary(self, action: AmiMessage) -> SimReply:
        wanted = action.get("Queue") or ""
        items: list[Headers] = []
        now = self.clock()
        for queue in self.queues.values():
            if wanted and queue.name != wanted:
                continue
            states = [(self._status_of(m), m.paused) for m in queue.members.values()]
            logged_in = sum(1 for status, _ in states if status != UNAVAILABLE)
            available = sum(1 for status, paused in states if status == NOT_IN_USE and not paused)
            longest = max((int(now - e.joined) for e in queue.entries), default=0)
            items.append(
                [
                    ("Event", "QueueSummary"),
                    ("Queue", queue.name),
                    ("LoggedIn", str(logged_in)),
                    ("Available", str(available)),
                    ("Callers", str(len(queue.entries))),
                    ("HoldTime", "0"),
                    ("TalkTime", "0"),
                    ("LongestHoldTime", str(longest)),
                ]
            )
        return self._list(action, "Queue summary will follow", "QueueSummaryComplete", items)
