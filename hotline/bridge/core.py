"""The bridge's event processing, without sockets: events in order → calls, live state, rows to write.

`BridgeCore.process` takes the items one TCP read delivered (event dicts, and list results placed in
the stream by the adapter) and folds them into the call tracker and the live model, hands changed
calls to the call writer, and collects what the publisher must write. A resync's lists are applied
exactly where Asterisk answered them in the stream, so no event is applied twice or out of order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from hotline.ami.panoramisk_adapter import ListResult
from hotline.ami.queue_status import parse_queue_status
from hotline.bridge.resync import reconcile_channels, reconcile_queue_entries
from hotline.domain.call_tracker import BLOCKED_VARIABLE, CallRecord, CallTracker
from hotline.live.model import AGENT_EVENTS, MEMBER_EVENTS, Changes, LiveModel

logger = logging.getLogger(__name__)

#: Events that change a call's row in the database (other events only move live state).
_ROW_EVENTS = frozenset({"QueueCallerJoin", "AgentConnect", "QueueCallerAbandon"})
#: Events the bridge reads; everything else is left unparsed (see `wants`).
WANTED_EVENTS = frozenset(
    {
        b"Newchannel",
        b"Hangup",
        b"QueueCallerJoin",
        b"QueueCallerLeave",
        b"QueueCallerAbandon",
        b"BridgeEnter",
        b"DTMFEnd",
        b"OriginateResponse",
        b"Shutdown",
        b"FullyBooted",  # the adapter's `booted`: Asterisk has finished starting
        *(name.encode() for name in AGENT_EVENTS | MEMBER_EVENTS),
    }
)


def wants(buffer: bytes | bytearray, start: int = 0, stop: int | None = None) -> bool:
    """The adapter's filter, looking at a message in place: keep responses, list items (they carry
    an ActionID) and the events that change calls or live state; drop the rest unparsed."""
    stop = len(buffer) if stop is None else stop
    if not buffer.startswith(b"Event: ", start):
        return True
    if buffer.find(b"\r\nActionID: ", start, stop) >= 0:
        return True
    name = bytes(buffer[start + 7 : buffer.find(b"\r\n", start, stop)])
    if name in WANTED_EVENTS:
        return True
    # Most of Asterisk's traffic is VarSet; only the IVR's variables and recordings matter here.
    return name == b"VarSet" and (
        buffer.find(b"\r\nVariable: HOTLINE_", start, stop) >= 0
        or buffer.find(b"\r\nVariable: MIXMONITOR_FILENAME\r\n", start, stop) >= 0
    )


class RowSink(Protocol):
    def submit(self, call: CallRecord) -> None: ...


class BridgeCore:
    def __init__(self, tracker: CallTracker, model: LiveModel, writer: RowSink) -> None:
        self.tracker = tracker
        self.model = model
        self.writer = writer
        self.changes = Changes()
        self.events = 0
        self.restored: dict[str, CallRecord] = {}
        #: Asterisk's clock at the last resync (the Ping answer's Timestamp), for closing calls out.
        self.resync_now: float | None = None
        #: Extra feed entries (call-back originate results) for the publisher's next flush.
        self.feed: list[dict[str, object]] = []
        #: Told of every Originate's outcome and every call that ends (virtual hold follows its calls).
        self.on_originate: list[Callable[[dict[str, object]], None]] = []
        self.on_call_end: list[Callable[[CallRecord], None]] = []

    def process(self, items: Iterable[dict[str, str] | ListResult]) -> None:
        for item in items:
            if isinstance(item, ListResult):
                self.apply_list(item)
                continue
            self.events += 1
            try:
                self._event(item)
            except Exception:  # one bad event must not stop the stream
                logger.exception("event %s (call %s) could not be applied", item.get("Event"), item.get("Linkedid"))

    def _event(self, event: dict[str, str]) -> None:
        name = event.get("Event", "")
        call = self.tracker.handle(event)
        at = self.tracker.last_time or 0.0
        self.model.apply(event, call, at, self.changes)
        if call is not None:
            blocked = name == "VarSet" and event.get("Variable") == BLOCKED_VARIABLE
            if call.ended_at is not None or name in _ROW_EVENTS or _is_new(name, call) or blocked:
                self.writer.submit(call)
            if call.ended_at is not None:
                for listener in self.on_call_end:
                    listener(call)
        elif name == "OriginateResponse" and event.get("ActionID"):
            result = originate_result(event)
            self.feed.append(result)
            for originated in self.on_originate:
                originated(result)

    def apply_list(self, result: ListResult) -> None:
        now = self.resync_now or self.tracker.last_time or 0.0
        if result.error is not None:
            logger.warning("%s refused during resync: %s", result.action, result.error)
            return
        if result.action == "CoreShowChannels":
            items = [i for i in result.items if i.get("Event") == "CoreShowChannel"]
            report = reconcile_channels(self.tracker, items, now, self.restored)
            self.restored = {}
            for call in report.touched():
                self.model.note_call(call, self.changes)
                self.writer.submit(call)
            for call in report.updated + report.adopted:
                if call.answered_at is not None and call.agent_interface:
                    self.model.agent_on_call(call.agent_interface, call.linkedid, now)
            logger.info(
                "resync: %d channels up; %d calls closed out, %d adopted, %d still tracked",
                len(items),
                len(report.closed),
                len(report.adopted),
                len(report.updated),
            )
        elif result.action == "QueueStatus":
            reply = parse_queue_status(result.items)
            self.changes.merge(self.model.replace_members(reply.members, now))
            self.model.queue_names.update(reply.members)
            self.changes.queues.update(reply.members)
            callers = [caller for queue in reply.callers.values() for caller in queue]
            for call in reconcile_queue_entries(self.tracker, callers, now):
                self.model.note_call(call, self.changes)
                self.writer.submit(call)

    def take_changes(self) -> Changes:
        changes, self.changes = self.changes, Changes()
        return changes


#: OriginateResponse `Reason` codes (Asterisk's AST_CONTROL values) in a lawyer's words.
_ORIGINATE_REASONS = {"4": "answered", "3": "no_answer", "5": "busy", "8": "congestion", "1": "hung_up"}


def originate_result(event: Mapping[str, str]) -> dict[str, object]:
    ok = event.get("Response") == "Success"
    return {
        "type": "originate",
        "action_id": event.get("ActionID"),
        "ok": ok,
        "outcome": _ORIGINATE_REASONS.get(event.get("Reason", ""), "failed") if not ok else "answered",
        "linkedid": event.get("Uniqueid") if ok else None,
    }


def _is_new(name: str, call: CallRecord) -> bool:
    return name == "Newchannel" and len(call.open_channels) == 1
