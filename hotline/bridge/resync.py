"""After every (re)connect: make the tracked calls agree with what Asterisk says is up right now.

Pure functions of the tracker and the lists Asterisk returns (CoreShowChannels, QueueStatus), so a
test can feed the recorded answers. Everything filled in from a list rather than from live events is
marked `reconciled_by = "resync"`; a call that was waiting when the bridge lost sight of it and is
gone when it looks again ends as `unknown`, never as answered or abandoned on a guess. A call found
gone ended out of sight: it ends at the last moment it was known to be up (`last_seen_at`, a lower
bound) with `end_seen = False`, so its talk time is unknown rather than stretched to the resync.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hotline.ami.queue_status import QueueCaller
from hotline.domain.call_tracker import CallRecord, CallTracker, member_interface

RESYNC = "resync"
#: Application of a queue member's channel while it is bridged to a queue caller.
_MEMBER_APP = "AppQueue"


@dataclass
class ResyncReport:
    closed: list[CallRecord] = field(default_factory=list)
    adopted: list[CallRecord] = field(default_factory=list)
    updated: list[CallRecord] = field(default_factory=list)

    def touched(self) -> list[CallRecord]:
        return [*self.closed, *self.adopted, *self.updated]


def duration_seconds(text: str | None) -> int:
    """CoreShowChannel's `Duration: 01:02:03` in seconds (0 when absent or garbled)."""
    try:
        hours, minutes, seconds = (int(part) for part in (text or "").split(":"))
    except ValueError:
        return 0
    return hours * 3600 + minutes * 60 + seconds


def epoch_of(uniqueid: str) -> float | None:
    """Asterisk Uniqueids are `<epoch seconds>.<sequence>`: the integer part is when the channel began."""
    head = uniqueid.partition(".")[0]
    return float(head) if head.isdigit() else None


def reconcile_channels(
    tracker: CallTracker, channels: Iterable[Mapping[str, str]], now: float, restored: Mapping[str, CallRecord] = {}
) -> ResyncReport:
    """Close calls whose channels are gone, adopt calls we never saw start, refresh the rest.

    `restored` holds what the database knew of calls still marked in progress (after a bridge
    restart); they are used instead of blank records when their channels are still up."""
    report = ResyncReport()
    alive: dict[str, list[Mapping[str, str]]] = {}
    for channel in channels:
        linkedid = channel.get("Linkedid")
        if linkedid and channel.get("Uniqueid"):
            alive.setdefault(linkedid, []).append(channel)

    gone = [tracker.calls.pop(lid) for lid in list(tracker.calls) if lid not in alive]
    gone += [call for lid, call in restored.items() if lid not in alive and lid not in tracker.calls]
    for call in gone:
        call.open_channels.clear()
        call.finish(min(now, last_known_up(call, now)), reconciled_by=RESYNC, seen=False)
        report.closed.append(call)

    for linkedid, legs in alive.items():
        call = tracker.calls.get(linkedid)
        if call is None:
            call = restored.get(linkedid) or _blank(linkedid, legs, now)
            call.reconciled_by = RESYNC
            tracker.calls[linkedid] = call
            report.adopted.append(call)
        else:
            report.updated.append(call)
        call.last_seen_at = now
        call.open_channels = {leg["Uniqueid"] for leg in legs}
        call.channel_names = {leg["Uniqueid"]: leg.get("Channel", "") for leg in legs}
        _queue_position(call, legs, now)
    return report


def last_known_up(call: CallRecord, default: float) -> float:
    """The latest moment the call is known to have been up (never before anything it recorded)."""
    known = [call.last_seen_at, call.started_at, call.offered_at, call.answered_at, call.talk_ended_at]
    return max((t for t in known if t is not None), default=default)


def _blank(linkedid: str, legs: list[Mapping[str, str]], now: float) -> CallRecord:
    first = next((leg for leg in legs if leg.get("Uniqueid") == linkedid), legs[0])
    started = epoch_of(linkedid) or now - duration_seconds(first.get("Duration"))
    number = first.get("CallerIDNum")
    return CallRecord(
        linkedid=linkedid,
        started_at=started,
        caller_number=None if number in (None, "", "<unknown>") else number,
        exten=first.get("Exten") or None,
    )


def _queue_position(call: CallRecord, legs: list[Mapping[str, str]], now: float) -> None:
    """What the channel list says about the queue: which queue, and whether a member picked up."""
    caller = next((leg for leg in legs if leg.get("Application") == "Queue"), None)
    if caller is not None and call.queue is None:
        call.queue = (caller.get("ApplicationData") or "").split(",")[0] or None
    member = next((leg for leg in legs if leg.get("Application") == _MEMBER_APP and leg.get("BridgeId")), None)
    if member is not None and call.answered_at is None:
        # Answered while we were away: the member leg's age is the best bound we have.
        call.answered_at = now - duration_seconds(member.get("Duration"))
        call.agent_interface = member_interface(member.get("Channel", ""))
        call.agent_name = member.get("CallerIDName") or None
        if call.offered_at is None:
            call.offered_at = call.answered_at
        call.left_queue_at = call.answered_at
        call.ringing_interface = None
        call.reconciled_by = RESYNC


def reconcile_queue_entries(tracker: CallTracker, callers: Iterable[QueueCaller], now: float) -> list[CallRecord]:
    """QueueStatus' waiting callers: who is waiting, in which queue, for how long."""
    touched = []
    by_uniqueid = {uid: call for call in tracker.calls.values() for uid in call.open_channels}
    for caller in callers:
        call = by_uniqueid.get(caller.uniqueid)
        if call is None:
            continue
        if call.offered_at is None or call.queue != caller.queue:
            call.queue = caller.queue or call.queue
            call.offered_at = now - caller.wait_seconds
            call.left_queue_at = None
            call.reconciled_by = RESYNC
            touched.append(call)
    return touched
