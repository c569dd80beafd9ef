"""A call as the consoles see it live: its state (in the IVR, waiting, ringing, talking…) and its view.

Pure functions of the tracker's CallRecord; the caller number stays in the view (the API masks it
per role, the feed carries it masked).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from hotline.domain.call_tracker import CallRecord


class CallState(StrEnum):
    IVR = "ivr"  # in the voice menu or anywhere before a queue
    WAITING = "waiting"
    RINGING = "ringing"  # waiting, and a lawyer's phone rings for it
    TALKING = "talking"
    AFTER = "after"  # left the queue unanswered but still up (voicemail, survey, transfer)
    DIALLING = "dialling"  # a call-back: the lawyer's phone or the citizen is being rung


def call_state(call: CallRecord) -> CallState:
    if call.answered_at is not None:
        return CallState.TALKING
    if call.direction != "inbound":
        return CallState.DIALLING
    if call.ringing_interface:
        return CallState.RINGING
    if call.waiting:
        return CallState.WAITING
    if call.left_queue_at is not None or call.abandoned_at is not None:
        return CallState.AFTER
    return CallState.IVR


def call_view(call: CallRecord) -> dict[str, Any]:
    """The live picture of a call (caller number included: the API masks it per role)."""
    return {
        "linkedid": call.linkedid,
        "direction": call.direction,
        "caller_number": call.caller_number,
        "caller_name": call.caller_name,
        "state": call_state(call).value,
        "queue": call.queue,
        "started_at": call.started_at,
        "offered_at": call.offered_at,
        "answered_at": call.answered_at,
        "agent_interface": call.agent_interface or call.ringing_interface,
        "agent_name": call.agent_name,
        "priority": call.ivr_variables.get("HOTLINE_PRIORITY"),
        "green": call.ivr_variables.get("HOTLINE_GREEN"),
        "closed_hours": call.closed_hours,
        "reconciled_by": call.reconciled_by,
    }
