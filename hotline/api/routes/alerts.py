"""Crisis alerts for supervisors, acknowledged by name, and triage decisions made by a person.

An alert is a ticket event `alert` (the router saw crisis words, or the lawyer flagged the ticket
危机); it stays open until a supervisor acknowledges it, which is an `alert_ack` event on the same
ticket with their name (the ticket's history is the audit). A triage decision gives a ticket the
router could not decide its category and, if chosen, forwards it to a station; it is written as a
`triage` event that keeps the router's suggestion next to the person's choice, so the router can
learn from it (training data: `GET /api/triage/decisions`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hotline.api.deps import ContextDep, SessionDep, TicketCode, require_roles
from hotline.api.errors import Conflict
from hotline.api.presenters import read_ticket
from hotline.api.schemas import Body, Id, Note, TicketDetail
from storage.tables import Ticket, TicketEvent
from ticketing.domain.access import Actor
from ticketing.domain.errors import InvalidInput
from ticketing.domain.lifecycle import TicketStatus
from ticketing.domain.roles import Role
from ticketing.routing.labels import set_category
from ticketing.tickets import get_ticket, record_event, transition_ticket

router = APIRouter(tags=["alerts"])
Supervising = Annotated[Actor, Depends(require_roles(Role.SUPERVISOR, Role.ADMIN))]
Deciding = Annotated[Actor, Depends(require_roles(Role.LAWYER, Role.SUPERVISOR, Role.ADMIN))]


def open_alert(ticket: Ticket) -> TicketEvent | None:
    """The ticket's latest alert when no acknowledgement follows it."""
    latest: TicketEvent | None = None
    for event in sorted(ticket.events, key=lambda e: (e.at, e.id)):
        if event.action == "alert":
            latest = event
        elif event.action == "alert_ack":
            latest = None
    return latest


def _alert_out(ticket: Ticket, event: TicketEvent) -> dict[str, Any]:
    return {
        "code": ticket.code,
        "event_id": event.id,
        "at": event.at,
        "note": event.note,
        "category": ticket.category,
        "priority": ticket.priority,
        "flags": ticket.flags,
        "status": ticket.status,
        "status_label": TicketStatus(ticket.status).label,
    }


@router.get("/api/alerts", summary="Crisis alerts no supervisor has acknowledged yet, newest first")
def alerts(_actor: Supervising, session: SessionDep) -> dict[str, Any]:
    alerted = select(TicketEvent.ticket_id).where(TicketEvent.action == "alert")
    tickets = session.scalars(
        select(Ticket).where(Ticket.id.in_(alerted)).options(selectinload(Ticket.events)).order_by(Ticket.id.desc())
    ).all()
    items = [_alert_out(t, event) for t in tickets if (event := open_alert(t)) is not None]
    items.sort(key=lambda i: i["at"], reverse=True)
    return {"items": items, "total": len(items)}


class Acknowledgement(Body):
    note: Note | None = None


@router.post(
    "/api/alerts/{code}/ack",
    summary="Acknowledge a ticket's crisis alert (recorded with your name)",
    responses={409: {"description": "the ticket has no open alert"}},
)
def acknowledge(code: TicketCode, body: Acknowledgement, actor: Supervising, session: SessionDep) -> dict[str, Any]:
    ticket = get_ticket(session, actor, code, for_update=True)
    alert = open_alert(ticket)
    if alert is None:
        raise Conflict(f"工单 {code} 没有待确认的预警 / no open alert on {code}", code=code)
    event = record_event(
        session, ticket, actor, "alert_ack", ticket.status, datetime.now(UTC), note=body.note, data={"alert": alert.id}
    )
    session.commit()
    return {"code": code, "acknowledged_at": event.at, "acknowledged_by": actor.user_id, "alert_event_id": alert.id}


class TriageDecision(Body):
    category: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    subcategory: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    station_id: Id | None = None
    note: Note | None = None


@router.post(
    "/api/triage/{code}/decision",
    response_model=TicketDetail,
    summary="Decide a triage ticket: its category and, optionally, the station it is forwarded to",
    responses={409: {"description": "the ticket is not waiting for triage"}},
)
def decide(
    code: TicketCode, body: TriageDecision, actor: Deciding, session: SessionDep, context: ContextDep
) -> TicketDetail:
    categories = {c.name: c for c in context.config.categories.categories}
    chosen = categories.get(body.category)
    if chosen is None:
        raise InvalidInput(f"未知类别 / unknown category {body.category!r}", category=body.category)
    if body.subcategory and body.subcategory not in chosen.subcategories:
        raise InvalidInput(f"未知子类 / unknown subcategory {body.subcategory!r}", subcategory=body.subcategory)
    ticket = get_ticket(session, actor, code, for_update=True)
    if TicketStatus(ticket.status) not in (TicketStatus.ACCEPTED, TicketStatus.RETURNED):
        raise Conflict(
            f"工单 {code} 不在待分派状态（{TicketStatus(ticket.status).label}） / {code} is not waiting for triage",
            status=ticket.status,
        )
    now = datetime.now(UTC)
    # The router's own record of a person's choice (training data, ticketing.routing.labels).
    label = set_category(
        session, actor, ticket, chosen.name, body.subcategory or None, now, known=categories, origin="triage"
    )
    if ticket.service_line is None:
        ticket.service_line = chosen.service_line
    record_event(
        session,
        ticket,
        actor,
        "triage",
        ticket.status,
        now,
        note=body.note,
        data={
            "category": chosen.name,
            "subcategory": body.subcategory,
            "station_id": body.station_id,
            "suggested": label.suggested,
        },
    )
    if body.station_id is not None:
        transition_ticket(
            session, actor, ticket, TicketStatus.FORWARDED, context.policy, now, station_id=body.station_id
        )
    session.commit()
    session.refresh(ticket, attribute_names=["station"])
    return read_ticket(session, actor, code)


@router.get(
    "/api/triage/decisions", summary="People's triage decisions next to the router's suggestions (training data)"
)
def decisions(
    _actor: Supervising, session: SessionDep, limit: Annotated[int, Query(ge=1, le=5000)] = 500
) -> list[dict[str, Any]]:
    events = session.scalars(
        select(TicketEvent)
        .where(TicketEvent.action == "triage")
        .options(selectinload(TicketEvent.ticket))
        .order_by(TicketEvent.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "code": e.ticket.code,
            "at": e.at,
            "decided_by": e.actor_id,
            "category": e.data.get("category"),
            "subcategory": e.data.get("subcategory"),
            "station_id": e.data.get("station_id"),
            "suggested": e.data.get("suggested"),
            "text": "\n".join(filter(None, [e.ticket.description, e.ticket.transcript])),
        }
        for e in events
    ]
