"""Asterisk's answer to QueueStatus, as queues, their members and their waiting callers.

Read by the roster reconciler (who is a member) and by the bridge's resync (lawyers' states and who
is waiting). Standard library only. The answer is `Response: Success` (EventList: start), then QueueParams (one
per queue, even an empty one), QueueMember and QueueEntry items, then QueueStatusComplete with
ListItems. QueueMember names the member `Name`/`Location`, not MemberName/Interface as the
QueueMember* events do. Messages are anything with `.get(key)`: our AmiMessage or panoramisk's Message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActualMember:
    """A queue member as Asterisk reports it (QueueStatus's QueueMember)."""

    interface: str
    name: str
    state_interface: str = ""
    #: dynamic (added over AMI or the CLI), static (queues.conf) or realtime.
    membership: str = "dynamic"
    penalty: int = 0
    paused: bool = False
    paused_reason: str = ""
    #: Device state: 1 not in use, 2 in use, 5 unavailable, 6 ringing (see the traces' README).
    status: int = 0
    in_call: bool = False
    calls_taken: int = 0


class Headers(Protocol):
    def get(self, key: str, default: str | None = None, /) -> str | None: ...


@dataclass(frozen=True)
class QueueCaller:
    queue: str
    position: int
    channel: str
    uniqueid: str
    wait_seconds: int
    caller_id_num: str = ""


@dataclass
class QueueStatusReply:
    #: queue -> interface -> member, with an entry for every queue Asterisk reported (QueueParams).
    members: dict[str, dict[str, ActualMember]] = field(default_factory=dict)
    callers: dict[str, list[QueueCaller]] = field(default_factory=dict)
    #: queue -> its QueueParams headers (Strategy, Calls, Completed, Abandoned...).
    params: dict[str, dict[str, str]] = field(default_factory=dict)
    #: True when the list ended with QueueStatusComplete and its ListItems matched what came.
    complete: bool = False
    skipped: int = 0


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def parse_queue_status(messages: Iterable[Headers]) -> QueueStatusReply:
    snapshot = QueueStatusReply()
    items = 0
    listed: int | None = None
    for message in messages:
        event = message.get("Event")
        if event is None:
            continue  # the Response that opens the list
        queue = message.get("Queue") or ""
        if event == "QueueParams" and queue:
            items += 1
            snapshot.members.setdefault(queue, {})
            snapshot.callers.setdefault(queue, [])
            keys = ("Strategy", "Calls", "Holdtime", "TalkTime", "Completed", "Abandoned", "ServiceLevel")
            snapshot.params[queue] = {key: message.get(key) or "" for key in keys}
        elif event == "QueueMember" and queue and message.get("Location"):
            items += 1
            member = _member(message)
            snapshot.members.setdefault(queue, {})[member.interface] = member
        elif event == "QueueEntry" and queue and message.get("Channel"):
            items += 1
            snapshot.callers.setdefault(queue, []).append(
                QueueCaller(
                    queue=queue,
                    position=_int(message.get("Position")),
                    channel=message.get("Channel") or "",
                    uniqueid=message.get("Uniqueid") or "",
                    wait_seconds=_int(message.get("Wait")),
                    caller_id_num=message.get("CallerIDNum") or "",
                )
            )
        elif event == "QueueStatusComplete":
            listed = _int(message.get("ListItems"))
        elif event in ("QueueParams", "QueueMember", "QueueEntry"):
            snapshot.skipped += 1
            logger.warning("QueueStatus: %s without Queue/Location/Channel skipped", event)
    snapshot.complete = listed is not None and listed == items + snapshot.skipped
    if not snapshot.complete:
        logger.warning("QueueStatus list incomplete: %s items announced, %d received", listed, items)
    return snapshot


def _member(message: Headers) -> ActualMember:
    interface = message.get("Location") or ""
    return ActualMember(
        interface=interface,
        name=message.get("Name") or interface,
        state_interface=message.get("StateInterface") or interface,
        membership=message.get("Membership") or "dynamic",
        penalty=_int(message.get("Penalty")),
        paused=message.get("Paused") == "1",
        paused_reason=message.get("PausedReason") or "",
        status=_int(message.get("Status")),
        in_call=message.get("InCall") == "1",
        calls_taken=_int(message.get("CallsTaken")),
    )
