"""The simulated Asterisk's channels, learnt from the events it sends, for CoreShowChannels.

A channel exists from its Newchannel to its Hangup and moves with Newstate, Newexten, BridgeEnter
and BridgeLeave. Replies use the field order of the recorded Asterisk 22 trace 05. (Queues, their
members and waiting callers are hotline.ami.sim_queues.)
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
class SimState:
    channels: dict[str, _Channel] = field(default_factory=dict)

    def observe(self, event: dict[str, str], now: float) -> None:
        name = event.get("Event", "")
        uniqueid = event.get("Uniqueid", "")
        if name == "Newchannel" and uniqueid:
            self.channels[uniqueid] = _Channel({k: event.get(k, "") for k in _SNAPSHOT}, now)
            return
        channel = self.channels.get(uniqueid)
        if name == "Hangup":
            self.channels.pop(uniqueid, None)
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
