"""Escalation (督办) handlers: find lapsed deadlines and escalate each exactly once.

Each lapse is escalated in its own transaction, with its history event and its supervisors' alert
in the outbox. The unique key (ticket, kind, deadline) makes a second worker, a second process or a
rerun of the job lose harmlessly instead of escalating twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, sessionmaker

from storage.tables import Station, Ticket, TicketEscalation
from ticketing.domain.escalation import AWAITING, DeadlineKind, Lapse, escalation_target, lapses
from ticketing.domain.events import TicketEscalated
from ticketing.domain.lifecycle import TicketStatus
from ticketing.events import emit
from ticketing.tickets import record_event

logger = logging.getLogger(__name__)

BATCH = 200


def _statuses(kind: DeadlineKind) -> list[str]:
    return [s.value for s in AWAITING[kind]]


def _deadline(kind: DeadlineKind) -> ColumnElement[datetime | None]:
    return Ticket.accept_due_at if kind is DeadlineKind.ACCEPT else Ticket.finish_due_at  # type: ignore[return-value]


def lapsed(kind: DeadlineKind, now: datetime) -> ColumnElement[bool]:
    """SQL: the ticket let its `kind` deadline pass and still owes that step at `now`."""
    return and_(Ticket.status.in_(_statuses(kind)), _deadline(kind) <= now)


def overdue(now: datetime) -> ColumnElement[bool]:
    """SQL: the ticket is past its accept or finish deadline (the 督办 list)."""
    return or_(lapsed(DeadlineKind.ACCEPT, now), lapsed(DeadlineKind.FINISH, now))


def _not_escalated(kind: DeadlineKind) -> ColumnElement[bool]:
    return ~exists().where(
        TicketEscalation.ticket_id == Ticket.id,
        TicketEscalation.kind == kind.value,
        TicketEscalation.deadline == _deadline(kind),
    )


@dataclass(frozen=True)
class PendingLapse:
    ticket_id: int
    kind: DeadlineKind
    deadline: datetime


def pending_lapses(session: Session, now: datetime, after_id: int = 0, limit: int = BATCH) -> list[PendingLapse]:
    """Lapses not escalated yet of tickets with ids above `after_id`, in ticket order, a batch at a time.

    A batch never ends half-way through a ticket, so sweeping on from its last ticket id misses nothing.
    """
    found: list[PendingLapse] = []
    cutoff: int | None = None
    for kind in DeadlineKind:
        rows = session.execute(
            select(Ticket.id, _deadline(kind))
            .where(lapsed(kind, now), Ticket.station_id.is_not(None), Ticket.id > after_id, _not_escalated(kind))
            .order_by(Ticket.id)
            .limit(limit)
        ).all()
        found += [PendingLapse(ticket_id, kind, deadline) for ticket_id, deadline in rows]
        if len(rows) == limit:  # more may follow: only tickets up to this one are complete
            cutoff = rows[-1][0] if cutoff is None else min(cutoff, rows[-1][0])
    found.sort(key=lambda lapse: (lapse.ticket_id, lapse.kind != DeadlineKind.ACCEPT))
    return [lapse for lapse in found if cutoff is None or lapse.ticket_id <= cutoff]


def escalate_lapse(session: Session, lapse: PendingLapse, now: datetime) -> TicketEscalation | None:
    """Escalate one lapse if the ticket still owes the step; the caller commits.

    A concurrent escalation of the same lapse makes the commit fail on the unique key.
    """
    ticket = session.get(Ticket, lapse.ticket_id, options=[joinedload(Ticket.station)])
    if ticket is None or ticket.station is None:
        return None
    still = lapses(TicketStatus(ticket.status), ticket.accept_due_at, ticket.finish_due_at, now)
    if Lapse(lapse.kind, lapse.deadline) not in still:
        return None  # accepted, finished or re-forwarded since the sweep looked
    # Repeated lapses at the same station climb the hierarchy; a new station starts from its parent.
    previous = (
        session.scalar(
            select(func.count()).where(
                TicketEscalation.ticket_id == ticket.id, TicketEscalation.station_id == ticket.station.id
            )
        )
        or 0
    )
    target_id, levels_up = escalation_target(ticket.station.path, previous)
    target = session.get(Station, target_id)
    assert target is not None, f"station path {ticket.station.path} names a missing station"
    escalation = TicketEscalation(
        ticket=ticket,
        kind=lapse.kind.value,
        deadline=lapse.deadline,
        station_id=ticket.station.id,
        escalated_to_id=target.id,
        levels_up=levels_up,
        at=now,
    )
    session.add(escalation)
    session.flush()
    record_event(
        session,
        ticket,
        None,
        "escalate",
        ticket.status,
        now,
        note=f"{ticket.station.name}超过{lapse.kind.label}，督办至{target.name} / {lapse.kind} deadline passed",
        data={
            "escalation_id": escalation.id,
            "kind": lapse.kind.value,
            "deadline": lapse.deadline.isoformat(),
            "station_id": ticket.station.id,
            "escalated_to_id": target.id,
            "escalated_to": target.name,
            "levels_up": levels_up,
        },
    )
    emit(session, TicketEscalated(escalation.id), now)
    logger.info(
        "ticket %s missed its %s deadline %s at station %s; escalated to station %s",
        ticket.code,
        lapse.kind,
        lapse.deadline.isoformat(),
        ticket.station.id,
        target.id,
    )
    return escalation


def escalate_overdue(sessions: sessionmaker[Session], now: datetime) -> list[int]:
    """Escalate every lapse not escalated yet, each in its own transaction; returns the new ids.

    Safe with several workers at once: the loser of a race on one lapse gets the unique-key error,
    which is expected and skipped.
    """
    created: list[int] = []
    after = 0
    while True:
        with sessions() as session:
            batch = pending_lapses(session, now, after)
        if not batch:
            return created
        for lapse in batch:
            try:
                with sessions.begin() as session:
                    escalation = escalate_lapse(session, lapse, now)
                    escalation_id = escalation.id if escalation else None
            except IntegrityError:
                logger.info("ticket id %d: %s lapse already escalated elsewhere", lapse.ticket_id, lapse.kind)
                continue
            if escalation_id is not None:
                created.append(escalation_id)
        after = batch[-1].ticket_id
