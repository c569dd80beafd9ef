"""rq job: route a ticket (category, flags, suggested station) once it exists or its text changed.

Started by the `TicketNeedsRouting` event, which `create_ticket` records and the transcript store
records again when a transcript arrives; each run re-reads the ticket. Safe to run twice: the same
decision changes nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from hotline.bootstrap import Context
from hotline.jobs import worker
from storage.tables import Ticket
from ticketing.routing.service import route_ticket as route_ticket_in_session

logger = logging.getLogger(__name__)


def route_ticket(ticket_id: int, context: Context | None = None) -> dict[str, Any] | None:
    """Route the ticket with id `ticket_id`; returns the stored decision, or None if it is gone."""
    context = context or worker.worker_context()
    router = context.router  # built before the row lock is taken: the first build takes seconds
    with context.sessions.begin() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update())
        if ticket is None:
            logger.warning("ticket id %d no longer exists; nothing to route", ticket_id)
            return None
        route_ticket_in_session(session, router, ticket, datetime.now(UTC))
        return dict(ticket.routing or {})
