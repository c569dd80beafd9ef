"""People's category decisions on tickets, kept as the router's training data.

A lawyer who accepts a ticket with a category, and a lawyer or supervisor who sets or changes one
on a ticket or in the triage queue, decide what the question is about. Each decision is stored
(`routing_labels`) with the text as it was then, who decided, and whether it confirmed or
corrected the router's suggestion; `hotline router train` learns from the latest per ticket.
"""

from __future__ import annotations

import logging
from collections.abc import Container
from datetime import datetime

from sqlalchemy.orm import Session

from storage.tables import RoutingLabel, Ticket
from ticketing.domain.access import Actor
from ticketing.domain.errors import InvalidInput
from ticketing.routing.service import ticket_text
from ticketing.tickets import record_event

logger = logging.getLogger(__name__)

ORIGINS = ("ticket", "triage", "intake")


def record_label(session: Session, actor: Actor, ticket: Ticket, origin: str, now: datetime) -> RoutingLabel | None:
    """Store the ticket's current category as `actor`'s decision (nothing when it has none)."""
    if ticket.category is None:
        return None
    routing = ticket.routing or {}
    suggested = routing.get("suggested_category")
    kind = "intake" if origin == "intake" else "confirmed" if suggested == ticket.category else "corrected"
    label = RoutingLabel(
        at=now,
        ticket=ticket,
        text=ticket_text(ticket),
        category=ticket.category,
        subcategory=ticket.subcategory,
        suggested=suggested,
        kind=kind,
        origin=origin,
        user_id=actor.user_id,
        role=actor.role.value,
    )
    session.add(label)
    return label


def set_category(
    session: Session,
    actor: Actor,
    ticket: Ticket,
    category: str,
    subcategory: str | None,
    now: datetime,
    *,
    known: Container[str],
    origin: str = "ticket",
) -> RoutingLabel:
    """Set (or confirm) the ticket's category as `actor`, lock `ticket` first. The ticket leaves
    the triage queue's "router unsure" reason; the decision is recorded as training data."""
    if origin not in ORIGINS[:2]:
        raise InvalidInput(f"未知来源 / origin must be one of {', '.join(ORIGINS[:2])}", origin=origin)
    if category not in known:
        raise InvalidInput(f"未知类别 / unknown category {category}", category=category)
    before = (ticket.category, ticket.subcategory)
    ticket.category, ticket.subcategory = category, subcategory
    if ticket.routing and ticket.routing.get("needs_triage"):
        ticket.routing = {**ticket.routing, "needs_triage": False, "decided_by": actor.user_id}
    ticket.updated_at = now
    label = record_label(session, actor, ticket, origin, now)
    assert label is not None
    record_event(
        session,
        ticket,
        actor,
        "categorise",
        ticket.status,
        now,
        data={
            "from": before[0],
            "from_subcategory": before[1],
            "to": category,
            "subcategory": subcategory,
            "suggested": label.suggested,
            "kind": label.kind,
            "origin": origin,
        },
    )
    logger.info(
        "ticket %s category %s -> %s (%s) by user %s", ticket.code, before[0], category, label.kind, actor.user_id
    )
    return label
