"""What the simulated Asterisk knows right now, learnt from the events it sends.

Asterisk answers CoreShowChannels and QueueStatus from its live channels and queues; the simulator
answers them from the events it has played: a channel exists from its Newchannel to its Hangup,
moves with Newstate/Newexten/BridgeEnter/BridgeLeave, and waits in a queue between QueueCallerJoin
and QueueCallerLeave. Replies use the field order of the recorded Asterisk 22 trace 05.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: A channel's snapshot fields, in the order Asterisk 22 writes them in CoreShowChannel.
_SNAPSHOT = (
    "Channel",
    "ChannelState",
    "ChannelStateDesc",
    "CallerIDNum",
    "CallerIDName",
    "ConnectedLineNum",
    "ConnectedLineName",
    "Language",
    "AccountCode",
    "Context",
    "Exten",
    "Priority",
    "Uniqueid",
    "Linkedid",
)


@dataclass
class _Channel:
    fields: dict[str, str]
    created_at: float
    application: str = ""
    application_data: str = ""
    bridge_id: str = ""


@dataclass
class _Entry:
    queue: str
    uniqueid: str
    joined_at: float


@dataclass
class SimState:
    channels: dict[str, _Channel] = field(default_factory=dict)
    entries: dict[str, _Entry] = field(default_factory=dict)
    #: (queue, interface) -> the member fields of its last QueueMember* event.
    members: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    queues: set[str] = field(default_factory=set)

    def observe(self, event: dict[str, str], now: float) -> None:
        name = event.get("Event", "")
        uniqueid = event.get("Uniqueid", "")
        if name == "Newchannel" and uniqueid:
            self.channels[uniqueid] = _Channel({k: event.get(k, "") for k in _SNAPSHOT}, now)
            return
        channel = self.channels.get(uniqueid)
        if name == "Hangup":
            self.channels.pop(uniqueid, None)
            self.entries.pop(uniqueid, None)
            return
        if channel is not None:
            for key in _SNAPSHOT:
                if key in event:
                    channel.fields[key] = event[key]
            if name == "Newexten":
                channel.application = event.get("Application", "")
                channel.application_data = event.get("AppData", "")
            elif name == "BridgeEnter":
                channel.bridge_id = event.get("BridgeUniqueid", "")
            elif name == "BridgeLeave":
                channel.bridge_id = ""
        if name == "QueueCallerJoin" and uniqueid:
            self.queues.add(event.get("Queue", ""))
            self.entries[uniqueid] = _Entry(event.get("Queue", ""), uniqueid, now)
        elif name in ("QueueCallerLeave", "QueueCallerAbandon"):
            self.entries.pop(uniqueid, None)
        elif name.startswith("QueueMember") and event.get("Interface"):
            key = (event.get("Queue", ""), event["Interface"])
            self.queues.add(key[0])
            if name == "QueueMemberRemoved":
                self.members.pop(key, None)
            else:
                self.members[key] = dict(event)

    def core_show_channels(self, now: float) -> list[list[tuple[str, str]]]:
        items = []
        for channel in self.channels.values():
            age = int(now - channel.created_at)
            fields = [(k, channel.fields.get(k, "")) for k in _SNAPSHOT]
            items.append(
                [
                    ("Event", "CoreShowChannel"),
                    *fields,
                    ("Application", channel.application),
                    ("ApplicationData", channel.application_data),
                    ("Duration", f"{age // 3600:02d}:{age // 60 % 60:02d}:{age % 60:02d}"),
                    ("BridgeId", channel.bridge_id),
                ]
            )
        return items

    def queue_status(self, now: float, queue: str | None = None) -> list[list[tuple[str, str]]]:
        items = []
        for name in sorted(q for q in self.queues if q and (queue is None or q == queue)):
            waiting = sorted((e for e in self.entries.values() if e.queue == name), key=lambda e: e.joined_at)
            items.append(
                [("Event", "QueueParams"), ("Queue", name), ("Max", "0"), ("Strategy", "rrmemory"),
                 ("Calls", str(len(waiting))), ("Holdtime", "0"), ("TalkTime", "0"), ("Completed", "0"),
                 ("Abandoned", "0"), ("ServiceLevel", "0"), ("ServicelevelPerf", "0.0"),
                 ("ServicelevelPerf2", "0.0"), ("Weight", "0")]
            )  # fmt: skip
            for (member_queue, interface), member in sorted(self.members.items()):
                if member_queue != name:
                    continue
                items.append(
                    [("Event", "QueueMember"), ("Queue", name), ("Name", member.get("MemberName", interface)),
                     ("Location", interface), ("StateInterface", member.get("StateInterface", interface)),
                     *((k, member.get(k, "0")) for k in ("Membership", "Penalty", "CallsTaken", "LastCall",
                                                           "LastPause", "LoginTime", "InCall", "Status", "Paused")),
                     ("PausedReason", member.get("PausedReason", "")), ("Wrapuptime", member.get("Wrapuptime", "0"))]
                )  # fmt: skip
            for position, entry in enumerate(waiting, start=1):
                channel = self.channels.get(entry.uniqueid)
                snapshot = channel.fields if channel else {}
                items.append(
                    [("Event", "QueueEntry"), ("Queue", name), ("Position", str(position)),
                     ("Channel", snapshot.get("Channel", "")), ("Uniqueid", entry.uniqueid),
                     ("CallerIDNum", snapshot.get("CallerIDNum", "")),
                     ("CallerIDName", snapshot.get("CallerIDName", "")),
                     ("ConnectedLineNum", "unknown"), ("ConnectedLineName", "unknown"),
                     ("Wait", str(int(now - entry.joined_at))), ("Priority", "0")]
                )  # fmt: skip
        return items
