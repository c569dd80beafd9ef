"""Ticket handlers: create, change status, list what an actor may see.

Each handler takes an open Session and leaves committing to the caller, so a change, its audit event
and its outbox message commit together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from storage.dialect import upsert
from storage.tables import (
    Call,
    Caller,
    FollowUpTask,
    Station,
    Ticket,
    TicketCodeCounter,
    TicketEvent,
    User,
)
from ticketing.domain.access import Actor, can_see
from ticketing.domain.codes import format_code
from ticketing.domain.errors import InvalidReference, NotFound
from ticketing.domain.events import TicketEventRecorded, TicketNeedsRouting
from ticketing.domain.follow_up import FollowUpStatus
from ticketing.domain.lifecycle import TicketStatus, plan_transition
from ticketing.domain.policy import TicketPolicy
from ticketing.domain.roles import Role
from ticketing.events import emit

logger = logging.getLogger(__name__)


@dataclass
class NewTicket:
    channel: str
    description: str
    caller_number: str | None = None
    caller_name: str | None = None
    category: str | None = None
    subcategory: str | None = None
    service_line: str | None = None
    priority: str = "normal"
    flags: list[str] = field(default_factory=list)
    call_linkedids: list[str] = field(default_factory=list)
    assigned_lawyer_id: int | None = None


def allocate_code(session: Session, day: date) -> str:
    """Next code for `day` with one atomic upsert: concurrent creators never get the same serial."""
    table = TicketCodeCounter.__table__
    statement = (
        upsert(session, table)
        .values(day=day, last_serial=1)
        .on_conflict_do_update(index_elements=[table.c.day], set_={"last_serial": table.c.last_serial + 1})
        .returning(table.c.last_serial)
    )
    serial = session.execute(statement).scalar_one()
    return format_code(day, serial)


def _caller_for(session: Session, number: str, name: str | None, now: datetime) -> Caller:
    """The caller of `number`, made once: two tickets of a new caller created at the same moment
    (two lawyers, or a retried request) share one row instead of colliding on its unique number."""
    table = Caller.__table__
    session.execute(
        upsert(session, table)
        .values(number=number, name=name, groups=[], call_count=0, first_seen_at=now, last_seen_at=now)
        .on_conflict_do_nothing(index_elements=[table.c.number])
    )
    caller = session.scalars(select(Caller).where(Caller.number == number)).one()
    if name and not caller.name:
        caller.name = name
    return caller


def record_event(
    session: Session,
    ticket: Ticket,
    actor: Actor | None,
    action: str,
    from_status: str | None,
    now: datetime,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    """Append an event to the ticket's history and announce it through the outbox, in one transaction."""
    event = TicketEvent(
        ticket=ticket,
        at=now,
        actor_id=actor.user_id if actor else None,
        action=action,
        from_status=from_status,
        to_status=ticket.status,
        note=note,
        data=data or {},
    )
    session.add(event)
    session.flush()
    emit(session, TicketEventRecorded(event.id), now)
    return event


def create_ticket(session: Session, actor: Actor, new: NewTicket, policy: TicketPolicy, now: datetime) -> Ticket:
    policy.check_category(new.category, new.subcategory)
    calls: Sequence[Call] = []
    if new.call_linkedids:
        calls = session.scalars(select(Call).where(Call.linkedid.in_(new.call_linkedids))).all()
        missing = sorted(set(new.call_linkedids) - {c.linkedid for c in calls})
        if missing:
            raise InvalidReference(f"未知通话 / unknown calls: {', '.join(missing)}", calls=missing)
    caller = _caller_for(session, new.caller_number, new.caller_name, now) if new.caller_number else None
    assigned = new.assigned_lawyer_id
    if assigned is None and actor.role is Role.LAWYER:
        assigned = actor.user_id
    elif assigned is not None:
        lawyer = session.get(User, assigned)
        if lawyer is None or lawyer.role != Role.LAWYER.value:
            raise InvalidReference(f"未知律师 / no lawyer with id {assigned}", assigned_lawyer_id=assigned)
    ticket = Ticket(
        code=allocate_code(session, policy.local_date(now)),
        channel=new.channel,
        status=TicketStatus.ACCEPTED.value,
        caller=caller,
        caller_number=new.caller_number,
        caller_name=new.caller_name,
        description=new.description,
        category=new.category,
        subcategory=new.subcategory,
        service_line=new.service_line,
        priority=new.priority,
        flags=list(new.flags),
        assigned_lawyer_id=assigned,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
        calls=list(calls),
    )
    session.add(ticket)
    record_event(session, ticket, actor, "create", None, now)
    if ticket.category is not None:
        from ticketing.routing.labels import record_label  # imports this module

        record_label(session, actor, ticket, "intake", now)
    emit(session, TicketNeedsRouting(ticket.id), now)
    logger.info("ticket %s created by user %s", ticket.code, actor.user_id)
    return ticket


