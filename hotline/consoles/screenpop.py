"""What the lawyer sees when a call rings: the caller, green-channel groups, calls and tickets before
this one, the IVR choices and the time waited. Every look is written to the view audit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from hotline.consoles.audit import record_view
from storage.tables import Call, Caller, IvrSession, Ticket
from ticketing.domain.access import Actor, can_see
from ticketing.domain.lifecycle import OPEN, TicketStatus
from ticketing.domain.roles import ROLES_SEEING_FULL_NUMBERS, phone_as_seen_by

HISTORY = 10
GREEN_LABELS = {
    "migrant_worker": "农民工",
    "elderly": "老年人",
    "disabled": "残疾人",
    "minor": "未成年人",
    "veteran": "退役军人",
}


def _ts(value: Any) -> float | None:
    return None if value is None else value.timestamp()


def waited_seconds(live_call: dict[str, Any] | None, row: Call | None, now: float) -> float | None:
    if row is not None and row.wait_seconds is not None:
        return round(row.wait_seconds, 1)
    if live_call is None or live_call.get("offered_at") is None:
        return None
    until = live_call.get("answered_at") or now
    return round(max(0.0, until - live_call["offered_at"]), 1)


def screen_pop(
    session: Session, actor: Actor, linkedid: str, live_call: dict[str, Any] | None, row: Call | None, now: float
) -> dict[str, Any]:
    number = (row.caller_number if row is not None else None) or (live_call or {}).get("caller_number")
    full = actor.role in ROLES_SEEING_FULL_NUMBERS
    caller = session.scalar(select(Caller).where(Caller.number == number)) if number else None
    ivr = session.scalar(select(IvrSession).where(IvrSession.uniqueid == linkedid))
    groups = list(caller.groups or []) if caller else []
    groups += [f.removeprefix("green:") for f in (ivr.flags if ivr else []) if f.startswith("green:")]
    if live_call and live_call.get("green"):
        groups.append(str(live_call["green"]))
    groups = list(dict.fromkeys(groups))
    calls = []
    tickets = []
    if caller is not None:  # history hangs on the caller's id (indexed); a first call has none
        previous = session.scalars(
            select(Call)
            .where(Call.caller_id == caller.id, Call.linkedid != linkedid)
            .order_by(func.coalesce(Call.offered_at, Call.started_at).desc(), Call.id.desc())
            .limit(HISTORY)
        )
        calls = [
            {
                "linkedid": c.linkedid,
                "direction": c.direction,
                "started_at": c.started_at,
                "queue": c.queue,
                "outcome": c.outcome,
                "agent_interface": c.agent_interface,
                "talk_seconds": c.talk_seconds,
            }
            for c in previous
        ]
        found = session.scalars(
            select(Ticket)
            .where(Ticket.caller_id == caller.id)
            .options(selectinload(Ticket.station))
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(HISTORY)
        )
        tickets = [
            {
                "code": t.code,
                "created_at": t.created_at,
                "status": t.status,
                "status_label": TicketStatus(t.status).label,
                "open": TicketStatus(t.status) in OPEN,
                "category": t.category,
                "station_name": t.station.name if t.station else None,
                # Summary lines for everyone at the desk; the ticket itself opens only where allowed.
                "can_open": can_see(
                    actor,
                    assigned_lawyer_id=t.assigned_lawyer_id,
                    station_path=t.station.path if t.station else None,
                    created_by_id=t.created_by_id,
                ),
            }
            for t in found
        ]
    path = (row.ivr_path if row is not None and row.ivr_path else None) or (ivr.path if ivr else [])
    record_view(
        session,
        actor,
        "screen_pop",
        linkedid,
        caller_id=caller.id if caller else None,
        fields=["caller_number", "calls", "tickets"] if full else ["calls", "tickets"],
    )
    live = live_call or {}
    return {
        "linkedid": linkedid,
        "state": live.get("state") or ("ended" if row is not None and row.ended_at else None),
        "direction": (row.direction if row is not None else None) or live.get("direction"),
        "queue": (row.queue if row is not None else None) or live.get("queue"),
        "caller_number": phone_as_seen_by(actor.role, number),
        "caller_name": (caller.name if caller else None) or live.get("caller_name") or None,
        "caller": None
        if caller is None
        else {
            "call_count": caller.call_count,
            "first_seen_at": caller.first_seen_at,
            "last_seen_at": caller.last_seen_at,
            "division_code": caller.division_code,
        },
        "green_channel": [{"group": g, "label": GREEN_LABELS.get(g, g)} for g in groups],
        "priority": live.get("priority") or (ivr.priority if ivr else None),
        "language": ivr.language if ivr else None,
        "ivr_path": path,
        "ivr_exit": ivr.exit if ivr else None,
        "offered_at": live.get("offered_at") or _ts(row.offered_at if row is not None else None),
        "answered_at": live.get("answered_at") or _ts(row.answered_at if row is not None else None),
        "waited_s": waited_seconds(live_call, row, now),
        "transcript": row.transcript if row is not None else None,
        "previous_calls": calls,
        "previous_tickets": tickets,
        "open_tickets": [t["code"] for t in tickets if t["open"]],
    }
