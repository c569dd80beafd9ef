"""Forwarding (转办) handlers beyond status changes: progress reports, the triage list, and the list of
forwarded work with its deadlines and escalations (stations' inbox, supervisors' 督办 list).

Forwarding, accepting, returning and finishing are status changes (ticketing.tickets.transition_ticket).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from storage.tables import Ticket, TicketEscalation, TicketEvent
from ticketing.domain.access import Actor
from ticketing.domain.errors import InvalidTransition
from ticketing.domain.escalation import Lapse, lapses
from ticketing.domain.lifecycle import WITH_STATION, TicketStatus, plan_transition
from ticketing.domain.policy import TicketPolicy
from ticketing.escalation import overdue
from ticketing.tickets import record_event, transition_ticket, visible_tickets

logger = logging.getLogger(__name__)


def report_progress(
    session: Session, actor: Actor, ticket: Ticket, note: str, policy: TicketPolicy, now: datetime
) -> TicketEvent:
    """Station staff say how the work goes. The first report on a received ticket starts the work."""
    status = TicketStatus(ticket.status)
    # Whoever may start the work may report on it.
    plan_transition(TicketStatus.RECEIVED, TicketStatus.IN_PROGRESS, actor.role)
    if status is TicketStatus.RECEIVED:
        return transition_ticket(session, actor, ticket, TicketStatus.IN_PROGRESS, policy, now, note=note)
    if status is not TicketStatus.IN_PROGRESS:
        raise InvalidTransition(
            f"工单「{status.label}」时不能报告进展 / progress is reported on received or in-progress tickets",
            current=status.value,
            requested="progress",
            allowed=[],
        )
    ticket.updated_at = now  # bumps the version: a report racing a status change loses cleanly
    event = record_event(session, ticket, actor, "progress", status.value, now, note=note)
    logger.info("ticket %s progress reported by user %s", ticket.code, actor.user_id)
    return event


class TriageReason(StrEnum):
    RETURNED = "returned"
    REOPENED = "reopened"
    NEEDS_TRIAGE = "needs_triage"
    UNROUTED = "unrouted"

    @property
    def label(self) -> str:
        return _TRIAGE_LABELS[self]


_TRIAGE_LABELS = {
    TriageReason.RETURNED: "工作站退回",
    TriageReason.REOPENED: "重新打开待复核",
    TriageReason.NEEDS_TRIAGE: "分类置信度低",
    TriageReason.UNROUTED: "未分类",
}


def _reopened() -> Any:
    return exists().where(TicketEvent.ticket_id == Ticket.id, TicketEvent.action == "reopen")


def triage_query(actor: Actor) -> Select[tuple[Ticket]]:
    """Tickets waiting for a person to decide where they go: returned by a station, reopened for
    review, routed with low confidence (routing.needs_triage), or not categorised at all."""
    needs_triage = Ticket.routing["needs_triage"].as_boolean().is_(True)
    waiting = or_(
        Ticket.status == TicketStatus.RETURNED.value,
        and_(
            Ticket.status == TicketStatus.ACCEPTED.value,
            or_(Ticket.category.is_(None), needs_triage, _reopened()),
        ),
    )
    urgency = case({"urgent": 0, "high": 1}, value=Ticket.priority, else_=2)
    return (
        visible_tickets(actor)
        .where(waiting)
        .options(selectinload(Ticket.events))
        .order_by(urgency, Ticket.updated_at, Ticket.id)
    )


@dataclass(frozen=True)
class TriageItem:
    ticket: Ticket
    reason: TriageReason
    #: The station's return reason or the reviewer's reopen reason, as written.
    note: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def triage_item(ticket: Ticket) -> TriageItem:
    last = {event.action: event for event in ticket.events}
    if ticket.status == TicketStatus.RETURNED.value and "return" in last:
        event = last["return"]
        return TriageItem(
            ticket, TriageReason.RETURNED, event.note, {"returned_by_station_id": event.data.get("station_id")}
        )
    if "reopen" in last:
        return TriageItem(ticket, TriageReason.REOPENED, last["reopen"].note)
    if ticket.routing and ticket.routing.get("needs_triage") is True:
        return TriageItem(ticket, TriageReason.NEEDS_TRIAGE, None, {"confidence": ticket.routing.get("confidence")})
    return TriageItem(ticket, TriageReason.UNROUTED)


@dataclass(frozen=True)
class ForwardedWork:
    ticket: Ticket
    lapses: list[Lapse]
    escalations: list[TicketEscalation]


def forwarded_work(
    session: Session, actor: Actor, now: datetime, *, overdue_only: bool, page: int = 1, page_size: int = 50
) -> tuple[int, list[ForwardedWork]]:
    """Open forwarded tickets the actor may see, the nearest deadline first, with lapses and escalations."""
    query = visible_tickets(actor).where(Ticket.status.in_([s.value for s in WITH_STATION]))
    if overdue_only:
        query = query.where(overdue(now))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    next_deadline = case(
        (Ticket.status == TicketStatus.FORWARDED.value, Ticket.accept_due_at), else_=Ticket.finish_due_at
    )
    tickets: Sequence[Ticket] = session.scalars(
        query.options(selectinload(Ticket.station))
        .order_by(next_deadline, Ticket.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    escalations: dict[int, list[TicketEscalation]] = {}
    if tickets:
        rows = session.scalars(
            select(TicketEscalation)
            .where(TicketEscalation.ticket_id.in_([t.id for t in tickets]))
            .options(selectinload(TicketEscalation.escalated_to))
            .order_by(TicketEscalation.id)
        )
        for escalation in rows:
            escalations.setdefault(escalation.ticket_id, []).append(escalation)
    return total, [
        ForwardedWork(
            ticket,
            lapses(TicketStatus(ticket.status), ticket.accept_due_at, ticket.finish_due_at, now),
            escalations.get(ticket.id, []),
        )
        for ticket in tickets
    ]