def transition_ticket(
    session: Session,
    actor: Actor,
    ticket: Ticket,
    target: TicketStatus,
    policy: TicketPolicy,
    now: datetime,
    *,
    station_id: int | None = None,
    reason: str | None = None,
    result: str | None = None,
    note: str | None = None,
    automatic: bool = False,
) -> TicketEvent:
    """Change the ticket's status as `actor`; `automatic` when a rule of the system makes the change on
    the actor's act (a dissatisfied call-back reopens the ticket), so the actor's role is not checked."""
    current = TicketStatus(ticket.status)
    role = None if automatic else actor.role
    transition = plan_transition(current, target, role, station_id=station_id, reason=reason, result=result)
    data: dict[str, Any] = {"automatic": True} if automatic else {}
    if transition.action == "forward":
        station = session.get(Station, station_id)
        if station is None:
            raise InvalidReference(f"未知工作站 / unknown station {station_id}", station_id=station_id)
        ticket.station_id = station.id
        ticket.accept_due_at = policy.due_at(now, policy.accept_days)
        ticket.finish_due_at = policy.due_at(now, policy.finish_days_for(ticket.category))
        data |= {
            "station_id": station.id,
            "station": station.name,
            "accept_due_at": ticket.accept_due_at.isoformat(),
            "finish_due_at": ticket.finish_due_at.isoformat(),
        }
    elif transition.action == "return":
        data |= {"station_id": ticket.station_id}
        ticket.station_id = None
        ticket.accept_due_at = ticket.finish_due_at = None
    elif target is TicketStatus.CLOSED:
        ticket.result = result
        task = FollowUpTask(
            ticket=ticket,
            due_date=policy.callback_due_date(now),
            assigned_lawyer_id=ticket.assigned_lawyer_id,
            created_at=now,
        )
        session.add(task)
        data |= {"callback_due": task.due_date.isoformat()}
    elif transition.action == "reopen":
        data |= {"callbacks_cancelled": cancel_pending_callbacks(session, ticket, now)}
    ticket.status = target.value
    ticket.updated_at = now
    event = record_event(session, ticket, actor, transition.action, current.value, now, note=reason or note, data=data)
    logger.info("ticket %s %s -> %s by user %s", ticket.code, current, target, actor.user_id)
    return event


def cancel_pending_callbacks(session: Session, ticket: Ticket, now: datetime) -> list[int]:
    """A reopened ticket owes no call-back until it is closed again (which brings a new task)."""
    pending = session.scalars(
        select(FollowUpTask).where(
            FollowUpTask.ticket_id == ticket.id, FollowUpTask.status == FollowUpStatus.PENDING.value
        )
    ).all()
    for task in pending:
        task.status = FollowUpStatus.CANCELLED.value
        task.completed_at = now
    return [task.id for task in pending]


def visible_tickets(actor: Actor) -> Select[tuple[Ticket]]:
    """Tickets the actor may see, as a query to filter and page further."""
    query = select(Ticket)
    if actor.sees_everything:
        return query
    if actor.role is Role.LAWYER:
        return query.where(
            or_(
                Ticket.assigned_lawyer_id.is_(None),
                Ticket.assigned_lawyer_id == actor.user_id,
                Ticket.created_by_id == actor.user_id,
            )
        )
    if actor.role is Role.STATION_STAFF and actor.station_path:
        subtree = select(Station.id).where(Station.path.startswith(actor.station_path, autoescape=True))
        return query.where(Ticket.station_id.in_(subtree))
    return query.where(Ticket.id.is_(None))


def get_ticket(session: Session, actor: Actor, code: str, *, for_update: bool = False) -> Ticket:
    """The ticket with `code`, or NotFound when it does not exist or the actor may not see it."""
    query = select(Ticket).where(Ticket.code == code).options(selectinload(Ticket.events), selectinload(Ticket.station))
    if for_update:
        query = query.with_for_update()
    ticket = session.scalar(query)
    if ticket is None or not can_see(
        actor,
        assigned_lawyer_id=ticket.assigned_lawyer_id,
        station_path=ticket.station.path if ticket.station else None,
        created_by_id=ticket.created_by_id,
    ):
        raise NotFound(f"工单不存在 / no ticket {code}", code=code)
    return ticket
